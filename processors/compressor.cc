#include "processors/compressor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>

#include "dsp/cost_model.h"
#include "dsp/fast_math.h"
#include "dsp/smoothed_value.h"
#include "processors/dynamics.h"

namespace audioproc {
namespace {

// CPU-seconds per frame (the level's logarithm above the knee, the static curve, the gain's
// power of ten while reduced) and per sample (the detector's mean square, the multiply and
// clamp). Worst case: a signal above the knee or releasing from it, which needs both.
constexpr double kCompressorFrameSeconds = 22.2e-9;
constexpr double kCompressorChannelSeconds = 3.15e-9;

// Ramped linearly, in double, from the position: the arithmetic of the compressor's ramps
// since its first version.
using RampedValue = SmoothedValue<double>;

// A reduction this close to its target is at it (see the header).
constexpr double kSnapDb = 1e-6;

// A huge but finite input times up to +48 dB of makeup would overflow to Inf.
constexpr float kMaxMagnitude = std::numeric_limits<float>::max();

class CompressorProcessor final : public UpdatableProcessor<CompressorRuntimeSettings> {
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
    for (RampedValue* value : Values()) {
      value->Reset(RampSteps(sample_rate_hz_, dynamics::kRampMs));
    }
    Reset();
    return input;
  }

  // Keeps the latest parameters (those of any update since Prepare), without a ramp.
  void Reset() noexcept override {
    for (RampedValue* value : Values()) value->SetCurrentAndTargetValue(value->GetTargetValue());
    detector_.Reset();
    reduction_db_ = 0.0;
    UpdateDerived();
  }

  void ApplySettings(const CompressorRuntimeSettings& settings) noexcept override {
    // Every parameter starts a new ramp from where it is, a ramp in flight included, so no
    // parameter jumps and all of them arrive together.
    threshold_db_.SetTargetValue(settings.threshold_db.value_or(threshold_db_.GetTargetValue()));
    inverse_ratio_.SetTargetValue(settings.ratio.has_value() ? 1.0 / *settings.ratio
                                                             : inverse_ratio_.GetTargetValue());
    knee_db_.SetTargetValue(settings.knee_db.value_or(knee_db_.GetTargetValue()));
    attack_ms_.SetTargetValue(settings.attack_ms.value_or(attack_ms_.GetTargetValue()));
    release_ms_.SetTargetValue(settings.release_ms.value_or(release_ms_.GetTargetValue()));
    makeup_db_.SetTargetValue(settings.makeup_db.value_or(makeup_db_.GetTargetValue()));
  }

  void Process(AudioBlock& in, AudioBlock& /*out*/) noexcept override {
    const uint32_t channels = in.num_channels();
    // Updates arrive between blocks, so a block that starts without a ramp has none.
    bool ramping = Ramping();
    for (uint32_t i = 0; i < in.num_frames(); ++i) {
      if (ramping) {
        for (RampedValue* value : Values()) value->GetNextValue();
        UpdateDerived();
        ramping = Ramping();
      }
      const double mean_square = detector_.Push(in, i);
      // Below the knee the reduction is 0: no logarithm needed.
      const double target =
          mean_square > knee_start_power_ ? StaticReductionDb(LevelDb(mean_square)) : 0.0;
      // Released and below the knee, the smoothing would compute 0 from 0: skipped, as it is
      // a chain of dependent operations per sample.
      if (target != 0.0 || reduction_db_ != 0.0) {
        const double coefficient =
            target > reduction_db_ ? attack_coefficient_ : release_coefficient_;
        reduction_db_ = target + coefficient * (reduction_db_ - target);
        if (std::fabs(reduction_db_ - target) < kSnapDb) reduction_db_ = target;
      }
      const float gain = reduction_db_ == 0.0
                             ? makeup_gain_
                             : DbToGain(makeup_db_.GetCurrentValue() - reduction_db_);
      for (uint32_t c = 0; c < channels; ++c) {
        float& sample = in.channel(c)[i];
        sample = std::clamp(sample * gain, -kMaxMagnitude, kMaxMagnitude);
      }
    }
  }

  // The ramps, detector and gain reduction; what the ramps imply is recomputed.
  bool SupportsState() const override { return true; }

  absl::Status SaveState(StateWriter& writer) const override {
    writer.PutTag(kStateTag, kStateVersion);
    threshold_db_.SaveState(writer);
    inverse_ratio_.SaveState(writer);
    knee_db_.SaveState(writer);
    attack_ms_.SaveState(writer);
    release_ms_.SaveState(writer);
    makeup_db_.SaveState(writer);
    detector_.SaveState(writer);
    writer.PutDouble(reduction_db_);
    return writer.status();
  }

  absl::Status RestoreState(StateReader& reader) override {
    reader.ExpectTag(kStateTag, kStateVersion);
    threshold_db_.RestoreState(reader, -80, 0);
    inverse_ratio_.RestoreState(reader, 1.0 / 100, 1);
    knee_db_.RestoreState(reader, 0, 24);
    attack_ms_.RestoreState(reader, 0.1, 1000);
    release_ms_.RestoreState(reader, 1, 5000);
    makeup_db_.RestoreState(reader, -24, 48);
    detector_.RestoreState(reader);
    const double reduction_db = reader.GetFiniteDouble();
    // A reduction past what any level can ask for (the mean square is bounded) is corrupt.
    if (!(reduction_db >= 0 && reduction_db <= 1000))
      reader.Fail("compressor reduction out of range");
    if (reader.ok()) {
      reduction_db_ = reduction_db;
      UpdateDerived();
    }
    return FinishRestore(reader);
  }

 private:
  static constexpr StateTag kStateTag = MakeStateTag("comp");
  static constexpr uint16_t kStateVersion = 1;

  std::array<RampedValue*, 6> Values() {
    return {&threshold_db_, &inverse_ratio_, &knee_db_, &attack_ms_, &release_ms_, &makeup_db_};
  }
  bool Ramping() {
    for (RampedValue* value : Values()) {
      if (value->IsSmoothing()) return true;
    }
    return false;
  }

  // What the parameters imply, recomputed whenever they move.
  void UpdateDerived() noexcept {
    slope_ = 1.0 - inverse_ratio_.GetCurrentValue();
    knee_start_power_ =
        dynamics::DbToPower(threshold_db_.GetCurrentValue() - knee_db_.GetCurrentValue() / 2);
    attack_coefficient_ =
        dynamics::OnePoleCoefficient(attack_ms_.GetCurrentValue(), sample_rate_hz_);
    release_coefficient_ =
        dynamics::OnePoleCoefficient(release_ms_.GetCurrentValue(), sample_rate_hz_);
    makeup_gain_ = static_cast<float>(dynamics::DbToLinear(makeup_db_.GetCurrentValue()));
  }

  // 10 log10 of a mean square above the knee (so above 1e-10). Per sample while compressing:
  // in float by fast_math::Log (within 2 ulp: 1e-5 dB), about a tenth of libm's double log10;
  // beyond 1e30 (inputs past float's range squared) in double.
  static double LevelDb(double mean_square) noexcept {
    constexpr double kTenOverLn10 = 4.3429448190325182;
    return mean_square < 1e30 ? kTenOverLn10 * fast_math::Log(static_cast<float>(mean_square))
                              : dynamics::PowerToDb(mean_square);
  }
  // 10^(db / 20) by fast_math::Exp (within 2 ulp), for the gain applied to float samples.
  static float DbToGain(double db) noexcept {
    constexpr double kLn10Over20 = 0.11512925464970229;
    return fast_math::Exp(static_cast<float>(kLn10Over20 * db));
  }

  // The static curve's gain reduction (dB, >= 0) for a steady level of `level_db`.
  double StaticReductionDb(double level_db) const noexcept {
    const double over = level_db - threshold_db_.GetCurrentValue();
    const double knee = knee_db_.GetCurrentValue();
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
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    CompressorRuntimeSettings settings;
    if (changes.Has("threshold_db")) settings.threshold_db = changes.Number("threshold_db");
    if (changes.Has("ratio")) settings.ratio = changes.Number("ratio");
    if (changes.Has("knee_db")) settings.knee_db = changes.Number("knee_db");
    if (changes.Has("attack_ms")) settings.attack_ms = changes.Number("attack_ms");
    if (changes.Has("release_ms")) settings.release_ms = changes.Number("release_ms");
    if (changes.Has("makeup_db")) settings.makeup_db = changes.Number("makeup_db");
    return std::make_unique<TypedUpdate<CompressorRuntimeSettings>>(settings);
  };
  definition.estimate = Estimate;
  return definition;
}

}  // namespace audioproc
