// StreamSession: what one Process stream does with its messages, apart from the transport.
//
// It turns a StreamConfig into a grant (what the stream may send and what it holds of the
// server's budgets, service/stream_grant.h), a pipeline and a `ready`; each chunk into its
// processed chunk with metrics, a slice at a time if it is long; an update into an in-band
// result; and the end of input into the tail and the summary. ProcessCall owns the gRPC side
// (reads, writes, backpressure, lifetime) and calls these from the stream's single running
// task.
// Thread safety: one thread at a time (the stream's task).
#ifndef AUDIOPROC_SERVICE_STREAM_SESSION_H_
#define AUDIOPROC_SERVICE_STREAM_SESSION_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/stream_pipeline.h"
#include "service/resource_budget.h"
#include "service/server_state.h"
#include "service/stream_grant.h"

namespace audioproc {

class StreamSession {
 public:
  using Clock = std::chrono::steady_clock;

  // A response to send; `received` is set for chunk responses (for the latency metric).
  struct Response {
    v1::ProcessResponse response;
    std::optional<Clock::time_point> received;
  };

  explicit StreamSession(ServerState* state) : state_(state) {}

  // Validates the config, grants the stream its limits and reserves its share of the
  // budgets, then builds the pipeline; appends `ready`. A bad config is INVALID_ARGUMENT
  // naming the field, a stream that could never run here INVALID_ARGUMENT naming its cost,
  // one that does not fit the budgets now RESOURCE_EXHAUSTED; nothing is appended then.
  // `peer` is for the log.
  absl::Status Configure(const v1::StreamConfig& config, absl::string_view peer,
                         std::vector<Response>* out);
  bool configured() const { return pipeline_ != nullptr; }
  // What the stream was granted (valid once configured).
  const StreamGrant& grant() const { return grant_; }

  // Processes `chunk`, received at `received`, until it is done (its response appended;
  // returns true) or `yield` says to stop between blocks (returns false: call again with the
  // same chunk to go on where it stopped). OUT_OF_RANGE past --max_stream_seconds (the chunk
  // is then not processed).
  absl::StatusOr<bool> ProcessChunk(const v1::AudioChunk& chunk, Clock::time_point received,
                                    absl::FunctionRef<bool()> yield, std::vector<Response>* out);

  // Applies a ChainUpdate whole or not at all; its result rides on the next chunk response.
  // RESOURCE_EXHAUSTED when kMaxPendingUpdates results already wait for a chunk.
  absl::Status ApplyUpdate(const v1::ChainUpdate& update);

  // After the client's half-close: appends the tail chunk and the summary.
  void Finish(std::vector<Response>* out);

  // Seconds of input audio processed so far.
  double audio_seconds() const;

  const std::string& stream_id() const { return stream_id_; }
  const std::string& chain_text() const { return chain_text_; }
  uint64_t chunks() const { return chunks_; }

 private:
  // A chunk processed over several slices.
  struct ChunkInProgress {
    size_t offset = 0;  // bytes of the chunk's data fed so far
    Clock::time_point start;
    Response response;
  };

  // Moves pending update results and the pipeline's events onto `chunk`.
  void AttachEvents(v1::ProcessedChunk* chunk);
  // Fills the metrics and counters of a chunk processed from `start` to now.
  void CompleteChunk(const v1::AudioChunk& chunk, Clock::time_point received,
                     ChunkInProgress& progress, std::vector<Response>* out);

  ServerState* const state_;
  StreamGrant grant_;
  // The stream's share of the budgets, and its part of the transport's quota, held until the
  // session ends.
  ResourceBudget::Reservation held_;
  TransportQuota::Share transport_share_;
  std::unique_ptr<StreamPipeline> pipeline_;
  std::optional<ChunkInProgress> in_progress_;
  std::string stream_id_;
  std::string chain_text_;
  uint64_t chunks_ = 0;
  uint64_t next_sequence_ = 1;
  double processing_seconds_ = 0;
  std::vector<v1::Event> pending_events_;
  std::vector<double> last_processor_seconds_;
  std::vector<prometheus::Histogram*> processor_histograms_;
  Clock::time_point ready_at_;
  // The last integrated loudness a loudness processor reported, for the summary.
  std::optional<float> last_integrated_lufs_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_SESSION_H_
