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

// The value of field `name` ("VmRSS:", "Threads:") in /proc/<pid>/status, units included.
std::optional<std::string> StatusField(pid_t pid, absl::string_view name) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, name)) return std::string(absl::StripAsciiWhitespace(rest));
  }
  return std::nullopt;
}

// A field in kB ("12345 kB"), in bytes.
std::optional<int64_t> StatusBytes(pid_t pid, absl::string_view name) {
  std::optional<std::string> field = StatusField(pid, name);
  if (!field) return std::nullopt;
  absl::string_view rest = *field;
  if (!absl::ConsumeSuffix(&rest, "kB")) return std::nullopt;
  int64_t kib;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib)) return std::nullopt;
  return kib * 1024;
}

}  // namespace

std::optional<int64_t> ResidentBytes(pid_t pid) { return StatusBytes(pid, "VmRSS:"); }

std::optional<int64_t> PeakResidentBytes(pid_t pid) { return StatusBytes(pid, "VmHWM:"); }

std::optional<int> ThreadCount(pid_t pid) {
  std::optional<std::string> field = StatusField(pid, "Threads:");  // "12"
  int threads;
  if (!field || !absl::SimpleAtoi(*field, &threads)) return std::nullopt;
  return threads;
}

}  // namespace audioproc::testing
