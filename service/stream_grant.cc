#include "service/stream_grant.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "audio_io/codec.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/chain.h"

namespace audioproc {
namespace {

// A response's bytes besides its audio and events: the oneof's tag and length, the data
// field's, ChunkMetrics at its largest (eleven fields of up to ten bytes), the tail flag.
constexpr uint64_t kResponseOverheadBytes = 256;
// With MetricsOptions.per_channel, ChunkMetrics also carries a ChannelLevels per input and
// per output channel: two floats (5 bytes each with their tags) and the entry's tag and length.
constexpr uint64_t kChannelLevelsBytes = 12;
// A request's bytes besides the chunk's data: tags, lengths and the sequence number.
constexpr uint32_t kRequestOverheadBytes = 32;
// What a stream holds besides its pipeline and its queues: the call object, gRPC's call and
// its arena, the session's bookkeeping (measured per stream in `make bench`).
constexpr int64_t kStreamOverheadBytes = 48 << 10;

// What a stream costs the server besides its chain's DSP, and what that DSP costs inside the
// server relative to the same chain in process (caches shared by hundreds of streams, a
// thread hand-off per chunk). Admission binds when the server is full, so these are the
// costs at full load, where gRPC batches more and a stream costs less than at half load
// (the report's half-load table shows the model above what it measures there). Fitted to
// `make bench` on the reference machine (2 vCPUs of an Intel Xeon under KVM): server CPU per
// paced stream at the capacity of the null workload (16 kHz mono s16, 640 bytes each way per
// 20 ms chunk) 0.00121 cores and of voice 0.0063, and music (48 kHz stereo f32, 7680 bytes
// in, 7056 out) near its capacity 0.0086; against the in-process chains' 0.00283 (voice) and
// 0.00327 (music) cores. Three constants: per chunk (a read, a hand-off, a write, metrics),
// per byte carried (parsing, serializing, the transport's copies), and the DSP factor.
// Recalibrate from the report's capacity trials when the engine changes.
constexpr double kEngineSecondsPerChunk = 24e-6;
constexpr double kEngineSecondsPerByte = 1.5e-9;
constexpr double kServerDspFactor = 1.9;
// Real-time clients send 20 ms chunks (DESIGN §8); smaller chunks cost more per second.
constexpr double kNominalChunksPerSecond = 50;
// How much a stream's inbox and outbox may hold beyond one largest message and response.
constexpr uint64_t kPipelineBytes = 64 << 10;

uint64_t CeilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// The bounds on what one response of the stream can carry, as functions of the input frames
// of the chunk it answers.
class ResponseBounds {
 public:
  ResponseBounds(const PipelineConfig& config, const PipelineEstimate& estimate)
      : in_frame_bytes_(config.input.channels * BytesPerSample(config.input.encoding)),
        out_frame_bytes_(config.output.channels * BytesPerSample(config.output.encoding)),
        ratio_(static_cast<double>(config.output.sample_rate_hz) / config.input.sample_rate_hz),
        latency_(estimate.chain.max_latency_frames),
        events_(estimate.chain.events),
        event_bytes_(MaxEventBytes()),
        overhead_bytes_(
            kResponseOverheadBytes +
            (config.measure_levels && config.measure_channel_levels
                 ? kChannelLevelsBytes * (config.input.channels + config.output.channels)
                 : 0)) {}

  uint32_t in_frame_bytes() const { return in_frame_bytes_; }

  // Input frames a chunk of `bytes` completes, a partial frame left by the chunk before
  // included.
  uint64_t FramesIn(uint64_t bytes) const {
    return (bytes + in_frame_bytes_ - 1) / in_frame_bytes_;
  }

  // Events of a response to `frames` input frames: pending update results, and what the
  // chain reports over the pipeline's calls (one per block of the decode buffer, one for a
  // completed partial frame, one more where a chunk is processed in slices).
  uint64_t Events(uint64_t frames) const {
    // A chunk fed in slices that do not start on a frame may complete a partial frame in
    // each slice: a call of its own.
    const uint64_t calls = 2 * CeilDiv(frames, kDefaultMaxBlockFrames) + 2;
    // Each call beyond the first adds its burst, and its rounding up if it reports at all.
    const uint64_t per_call = events_.burst + (events_.per_frame > 0 ? 1 : 0);
    return kMaxPendingUpdates + events_.MaxEvents(frames) + (calls - 1) * per_call;
  }

  // The tail: blocks of silence pushed through the chain until its latency is out
  // (Chain::Flush), and one more for what a resampler releases last.
  uint64_t TailEvents() const {
    const uint64_t latency_in = static_cast<uint64_t>(std::ceil(latency_ / ratio_));
    const uint64_t blocks = CeilDiv(latency_in + 1, kDefaultMaxBlockFrames) + 1;
    return kMaxPendingUpdates + blocks * events_.MaxEvents(kDefaultMaxBlockFrames);
  }

  // Output frames of a response to `frames` input frames: the frames' worth at the output
  // rate, plus what the chain may have held back and now releases (its latency and a block).
  uint64_t FramesOut(uint64_t frames) const {
    return static_cast<uint64_t>(std::ceil(static_cast<double>(frames) * ratio_)) +
           HeldBackFrames();
  }
  uint64_t HeldBackFrames() const {
    return latency_ + static_cast<uint64_t>(std::ceil(kDefaultMaxBlockFrames * ratio_)) + 2;
  }
  uint32_t out_frame_bytes() const { return out_frame_bytes_; }
  double ratio() const { return ratio_; }

  uint64_t Bytes(uint64_t frames) const {
    return FramesOut(frames) * out_frame_bytes_ + Events(frames) * event_bytes_ + overhead_bytes_;
  }

  uint64_t TailBytes() const {
    return FramesOut(0) * out_frame_bytes_ + TailEvents() * event_bytes_ + overhead_bytes_;
  }

 private:
  uint32_t in_frame_bytes_;
  uint32_t out_frame_bytes_;
  double ratio_;
  uint64_t latency_;
  EventRate events_;
  uint32_t event_bytes_;
  uint64_t overhead_bytes_;  // ChunkMetrics and the rest besides audio and events
};

}  // namespace

uint64_t StreamGrant::MaxOutputBytes(uint64_t chunk_bytes) const {
  const uint64_t frames = (chunk_bytes + in_frame_bytes - 1) / in_frame_bytes;
  return (static_cast<uint64_t>(std::ceil(static_cast<double>(frames) * rate_ratio)) +
          held_back_frames) *
         out_frame_bytes;
}

uint32_t MaxEventBytes() {
  static const uint32_t bytes = [] {
    v1::Event analysis;
    analysis.set_frame(UINT64_MAX);
    analysis.set_processor_index(UINT32_MAX);
    v1::Analysis* result = analysis.mutable_analysis();
    result->set_peak_dbfs(-1.5f);
    result->set_rms_dbfs(-1.5f);
    result->set_spectral_centroid_hz(1.5f);
    for (uint32_t b = 0; b < kMaxAnalysisBands; ++b) result->add_band_energy_db(-1.5f);
    v1::Event update;
    update.set_frame(UINT64_MAX);
    update.set_processor_index(UINT32_MAX);
    update.mutable_update()->set_applied(true);
    update.mutable_update()->set_message(std::string(kMaxUpdateMessageBytes, 'x'));
    // The tag and length of the repeated field around each event.
    return static_cast<uint32_t>(std::max(analysis.ByteSizeLong(), update.ByteSizeLong()) + 4);
  }();
  return bytes;
}

double StageCpuCores(const StageEstimate& stage) { return stage.cpu_cores * kServerDspFactor; }

double StreamCpuCores(const PipelineConfig& config, const PipelineEstimate& estimate) {
  const double bytes_per_second =
      static_cast<double>(config.input.sample_rate_hz) * config.input.channels *
          BytesPerSample(config.input.encoding) +
      static_cast<double>(config.output.sample_rate_hz) * config.output.channels *
          BytesPerSample(config.output.encoding);
  return estimate.cpu_cores * kServerDspFactor + kEngineSecondsPerChunk * kNominalChunksPerSecond +
         kEngineSecondsPerByte * bytes_per_second;
}

absl::StatusOr<StreamGrant> GrantStream(const PipelineConfig& config,
                                        const PipelineEstimate& estimate, uint32_t requested_chunk,
                                        const StreamGrantLimits& limits) {
  StreamGrant grant;
  grant.cost.cpu_cores = StreamCpuCores(config, estimate);
  if (grant.cost.cpu_cores > limits.max_stream_cost) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "config.chain costs %.3g cores at %u Hz and %u channels, more than --max_stream_cost=%g: "
        "it could never run in real time on this server; use fewer or lighter processors, or a "
        "lower rate",
        grant.cost.cpu_cores, config.input.sample_rate_hz, config.input.channels,
        limits.max_stream_cost));
  }
  const ResponseBounds bounds(config, estimate);
  grant.in_frame_bytes = bounds.in_frame_bytes();
  grant.input_rate_hz = config.input.sample_rate_hz;
  grant.out_frame_bytes = bounds.out_frame_bytes();
  grant.rate_ratio = bounds.ratio();
  grant.held_back_frames = bounds.HeldBackFrames();
  if (requested_chunk != 0 && requested_chunk < bounds.in_frame_bytes()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.max_chunk_bytes must be at least one frame (", bounds.in_frame_bytes(),
                     " bytes), got ", requested_chunk));
  }

  // The most input frames one chunk may complete so that its response fits both limits.
  auto fits = [&](uint64_t frames) {
    return bounds.Bytes(frames) <= static_cast<uint64_t>(limits.max_response_bytes) &&
           bounds.Events(frames) <= limits.max_events_per_response;
  };
  const uint64_t min_frames = static_cast<uint64_t>(
      std::ceil(kMinChunkSeconds * static_cast<double>(config.input.sample_rate_hz)));
  if (!fits(min_frames) || bounds.TailEvents() > limits.max_events_per_response ||
      bounds.TailBytes() > static_cast<uint64_t>(limits.max_response_bytes)) {
    const uint64_t events = std::max(bounds.Events(min_frames), bounds.TailEvents());
    if (events > limits.max_events_per_response) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config.chain can report ", events, " events in one response (a ",
          kMinChunkSeconds * 1000, " ms chunk, or the tail), more than --max_events_per_response=",
          limits.max_events_per_response, "; use fewer analyze/vad/loudness stages or longer ",
          "intervals"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "the response to a ", kMinChunkSeconds * 1000, " ms chunk of this stream could be ",
        std::max(bounds.Bytes(min_frames), bounds.TailBytes()),
        " bytes, more than --max_response_bytes=", limits.max_response_bytes,
        "; ask for a smaller output format"));
  }
  uint64_t low = min_frames;  // fits
  uint64_t high = static_cast<uint64_t>(limits.max_chunk_bytes) / bounds.in_frame_bytes() + 1;
  if (fits(high)) {
    low = high;
  } else {
    while (high - low > 1) {  // invariant: fits(low), !fits(high)
      const uint64_t middle = low + (high - low) / 2;
      (fits(middle) ? low : high) = middle;
    }
  }
  uint64_t max_chunk = std::min<uint64_t>(limits.max_chunk_bytes, low * bounds.in_frame_bytes());
  if (requested_chunk != 0) max_chunk = std::min<uint64_t>(max_chunk, requested_chunk);
  grant.max_chunk_bytes = static_cast<uint32_t>(max_chunk);
  grant.max_message_bytes =
      std::max(grant.max_chunk_bytes, kMinMessageBytes) + kRequestOverheadBytes;
  const uint64_t frames = bounds.FramesIn(max_chunk);
  grant.max_response_bytes = std::max(bounds.Bytes(frames), bounds.TailBytes());
  grant.max_events_per_response =
      static_cast<uint32_t>(std::max(bounds.Events(frames), bounds.TailEvents()));

  // Room for the largest message and the largest response, and as much again up to
  // kPipelineBytes: small chunks are read while the one before is processed, and made while
  // the one before is written; chunks of a large grant take turns (which costs them little,
  // as per-chunk overhead is small beside their audio), so that a large grant does not cost
  // twice its size.
  grant.inbox_bytes =
      grant.max_message_bytes + std::min<uint64_t>(grant.max_message_bytes, kPipelineBytes);
  grant.outbox_bytes =
      grant.max_response_bytes + std::min<uint64_t>(grant.max_response_bytes, kPipelineBytes);
  grant.transport_bytes = grant.max_message_bytes;
  grant.cost.memory_bytes =
      static_cast<int64_t>(estimate.memory_bytes + grant.inbox_bytes + grant.outbox_bytes +
                           grant.transport_bytes +
                           uint64_t{grant.max_events_per_response} * sizeof(ProcessorEvent)) +
      kStreamOverheadBytes;
  if (grant.cost.memory_bytes > limits.memory_budget_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "this stream needs ", FormatBytes(grant.cost.memory_bytes), " of memory (its chain ",
        FormatBytes(static_cast<int64_t>(estimate.memory_bytes)), ", its buffers for chunks of ",
        grant.max_chunk_bytes, " bytes), more than the server's whole budget for streams (",
        FormatBytes(limits.memory_budget_bytes),
        "); use lighter processors, or set config.max_chunk_bytes to the chunks you send"));
  }
  for (const StageEstimate& stage : estimate.chain.stages) {
    grant.stage_cpu_cores.push_back(StageCpuCores(stage));
  }
  return grant;
}

}  // namespace audioproc
