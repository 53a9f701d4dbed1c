// Resource usage of a Linux process from /proc: CPU time (utime + stime of
// /proc/<pid>/stat) and resident memory (VmRSS of /proc/<pid>/status), the rest of what
// Prometheus' standard process_* metrics say (virtual memory, threads, start time, open and
// allowed file descriptors), and the machine's busy time. The server exports its own at every
// scrape (service/process_metrics.h); the load generator samples the server, itself and the
// machine with them.
//
// Thread safety: stateless functions, safe to call from any thread.
#ifndef AUDIOPROC_PROCFS_PROC_STATS_H_
#define AUDIOPROC_PROCFS_PROC_STATS_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace audioproc {

struct ProcessUsage {
  double cpu_seconds = 0;  // user + system, all threads, since the process started
  int64_t rss_kib = 0;     // resident set size now
};

// What Prometheus' process collector reports of a process.
struct ProcessStats {
  ProcessUsage usage;
  int64_t virtual_bytes = 0;      // VmSize
  int64_t threads = 0;            // Threads
  double start_time_seconds = 0;  // since the Unix epoch
  int64_t open_fds = 0;           // entries of /proc/<pid>/fd
  int64_t max_fds = 0;            // the soft RLIMIT_NOFILE
};

// Reads the usage of process `pid` (0: this process). NOT_FOUND if it is gone; INTERNAL if
// its /proc files do not parse. Does file I/O.
absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid);

// Everything in ProcessStats for process `pid` (0: this process). Errors as ReadProcessUsage.
// Does file I/O (a directory listing of its descriptors).
absl::StatusOr<ProcessStats> ReadProcessStats(pid_t pid);

// CPU seconds the whole machine has spent busy (not idle or waiting for I/O) since boot,
// summed over all cores (the first line of /proc/stat). Over a window, less the server's and
// the load generator's own, it is what other processes took. Does file I/O.
absl::StatusOr<double> ReadMachineBusySeconds();

}  // namespace audioproc

#endif  // AUDIOPROC_PROCFS_PROC_STATS_H_
