#include "procfs/proc_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace audioproc {

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid) {
  const std::string dir = pid == 0 ? "/proc/self" : absl::StrCat("/proc/", pid);
  std::ifstream stat_file(dir + "/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return absl::NotFoundError(absl::StrCat("no ", dir, "/stat"));
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return absl::InternalError(absl::StrCat(dir, "/stat: no ')'"));
  const std::vector<std::string> fields =
      absl::StrSplit(stat.substr(paren + 2), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and [12].
  int64_t utime = 0;
  int64_t stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat(dir, "/stat: no utime and stime"));
  }
  ProcessUsage usage;
  usage.cpu_seconds =
      static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));

  std::ifstream status_file(dir + "/status");
  for (std::string line; std::getline(status_file, line);) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &usage.rss_kib)) {
      return absl::InternalError(absl::StrCat(dir, "/status: bad VmRSS line '", line, "'"));
    }
    return usage;
  }
  return absl::InternalError(absl::StrCat(dir, "/status: no VmRSS"));
}

namespace {

// The value of a "Name:   123 kB" line of /proc/<pid>/status, without its unit.
bool StatusValue(absl::string_view line, absl::string_view name, int64_t* value) {
  if (!absl::ConsumePrefix(&line, name)) return false;
  line = absl::StripAsciiWhitespace(line);
  absl::ConsumeSuffix(&line, "kB");
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(line), value);
}

// Seconds since the Unix epoch at which the machine booted (btime of /proc/stat).
absl::StatusOr<int64_t> BootTime() {
  std::ifstream stat_file("/proc/stat");
  for (std::string line; std::getline(stat_file, line);) {
    absl::string_view rest = line;
    int64_t btime;
    if (absl::ConsumePrefix(&rest, "btime ") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &btime)) {
      return btime;
    }
  }
  return absl::InternalError("/proc/stat: no btime");
}

}  // namespace

absl::StatusOr<ProcessStats> ReadProcessStats(pid_t pid) {
  absl::StatusOr<ProcessUsage> usage = ReadProcessUsage(pid);
  if (!usage.ok()) return usage.status();
  ProcessStats stats;
  stats.usage = *usage;
  const std::string dir = pid == 0 ? "/proc/self" : absl::StrCat("/proc/", pid);

  std::ifstream stat_file(dir + "/stat");
  std::string stat;
  std::getline(stat_file, stat);
  const size_t paren = stat.rfind(')');
  const std::vector<std::string> fields =
      paren == std::string::npos ? std::vector<std::string>()
                                 : absl::StrSplit(stat.substr(paren + 2), ' ', absl::SkipEmpty());
  // starttime (field 22, fields[19]): clock ticks after boot.
  int64_t start_ticks = 0;
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &start_ticks)) {
    return absl::InternalError(absl::StrCat(dir, "/stat: no starttime"));
  }
  absl::StatusOr<int64_t> boot = BootTime();
  if (!boot.ok()) return boot.status();
  stats.start_time_seconds =
      static_cast<double>(*boot) +
      static_cast<double>(start_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));

  std::ifstream status_file(dir + "/status");
  int64_t vm_kib = 0;
  for (std::string line; std::getline(status_file, line);) {
    if (StatusValue(line, "VmSize:", &vm_kib)) stats.virtual_bytes = vm_kib * 1024;
    StatusValue(line, "Threads:", &stats.threads);
  }

  // Every entry but . and ..: the descriptors, the one this listing holds included.
  if (DIR* fds = opendir((dir + "/fd").c_str()); fds != nullptr) {
    while (const dirent* entry = readdir(fds)) {
      if (entry->d_name[0] != '.') ++stats.open_fds;
    }
    closedir(fds);
  }
  rlimit limit{};
  if (prlimit(pid, RLIMIT_NOFILE, nullptr, &limit) == 0) {
    stats.max_fds = limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<int64_t>(limit.rlim_cur);
  }
  return stats;
}

absl::StatusOr<double> ReadMachineBusySeconds() {
  std::ifstream stat_file("/proc/stat");
  std::string line;
  if (!std::getline(stat_file, line) || !absl::StartsWith(line, "cpu ")) {
    return absl::NotFoundError("no cpu line in /proc/stat");
  }
  const std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
  // cpu user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait
  // (guest time is already inside user).
  int64_t busy = 0;
  for (size_t i = 1; i < fields.size() && i <= 8; ++i) {
    int64_t ticks;
    if (!absl::SimpleAtoi(fields[i], &ticks)) return absl::InternalError("bad /proc/stat line");
    if (i != 4 && i != 5) busy += ticks;
  }
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace audioproc
