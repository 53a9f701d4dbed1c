// Metrics: the Prometheus metrics of DESIGN §7, in base units, each with help text, and the
// /metrics exposer.
//
// Families are created once; per-label children are looked up when a stream starts (not per
// chunk), so the hot path only increments counters and observes histograms, which
// prometheus-cpp does with atomics.
// Thread safety: all members may be used from any thread.
#ifndef AUDIOPROC_SERVICE_METRICS_H_
#define AUDIOPROC_SERVICE_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace audioproc {

// Every reason audioproc_rejections_total is counted under. Their series exist from startup
// (at 0), as does every streams_total/files_total code, so that rate() sees the first one.
inline constexpr const char* kRejectionReasons[] = {
    "draining",       "max_streams",    "max_chunk_bytes", "idle_timeout",
    "invalid_config", "max_file_bytes", "file_queue",      "unauthenticated",
    "memory_budget",  "cpu_budget",     "update_flood",    "max_file_output_bytes"};

// A gRPC method as the grpc_server_* metrics label it (go-grpc-prometheus' names).
struct GrpcMethod {
  const char* service;
  const char* method;
  const char* type;  // unary, client_stream, server_stream or bidi_stream
};
inline constexpr GrpcMethod kProcessMethod{"audioproc.v1.AudioProcessor", "Process", "bidi_stream"};
inline constexpr GrpcMethod kProcessFileMethod{"audioproc.v1.AudioProcessor", "ProcessFile",
                                               "unary"};
inline constexpr GrpcMethod kListProcessorsMethod{"audioproc.v1.AudioProcessor", "ListProcessors",
                                                  "unary"};
inline constexpr GrpcMethod kValidateConfigMethod{"audioproc.v1.AudioProcessor", "ValidateConfig",
                                                  "unary"};
inline constexpr GrpcMethod kListStreamsMethod{"audioproc.v1.Admin", "ListStreams", "unary"};
inline constexpr GrpcMethod kWatchStreamsMethod{"audioproc.v1.Admin", "WatchStreams",
                                                "server_stream"};

class Metrics {
 public:
  Metrics();

  // Serves /metrics on host:port (port 0 = any free). Returns the bound port.
  absl::StatusOr<int> Serve(const std::string& host, int port);

  prometheus::Registry& registry() { return *registry_; }

  prometheus::Gauge& streams_active() { return *streams_active_; }
  prometheus::Counter& chunks() { return *chunks_; }
  prometheus::Counter& audio_seconds() { return *audio_seconds_; }
  prometheus::Counter& bytes_in() { return *bytes_in_; }
  prometheus::Counter& bytes_out() { return *bytes_out_; }
  prometheus::Histogram& queue_wait() { return *queue_wait_; }
  prometheus::Histogram& chunk_latency() { return *chunk_latency_; }
  prometheus::Gauge& executor_queue_depth() { return *executor_queue_depth_; }
  // Events a response had no room for (a chain that reported more than its estimate).
  prometheus::Counter& events_dropped() { return *events_dropped_; }
  // The budgets (service/resource_budget.h) and what running streams and files hold of them.
  prometheus::Gauge& memory_budget_bytes() { return *memory_budget_bytes_; }
  prometheus::Gauge& memory_committed_bytes() { return *memory_committed_bytes_; }
  prometheus::Gauge& cpu_budget_cores() { return *cpu_budget_cores_; }
  prometheus::Gauge& cpu_committed_cores() { return *cpu_committed_cores_; }
  // audioproc_tls_reload_errors_total: changed TLS files refused at a reload (they did not
  // parse, or the key did not match the certificate); the previous pair stays in service.
  prometheus::Counter& tls_reload_errors() { return *tls_reload_errors_; }
  // audioproc_checkpoints_total and audioproc_checkpoint_bytes_total: checkpoints sent to
  // resumable streams and their tokens' bytes (issue 14).
  prometheus::Counter& checkpoints() { return *checkpoints_; }
  prometheus::Counter& checkpoint_bytes() { return *checkpoint_bytes_; }

  // audioproc_streams_total{code}: streams by final gRPC status code.
  prometheus::Counter& StreamsTotal(grpc::StatusCode code);
  // audioproc_limit{flag="max_streams"}: a configured limit, set once at start.
  prometheus::Gauge& Limit(absl::string_view flag);
  // grpc_server_started_total and grpc_server_handled_total{grpc_code}: calls of `method`
  // that started (past the server's listen) and that ended with `code`. Counted by each call
  // object when a call starts and when its status is sent (or it is cancelled).
  void GrpcStarted(const GrpcMethod& method);
  void GrpcHandled(const GrpcMethod& method, grpc::StatusCode code);
  // audioproc_files_total{code}: ProcessFile calls by final gRPC status code.
  prometheus::Counter& FilesTotal(grpc::StatusCode code);
  // audioproc_rejections_total{reason}: calls refused before any work (max_streams,
  // draining, unauthenticated, ...).
  prometheus::Counter& Rejections(absl::string_view reason);
  // audioproc_resumes_total{code}: ResumeStream requests by outcome (OK, UNAUTHENTICATED for
  // a bad signature, PERMISSION_DENIED for another principal's token, ...).
  prometheus::Counter& Resumes(grpc::StatusCode code);
  // audioproc_processor_seconds{processor}: time in each processor per chunk.
  prometheus::Histogram& ProcessorSeconds(absl::string_view processor);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  // process_* from /proc at each scrape.
  std::shared_ptr<prometheus::Collectable> process_metrics_;
  prometheus::Family<prometheus::Counter>* streams_total_;
  prometheus::Family<prometheus::Counter>* files_total_;
  prometheus::Family<prometheus::Counter>* rejections_;
  prometheus::Family<prometheus::Counter>* resumes_;
  prometheus::Family<prometheus::Gauge>* limits_;
  prometheus::Family<prometheus::Counter>* grpc_started_;
  prometheus::Family<prometheus::Counter>* grpc_handled_;
  prometheus::Family<prometheus::Histogram>* processor_seconds_;
  prometheus::Gauge* streams_active_;
  prometheus::Counter* chunks_;
  prometheus::Counter* audio_seconds_;
  prometheus::Counter* bytes_in_;
  prometheus::Counter* bytes_out_;
  prometheus::Histogram* queue_wait_;
  prometheus::Histogram* chunk_latency_;
  prometheus::Gauge* executor_queue_depth_;
  prometheus::Counter* events_dropped_;
  prometheus::Gauge* memory_budget_bytes_;
  prometheus::Gauge* memory_committed_bytes_;
  prometheus::Gauge* cpu_budget_cores_;
  prometheus::Gauge* cpu_committed_cores_;
  prometheus::Counter* tls_reload_errors_;
  prometheus::Counter* checkpoints_;
  prometheus::Counter* checkpoint_bytes_;
};

// "OK", "INVALID_ARGUMENT", ... as gRPC spells them.
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_METRICS_H_
