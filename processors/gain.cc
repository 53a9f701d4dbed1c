#include "processors/gain.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "dsp/cost_model.h"

namespace audioproc {
namespace {

// CPU-seconds per sample at a gain other than unity (at unity Process returns at once, but a
// runtime update can leave unity at any time, so the estimate states this path).
constexpr double kGainSampleSeconds = 0.77e-9;

// Computed in double so that the only error left is the final rounding to float.
float DbToGain(double db) { return static_cast<float>(std::pow(10.0, db / 20.0)); }

// A huge but finite input times +60 dB would overflow to Inf, which no processor may emit.
constexpr float kMaxMagnitude = std::numeric_limits<float>::max();

inline float Bounded(float x) { return std::clamp(x, -kMaxMagnitude, kMaxMagnitude); }

absl::StatusOr<StageEstimate> EstimateGain(const ParamValues& /*params*/,
                                           const ProcessSpec& input) {
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(GainProcessor));
  estimate.cpu_cores = input.sample_rate_hz * input.channels * kGainSampleSeconds;
  return estimate;
}

}  // namespace

ProcessorDefinition GainDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "gain";
  definition.info.summary = "Fixed gain; runtime changes are ramped over 10 ms.";
  ParamInfo gain_db;
  gain_db.name = "gain_db";
  gain_db.type = ParamType::kFloat;
  gain_db.unit = "dB";
  gain_db.default_value = 0.0;
  gain_db.min = -120.0;
  gain_db.max = 60.0;
  gain_db.runtime_updatable = true;
  gain_db.summary = "Gain in dB; 0 leaves the signal unchanged.";
  definition.info.params.push_back(std::move(gain_db));
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<GainProcessor>(params.Number("gain_db"));
  };
  definition.estimate = EstimateGain;
  // Not unity, whose Process returns at once: benchmarks and the cost model's test measure
  // the multiply.
  definition.example.Set("gain_db", -6.0);
  return definition;
}

GainProcessor::GainProcessor(double gain_db) : target_(DbToGain(gain_db)), ramp_start_(target_) {}

absl::StatusOr<ProcessSpec> GainProcessor::Prepare(const ProcessSpec& input) {
  ramp_frames_ = std::max<uint32_t>(
      1, static_cast<uint32_t>(std::lround(kGainRampMs * input.sample_rate_hz / 1000.0)));
  Reset();
  return input;
}

void GainProcessor::Reset() noexcept {
  ramp_start_ = target_;
  ramp_position_ = 0;
  ramping_ = false;
}

float GainProcessor::current_gain() const {
  if (!ramping_) return target_;
  return ramp_start_ + (target_ - ramp_start_) *
                           (static_cast<float>(ramp_position_) / static_cast<float>(ramp_frames_));
}

void GainProcessor::ApplyUpdate(const ParamValues& changes) noexcept {
  if (!changes.Has("gain_db")) return;
  // Starting from wherever a ramp in flight has got to keeps the gain continuous.
  ramp_start_ = current_gain();
  target_ = DbToGain(changes.Number("gain_db"));
  ramp_position_ = 0;
  ramping_ = ramp_start_ != target_;
}

void GainProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  const uint32_t channels = in.num_channels();
  uint32_t i = 0;
  if (ramping_) {
    // Frame-major while ramping so that every channel gets the same factor per frame; the
    // factor is recomputed from the position (not accumulated) so it cannot drift.
    const float delta = target_ - ramp_start_;
    const float inverse_length = 1.0f / static_cast<float>(ramp_frames_);
    for (; i < frames && ramping_; ++i) {
      ++ramp_position_;
      float gain = ramp_start_ + delta * (static_cast<float>(ramp_position_) * inverse_length);
      if (ramp_position_ >= ramp_frames_) {
        gain = target_;
        ramping_ = false;
      }
      for (uint32_t c = 0; c < channels; ++c) in.channel(c)[i] = Bounded(in.channel(c)[i] * gain);
    }
  }
  if (i == frames || target_ == 1.0f) return;
  const float gain = target_;
  for (uint32_t c = 0; c < channels; ++c) {
    float* x = in.channel(c);
    for (uint32_t j = i; j < frames; ++j) x[j] = Bounded(x[j] * gain);
  }
}

}  // namespace audioproc
