// Resource usage of a Linux process from /proc: CPU time (utime + stime of
// /proc/<pid>/stat) and resident memory (VmRSS of /proc/<pid>/status), and the machine's busy
// time. The load generator samples the server, itself and the machine with them.
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

// CPU seconds the whole machine has spent busy (not idle or waiting for I/O) since boot,
// summed over all cores (the first line of /proc/stat). Over a window, less the server's and
// the load generator's own, it is what other processes took. Does file I/O.
absl::StatusOr<double> ReadMachineBusySeconds();

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_PROC_STATS_H_
