// The server's side of what a StreamSession uses (StreamSession::Deps): its limits from the
// flags, its metrics in Prometheus, its admission against the resource budget and gRPC's
// transport quota. ServerState owns one of each and hands them to every session.
// Thread safety: thread-safe (each forwards to thread-safe objects).
#ifndef AUDIOPROC_SERVICE_SESSION_SERVICES_H_
#define AUDIOPROC_SERVICE_SESSION_SERVICES_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/metrics.h"
#include "service/resource_budget.h"
#include "service/server_options.h"
#include "service/stream_session.h"
#include "service/transport_quota.h"

namespace audioproc {

// A session's limits from the server's flags. The memory a stream may be granted is the
// budget less gRPC's base transport quota, which is held whatever the load.
SessionLimits SessionLimitsFromOptions(const ServerOptions& options);

// SessionMetrics in the server's Prometheus metrics.
class PrometheusSessionMetrics final : public SessionMetrics {
 public:
  // `metrics` must outlive this.
  explicit PrometheusSessionMetrics(Metrics& metrics) : metrics_(metrics) {}

  void Rejected(absl::string_view reason) override;
  SecondsObserver ProcessorSeconds(absl::string_view name) override;
  void ChunkProcessed(double audio_seconds, uint64_t bytes_out, double queue_wait_seconds) override;
  void TailProcessed(uint64_t bytes_out) override;
  void EventsDropped(uint64_t events) override;
  void CheckpointSent(uint64_t bytes) override;
  void Resumed(absl::StatusCode code) override;

 private:
  Metrics& metrics_;
};

// SessionAdmission that reserves a stream's cost from the budget (a refusal is counted as a
// "memory_budget" or "cpu_budget" rejection), then adds its largest message to the
// transport's quota.
class BudgetAdmission final : public SessionAdmission {
 public:
  // All three must outlive this and every Hold it gives.
  BudgetAdmission(ResourceBudget& budget, TransportQuota& transport, Metrics& metrics)
      : budget_(budget), transport_(transport), metrics_(metrics) {}

  absl::StatusOr<std::unique_ptr<Hold>> Admit(const StreamGrant& grant) override;

 private:
  ResourceBudget& budget_;
  TransportQuota& transport_;
  Metrics& metrics_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_SESSION_SERVICES_H_
