#include "service/cgroup_limits.h"

#include <sched.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace audioproc {
namespace {

// cgroup v1 reports "no limit" as the largest page-aligned int64 (9223372036854771712);
// anything past 2^60 bytes (an exabyte) is read as unlimited.
constexpr int64_t kUnlimitedBytes = int64_t{1} << 60;

std::optional<std::string> ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return std::string(absl::StripAsciiWhitespace(line));
}

std::optional<int64_t> ParseBytes(const std::optional<std::string>& text) {
  int64_t bytes;
  if (!text || !absl::SimpleAtoi(*text, &bytes) || bytes <= 0 || bytes >= kUnlimitedBytes) {
    return std::nullopt;
  }
  return bytes;
}

std::optional<double> Cores(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<double>(quota) / static_cast<double>(period);
}

}  // namespace

CgroupLimits ReadCgroupLimits(const std::string& root) {
  CgroupLimits limits;
  if (std::optional<std::string> max = ReadFirstLine(root + "/memory.max")) {
    limits.memory_bytes = ParseBytes(max);  // "max" parses as no number: unlimited
  } else {
    limits.memory_bytes = ParseBytes(ReadFirstLine(root + "/memory/memory.limit_in_bytes"));
  }
  if (std::optional<std::string> cpu = ReadFirstLine(root + "/cpu.max")) {
    const std::vector<std::string> fields = absl::StrSplit(*cpu, ' ', absl::SkipEmpty());
    int64_t quota, period;
    if (fields.size() == 2 && absl::SimpleAtoi(fields[0], &quota) &&
        absl::SimpleAtoi(fields[1], &period)) {
      limits.cpu_cores = Cores(quota, period);
    }
  } else {
    std::optional<std::string> quota = ReadFirstLine(root + "/cpu/cpu.cfs_quota_us");
    std::optional<std::string> period = ReadFirstLine(root + "/cpu/cpu.cfs_period_us");
    int64_t q, p;
    if (quota && period && absl::SimpleAtoi(*quota, &q) && absl::SimpleAtoi(*period, &p)) {
      limits.cpu_cores = Cores(q, p);
    }
  }
  return limits;
}

int AvailableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace audioproc
