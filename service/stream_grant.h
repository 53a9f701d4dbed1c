// StreamGrant: what the server grants one Process stream and holds for it, decided at config
// from the stream's formats, its chain's estimate (processors/resource_estimate.h) and the
// server's limits, before anything is built.
//
// A stream's output is bounded before it is made: its expansion (output bytes per input
// byte, from the formats, the rate change and the chain's latency and events) is known at
// config, so the largest chunk it may send (StreamReady.max_chunk_bytes) is the one whose
// response still fits --max_response_bytes and --max_events_per_response. Its memory is
// fixed for its whole life: the pipeline's state, an inbox and an outbox with room for the
// largest message and response and a little more (to overlap reading, processing and
// writing small chunks), held in bytes; a stream at its share stops reading
// (backpressure) instead of growing. A client that says how large its chunks will be
// (StreamConfig.max_chunk_bytes) is granted, and holds, no more than that. Its CPU is the chain's
// cost model plus the engine's cost of carrying its chunks.
//
// Refusals: INVALID_ARGUMENT for a stream that could never run (a chain costlier than
// --max_stream_cost, more memory than the whole budget, a response or its events too large
// even for a 10 ms chunk), each naming the figure and the limit. Whether the budget has room
// *now* is the ResourceBudget's call (RESOURCE_EXHAUSTED).
// Thread safety: stateless functions and plain values.
#ifndef AUDIOPROC_SERVICE_STREAM_GRANT_H_
#define AUDIOPROC_SERVICE_STREAM_GRANT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/resource_estimate.h"
#include "chain/stream_pipeline.h"
#include "service/resource_budget.h"

namespace audioproc {

// Results of updates that may wait for the next chunk; one more ends the stream
// RESOURCE_EXHAUSTED (a stream that sends only updates cannot pile them up).
inline constexpr uint32_t kMaxPendingUpdates = 16;
// Non-chunk messages (updates) may be this large even where chunks are smaller.
inline constexpr uint32_t kMinMessageBytes = 4096;
// The shortest chunk a real-time client sends; a chain whose response would not fit the
// limits even for this much audio is refused at config.
inline constexpr double kMinChunkSeconds = 0.010;

// The server's limits a grant is made within (from ServerOptions).
struct StreamGrantLimits {
  int64_t max_chunk_bytes = 1048576;     // --max_chunk_bytes
  int64_t max_response_bytes = 4194304;  // --max_response_bytes
  uint32_t max_events_per_response = 1024;
  double max_stream_cost = 0.5;     // cores
  int64_t memory_budget_bytes = 0;  // for clients, beyond gRPC's transport quota
  uint32_t queue_chunks = 8;        // --stream_queue_chunks: items, besides bytes
};

struct StreamGrant {
  // The largest AudioChunk.data accepted (StreamReady.max_chunk_bytes).
  uint32_t max_chunk_bytes = 0;
  // The largest serialized request after the config (a chunk or an update).
  uint32_t max_message_bytes = 0;
  // Bounds on any response of this stream (a chunk, the tail, ready, summary).
  uint64_t max_response_bytes = 0;
  uint32_t max_events_per_response = 0;
  // What the inbox (requests read, not yet processed, the one being processed and the read
  // in flight) and the outbox (responses made, not yet sent, and the one being written) may
  // hold, in serialized bytes; besides `limits.queue_chunks` items each.
  uint64_t inbox_bytes = 0;
  uint64_t outbox_bytes = 0;
  // What gRPC's transport holds of a message before the stream reads it: added to the
  // transport's quota while the stream runs (service/transport_quota.h).
  uint64_t transport_bytes = 0;
  // What the stream holds from the budgets for its whole life.
  ResourceAmount cost;
  // cost.cpu_cores of each stage of the chain (conversions the output appends included).
  std::vector<double> stage_cpu_cores;

  // The most audio bytes the response to a chunk of `chunk_bytes` can carry (so that its
  // buffer is sized once, within the grant).
  uint64_t MaxOutputBytes(uint64_t chunk_bytes) const;

  // What MaxOutputBytes is computed from.
  uint32_t in_frame_bytes = 0;
  uint32_t out_frame_bytes = 0;
  uint32_t input_rate_hz = 0;
  double rate_ratio = 1;          // output rate / input rate
  uint64_t held_back_frames = 0;  // what the chain may release late: latency and a block
};

// Grants a stream of `config` (validated) whose pipeline is `estimate`. `requested_chunk`
// is StreamConfig.max_chunk_bytes (0: as large as allowed).
absl::StatusOr<StreamGrant> GrantStream(const PipelineConfig& config,
                                        const PipelineEstimate& estimate, uint32_t requested_chunk,
                                        const StreamGrantLimits& limits);

// The CPU a stream of `config` whose pipeline is `estimate` commits: its DSP by the cost
// model, scaled to what it costs inside the server, plus the engine's work per chunk (reads,
// writes, hand-offs, metrics) at the 20 ms chunks real-time clients send, and per byte
// carried in and out.
double StreamCpuCores(const PipelineConfig& config, const PipelineEstimate& estimate);

// The CPU one stage accounts for inside the server (its DSP by the cost model, scaled as
// StreamCpuCores scales it).
double StageCpuCores(const StageEstimate& stage);

// Bytes of the largest Event a response can carry (an analysis with every band, an update
// result with the longest message), for response bounds.
uint32_t MaxEventBytes();

// Update results carry at most this much of a refusal's message.
inline constexpr size_t kMaxUpdateMessageBytes = 256;

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_GRANT_H_
