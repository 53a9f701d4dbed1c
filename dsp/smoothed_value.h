// SmoothedValue: a parameter that ramps to each new target over an exact number of steps, the
// one smoother of every processor whose run-time settings ramp (shape from JUCE's
// SmoothedValue: reset, setTargetValue, getNextValue, skip).
//
// A ramp of N steps from `start` to `target` returns, at its step p (1 <= p <= N), the value
// its law gives for the progress p / N, and at step N exactly `target`: a ramp never ends a
// rounding error away from where it was sent. After the ramp the value holds. A new target
// mid-ramp starts a new ramp of N steps from the value reached, so the value never jumps.
// The value type and the law are template parameters, so each processor keeps the arithmetic
// it was measured with (float or double, one multiply or one division per step):
//
//   SmoothedValue<float> gain(1.0f);
//   gain.Reset(RampSteps(sample_rate_hz, kParameterRampMs));  // in Prepare
//   gain.SetTargetValue(0.5f);                                // an update, between blocks
//   for (...) x[i] *= gain.GetNextValue();                    // per sample
//
// A step is whatever the owner calls GetNextValue for: a sample (gain, filters), or an STFT
// frame (denoise). Nothing here allocates, locks or throws.
// Thread safety: a plain value, used by one thread at a time.
#ifndef AUDIOPROC_DSP_SMOOTHED_VALUE_H_
#define AUDIOPROC_DSP_SMOOTHED_VALUE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "dsp/state_codec.h"

namespace audioproc {

// How long a run-time parameter change takes to reach its new value when a processor does
// not say otherwise: inside DESIGN's 20 ms, and long enough that a full-scale step (0 to
// -120 dB) does not click.
inline constexpr double kParameterRampMs = 10.0;

// The steps of a ramp of `ramp_ms` at `steps_per_second` (a sample rate), rounded to the
// nearest and at least 1.
inline uint32_t RampSteps(double steps_per_second, double ramp_ms) {
  return std::max<uint32_t>(
      1, static_cast<uint32_t>(std::lround(ramp_ms * steps_per_second / 1000.0)));
}

// The value at step p of a ramp of N steps from `start` to `target`.
enum class RampLaw {
  // start + (target - start) * (p / N): a straight line, each value computed from the
  // position, so it cannot drift.
  kLinear,
  // The same line with the progress computed as p * (1 / N), one multiply per step instead of
  // a division. The value a new target starts from (GetCurrentValue) is computed with p / N,
  // which can differ from the last GetNextValue by an ulp.
  kLinearByReciprocal,
  // JUCE's linear ramp: each step adds (target - start) / N to the previous value.
  kLinearBySteps,
  // start * exp((p / N) * log(target / start)): equal ratios per step, for values heard on a
  // log scale (frequencies, Q). `start` and `target` must be positive.
  kMultiplicative,
};

template <typename T, RampLaw kLaw = RampLaw::kLinear>
class SmoothedValue {
  static_assert(std::is_floating_point_v<T>, "SmoothedValue holds float or double");

 public:
  explicit SmoothedValue(T value = T(0)) : start_(value), target_(value), current_(value) {}

  // Sets the length of every later ramp (at least 1 step) and ends a ramp in flight at its
  // target.
  void Reset(uint32_t ramp_steps) noexcept {
    steps_ = std::max<uint32_t>(ramp_steps, 1);
    inverse_steps_ = T(1) / static_cast<T>(steps_);
    SetCurrentAndTargetValue(target_);
  }

  // Jumps to `value`, ending any ramp.
  void SetCurrentAndTargetValue(T value) noexcept {
    start_ = target_ = current_ = value;
    position_ = steps_;
    smoothing_ = false;
  }

  // Starts a ramp of ramp_steps() steps from GetCurrentValue() to `value`. A ramp whose start
  // is its target is none: the value holds.
  void SetTargetValue(T value) noexcept {
    start_ = current_ = GetCurrentValue();
    target_ = value;
    position_ = 0;
    smoothing_ = start_ != target_;
    if constexpr (kLaw == RampLaw::kLinearBySteps) {
      step_ = (target_ - start_) / static_cast<T>(steps_);
    } else if constexpr (kLaw == RampLaw::kMultiplicative) {
      if (smoothing_) log_ratio_ = std::log(target_ / start_);
    }
  }

  // Advances one step and returns the value there; after the ramp, the target.
  T GetNextValue() noexcept {
    if (!smoothing_) return target_;
    if (++position_ >= steps_) {
      current_ = target_;
      smoothing_ = false;
      return target_;
    }
    if constexpr (kLaw == RampLaw::kLinear) {
      current_ = start_ + (target_ - start_) * (static_cast<T>(position_) / static_cast<T>(steps_));
    } else if constexpr (kLaw == RampLaw::kLinearByReciprocal) {
      current_ = start_ + (target_ - start_) * (static_cast<T>(position_) * inverse_steps_);
    } else if constexpr (kLaw == RampLaw::kLinearBySteps) {
      current_ += step_;
    } else {
      current_ = start_ * std::exp(static_cast<T>(position_) / static_cast<T>(steps_) * log_ratio_);
    }
    return current_;
  }

  // Advances `steps` steps, as that many GetNextValue calls would.
  void Skip(uint32_t steps) noexcept {
    if (!smoothing_ || steps == 0) return;
    if constexpr (kLaw == RampLaw::kLinearBySteps) {
      // Accumulated step by step so that the values are those GetNextValue would reach.
      for (; steps > 0 && smoothing_; --steps) GetNextValue();
    } else {
      if (steps >= steps_ - position_) {
        position_ = steps_ - 1;
      } else {
        position_ += steps - 1;
      }
      GetNextValue();
    }
  }

  // The value reached: the last GetNextValue (see kLinearByReciprocal), the ramp's start
  // before its first step, the target once it is over.
  T GetCurrentValue() const noexcept {
    if (!smoothing_) return target_;
    if constexpr (kLaw == RampLaw::kLinearByReciprocal) {
      return start_ + (target_ - start_) * (static_cast<T>(position_) / static_cast<T>(steps_));
    }
    return current_;
  }

  // Writes the ramp (values, position and whether it is in flight) for a checkpoint.
  void SaveState(StateWriter& writer) const noexcept {
    PutValue(writer, start_);
    PutValue(writer, target_);
    PutValue(writer, current_);
    PutValue(writer, step_);
    PutValue(writer, log_ratio_);
    writer.PutU32(steps_);
    writer.PutU32(position_);
    writer.PutBool(smoothing_);
  }

  // Reads what SaveState wrote into a value Reset for the same ramp length. Every value must
  // be finite and start, target and current within [min, max] (the parameter's range; for
  // kMultiplicative, positive); the ramp length must be this one's. On failure the reader
  // fails and this value is unchanged.
  void RestoreState(StateReader& reader, T min, T max) noexcept {
    const T start = GetValue(reader);
    const T target = GetValue(reader);
    const T current = GetValue(reader);
    const T step = GetValue(reader);
    const T log_ratio = GetValue(reader);
    const uint32_t steps = reader.GetU32();
    const uint32_t position = reader.GetU32();
    const bool smoothing = reader.GetBool();
    if (!reader.ok()) return;
    if (steps != steps_) return reader.Fail("a ramp of another length");
    if (position > steps) return reader.Fail("a ramp position past its end");
    for (const T value : {start, target, current}) {
      if (!(value >= min && value <= max)) return reader.Fail("a ramped value out of range");
      if (kLaw == RampLaw::kMultiplicative && !(value > 0)) {
        return reader.Fail("a geometric ramp through zero");
      }
    }
    start_ = start;
    target_ = target;
    current_ = current;
    step_ = step;
    log_ratio_ = log_ratio;
    position_ = position;
    smoothing_ = smoothing;
  }

  T GetTargetValue() const noexcept { return target_; }
  // Whether a ramp is in flight: GetNextValue will return something other than the target.
  bool IsSmoothing() const noexcept { return smoothing_; }
  uint32_t ramp_steps() const noexcept { return steps_; }

 private:
  static void PutValue(StateWriter& writer, T value) noexcept {
    if constexpr (std::is_same_v<T, float>) {
      writer.PutFloat(value);
    } else {
      writer.PutDouble(static_cast<double>(value));
    }
  }
  static T GetValue(StateReader& reader) noexcept {
    if constexpr (std::is_same_v<T, float>) {
      return reader.GetFiniteFloat();
    } else {
      return static_cast<T>(reader.GetFiniteDouble());
    }
  }

  T start_;
  T target_;
  T current_;
  T inverse_steps_ = T(1);
  T step_ = T(0);       // kLinearBySteps
  T log_ratio_ = T(0);  // kMultiplicative: log(target / start)
  uint32_t steps_ = 1;
  uint32_t position_ = 1;  // steps taken in the current ramp
  bool smoothing_ = false;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_SMOOTHED_VALUE_H_
