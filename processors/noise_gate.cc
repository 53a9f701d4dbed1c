#include "processors/noise_gate.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>

#include "dsp/cost_model.h"
#include "dsp/smoothed_value.h"
#include "processors/dynamics.h"

namespace audioproc {
namespace {

// CPU-seconds per frame (the level, the state, the gain: a power of ten per frame while the
// gain moves, which after a change it does for about a second) and per sample (the detector's
// mean square and the multiply). Worst case: a signal around the threshold keeps the gain
// moving; a steadily open gate skips the multiply.
constexpr double kNoiseGateFrameSeconds = 5.8e-9;
constexpr double kNoiseGateChannelSeconds = 0.82e-9;

// Ramped linearly, in double, from the position: the arithmetic of the gate's ramps since its
// first version.
using RampedValue = SmoothedValue<double>;

// A gain this close to its target is at it: the last step, a change of about -99 dB of the
// signal, is inaudible, and the open gate then passes the signal exactly.
constexpr double kSnapDb = 1e-4;

// Frames below the threshold before any signal reached it: the gate starts closed.
constexpr uint64_t kNeverOpened = std::numeric_limits<uint64_t>::max();

class NoiseGateProcessor final : public UpdatableProcessor<NoiseGateRuntimeSettings> {
 public:
  explicit NoiseGateProcessor(const ParamValues& params)
      : threshold_db_(params.Number("threshold_db")),
        range_db_(params.Number("range_db")),
        attack_ms_(params.Number("attack_ms")),
        release_ms_(params.Number("release_ms")),
        hold_ms_(params.Number("hold_ms")) {}

  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override {
    sample_rate_hz_ = input.sample_rate_hz;
    detector_.Prepare(input.channels, kNoiseGateRmsMs, sample_rate_hz_);
    for (RampedValue* value : Values()) {
      value->Reset(RampSteps(sample_rate_hz_, dynamics::kRampMs));
    }
    Reset();
    return input;
  }

  // Keeps the latest parameters (those of any update since Prepare), without a ramp, and
  // closes the gate.
  void Reset() noexcept override {
    for (RampedValue* value : Values()) value->SetCurrentAndTargetValue(value->GetTargetValue());
    detector_.Reset();
    frames_below_ = kNeverOpened;
    UpdateDerived();
    gain_db_ = range_db_.GetCurrentValue();
  }

  void ApplySettings(const NoiseGateRuntimeSettings& settings) noexcept override {
    if (settings.hold_ms.has_value()) {
      hold_ms_ = *settings.hold_ms;
      hold_frames_ = HoldFrames();
    }
    if (!settings.threshold_db.has_value() && !settings.range_db.has_value() &&
        !settings.attack_ms.has_value() && !settings.release_ms.has_value()) {
      return;
    }
    // Every ramped parameter starts a new ramp from where it is, a ramp in flight included, so
    // no parameter jumps and all of them arrive together.
    threshold_db_.SetTargetValue(settings.threshold_db.value_or(threshold_db_.GetTargetValue()));
    range_db_.SetTargetValue(settings.range_db.value_or(range_db_.GetTargetValue()));
    attack_ms_.SetTargetValue(settings.attack_ms.value_or(attack_ms_.GetTargetValue()));
    release_ms_.SetTargetValue(settings.release_ms.value_or(release_ms_.GetTargetValue()));
  }

  void Process(AudioBlock& in, AudioBlock& /*out*/) noexcept override {
    const uint32_t channels = in.num_channels();
    for (uint32_t i = 0; i < in.num_frames(); ++i) {
      if (Ramping()) {
        for (RampedValue* value : Values()) value->GetNextValue();
        UpdateDerived();
      }
      if (detector_.Push(in, i) >= threshold_power_) {
        frames_below_ = 0;
      } else if (frames_below_ != kNeverOpened) {
        ++frames_below_;
      }
      const double target = frames_below_ <= hold_frames_ ? 0.0 : range_db_.GetCurrentValue();
      if (gain_db_ != target) {
        const double coefficient = target > gain_db_ ? attack_coefficient_ : release_coefficient_;
        gain_db_ = target + coefficient * (gain_db_ - target);
        if (std::fabs(gain_db_ - target) < kSnapDb) gain_db_ = target;
      }
      if (gain_db_ == 0.0) continue;
      const float gain = gain_db_ == range_db_.GetCurrentValue()
                             ? range_gain_
                             : static_cast<float>(dynamics::DbToLinear(gain_db_));
      for (uint32_t c = 0; c < channels; ++c) in.channel(c)[i] *= gain;
    }
  }

  // The ramps, hold time, detector, hold counter and gain; what they imply is recomputed.
  bool SupportsState() const override { return true; }

  absl::Status SaveState(StateWriter& writer) const override {
    writer.PutTag(kStateTag, kStateVersion);
    threshold_db_.SaveState(writer);
    range_db_.SaveState(writer);
    attack_ms_.SaveState(writer);
    release_ms_.SaveState(writer);
    writer.PutDouble(hold_ms_);
    detector_.SaveState(writer);
    writer.PutU64(frames_below_);
    writer.PutDouble(gain_db_);
    return writer.status();
  }

  absl::Status RestoreState(StateReader& reader) override {
    reader.ExpectTag(kStateTag, kStateVersion);
    threshold_db_.RestoreState(reader, -100, 0);
    range_db_.RestoreState(reader, -100, 0);
    attack_ms_.RestoreState(reader, 0.1, 1000);
    release_ms_.RestoreState(reader, 1, 5000);
    const double hold_ms = reader.GetFiniteDouble();
    if (!(hold_ms >= 0 && hold_ms <= 5000)) reader.Fail("noise_gate hold_ms out of range");
    detector_.RestoreState(reader);
    frames_below_ = reader.GetU64();
    const double gain_db = reader.GetFiniteDouble();
    if (!(gain_db >= -100 && gain_db <= 0)) reader.Fail("noise_gate gain out of range");
    if (reader.ok()) {
      hold_ms_ = hold_ms;
      gain_db_ = gain_db;
      UpdateDerived();
    }
    return FinishRestore(reader);
  }

 private:
  static constexpr StateTag kStateTag = MakeStateTag("gate");
  static constexpr uint16_t kStateVersion = 1;

  std::array<RampedValue*, 4> Values() {
    return {&threshold_db_, &range_db_, &attack_ms_, &release_ms_};
  }
  bool Ramping() {
    for (RampedValue* value : Values()) {
      if (value->IsSmoothing()) return true;
    }
    return false;
  }

  uint64_t HoldFrames() const {
    return static_cast<uint64_t>(std::llround(hold_ms_ * sample_rate_hz_ / 1000.0));
  }

  // What the parameters imply, recomputed whenever they move.
  void UpdateDerived() noexcept {
    threshold_power_ = dynamics::DbToPower(threshold_db_.GetCurrentValue());
    range_gain_ = static_cast<float>(dynamics::DbToLinear(range_db_.GetCurrentValue()));
    attack_coefficient_ =
        dynamics::OnePoleCoefficient(attack_ms_.GetCurrentValue(), sample_rate_hz_);
    release_coefficient_ =
        dynamics::OnePoleCoefficient(release_ms_.GetCurrentValue(), sample_rate_hz_);
    hold_frames_ = HoldFrames();
  }

  RampedValue threshold_db_;
  RampedValue range_db_;
  RampedValue attack_ms_;
  RampedValue release_ms_;
  double hold_ms_;

  double sample_rate_hz_ = 48000;
  double threshold_power_ = 0.0;
  float range_gain_ = 0.0f;
  double attack_coefficient_ = 0.0;
  double release_coefficient_ = 0.0;
  uint64_t hold_frames_ = 0;

  dynamics::LinkedRmsDetector detector_;
  uint64_t frames_below_ = kNeverOpened;  // consecutive frames below the threshold
  double gain_db_ = 0.0;                  // smoothed gain, in [range_db, 0]
};

// The processor holds its state in fixed arrays: it is all there is.
absl::StatusOr<StageEstimate> Estimate(const ParamValues& /*params*/, const ProcessSpec& input) {
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(NoiseGateProcessor));
  estimate.cpu_cores =
      input.sample_rate_hz * (kNoiseGateFrameSeconds + input.channels * kNoiseGateChannelSeconds);
  return estimate;
}

}  // namespace

ProcessorDefinition NoiseGateDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "noise_gate";
  definition.info.summary =
      "Noise gate / downward expander with hold: attenuates by range_db while the level is "
      "below the threshold; channels linked.";
  definition.info.params = {
      FloatParam("threshold_db", "dB", -50.0, -100.0, 0.0, true,
                 "Level (dBFS RMS; a full-scale sine is -3.01) at or above which the gate "
                 "opens."),
      FloatParam("range_db", "dB", -40.0, -100.0, 0.0, true,
                 "Gain while closed: -100 mutes, a few dB below 0 expands gently."),
      FloatParam("attack_ms", "ms", 1.0, 0.1, 1000.0, true, "Time constant of opening."),
      FloatParam("hold_ms", "ms", 50.0, 0.0, 5000.0, true,
                 "How long the gate stays open after the level falls below the threshold."),
      FloatParam("release_ms", "ms", 100.0, 1.0, 5000.0, true, "Time constant of closing."),
  };
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<NoiseGateProcessor>(params);
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    NoiseGateRuntimeSettings settings;
    if (changes.Has("threshold_db")) settings.threshold_db = changes.Number("threshold_db");
    if (changes.Has("range_db")) settings.range_db = changes.Number("range_db");
    if (changes.Has("attack_ms")) settings.attack_ms = changes.Number("attack_ms");
    if (changes.Has("hold_ms")) settings.hold_ms = changes.Number("hold_ms");
    if (changes.Has("release_ms")) settings.release_ms = changes.Number("release_ms");
    return std::make_unique<TypedUpdate<NoiseGateRuntimeSettings>>(settings);
  };
  definition.estimate = Estimate;
  return definition;
}

}  // namespace audioproc
