#include "procfs/proc_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace audioproc {

namespace {

std::string ProcDir(pid_t pid) { return pid == 0 ? "/proc/self" : absl::StrCat("/proc/", pid); }

double Ticks(int64_t ticks) {
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The fields of /proc/<pid>/stat from field 3 (state) on: fields[i] is field i + 3. NOT_FOUND
// if the process is gone.
absl::StatusOr<std::vector<std::string>> StatFields(const std::string& dir) {
  std::ifstream stat_file(dir + "/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return absl::NotFoundError(absl::StrCat("no ", dir, "/stat"));
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return absl::InternalError(absl::StrCat(dir, "/stat: no ')'"));
  return absl::StrSplit(stat.substr(paren + 2), ' ', absl::SkipEmpty());
}

// utime (field 14) + stime (field 15), in seconds.
absl::StatusOr<double> CpuSeconds(const std::vector<std::string>& fields, const std::string& dir) {
  int64_t utime = 0;
  int64_t stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat(dir, "/stat: no utime and stime"));
  }
  return Ticks(utime + stime);
}

// The value of a "Name:   123 kB" line of /proc/<pid>/status, without its unit; nullopt for a
// line of another name. INTERNAL for a line of that name that does not parse.
absl::StatusOr<std::optional<int64_t>> StatusValue(absl::string_view line, absl::string_view name) {
  absl::string_view rest = line;
  if (!absl::ConsumePrefix(&rest, name)) return std::nullopt;
  rest = absl::StripAsciiWhitespace(rest);
  absl::ConsumeSuffix(&rest, "kB");
  int64_t value;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &value)) {
    return absl::InternalError(absl::StrCat("bad status line '", line, "'"));
  }
  return value;
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

// Reads /proc/<pid>/status once: VmRSS into `usage` and, when `stats` is given, VmSize and
// Threads into it.
absl::Status ReadStatus(const std::string& dir, ProcessUsage* usage, ProcessStats* stats) {
  std::ifstream status_file(dir + "/status");
  bool rss_seen = false;
  for (std::string line; std::getline(status_file, line);) {
    absl::StatusOr<std::optional<int64_t>> rss = StatusValue(line, "VmRSS:");
    absl::StatusOr<std::optional<int64_t>> size = StatusValue(line, "VmSize:");
    absl::StatusOr<std::optional<int64_t>> threads = StatusValue(line, "Threads:");
    for (const auto* value : {&rss, &size, &threads}) {
      if (!value->ok()) {
        return absl::InternalError(absl::StrCat(dir, "/status: ", value->status().message()));
      }
    }
    if (rss->has_value()) {
      usage->rss_kib = **rss;
      rss_seen = true;
    }
    if (stats == nullptr) continue;
    if (size->has_value()) stats->virtual_bytes = **size * 1024;
    if (threads->has_value()) stats->threads = **threads;
  }
  if (!rss_seen) return absl::InternalError(absl::StrCat(dir, "/status: no VmRSS"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcessUsage> ReadProcessUsage(pid_t pid) {
  const std::string dir = ProcDir(pid);
  absl::StatusOr<std::vector<std::string>> fields = StatFields(dir);
  if (!fields.ok()) return fields.status();
  absl::StatusOr<double> cpu = CpuSeconds(*fields, dir);
  if (!cpu.ok()) return cpu.status();
  ProcessUsage usage;
  usage.cpu_seconds = *cpu;
  if (absl::Status status = ReadStatus(dir, &usage, nullptr); !status.ok()) return status;
  return usage;
}

absl::StatusOr<ProcessStats> ReadProcessStats(pid_t pid) {
  const std::string dir = ProcDir(pid);
  absl::StatusOr<std::vector<std::string>> fields = StatFields(dir);
  if (!fields.ok()) return fields.status();
  ProcessStats stats;
  absl::StatusOr<double> cpu = CpuSeconds(*fields, dir);
  if (!cpu.ok()) return cpu.status();
  stats.usage.cpu_seconds = *cpu;
  // starttime (field 22, fields[19]): clock ticks after boot.
  int64_t start_ticks = 0;
  if (fields->size() < 20 || !absl::SimpleAtoi((*fields)[19], &start_ticks)) {
    return absl::InternalError(absl::StrCat(dir, "/stat: no starttime"));
  }
  absl::StatusOr<int64_t> boot = BootTime();
  if (!boot.ok()) return boot.status();
  stats.start_time_seconds = static_cast<double>(*boot) + Ticks(start_ticks);
  if (absl::Status status = ReadStatus(dir, &stats.usage, &stats); !status.ok()) return status;

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
