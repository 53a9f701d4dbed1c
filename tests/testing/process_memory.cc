#include "tests/testing/process_memory.h"

#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace audioproc::testing {

namespace {

// A "<field>:     12345 kB" line of /proc/<pid>/status, in bytes.
std::optional<int64_t> StatusBytes(pid_t pid, absl::string_view field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field) || !absl::ConsumePrefix(&rest, ":")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    if (!absl::ConsumeSuffix(&rest, "kB")) return std::nullopt;
    int64_t kib;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib)) return std::nullopt;
    return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> ResidentBytes(pid_t pid) { return StatusBytes(pid, "VmRSS"); }

std::optional<int64_t> PeakResidentBytes(pid_t pid) { return StatusBytes(pid, "VmHWM"); }

}  // namespace audioproc::testing
