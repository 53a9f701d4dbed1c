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
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    GainRuntimeSettings settings;
    if (changes.Has("gain_db")) settings.gain_db = changes.Number("gain_db");
    return std::make_unique<TypedUpdate<GainRuntimeSettings>>(settings);
  };
  definition.estimate = EstimateGain;
  // Not unity, whose Process returns at once: benchmarks and the cost model's test measure
  // the multiply.
  definition.example.Set("gain_db", -6.0);
  return definition;
}

GainProcessor::GainProcessor(double gain_db) : gain_(DbToGain(gain_db)) {}

absl::StatusOr<ProcessSpec> GainProcessor::Prepare(const ProcessSpec& input) {
  gain_.Reset(RampSteps(input.sample_rate_hz, kGainRampMs));
  return input;
}

void GainProcessor::Reset() noexcept { gain_.SetCurrentAndTargetValue(gain_.GetTargetValue()); }

float GainProcessor::current_gain() const { return gain_.GetCurrentValue(); }

void GainProcessor::ApplySettings(const GainRuntimeSettings& settings) noexcept {
  // From wherever a ramp in flight has got to, which keeps the gain continuous.
  if (settings.gain_db.has_value()) gain_.SetTargetValue(DbToGain(*settings.gain_db));
}

constexpr StateTag kGainStateTag = MakeStateTag("gain");
constexpr uint16_t kGainStateVersion = 1;

absl::Status GainProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kGainStateTag, kGainStateVersion);
  gain_.SaveState(writer);
  return writer.status();
}

absl::Status GainProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kGainStateTag, kGainStateVersion);
  gain_.RestoreState(reader, 0.0f, DbToGain(60.0));
  return FinishRestore(reader);
}

void GainProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  const uint32_t channels = in.num_channels();
  uint32_t i = 0;
  // Frame-major while ramping so that every channel gets the same factor per frame.
  for (; i < frames && gain_.IsSmoothing(); ++i) {
    const float gain = gain_.GetNextValue();
    for (uint32_t c = 0; c < channels; ++c) in.channel(c)[i] = Bounded(in.channel(c)[i] * gain);
  }
  const float gain = gain_.GetTargetValue();
  if (i == frames || gain == 1.0f) return;
  for (uint32_t c = 0; c < channels; ++c) {
    float* x = in.channel(c);
    for (uint32_t j = i; j < frames; ++j) x[j] = Bounded(x[j] * gain);
  }
}

}  // namespace audioproc
