#include "service/metrics.h"

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/version_info.h"
#include "service/listen_address.h"
#include "service/process_metrics.h"

namespace audioproc {
namespace {

// Latencies from 50 us to 2.5 s: a chunk is processed in well under a millisecond, but queue
// waits under overload and slow clients reach seconds. 20 ms is the latency objective
// (DESIGN §8), so it is a bucket: the share of chunks within it is exact, not interpolated.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.02,    0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
}

}  // namespace

std::string StatusCodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_metrics_(std::make_shared<ProcessMetrics>()) {
  streams_active_ = &prometheus::BuildGauge()
                         .Name("audioproc_streams_active")
                         .Help("Process streams currently open.")
                         .Register(*registry_)
                         .Add({});
  streams_total_ = &prometheus::BuildCounter()
                        .Name("audioproc_streams_total")
                        .Help("Process streams ended, by final gRPC status code.")
                        .Register(*registry_);
  files_total_ = &prometheus::BuildCounter()
                      .Name("audioproc_files_total")
                      .Help("ProcessFile calls ended, by final gRPC status code.")
                      .Register(*registry_);
  rejections_ = &prometheus::BuildCounter()
                     .Name("audioproc_rejections_total")
                     .Help("Calls refused before any processing, by reason.")
                     .Register(*registry_);
  chunks_ = &prometheus::BuildCounter()
                 .Name("audioproc_chunks_total")
                 .Help("Audio chunks processed.")
                 .Register(*registry_)
                 .Add({});
  audio_seconds_ = &prometheus::BuildCounter()
                        .Name("audioproc_audio_seconds_total")
                        .Help("Seconds of input audio processed.")
                        .Register(*registry_)
                        .Add({});
  auto& bytes = prometheus::BuildCounter()
                    .Name("audioproc_bytes_total")
                    .Help("Audio payload bytes received (in) and sent (out).")
                    .Register(*registry_);
  bytes_in_ = &bytes.Add({{"direction", "in"}});
  bytes_out_ = &bytes.Add({{"direction", "out"}});
  processor_seconds_ = &prometheus::BuildHistogram()
                            .Name("audioproc_processor_seconds")
                            .Help("Time each processor spent on one chunk, in seconds.")
                            .Register(*registry_);
  queue_wait_ = &prometheus::BuildHistogram()
                     .Name("audioproc_queue_wait_seconds")
                     .Help("Time a received chunk waited before a worker processed it, in seconds.")
                     .Register(*registry_)
                     .Add({}, LatencyBuckets());
  chunk_latency_ = &prometheus::BuildHistogram()
                        .Name("audioproc_chunk_latency_seconds")
                        .Help("Time from receiving a chunk to writing its response, in seconds.")
                        .Register(*registry_)
                        .Add({}, LatencyBuckets());
  executor_queue_depth_ = &prometheus::BuildGauge()
                               .Name("audioproc_executor_queue_depth")
                               .Help("Stream tasks waiting for a DSP worker.")
                               .Register(*registry_)
                               .Add({});
  events_dropped_ = &prometheus::BuildCounter()
                         .Name("audioproc_events_dropped_total")
                         .Help(
                             "Events a response had no room for: a chain reported more than "
                             "its estimate allowed (--max_events_per_response).")
                         .Register(*registry_)
                         .Add({});
  checkpoints_ = &prometheus::BuildCounter()
                      .Name("audioproc_checkpoints_total")
                      .Help("Checkpoints sent to resumable streams.")
                      .Register(*registry_)
                      .Add({});
  checkpoint_bytes_ = &prometheus::BuildCounter()
                           .Name("audioproc_checkpoint_bytes_total")
                           .Help("Bytes of the resume tokens in the checkpoints sent.")
                           .Register(*registry_)
                           .Add({});
  resumes_ = &prometheus::BuildCounter()
                  .Name("audioproc_resumes_total")
                  .Help("Streams resumed from a checkpoint's token, by outcome (gRPC code).")
                  .Register(*registry_);
  auto gauge = [this](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
  };
  memory_budget_bytes_ = gauge("audioproc_memory_budget_bytes",
                               "Memory the server may hold for clients (--memory_budget_bytes), "
                               "gRPC's transport quota included, in bytes.");
  memory_committed_bytes_ =
      gauge("audioproc_memory_committed_bytes",
            "Memory reserved for clients now: the transport quota, every stream's and file's "
            "share, in bytes. Saturation: committed / budget.");
  cpu_budget_cores_ = gauge("audioproc_cpu_budget_cores",
                            "CPU the running streams and files may commit (--cpu_budget), "
                            "in cores.");
  cpu_committed_cores_ = gauge("audioproc_cpu_committed_cores",
                               "CPU committed by the cost model to running streams and files, "
                               "in cores. Saturation: committed / budget.");
  prometheus::BuildGauge()
      .Name("audioproc_build_info")
      .Help("Always 1; the labels say which build is running.")
      .Register(*registry_)
      .Add({{"version", AUDIOPROC_VERSION}, {"commit", AUDIOPROC_COMMIT}})
      .Set(1);
  limits_ = &prometheus::BuildGauge()
                 .Name("audioproc_limit")
                 .Help(
                     "The server's configured limits and pool sizes, by flag name (max_streams, "
                     "workers, ...), so that alerts can be ratios against them.")
                 .Register(*registry_);
  tls_reload_errors_ = &prometheus::BuildCounter()
                            .Name("audioproc_tls_reload_errors_total")
                            .Help(
                                "Changed TLS files refused at a reload because they did not "
                                "parse or the key did not match the certificate; the "
                                "previous pair stays in service.")
                            .Register(*registry_)
                            .Add({});
  grpc_started_ = &prometheus::BuildCounter()
                       .Name("grpc_server_started_total")
                       .Help("RPCs started on the server, by service, method and type.")
                       .Register(*registry_);
  grpc_handled_ = &prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("RPCs completed on the server, by service, method, type and code.")
                       .Register(*registry_);
  for (int code = 0; code <= static_cast<int>(grpc::StatusCode::UNAUTHENTICATED); ++code) {
    StreamsTotal(static_cast<grpc::StatusCode>(code));
    FilesTotal(static_cast<grpc::StatusCode>(code));
  }
  for (const char* reason : kRejectionReasons) Rejections(reason);
}

absl::StatusOr<int> Metrics::Serve(const std::string& host, int port) {
  absl::StatusOr<std::string> address = MetricsListenAddress(host, port);
  if (!address.ok()) return address.status();
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(*address);
  } catch (const std::exception& e) {
    // civetweb reports a port in use by throwing; this is the only exception we catch, at
    // the edge of the library that throws it.
    return absl::UnavailableError(
        absl::StrCat("--metrics_port=", port, " could not be bound: ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(process_metrics_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError("the metrics listener bound no port");
  return ports.front();
}

void Metrics::GrpcStarted(const GrpcMethod& method) {
  grpc_started_
      ->Add({{"grpc_service", method.service},
             {"grpc_method", method.method},
             {"grpc_type", method.type}})
      .Increment();
}

void Metrics::GrpcHandled(const GrpcMethod& method, grpc::StatusCode code) {
  grpc_handled_
      ->Add({{"grpc_service", method.service},
             {"grpc_method", method.method},
             {"grpc_type", method.type},
             {"grpc_code", StatusCodeName(code)}})
      .Increment();
}

prometheus::Gauge& Metrics::Limit(absl::string_view flag) {
  return limits_->Add({{"flag", std::string(flag)}});
}

prometheus::Counter& Metrics::StreamsTotal(grpc::StatusCode code) {
  return streams_total_->Add({{"code", StatusCodeName(code)}});
}

prometheus::Counter& Metrics::FilesTotal(grpc::StatusCode code) {
  return files_total_->Add({{"code", StatusCodeName(code)}});
}

prometheus::Counter& Metrics::Resumes(grpc::StatusCode code) {
  return resumes_->Add({{"code", StatusCodeName(code)}});
}

prometheus::Counter& Metrics::Rejections(absl::string_view reason) {
  return rejections_->Add({{"reason", std::string(reason)}});
}

prometheus::Histogram& Metrics::ProcessorSeconds(absl::string_view processor) {
  // Per-chunk processor times: from 1 us to 50 ms.
  return processor_seconds_->Add({{"processor", std::string(processor)}},
                                 prometheus::Histogram::BucketBoundaries{
                                     0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005,
                                     0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05});
}

}  // namespace audioproc
