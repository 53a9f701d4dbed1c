// CgroupLimits: the memory and CPU a container may use, read from its cgroup, so that the
// server's budgets follow the pod it runs in (Kubernetes sets both from the pod's limits).
//
// Both cgroup versions are read, as a container sees them under /sys/fs/cgroup:
// - v2 (unified): memory.max ("max" or bytes) and cpu.max ("max 100000" or "<quota> <period>");
// - v1: memory/memory.limit_in_bytes (a huge number when unlimited) and
//   cpu/cpu.cfs_quota_us with cpu/cpu.cfs_period_us (quota -1 when unlimited).
// Tests point `root` at a fake tree.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_SERVICE_CGROUP_LIMITS_H_
#define AUDIOPROC_SERVICE_CGROUP_LIMITS_H_

#include <cstdint>
#include <optional>
#include <string>

namespace audioproc {

struct CgroupLimits {
  std::optional<int64_t> memory_bytes;  // unset: no limit
  std::optional<double> cpu_cores;      // quota / period; unset: no limit
};

// The limits under `root` (normally "/sys/fs/cgroup"). Files that are absent, unreadable or
// say "unlimited" leave the field unset.
CgroupLimits ReadCgroupLimits(const std::string& root);

// The CPUs this process may run on (its affinity mask), at least 1.
int AvailableCpus();

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_CGROUP_LIMITS_H_
