#include "service/logging.h"

#include <grpc/support/log.h>

#include <atomic>
#include <cmath>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace audioproc {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kJson};
std::atomic<LogLevel> g_level{LogLevel::kInfo};
absl::Mutex g_write_mu;

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void GrpcLog(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kInfo;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) level = LogLevel::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = LogLevel::kDebug;
  LogLine(level, "grpc")
      .Add("file", args->file)
      .Add("line", args->line)
      .Add("message", args->message);
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warning" || lower == "warn") return LogLevel::kWarning;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("--log_level must be debug, info, warning or error, got '", name, "'"));
}

void InitLogging(const LogOptions& options) {
  g_format = options.format;
  g_level = options.level;
  gpr_set_log_function(GrpcLog);
  // gRPC filters by its own verbosity before calling us; pass everything at our level on.
  gpr_set_log_verbosity(options.level == LogLevel::kDebug   ? GPR_LOG_SEVERITY_DEBUG
                        : options.level == LogLevel::kError ? GPR_LOG_SEVERITY_ERROR
                                                            : GPR_LOG_SEVERITY_INFO);
}

bool LogEnabled(LogLevel level) { return level >= g_level.load(std::memory_order_relaxed); }

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

LogLine::LogLine(LogLevel level, absl::string_view event) : enabled_(LogEnabled(level)) {
  if (!enabled_) return;
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  if (g_format == LogFormat::kJson) {
    absl::StrAppend(&line_, "{\"time\":\"", time, "\",\"level\":\"", LevelName(level),
                    "\",\"event\":", JsonQuote(event));
  } else {
    absl::StrAppend(&line_, time, " ", absl::AsciiStrToUpper(LevelName(level)), " ", event);
  }
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_ += g_format == LogFormat::kJson ? "}\n" : "\n";
  absl::MutexLock lock(&g_write_mu);
  std::fwrite(line_.data(), 1, line_.size(), stderr);
  std::fflush(stderr);
}

void LogLine::AddRaw(absl::string_view key, absl::string_view json_value,
                     absl::string_view text_value) {
  if (!enabled_) return;
  if (g_format == LogFormat::kJson) {
    absl::StrAppend(&line_, ",", JsonQuote(key), ":", json_value);
  } else {
    absl::StrAppend(&line_, " ", key, "=", text_value);
  }
}

LogLine& LogLine::Add(absl::string_view key, absl::string_view value) {
  if (enabled_) {
    const std::string quoted = JsonQuote(value);
    AddRaw(key, quoted, value.find(' ') == absl::string_view::npos ? value : quoted);
  }
  return *this;
}

LogLine& LogLine::Add(absl::string_view key, int64_t value) {
  if (enabled_) AddRaw(key, absl::StrCat(value), absl::StrCat(value));
  return *this;
}

LogLine& LogLine::Add(absl::string_view key, uint64_t value) {
  if (enabled_) AddRaw(key, absl::StrCat(value), absl::StrCat(value));
  return *this;
}

LogLine& LogLine::Add(absl::string_view key, double value) {
  if (enabled_) {
    const std::string text = absl::StrFormat("%.6g", value);
    AddRaw(key, std::isfinite(value) ? text : "null", text);
  }
  return *this;
}

LogLine& LogLine::Add(absl::string_view key, bool value) {
  if (enabled_) AddRaw(key, value ? "true" : "false", value ? "true" : "false");
  return *this;
}

}  // namespace audioproc
