#include "service/session_services.h"

#include <string>
#include <utility>

namespace audioproc {
namespace {

class BudgetHold final : public SessionAdmission::Hold {
 public:
  BudgetHold(ResourceBudget::Reservation held, TransportQuota::Share transport)
      : held_(std::move(held)), transport_(std::move(transport)) {}

 private:
  ResourceBudget::Reservation held_;
  TransportQuota::Share transport_;
};

}  // namespace

SessionLimits SessionLimitsFromOptions(const ServerOptions& options) {
  return {
      .max_chain_length = options.max_chain_length,
      .max_stream_seconds = options.max_stream_seconds,
      .grant = {.max_chunk_bytes = options.max_chunk_bytes,
                .max_response_bytes = options.max_response_bytes,
                .max_events_per_response = static_cast<uint32_t>(options.max_events_per_response),
                .max_stream_cost = options.max_stream_cost,
                .memory_budget_bytes = options.memory_budget_bytes - options.resource_quota_bytes,
                .queue_chunks = static_cast<uint32_t>(options.stream_queue_chunks)},
      .resume_token_ttl_seconds = options.resume_token_ttl_seconds,
      .max_resume_token_bytes = static_cast<uint64_t>(options.max_resume_token_bytes)};
}

void PrometheusSessionMetrics::Rejected(absl::string_view reason) {
  metrics_.Rejections(reason).Increment();
}

SessionMetrics::SecondsObserver PrometheusSessionMetrics::ProcessorSeconds(absl::string_view name) {
  prometheus::Histogram* histogram = &metrics_.ProcessorSeconds(name);
  return [histogram](double seconds) { histogram->Observe(seconds); };
}

void PrometheusSessionMetrics::ChunkProcessed(double audio_seconds, uint64_t bytes_out,
                                              double queue_wait_seconds) {
  metrics_.chunks().Increment();
  metrics_.audio_seconds().Increment(audio_seconds);
  metrics_.bytes_out().Increment(static_cast<double>(bytes_out));
  metrics_.queue_wait().Observe(queue_wait_seconds);
}

void PrometheusSessionMetrics::TailProcessed(uint64_t bytes_out) {
  metrics_.bytes_out().Increment(static_cast<double>(bytes_out));
}

void PrometheusSessionMetrics::EventsDropped(uint64_t events) {
  metrics_.events_dropped().Increment(static_cast<double>(events));
}

void PrometheusSessionMetrics::CheckpointSent(uint64_t bytes) {
  metrics_.checkpoints().Increment();
  metrics_.checkpoint_bytes().Increment(static_cast<double>(bytes));
}

void PrometheusSessionMetrics::Resumed(absl::StatusCode code) {
  metrics_.Resumes(static_cast<grpc::StatusCode>(code)).Increment();
}

absl::StatusOr<std::unique_ptr<SessionAdmission::Hold>> BudgetAdmission::Admit(
    const StreamGrant& grant) {
  std::string exhausted;
  absl::StatusOr<ResourceBudget::Reservation> held =
      budget_.Reserve(grant.cost, "the stream", &exhausted);
  if (!held.ok()) {
    metrics_.Rejections(exhausted).Increment();
    return held.status();
  }
  return std::make_unique<BudgetHold>(*std::move(held),
                                      transport_.Add(static_cast<int64_t>(grant.transport_bytes)));
}

}  // namespace audioproc
