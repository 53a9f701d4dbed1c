#include "service/flags.h"

#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, host, "[::]",
          "Address the gRPC, health and metrics listeners bind: [::] (every address, IPv6 and "
          "IPv4; metrics on IPv4 only), 0.0.0.0 (the same), or one IPv4 or IPv6 address "
          "(::1, [::1], 10.0.0.7). The metrics listener cannot bind an IPv6 address.");
ABSL_FLAG(int, port, 50051, "gRPC port (0 = any free port).");
ABSL_FLAG(int, metrics_port, 9090, "Prometheus /metrics port (0 = any free port).");
ABSL_FLAG(int, health_port, 0, "Plaintext port serving only grpc.health.v1.Health (0 = off).");
ABSL_FLAG(std::string, port_file, "",
          "Write {\"grpc\":P,\"metrics\":M,\"health\":H} here once every listener is bound.");
ABSL_FLAG(int, workers, 0,
          "DSP worker threads (0 = the cores the container may use: its cgroup CPU quota rounded "
          "up, at most the usable CPUs).");
ABSL_FLAG(int, cq_threads, 0,
          "gRPC completion-queue threads (0 = the cores the container may use, as --workers).");
ABSL_FLAG(int, max_streams, 1000, "Concurrent Process streams; more are RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, max_chain_length, 32, "Processors per chain.");
ABSL_FLAG(int64_t, max_chunk_bytes, 1048576, "Bytes of audio per chunk.");
ABSL_FLAG(int64_t, max_message_bytes, 34603008, "Bytes per gRPC message received.");
ABSL_FLAG(int64_t, max_file_bytes, 33554432,
          "Bytes of encoded file per ProcessFile call (at most --max_message_bytes); more is "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(double, max_file_seconds, 3600,
          "Audio seconds per ProcessFile file; more is OUT_OF_RANGE.");
ABSL_FLAG(int, file_workers, 1,
          "DSP threads for ProcessFile, apart from --workers so that files never delay streams.");
ABSL_FLAG(int, stream_queue_chunks, 8,
          "Chunks a stream may have waiting for processing, and processed waiting to be sent.");
ABSL_FLAG(double, max_stream_seconds, 14400, "Audio seconds per stream; more is OUT_OF_RANGE.");
ABSL_FLAG(double, idle_timeout_seconds, 60,
          "Seconds the server waits for a chunk before DEADLINE_EXCEEDED.");
ABSL_FLAG(double, drain_seconds, 30,
          "On SIGTERM, seconds running streams may go on before they end UNAVAILABLE.");
ABSL_FLAG(bool, reflection, true, "Serve gRPC server reflection.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: TLS on the gRPC port (reloaded on change).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: clients must present a certificate it signed (mutual TLS).");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "Bearer tokens, one per line, # comments (reloaded on change); every service but "
          "health then needs 'authorization: Bearer <token>'.");
ABSL_FLAG(std::string, admin_tokens_file, "",
          "Bearer tokens for the Admin service (ListStreams, WatchStreams), in the same form; "
          "empty: Admin takes the --auth_tokens_file tokens, or none.");
ABSL_FLAG(std::string, resume_key_file, "",
          "HMAC-SHA256 key (at least 32 bytes of text, e.g. openssl rand -hex 32) shared by the "
          "replicas, which signs the checkpoints of streams that ask for them; reloaded on "
          "change, the previous key still verifying. Empty: streams are not resumable.");
ABSL_FLAG(double, resume_token_ttl_seconds, 300,
          "Seconds a checkpoint's resume token stays valid.");
ABSL_FLAG(int64_t, max_resume_token_bytes, 1048576,
          "Bytes of one resume token; a chain whose state cannot fit is not resumable "
          "(StreamReady.resumable false).");
ABSL_FLAG(double, keepalive_time_seconds, 60, "Interval of HTTP/2 keepalive pings.");
ABSL_FLAG(double, keepalive_timeout_seconds, 20,
          "A connection whose keepalive ping is not answered in this time is closed.");
ABSL_FLAG(double, max_connection_age_seconds, 0,
          "Close connections gracefully after this age so clients rebalance (0 = off).");
ABSL_FLAG(double, max_connection_age_grace_seconds, 0,
          "Calls on an aged connection may go on this long before it is closed (0 = unbounded).");
ABSL_FLAG(int64_t, resource_quota_bytes, 0,
          "Memory gRPC's transport may use for buffers across all connections (a ResourceQuota) "
          "besides what admitted streams add, out of --memory_budget_bytes (0 = an eighth of it, "
          "at least twice --max_message_bytes).");
ABSL_FLAG(int64_t, memory_budget_bytes, 0,
          "Memory the server may hold for clients (transport, streams, files), charged before "
          "it is allocated; what does not fit is RESOURCE_EXHAUSTED (0 = 75% of the cgroup's "
          "memory limit, else 1 GiB).");
ABSL_FLAG(double, cpu_budget, 0,
          "Cores the running streams and files may commit by the cost model; more is "
          "RESOURCE_EXHAUSTED (0 = 85% of the cgroup's CPU quota, else of the usable CPUs).");
ABSL_FLAG(std::string, cgroup_root, "/sys/fs/cgroup",
          "Where the cgroup's limits are read for the budgets' defaults (v1 or v2).");
ABSL_FLAG(double, max_stream_cost, 0.5,
          "Cores one stream's chain may cost; a costlier chain could never run in real time "
          "and is INVALID_ARGUMENT.");
ABSL_FLAG(int64_t, max_response_bytes, 4194304,
          "Bytes of one Process response; each stream's largest chunk keeps its responses "
          "within it (StreamReady.max_chunk_bytes).");
ABSL_FLAG(int, max_events_per_response, 1024,
          "Events one Process response may carry; a chain that could report more even for "
          "10 ms chunks is INVALID_ARGUMENT.");
ABSL_FLAG(int64_t, max_file_output_bytes, 0,
          "Bytes of ProcessFile's output file, computed from the input's header before "
          "decoding; more is RESOURCE_EXHAUSTED (0 = --max_message_bytes).");
ABSL_FLAG(std::string, log_format, "json", "Log line format: json or text.");
ABSL_FLAG(std::string, log_level, "info",
          "Least severe level logged: debug, info, warning, error.");

namespace audioproc {
namespace {

// Flags defined in this file are the server's; Abseil's own flags are left alone.
bool IsServerFlag(const absl::CommandLineFlag& flag) {
  return absl::EndsWith(flag.Filename(), "service/flags.cc");
}

absl::Status CheckAtLeast(absl::string_view flag, double value, double min) {
  if (value < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be at least ", min, ", got ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckPort(absl::string_view flag, int value) {
  if (value < 0 || value > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be in [0, 65535], got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyEnvironmentToFlags() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsServerFlag(*flag)) continue;
    const std::string variable = absl::StrCat("AUDIOPROC_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", variable, "='", value, "': ", error));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  options.health_port = absl::GetFlag(FLAGS_health_port);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.workers = absl::GetFlag(FLAGS_workers);
  options.cq_threads = absl::GetFlag(FLAGS_cq_threads);
  options.max_streams = absl::GetFlag(FLAGS_max_streams);
  options.max_chain_length = absl::GetFlag(FLAGS_max_chain_length);
  options.max_chunk_bytes = absl::GetFlag(FLAGS_max_chunk_bytes);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.max_file_bytes = absl::GetFlag(FLAGS_max_file_bytes);
  options.max_file_seconds = absl::GetFlag(FLAGS_max_file_seconds);
  options.file_workers = absl::GetFlag(FLAGS_file_workers);
  options.stream_queue_chunks = absl::GetFlag(FLAGS_stream_queue_chunks);
  options.max_stream_seconds = absl::GetFlag(FLAGS_max_stream_seconds);
  options.idle_timeout_seconds = absl::GetFlag(FLAGS_idle_timeout_seconds);
  options.drain_seconds = absl::GetFlag(FLAGS_drain_seconds);
  options.reflection = absl::GetFlag(FLAGS_reflection);
  options.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                 absl::GetFlag(FLAGS_tls_client_ca)};
  options.auth_tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  options.resume_key_file = absl::GetFlag(FLAGS_resume_key_file);
  options.resume_token_ttl_seconds = absl::GetFlag(FLAGS_resume_token_ttl_seconds);
  options.max_resume_token_bytes = absl::GetFlag(FLAGS_max_resume_token_bytes);
  options.admin_tokens_file = absl::GetFlag(FLAGS_admin_tokens_file);
  options.keepalive_time_seconds = absl::GetFlag(FLAGS_keepalive_time_seconds);
  options.keepalive_timeout_seconds = absl::GetFlag(FLAGS_keepalive_timeout_seconds);
  options.max_connection_age_seconds = absl::GetFlag(FLAGS_max_connection_age_seconds);
  options.max_connection_age_grace_seconds = absl::GetFlag(FLAGS_max_connection_age_grace_seconds);
  options.resource_quota_bytes = absl::GetFlag(FLAGS_resource_quota_bytes);
  options.memory_budget_bytes = absl::GetFlag(FLAGS_memory_budget_bytes);
  options.cpu_budget = absl::GetFlag(FLAGS_cpu_budget);
  options.cgroup_root = absl::GetFlag(FLAGS_cgroup_root);
  options.max_stream_cost = absl::GetFlag(FLAGS_max_stream_cost);
  options.max_response_bytes = absl::GetFlag(FLAGS_max_response_bytes);
  options.max_events_per_response = absl::GetFlag(FLAGS_max_events_per_response);
  options.max_file_output_bytes = absl::GetFlag(FLAGS_max_file_output_bytes);

  for (auto [flag, port] :
       {std::pair{"port", options.port}, std::pair{"metrics_port", options.metrics_port},
        std::pair{"health_port", options.health_port}}) {
    if (absl::Status status = CheckPort(flag, port); !status.ok()) return status;
  }
  for (auto [flag, value, min] :
       {std::tuple{"workers", double(options.workers), 0.0},
        std::tuple{"cq_threads", double(options.cq_threads), 0.0},
        std::tuple{"max_streams", double(options.max_streams), 1.0},
        std::tuple{"max_chain_length", double(options.max_chain_length), 1.0},
        std::tuple{"max_chunk_bytes", double(options.max_chunk_bytes), 1.0},
        std::tuple{"max_message_bytes", double(options.max_message_bytes), 1024.0},
        std::tuple{"max_file_bytes", double(options.max_file_bytes), 1.0},
        std::tuple{"max_file_seconds", options.max_file_seconds, 0.001},
        std::tuple{"file_workers", double(options.file_workers), 1.0},
        std::tuple{"keepalive_time_seconds", options.keepalive_time_seconds, 1.0},
        std::tuple{"resource_quota_bytes", double(options.resource_quota_bytes), 0.0},
        std::tuple{"memory_budget_bytes", double(options.memory_budget_bytes), 0.0},
        std::tuple{"cpu_budget", options.cpu_budget, 0.0},
        std::tuple{"max_file_output_bytes", double(options.max_file_output_bytes), 0.0},
        std::tuple{"keepalive_timeout_seconds", options.keepalive_timeout_seconds, 1.0},
        std::tuple{"max_connection_age_seconds", options.max_connection_age_seconds, 0.0},
        std::tuple{"max_connection_age_grace_seconds", options.max_connection_age_grace_seconds,
                   0.0},
        std::tuple{"stream_queue_chunks", double(options.stream_queue_chunks), 1.0},
        std::tuple{"max_stream_seconds", options.max_stream_seconds, 0.001},
        std::tuple{"idle_timeout_seconds", options.idle_timeout_seconds, 0.001},
        std::tuple{"drain_seconds", options.drain_seconds, 0.0}}) {
    if (absl::Status status = CheckAtLeast(flag, value, min); !status.ok()) return status;
  }
  // A file travels in one request message: a larger limit could never be reached, and
  // clients would get gRPC's generic message-size error instead of ours.
  if (options.max_file_bytes > options.max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("--max_file_bytes (", options.max_file_bytes,
                                                   ") must be at most --max_message_bytes (",
                                                   options.max_message_bytes, ")"));
  }
  return ResolveServerOptions(std::move(options));
}

absl::StatusOr<LogOptions> LogOptionsFromFlags() {
  LogOptions options;
  const std::string format = absl::GetFlag(FLAGS_log_format);
  if (format == "json") {
    options.format = LogFormat::kJson;
  } else if (format == "text") {
    options.format = LogFormat::kText;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_format must be json or text, got '", format, "'"));
  }
  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return level.status();
  options.level = *level;
  return options;
}

}  // namespace audioproc
