// StreamPipeline: one stream's bytes in, bytes out. Decodes the input encoding, runs the
// chain (with its latency compensation and exact-length tail) and encodes the output, keeping
// bytes that do not complete a frame for the next chunk. It knows nothing of gRPC: the service
// feeds it chunk payloads and the tests feed it the same bytes in any chunking.
// Thread safety: one thread at a time (a stream's worker).
#ifndef AUDIOPROC_CHAIN_STREAM_PIPELINE_H_
#define AUDIOPROC_CHAIN_STREAM_PIPELINE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audio_io/codec.h"
#include "chain/chain.h"
#include "chain/parameters.h"
#include "chain/registry.h"

namespace audioproc {

struct PipelineConfig {
  StreamFormat input;
  // Another rate appends a `resample`; other channels append a `mix` (standard down/upmix).
  StreamFormat output;
  std::vector<ProcessorConfig> chain;
  bool dither = false;    // TPDF when writing integer encodings
  std::string stream_id;  // keys the dither generator
  bool measure_levels = true;
  // Each channel's levels as well (StreamPipeline::in_channel_levels() and
  // out_channel_levels()); only with measure_levels.
  bool measure_channel_levels = false;
};

// Levels are in dBFS; silence reads as kSilenceDbfs rather than -infinity.
inline constexpr float kSilenceDbfs = -200.0f;

// One channel's levels over a chunk.
struct ChannelLevels {
  float peak_dbfs = kSilenceDbfs;
  float rms_dbfs = kSilenceDbfs;
};

// What one call did, for ChunkMetrics.
struct ChunkStats {
  uint32_t frames_in = 0;
  uint32_t frames_out = 0;
  float in_peak_dbfs = kSilenceDbfs;
  float in_rms_dbfs = kSilenceDbfs;
  float out_peak_dbfs = kSilenceDbfs;
  float out_rms_dbfs = kSilenceDbfs;
  uint32_t clipped_samples = 0;
  uint32_t nonfinite_samples = 0;
};

// Checks config.input and config.output: rates in [kMinSampleRateHz, kMaxSampleRateHz], 1 to
// kMaxChannels channels (INVALID_ARGUMENT naming "input.sample_rate_hz" and so on).
absl::Status ValidatePipelineFormats(const PipelineConfig& config);

// What the chain of `config` is built for: the input's rate and channels, in blocks of at most
// kDefaultMaxBlockFrames.
ProcessSpec PipelineChainInput(const PipelineConfig& config);

// The processors StreamPipeline::Create appends after the requested chain, which emits
// `chain_output`, so that the pipeline emits config.output: a `mix` (the standard down/upmix)
// when the channels differ, then a `resample` (default quality) when the rate differs;
// INVALID_ARGUMENT when a resample is needed and `registry` has none. EstimatePipeline calls it
// too, so the estimate and the pipeline never disagree.
absl::StatusOr<std::vector<ProcessorConfig>> OutputConversions(const ProcessorRegistry& registry,
                                                               const PipelineConfig& config,
                                                               const ProcessSpec& chain_output);

class StreamPipeline {
 public:
  // Validates the formats (INVALID_ARGUMENT naming "input.sample_rate_hz" and so on) and the
  // chain ("chain[i]. ..."), then builds everything. Allocates.
  static absl::StatusOr<std::unique_ptr<StreamPipeline>> Create(const ProcessorRegistry& registry,
                                                                const PipelineConfig& config);

  const PipelineConfig& config() const { return config_; }
  Chain& chain() { return *chain_; }
  const Chain& chain() const { return *chain_; }
  // The processors as the client asked for them, excluding the resample/mix the output
  // format appended: chain().size() may be larger.
  size_t requested_chain_size() const { return config_.chain.size(); }
  // Every processor the pipeline runs (the requested ones, then the appended conversions),
  // with every default filled in.
  const std::vector<ProcessorConfig>& resolved_chain() const { return chain_->resolved(); }
  // The chain's latency in output frames (dropped from the output's start).
  uint32_t latency_frames() const { return chain_->latency_frames(); }
  // Time spent in each processor of resolved_chain() so far, in seconds.
  std::span<const double> processor_seconds() const { return chain_->processor_seconds(); }

  // A run-time update of processor `index` (of resolved_chain()): ResolveUpdate validates it,
  // once, into the processor's typed settings without applying it (Chain::ResolveUpdate; it
  // allocates, so it runs between chunks); ApplyUpdate hands them to the processor before the
  // next block (Chain::Apply).
  absl::StatusOr<Chain::ResolvedUpdate> ResolveUpdate(size_t index,
                                                      const ProcessorConfig& update) const {
    return chain_->ResolveUpdate(index, update);
  }
  void ApplyUpdate(const Chain::ResolvedUpdate& update) { chain_->Apply(update); }

  // Processes `bytes` (any length) and appends the output frames that became final to `out`.
  ChunkStats ProcessChunk(absl::string_view bytes, std::string* out);

  // The same in steps, so that a long chunk can be processed a slice at a time (with other
  // streams' work between slices): BeginChunk, then Feed with consecutive pieces of the
  // chunk's bytes (cut anywhere: the output is the same), then EndChunk for its stats.
  // ProcessChunk(b) is BeginChunk(); Feed(b); EndChunk().
  void BeginChunk();
  void Feed(absl::string_view bytes, std::string* out);
  ChunkStats EndChunk();

  // After the last chunk: appends the rest of the output (exact length) to `out`. Bytes of an
  // incomplete last frame are discarded, and counted in `discarded_bytes()`.
  ChunkStats Finish(std::string* out);

  // Events reported since the last TakeEvents (drained from the chain after every block, so
  // a long chunk cannot overflow the chain's fixed buffer).
  std::vector<ProcessorEvent> TakeEvents() { return std::exchange(events_, {}); }

  // State (issue 14's checkpoints), between chunks (not between BeginChunk and EndChunk, not
  // after Finish): the bytes of an incomplete input frame, the sample counters and the chain's
  // state (Chain::SaveState). Dither needs nothing: it is keyed by the stream id and the output
  // frame, which the chain's state holds. A pipeline created from the same config, restored,
  // continues byte-identically. Errors as Chain's; on failure the pipeline is as created.
  bool SupportsState() const { return chain_->SupportsState(); }
  absl::Status SaveState(StateWriter& writer) const;
  absl::Status RestoreState(StateReader& reader);

  uint64_t frames_in() const { return chain_->frames_in(); }
  uint64_t frames_out() const { return chain_->frames_out(); }
  uint64_t clipped_samples() const { return clipped_samples_; }
  uint64_t nonfinite_samples() const { return nonfinite_samples_; }
  uint32_t discarded_bytes() const { return discarded_bytes_; }
  // Events the chain reported that did not fit its buffer between two drains (a chain that
  // reports more than its estimate).
  uint64_t dropped_events() const { return chain_->dropped_events(); }

  // With PipelineConfig::measure_channel_levels (and measure_levels): the levels of each
  // input and each output channel over the chunk of the last EndChunk, or of each output
  // channel over Finish (no input then); every channel of the format, with or without frames.
  // Empty otherwise.
  std::span<const ChannelLevels> in_channel_levels() const;
  std::span<const ChannelLevels> out_channel_levels() const;
  // What measuring each channel's levels adds to a pipeline (for EstimatePipeline): it is
  // allocated only for a config that asks.
  static uint64_t ChannelLevelsBytes();

 private:
  // Accumulates peak and mean square over a run of blocks.
  struct LevelMeter {
    float peak = 0;
    double sum_squares = 0;
    uint64_t samples = 0;
    void Add(const AudioBlock& block);
    void Store(float* peak_dbfs, float* rms_dbfs) const;
  };
  // The same, channel by channel.
  struct ChannelMeter {
    std::array<float, kMaxChannels> peak{};
    std::array<double, kMaxChannels> sum_squares{};
    uint64_t frames = 0;
    void Add(const AudioBlock& block);
    // Stores the levels of the first `channels` channels; returns `channels`.
    uint32_t Store(uint32_t channels, std::array<ChannelLevels, kMaxChannels>* levels) const;
  };
  // Each channel's meters and levels, made only for a config that asks for them.
  struct ChannelLevelsState {
    ChannelMeter in;
    ChannelMeter out;
    std::array<ChannelLevels, kMaxChannels> in_levels{};
    std::array<ChannelLevels, kMaxChannels> out_levels{};
    uint32_t in_count = 0;
    uint32_t out_count = 0;
  };

  explicit StreamPipeline(PipelineConfig config) : config_(std::move(config)) {}
  void RunFrames(const uint8_t* bytes, uint32_t frames, std::string* out);
  void Emit(const AudioBlock& block, ChunkStats* stats, LevelMeter* out_meter, std::string* out);
  void DrainChainEvents();

  PipelineConfig config_;
  std::unique_ptr<Chain> chain_;
  std::optional<TpdfDither> dither_;
  uint32_t in_frame_bytes_ = 0;
  uint32_t out_frame_bytes_ = 0;
  // Bytes of a frame the last chunk left incomplete.
  std::array<uint8_t, kMaxChannels * 4> partial_{};
  uint32_t partial_size_ = 0;
  // Bytes of an incomplete last frame Finish discarded; beside partial_size_, in what would
  // be padding.
  uint32_t discarded_bytes_ = 0;
  uint64_t clipped_samples_ = 0;
  uint64_t nonfinite_samples_ = 0;
  std::vector<ProcessorEvent> events_;
  // The chunk being processed (BeginChunk to EndChunk).
  ChunkStats chunk_stats_;
  LevelMeter in_meter_;
  LevelMeter out_meter_;
  std::unique_ptr<ChannelLevelsState> channel_levels_;  // null unless asked for
};

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_STREAM_PIPELINE_H_
