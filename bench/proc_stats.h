// Resource usage of a Linux process from /proc: CPU time (utime + stime of
// /proc/<pid>/stat) and resident memory (VmRSS of /proc/<pid>/status). The load generator
// samples the server with it, and itself.
//
// Thread safety: stateless functions, safe to call from any thread.
#ifndef AUDIOPROC_BENCH_PROC_STATS_H_
#define AUDIOPROC_BENCH_PROC_STATS_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace audioproc::bench {

struct ProcessUsage {
  double cpu_seconds = 0;  // user + system, all threads, since the process started
  int64_t rss_kib = 0;     // resident set size now
};

// Reads the usage of process `pid` (0: this process). NOT_FOUND if it is gone; INTERNAL if
// its /proc files do not parse. Does file I/O.
absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid);

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_PROC_STATS_H_
