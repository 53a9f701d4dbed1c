// StreamSession: what one Process stream does with its messages, apart from the transport.
//
// It turns a StreamConfig into a pipeline and a `ready`, each chunk into its processed chunk
// with metrics, an update into an in-band result, and the end of input into the tail and the
// summary. ProcessCall owns the gRPC side (reads, writes, backpressure, lifetime) and calls
// these from the stream's single running task.
// Thread safety: one thread at a time (the stream's task).
#ifndef AUDIOPROC_SERVICE_STREAM_SESSION_H_
#define AUDIOPROC_SERVICE_STREAM_SESSION_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "audioproc/v1/audioproc.pb.h"
#include "processors/stream_pipeline.h"
#include "service/server_state.h"

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

  // Validates the config and builds the pipeline; appends `ready`. A bad config is
  // INVALID_ARGUMENT naming the field, and nothing is appended. `peer` is for the log.
  absl::Status Configure(const v1::StreamConfig& config, absl::string_view peer,
                         std::vector<Response>* out);
  bool configured() const { return pipeline_ != nullptr; }

  // Processes one chunk received at `received`; appends its response. OUT_OF_RANGE past
  // --max_stream_seconds (the chunk is then not processed).
  absl::Status ProcessChunk(const v1::AudioChunk& chunk, Clock::time_point received,
                            std::vector<Response>* out);

  // Applies a ChainUpdate whole or not at all; its result rides on the next chunk response.
  void ApplyUpdate(const v1::ChainUpdate& update);

  // After the client's half-close: appends the tail chunk and the summary.
  void Finish(std::vector<Response>* out);

  const std::string& stream_id() const { return stream_id_; }
  const std::string& chain_text() const { return chain_text_; }
  uint64_t chunks() const { return chunks_; }

 private:
  // Moves pending update results and the pipeline's events onto `chunk`.
  void AttachEvents(v1::ProcessedChunk* chunk);

  ServerState* const state_;
  std::unique_ptr<StreamPipeline> pipeline_;
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
