#include "bench/proc_stats.h"

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

namespace audioproc::bench {

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

}  // namespace audioproc::bench
