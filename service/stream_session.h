// StreamSession: what one Process stream does with its messages, apart from the transport.
//
// It turns a StreamConfig into a grant (what the stream may send and what it holds of the
// server's budgets, service/stream_grant.h), a pipeline and a `ready`; each chunk into its
// processed chunk with metrics, a slice at a time if it is long; an update into an in-band
// result; and the end of input into the tail and the summary. ProcessCall owns the gRPC side
// (reads, writes, backpressure, lifetime): it checks each request as it arrives
// (CheckRequest) and hands it to Handle, and the end of input to Finish, from the stream's
// single running task.
//
// What the session uses of the server is injected (Deps: the registry, the limits, a metrics
// sink, admission against the budgets, stream ids and the clock), so that the whole protocol
// runs in tests without gRPC (tests/service/stream_session_test.cc):
//
//   StreamSession session({registry, limits, metrics, admission, new_id, now});
//   std::vector<StreamSession::Response> out;
//   RETURN_IF_ERROR(StreamSession::CheckRequest(config_request, size, /*first=*/true, {}, limits));
//   ASSIGN_OR_RETURN(bool done, session.Handle(config_request, peer, received, yield, &out));
//
// Thread safety: one thread at a time (the stream's task); CheckRequest on any.
#ifndef AUDIOPROC_SERVICE_STREAM_SESSION_H_
#define AUDIOPROC_SERVICE_STREAM_SESSION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "service/resume_keys.h"
#include "service/resume_token.h"
#include "service/stream_grant.h"

namespace audioproc {

// What a stream may be and hold, from the server's flags.
struct SessionLimits {
  int max_chain_length = 32;                  // --max_chain_length
  double max_stream_seconds = 14400;          // --max_stream_seconds, of audio
  StreamGrantLimits grant;                    // what GrantStream may grant
  double resume_token_ttl_seconds = 300;      // --resume_token_ttl_seconds
  uint64_t max_resume_token_bytes = 1 << 20;  // --max_resume_token_bytes
};

// Where a session's counters and timings go: the server's Prometheus metrics (DESIGN §7), a
// recording fake in tests.
// Thread safety: called by every session at once.
class SessionMetrics {
 public:
  virtual ~SessionMetrics() = default;
  // A request refused for `reason` (audioproc_rejections_total: "update_flood").
  virtual void Rejected(absl::string_view reason) = 0;
  // Where processor `name`'s time per chunk goes. Asked once per processor when the stream
  // is ready, so that a chunk takes no lookup (and no lock).
  using SecondsObserver = std::function<void(double seconds)>;
  virtual SecondsObserver ProcessorSeconds(absl::string_view name) = 0;
  // A chunk processed: the audio it carried, its response's audio bytes, and how long it
  // waited between its receipt and the start of its processing.
  virtual void ChunkProcessed(double audio_seconds, uint64_t bytes_out,
                              double queue_wait_seconds) = 0;
  // The tail's audio bytes.
  virtual void TailProcessed(uint64_t bytes_out) = 0;
  // Events a response had no room for.
  virtual void EventsDropped(uint64_t events) = 0;
  // A checkpoint of `bytes` (its token) sent.
  virtual void CheckpointSent(uint64_t bytes) = 0;
  // A resume that ended with `code` (OK: the stream goes on).
  virtual void Resumed(absl::StatusCode code) = 0;
};

// Admission by cost: reserves a granted stream's share of the server (its budgets and its
// part of gRPC's transport quota) before the stream allocates anything.
// Thread safety: called by every session at once.
class SessionAdmission {
 public:
  // What an admitted stream holds; destroying it gives it back.
  class Hold {
   public:
    virtual ~Hold() = default;
  };
  virtual ~SessionAdmission() = default;
  // RESOURCE_EXHAUSTED naming what is short (and counted) when `grant.cost` does not fit now.
  virtual absl::StatusOr<std::unique_ptr<Hold>> Admit(const StreamGrant& grant) = 0;
};

class StreamSession {
 public:
  using Clock = std::chrono::steady_clock;

  // A response to send; `received` is set for chunk responses (for the latency metric).
  struct Response {
    v1::ProcessResponse response;
    std::optional<Clock::time_point> received;
  };

  // What a session uses of the server, which must outlive it (ServerState::session_deps();
  // fakes in tests).
  struct Deps {
    const ProcessorRegistry& registry;
    const SessionLimits& limits;
    SessionMetrics& metrics;
    SessionAdmission& admission;
    // A fresh id for a stream whose config leaves stream_id empty.
    std::function<std::string()> new_stream_id;
    // The time (for queue waits, processing times and the summary's wall_seconds).
    std::function<Clock::time_point()> now;
    // The keys that sign and check resume tokens (--resume_key_file); null: streams are not
    // resumable and a ResumeStream is FAILED_PRECONDITION.
    const ResumeKeys* resume_keys = nullptr;
  };

  explicit StreamSession(Deps deps) : deps_(std::move(deps)) {}

  // What a ready stream's requests may be, from its grant.
  struct RequestBounds {
    uint32_t max_chunk_bytes = 0;    // StreamGrant::max_chunk_bytes
    uint32_t max_message_bytes = 0;  // StreamGrant::max_message_bytes
  };

  // The protocol's rules for a request as it arrives (`bytes` serialized), before it is
  // queued: the first must be a config or a resume and no other may be, and none may be empty
  // (INVALID_ARGUMENT); after the first, a chunk's data within bounds.max_chunk_bytes and the
  // whole message within bounds.max_message_bytes (RESOURCE_EXHAUSTED naming the limits; the
  // caller counts it as a "max_chunk_bytes" rejection). Static: the transport calls it while
  // the stream's task may be using the session.
  static absl::Status CheckRequest(const v1::ProcessRequest& request, uint64_t bytes, bool first,
                                   const RequestBounds& bounds, const SessionLimits& limits);

  // Handles a request CheckRequest accepted: Configure a config (an INVALID_ARGUMENT is
  // counted as an "invalid_config" rejection), Resume a resume, ProcessChunk a chunk,
  // ApplyUpdate an update.
  // Returns false when a chunk stopped between slices (call again with the same request to go
  // on), true when the request is done. A non-OK status ends the stream. Requests out of
  // order (a chunk or update before the config, a second config) are INVALID_ARGUMENT here
  // as well, as CheckRequest says.
  absl::StatusOr<bool> Handle(const v1::ProcessRequest& request, absl::string_view peer,
                              Clock::time_point received, absl::FunctionRef<bool()> yield,
                              std::vector<Response>* out);

  // Validates the config, grants the stream its limits and reserves its share of the
  // budgets, then builds the pipeline; appends `ready`. A bad config is INVALID_ARGUMENT
  // naming the field, a stream that could never run here INVALID_ARGUMENT naming its cost,
  // one that does not fit the budgets now RESOURCE_EXHAUSTED; nothing is appended then.
  // `peer` is for the log.
  absl::Status Configure(const v1::StreamConfig& config, absl::string_view peer,
                         std::vector<Response>* out);
  bool configured() const { return pipeline_ != nullptr; }

  // Instead of Configure: verifies the token (OpenResumeToken's statuses), then plans, admits
  // and builds the stream it holds as Configure does, restores every processor's state and
  // appends `ready` with resumed_after_sequence; the stream goes on from there, byte for byte.
  absl::Status Resume(const v1::ResumeStream& resume, absl::string_view peer,
                      std::vector<Response>* out);

  // Who the stream belongs to (the bearer token or the client certificate's identity; empty
  // on a server that knows neither): a resume token is bound to it. Set before the first
  // request.
  void set_principal(std::string principal) { principal_ = std::move(principal); }
  // Whether the stream sends checkpoints (StreamReady.resumable).
  bool resumable() const { return resumable_; }
  // Appends a Checkpoint at the stream's current point (between chunks): after every
  // checkpoint_interval_ms of audio, and when the server drains. A stream that is not
  // resumable appends nothing; a token that cannot be made (its state grew past the bound)
  // is logged and skipped.
  void Checkpoint(std::vector<Response>* out);
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

  // After the client's half-close: appends the tail chunk and the summary. INVALID_ARGUMENT
  // (nothing appended) when the input ended before the config.
  absl::Status Finish(std::vector<Response>* out);

  // Seconds of input audio processed so far.
  double audio_seconds() const;

  const std::string& stream_id() const { return stream_id_; }
  // The stream's formats and chain as configured (valid once configured).
  const PipelineConfig& pipeline_config() const { return pipeline_->config(); }
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
  // Puts the pipeline's levels of each channel (with MetricsOptions.per_channel) on `metrics`.
  void AddChannelLevels(v1::ChunkMetrics* metrics) const;
  // Configure's and Resume's common part: plans, admits and builds `config`, restoring
  // `resumed`'s state when set, and appends `ready`.
  absl::Status Start(const v1::StreamConfig& config, absl::string_view peer,
                     const OpenedResumeToken* resumed, std::vector<Response>* out);
  // Decides resumable_ (and the checkpoints' schedule) for the built pipeline.
  void PlanCheckpoints();
  // Fills the metrics and counters of a chunk processed from `start` to now.
  void CompleteChunk(const v1::AudioChunk& chunk, Clock::time_point received,
                     ChunkInProgress& progress, std::vector<Response>* out);

  Deps deps_;
  StreamGrant grant_;
  // The stream's share of the server, held until the session ends.
  std::unique_ptr<SessionAdmission::Hold> admitted_;
  std::unique_ptr<StreamPipeline> pipeline_;
  std::optional<ChunkInProgress> in_progress_;
  std::string stream_id_;
  std::string chain_text_;
  uint64_t chunks_ = 0;
  uint64_t next_sequence_ = 1;
  uint64_t last_sequence_ = 0;  // of the last chunk answered
  // The config as the client sent it (the chain as it runs goes into each token).
  v1::StreamConfig config_;
  std::string principal_;
  bool resumable_ = false;
  uint64_t checkpoint_interval_frames_ = 0;  // of input
  uint64_t next_checkpoint_frame_ = 0;
  uint64_t token_capacity_ = 0;  // the buffer a checkpoint's token is written into
  double processing_seconds_ = 0;
  std::vector<v1::Event> pending_events_;
  std::vector<double> last_processor_seconds_;
  std::vector<SessionMetrics::SecondsObserver> processor_seconds_observers_;
  Clock::time_point ready_at_;
  // The last integrated loudness a loudness processor reported, for the summary.
  std::optional<float> last_integrated_lufs_;
  // Events a response had no room for, for the summary.
  uint64_t events_not_sent_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_SESSION_H_
