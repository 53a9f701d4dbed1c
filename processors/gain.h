// gain: a fixed gain in dB, runtime-updatable with a click-free ramp.
//
// The gain is applied as one float multiply per sample, the factor 10^(gain_db/20) being
// computed once in double, so the result is within rounding of the analytic value (at most
// 1 LSB at s16). A runtime update ramps the linear factor from its current value to the new
// one along a straight line over kGainRampMs (a SmoothedValue), then holds the new value
// exactly; the ramp is counted in samples, so its shape does not depend on block sizes.
//
//   ProcessorRegistry registry({GainDefinition(), ...});
//   chain: {"gain", {{"gain_db", -6.0}}}
//
// Thread safety: a GainProcessor is used by one thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_GAIN_H_
#define AUDIOPROC_PROCESSORS_GAIN_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/smoothed_value.h"

namespace audioproc {

// How long a runtime gain change takes: well inside DESIGN's 20 ms bound, long enough that a
// full-scale step (0 dB to -120 dB) has no audible click.
inline constexpr double kGainRampMs = kParameterRampMs;

// gain's run-time settings: what an update changes.
struct GainRuntimeSettings {
  std::optional<double> gain_db;
};

// The gain processor's metadata (gain_db: default 0, [-120, 60] dB, runtime-updatable) and
// factory, for a ProcessorRegistry.
ProcessorDefinition GainDefinition();

// Multiplies every channel by one ramped factor. In place; no latency.
class GainProcessor : public UpdatableProcessor<GainRuntimeSettings> {
 public:
  explicit GainProcessor(double gain_db);

  // Sizes the ramp for the stream's sample rate. Does not allocate.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // Jumps to the target gain (no ramp in flight).
  void Reset() noexcept override;
  // Ramps to a new gain_db. Does not allocate.
  void ApplySettings(const GainRuntimeSettings& settings) noexcept override;
  // The ramp (a runtime update in flight included).
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  // The factor applied to the next sample (mid-ramp: the ramp's current value).
  float current_gain() const;

 private:
  // The linear factor. One multiply per sample: the law gain has always used, so its output
  // is what it was.
  SmoothedValue<float, RampLaw::kLinearByReciprocal> gain_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_GAIN_H_
