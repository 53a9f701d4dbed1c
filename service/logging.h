// Structured logging: one line per event, as JSON (default) or text, on stderr.
//
//   LogLine(LogLevel::kInfo, "stream_end").Add("stream_id", id).Add("chunks", n);
//
// The line is written when the LogLine goes out of scope. gRPC's own log lines are routed here
// too (InitLogging installs a gpr log function). Never pass a token, key or audio byte.
// Thread safety: LogLine objects are per thread; writing a line is serialized internally.
#ifndef AUDIOPROC_SERVICE_LOGGING_H_
#define AUDIOPROC_SERVICE_LOGGING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace audioproc {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogFormat { kJson, kText };

struct LogOptions {
  LogFormat format = LogFormat::kJson;
  LogLevel level = LogLevel::kInfo;
};

// "debug", "info", "warning" (or "warn"), "error".
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);

// Sets the format and level for the process and routes gRPC's logging through it.
void InitLogging(const LogOptions& options);

bool LogEnabled(LogLevel level);

class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Add(absl::string_view key, absl::string_view value);
  LogLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  LogLine& Add(absl::string_view key, const std::string& value) {
    return Add(key, absl::string_view(value));
  }
  LogLine& Add(absl::string_view key, int64_t value);
  LogLine& Add(absl::string_view key, uint64_t value);
  LogLine& Add(absl::string_view key, int value) { return Add(key, int64_t{value}); }
  LogLine& Add(absl::string_view key, uint32_t value) { return Add(key, uint64_t{value}); }
  LogLine& Add(absl::string_view key, double value);
  LogLine& Add(absl::string_view key, bool value);

 private:
  void AddRaw(absl::string_view key, absl::string_view json_value, absl::string_view text_value);

  bool enabled_;
  std::string line_;
};

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view text);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_LOGGING_H_
