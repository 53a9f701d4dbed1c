#include "chain/resource_estimate.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "audio_io/codec.h"
#include "chain/chain.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

// CPU-seconds the chain spends per stage besides the processor: per output sample, the guard
// that keeps samples finite (LimitSamples), and per block, the two clock reads that time the
// stage. Blocks are assumed no shorter than 20 ms (the chunk DESIGN §8 streams in) or the
// chain's largest block; shorter chunks cost more per second, which the service charges per
// chunk.
constexpr double kStageSampleSeconds = 0.55e-9;
constexpr double kStageBlockSeconds = 60e-9;
constexpr double kAssumedBlockSeconds = 0.020;

// CPU-seconds per sample of decoding and of encoding each SampleEncoding (in its enum order:
// s16, s24, s32, f32, mu-law, A-law: half of a StreamPipeline's round trip through an empty
// chain, measured 3.2, 3.8, 3.4, 1.2, 3.2 and 3.2 ns per sample), of measuring a sample's level
// (the chunk metrics, in and out) and of TPDF dither.
constexpr double kDecodeSeconds[] = {1.6e-9, 1.9e-9, 1.7e-9, 0.6e-9, 1.6e-9, 1.6e-9};
constexpr double kEncodeSeconds[] = {1.6e-9, 1.9e-9, 1.7e-9, 0.6e-9, 1.6e-9, 1.6e-9};
constexpr double kLevelSeconds = 1.13e-9;
constexpr double kDitherSeconds = 2.5e-9;

absl::Status Prefixed(size_t index, const absl::Status& status) {
  // As Chain::Build and Chain::Append report a stage's error.
  return absl::Status(status.code(), absl::StrCat("chain[", index, "].", status.message()));
}

// The events a processor's MaxEventsPerBlock(frames) reserves room for, from its EventRate:
// every processor that reports events reports at most one per period of 1 / per_frame frames
// and reserves frames / period + 1.
uint64_t EventsPerBlock(const EventRate& rate, uint32_t frames) {
  if (rate.per_frame <= 0 && rate.burst == 0) return 0;
  // The epsilon keeps a whole number of periods whole despite 1 / period's rounding.
  return static_cast<uint64_t>(std::floor(frames * rate.per_frame + 1e-9)) + 1 + rate.burst;
}

// Builds a ChainEstimate stage by stage, as Chain::Build and Chain::Append build a chain.
class ChainEstimator {
 public:
  ChainEstimator(const ProcessorRegistry& registry, const ProcessSpec& input)
      : registry_(registry), input_(input), output_(input) {}

  const ProcessSpec& output() const { return output_; }

  // Resolves `config` against what the chain emits so far and states its cost, as
  // Chain::AddStage builds stage `stages_.size()`.
  absl::Status Add(const ProcessorConfig& config) {
    const size_t index = estimate_.stages.size();
    const ProcessSpec spec = output_;
    absl::StatusOr<ParamValues> resolved = registry_.Resolve(config, spec);
    if (!resolved.ok()) return Prefixed(index, resolved.status());
    absl::StatusOr<StageEstimate> stage = registry_.Find(config.name)->estimate(*resolved, spec);
    if (!stage.ok()) return Prefixed(index, stage.status());

    // The chain's record of the stage: its resolved parameters, its event sink and, for a
    // processor that does not work in place, its output buffer.
    own_bytes_ += cost::StringBytes(config.name.size()) +
                  cost::ParamValuesBytes(*resolved, cost::ParamsMade::kResolved) +
                  cost::HeapBlock(Chain::Records().stage_events);
    if (!stage->in_place) {
      own_bytes_ += cost::AudioBufferBytes(stage->output.channels, stage->output.max_block_frames);
    }

    // Events, in the chain's input frames: n chain frames are at most n x rate_ratio_ + slack_
    // frames of this stage's input (each rate change rounds up by at most one frame).
    if (stage->events.per_frame > 0 || stage->events.burst > 0) {
      const double per_frame = stage->events.per_frame * rate_ratio_;
      estimate_.events.per_frame += per_frame;
      estimate_.events.burst += static_cast<uint32_t>(std::ceil(slack_ * stage->events.per_frame)) +
                                stage->events.burst + (reporting_stages_ > 0 ? 1 : 0);
      ++reporting_stages_;
      events_per_block_ += EventsPerBlock(stage->events, spec.max_block_frames);
    }
    const double ratio = stage->output.sample_rate_hz / spec.sample_rate_hz;
    if (ratio != 1.0) {
      rate_ratio_ *= ratio;
      slack_ = slack_ * ratio + 1;
    }

    // Latency accumulates in the last stage's output frames, rescaled at each rate change.
    latency_ = latency_ * ratio + stage->max_latency_frames;

    // The guard after each stage, and the stage's timing per block.
    const double blocks_per_second =
        spec.sample_rate_hz /
        std::min<double>(spec.max_block_frames, kAssumedBlockSeconds * spec.sample_rate_hz);
    own_cores_ += stage->output.sample_rate_hz * stage->output.channels * kStageSampleSeconds +
                  blocks_per_second * kStageBlockSeconds;

    estimate_.memory_bytes += stage->memory_bytes;
    estimate_.cpu_cores += stage->cpu_cores;
    output_ = stage->output;
    estimate_.stages.push_back(*std::move(stage));
    estimate_.resolved.push_back({config.name, *std::move(resolved)});
    return absl::OkStatus();
  }

  // Adds what Chain::Build allocates for the chain itself.
  ChainEstimate Finish() && {
    const size_t stages = estimate_.stages.size();
    estimate_.output = output_;
    estimate_.max_latency_frames = static_cast<uint32_t>(std::lround(latency_));
    const Chain::RecordSizes records = Chain::Records();
    uint64_t bytes = own_bytes_ + cost::HeapBlock(records.chain) +
                     cost::HeapBlock(cost::GrownCapacity(stages) * records.stage) +
                     cost::HeapBlock(cost::GrownCapacity(stages) * sizeof(ProcessorConfig)) +
                     cost::HeapBlock(cost::GrownCapacity(stages) * sizeof(double)) +
                     cost::AudioBufferBytes(input_.channels, input_.max_block_frames);
    if (stages > 0) {
      bytes += cost::AudioBufferBytes(output_.channels, Chain::OutputPadFrames(output_));
    }
    // Room for a block's events per stage for every block a Flush runs (Chain::ReserveEvents),
    // sized from the latency bound, which is at least the chain's.
    bytes += cost::HeapBlock(events_per_block_ *
                             Chain::FlushBlocksFor(estimate_.max_latency_frames, input_, output_) *
                             sizeof(ProcessorEvent));
    estimate_.memory_bytes += bytes;
    estimate_.cpu_cores += own_cores_;
    return std::move(estimate_);
  }

 private:
  const ProcessorRegistry& registry_;
  const ProcessSpec input_;
  ProcessSpec output_;
  ChainEstimate estimate_;
  uint64_t own_bytes_ = 0;
  double own_cores_ = 0;
  double latency_ = 0;
  double rate_ratio_ = 1;  // this stage's input frames per chain input frame
  double slack_ = 0;       // frames the rate changes so far may add
  uint32_t reporting_stages_ = 0;
  uint64_t events_per_block_ = 0;
};

}  // namespace

uint64_t EventRate::MaxEvents(uint64_t frames) const {
  if (per_frame <= 0) return burst;
  return static_cast<uint64_t>(std::ceil(static_cast<double>(frames) * per_frame)) + burst;
}

absl::StatusOr<ChainEstimate> EstimateChain(const ProcessorRegistry& registry,
                                            const std::vector<ProcessorConfig>& configs,
                                            const ProcessSpec& input) {
  ChainEstimator estimator(registry, input);
  for (const ProcessorConfig& config : configs) {
    if (absl::Status status = estimator.Add(config); !status.ok()) return status;
  }
  return std::move(estimator).Finish();
}

absl::StatusOr<PipelineEstimate> EstimatePipeline(const ProcessorRegistry& registry,
                                                  const PipelineConfig& config) {
  if (absl::Status status = ValidatePipelineFormats(config); !status.ok()) return status;
  ChainEstimator estimator(registry, PipelineChainInput(config));
  for (const ProcessorConfig& processor : config.chain) {
    if (absl::Status status = estimator.Add(processor); !status.ok()) return status;
  }
  absl::StatusOr<std::vector<ProcessorConfig>> conversions =
      OutputConversions(registry, config, estimator.output());
  if (!conversions.ok()) return conversions.status();
  for (const ProcessorConfig& conversion : *conversions) {
    if (absl::Status status = estimator.Add(conversion); !status.ok()) return status;
  }

  PipelineEstimate estimate;
  estimate.chain = std::move(estimator).Finish();
  // The pipeline and its copy of the config (it decodes into the chain's input buffer).
  uint64_t bytes = cost::HeapBlock(sizeof(StreamPipeline)) +
                   cost::HeapBlock(config.chain.size() * sizeof(ProcessorConfig)) +
                   cost::StringBytes(config.stream_id.size());
  if (config.measure_levels && config.measure_channel_levels) {
    bytes += cost::HeapBlock(StreamPipeline::ChannelLevelsBytes());
  }
  for (const ProcessorConfig& processor : config.chain) {
    bytes += cost::StringBytes(processor.name.size()) +
             cost::ParamValuesBytes(processor.params, cost::ParamsMade::kCopied);
  }
  estimate.memory_bytes = estimate.chain.memory_bytes + bytes;

  const double in_samples =
      static_cast<double>(config.input.sample_rate_hz) * config.input.channels;
  const double out_samples =
      static_cast<double>(config.output.sample_rate_hz) * config.output.channels;
  const auto in_encoding = static_cast<size_t>(config.input.encoding);
  const auto out_encoding = static_cast<size_t>(config.output.encoding);
  const bool integer_out = config.output.encoding != SampleEncoding::kF32;
  estimate.cpu_cores = estimate.chain.cpu_cores + in_samples * kDecodeSeconds[in_encoding] +
                       out_samples * kEncodeSeconds[out_encoding] +
                       (config.measure_levels ? (in_samples + out_samples) * kLevelSeconds : 0) +
                       (config.dither && integer_out ? out_samples * kDitherSeconds : 0);
  return estimate;
}

namespace cost {

uint64_t ParamValuesBytes(const ParamValues& values, ParamsMade made) {
  using Entry = std::pair<std::string, ParamValue>;
  auto capacity = [made](uint64_t size) {
    return made == ParamsMade::kResolved ? GrownCapacity(size) : size;
  };
  uint64_t bytes = 0;
  for (const auto& [name, value] : values) {
    bytes += StringBytes(name.size());
    // Values are copies in both cases: lists and bytes hold exactly their size.
    if (const auto* list = std::get_if<std::vector<float>>(&value)) {
      bytes += VectorBytes<float>(list->size());
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      bytes += StringBytes(text->size());
    } else if (const auto* records = std::get_if<std::vector<ParamValues>>(&value)) {
      bytes += HeapBlock(capacity(records->size()) * sizeof(ParamValues));
      for (const ParamValues& record : *records) bytes += ParamValuesBytes(record, made);
    }
  }
  return bytes + HeapBlock(capacity(values.size()) * sizeof(Entry));
}

}  // namespace cost

}  // namespace audioproc
