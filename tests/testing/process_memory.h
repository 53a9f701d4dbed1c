// The resident memory and the threads of a process, from /proc/<pid>/status (Linux), for
// tests that bound a server's memory and threads under faults and load.
#ifndef AUDIOPROC_TESTS_TESTING_PROCESS_MEMORY_H_
#define AUDIOPROC_TESTS_TESTING_PROCESS_MEMORY_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace audioproc::testing {

// VmRSS of process `pid` in bytes; nullopt if the process or the field does not exist.
std::optional<int64_t> ResidentBytes(pid_t pid);

// VmHWM: the most resident memory process `pid` has had since it started, in bytes (the
// kernel keeps it, so a peak between two samples is not missed).
std::optional<int64_t> PeakResidentBytes(pid_t pid);
// Threads of process `pid`; nullopt if the process or the field does not exist.
std::optional<int> ThreadCount(pid_t pid);

// Bytes as MiB, for messages.
inline double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_PROCESS_MEMORY_H_
