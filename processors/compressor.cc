#include "processors/compressor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <variant>

#include "dsp/cost_model.h"
#include "processors/dynamics.h"

namespace audioproc {
namespace {

// CPU-seconds per frame (the level's logarithm above the knee, the static curve, the gain's
// power of ten while reduced) and per sample (the detector's mean square, the multiply and
// clamp). Worst case: a signal above the knee or releasing from it, which needs both.
constexpr double kCompressorFrameSeconds = 22.2e-9;
constexpr double kCompressorChannelSeconds = 3.15e-9;

using dynamics::RampedValue;

// A reduction this close to its target is at it (see the header).
constexpr double kSnapDb = 1e-6;

// A huge but finite input times up to +48 dB of makeup would overflow to Inf.
constexpr float kMaxMagnitude = std::numeric_limits<float>::max();

class CompressorProcessor final : public Processor {
 public:
  explicit CompressorProcessor(const ParamValues& params)
      : threshold_db_(params.Number("threshold_db")),
        inverse_ratio_(1.0 / params.Number("ratio")),
        knee_db_(params.Number("knee_db")),
        attack_ms_(params.Number("attack_ms")),
        release_ms_(params.Number("release_ms")),
        makeup_db_(params.Number("makeup_db")) {}

  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override {
    sample_rate_hz_ = input.sample_rate_hz;
    detector_.Prepare(input.channels, kCompressorRmsMs, sample_rate_hz_);
    ramp_.Prepare(sample_rate_hz_);
    Reset();
    return input;
  }

  // Keeps the latest parameters (those of any update since Prepare), without a ramp.
  void Reset() noexcept override {
    for (RampedValue* value : Values()) value->Snap();
    ramp_.Stop();
    detector_.Reset();
    reduction_db_ = 0.0;
    UpdateDerived();
  }

  void ApplyUpdate(const ParamValues& changes) noexcept override {
    for (RampedValue* value : Values()) value->Begin();
    for (const auto& [name, value] : changes) {
      const double* number = std::get_if<double>(&value);
      if (number == nullptr) continue;
      if (name == "threshold_db") threshold_db_.target = *number;
      if (name == "ratio") inverse_ratio_.target = 1.0 / *number;
      if (name == "knee_db") knee_db_.target = *number;
      if (name == "attack_ms") attack_ms_.target = *number;
      if (name == "release_ms") release_ms_.target = *number;
      if (name == "makeup_db") makeup_db_.target = *number;
    }
    // A ramp in flight restarts from where it is, so no parameter jumps.
    ramp_.Restart();
  }

  void Process(AudioBlock& in, AudioBlock& /*out*/) noexcept override {
    const uint32_t channels = in.num_channels();
    for (uint32_t i = 0; i < in.num_frames(); ++i) {
      if (ramp_.running()) {
        const double progress = ramp_.Advance();
        for (RampedValue* value : Values()) value->Step(progress);
        UpdateDerived();
      }
      const double mean_square = detector_.Push(in, i);
      // Below the knee the reduction is 0: no logarithm needed.
      const double target = mean_square > knee_start_power_
                                ? StaticReductionDb(dynamics::PowerToDb(mean_square))
                                : 0.0;
      const double coefficient =
          target > reduction_db_ ? attack_coefficient_ : release_coefficient_;
      reduction_db_ = target + coefficient * (reduction_db_ - target);
      if (std::fabs(reduction_db_ - target) < kSnapDb) reduction_db_ = target;
      const float gain =
          reduction_db_ == 0.0
              ? makeup_gain_
              : static_cast<float>(dynamics::DbToLinear(makeup_db_.current - reduction_db_));
      for (uint32_t c = 0; c < channels; ++c) {
        float& sample = in.channel(c)[i];
        sample = std::clamp(sample * gain, -kMaxMagnitude, kMaxMagnitude);
      }
    }
  }

 private:
  std::array<RampedValue*, 6> Values() {
    return {&threshold_db_, &inverse_ratio_, &knee_db_, &attack_ms_, &release_ms_, &makeup_db_};
  }

  // What the parameters imply, recomputed whenever they move.
  void UpdateDerived() noexcept {
    slope_ = 1.0 - inverse_ratio_.current;
    knee_start_power_ = dynamics::DbToPower(threshold_db_.current - knee_db_.current / 2);
    attack_coefficient_ = dynamics::OnePoleCoefficient(attack_ms_.current, sample_rate_hz_);
    release_coefficient_ = dynamics::OnePoleCoefficient(release_ms_.current, sample_rate_hz_);
    makeup_gain_ = static_cast<float>(dynamics::DbToLinear(makeup_db_.current));
  }

  // The static curve's gain reduction (dB, >= 0) for a steady level of `level_db`.
  double StaticReductionDb(double level_db) const noexcept {
    const double over = level_db - threshold_db_.current;
    const double knee = knee_db_.current;
    if (2 * over <= -knee) return 0.0;
    if (2 * over < knee) {
      const double into_knee = over + knee / 2;
      return slope_ * into_knee * into_knee / (2 * knee);
    }
    return slope_ * over;
  }

  RampedValue threshold_db_;
  RampedValue inverse_ratio_;  // ramped as 1/R so that the curve's slope moves evenly
  RampedValue knee_db_;
  RampedValue attack_ms_;
  RampedValue release_ms_;
  RampedValue makeup_db_;
  dynamics::RampClock ramp_;

  double sample_rate_hz_ = 48000;
  double slope_ = 0.0;
  double knee_start_power_ = 0.0;
  double attack_coefficient_ = 0.0;
  double release_coefficient_ = 0.0;
  float makeup_gain_ = 1.0f;

  dynamics::LinkedRmsDetector detector_;
  double reduction_db_ = 0.0;  // smoothed gain reduction, >= 0
};

// The processor holds its state in fixed arrays: it is all there is.
absl::StatusOr<StageEstimate> Estimate(const ParamValues& /*params*/, const ProcessSpec& input) {
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(CompressorProcessor));
  estimate.cpu_cores =
      input.sample_rate_hz * (kCompressorFrameSeconds + input.channels * kCompressorChannelSeconds);
  return estimate;
}

}  // namespace

ProcessorDefinition CompressorDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "compressor";
  definition.info.summary =
      "Feed-forward compressor: RMS detector, soft knee, attack/release in dB, channels linked.";
  definition.info.params = {
      FloatParam("threshold_db", "dB", -20.0, -80.0, 0.0, true,
                   "Level (dBFS RMS; a full-scale sine is -3.01) above which gain is reduced."),
      FloatParam("ratio", "", 4.0, 1.0, 100.0, true,
                   "Input dB over the threshold per output dB over it; 1 compresses nothing."),
      FloatParam("knee_db", "dB", 6.0, 0.0, 24.0, true,
                   "Width of the quadratic soft knee centred on the threshold; 0 is a hard knee."),
      FloatParam("attack_ms", "ms", 10.0, 0.1, 1000.0, true,
                   "Time constant of the gain falling when the level rises."),
      FloatParam("release_ms", "ms", 100.0, 1.0, 5000.0, true,
                   "Time constant of the gain recovering when the level falls."),
      FloatParam("makeup_db", "dB", 0.0, -24.0, 48.0, true, "Gain applied after compression."),
  };
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<CompressorProcessor>(params);
  };
  definition.estimate = Estimate;
  return definition;
}

}  // namespace audioproc
