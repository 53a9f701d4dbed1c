// gain: a fixed gain in dB, runtime-updatable with a click-free ramp.
//
// The gain is applied as one float multiply per sample, the factor 10^(gain_db/20) being
// computed once in double, so the result is within rounding of the analytic value (at most
// 1 LSB at s16). A runtime update ramps the linear factor from its current value to the new
// one along a straight line over kGainRampMs, then holds the new value exactly; the ramp is
// counted in samples, so its shape does not depend on block sizes.
//
//   ProcessorRegistry registry({GainDefinition(), ...});
//   chain: {"gain", {{"gain_db", -6.0}}}
//
// Thread safety: a GainProcessor is used by one thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_GAIN_H_
#define AUDIOPROC_PROCESSORS_GAIN_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "dsp/audio_block.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"

namespace audioproc {

// How long a runtime gain change takes: well inside DESIGN's 20 ms bound, long enough that a
// full-scale step (0 dB to -120 dB) has no audible click.
inline constexpr double kGainRampMs = 10.0;

// The gain processor's metadata (gain_db: default 0, [-120, 60] dB, runtime-updatable) and
// factory, for a ProcessorRegistry.
ProcessorDefinition GainDefinition();

// Multiplies every channel by one ramped factor. In place; no latency.
class GainProcessor : public Processor {
 public:
  explicit GainProcessor(double gain_db);

  // Sizes the ramp for the stream's sample rate. Does not allocate.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // Jumps to the target gain (no ramp in flight).
  void Reset() noexcept override;
  // Ramps to a new gain_db; other parameters are ignored. Does not allocate.
  void ApplyUpdate(const ParamValues& changes) noexcept override;

  // The factor applied to the next sample (mid-ramp: the ramp's current value).
  float current_gain() const;

 private:
  float target_ = 1.0f;         // the factor the ramp ends at, and the steady-state factor
  float ramp_start_ = 1.0f;     // the factor when the current ramp began
  uint32_t ramp_frames_ = 1;    // a ramp's length, from Prepare
  uint32_t ramp_position_ = 0;  // frames into the current ramp
  bool ramping_ = false;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_GAIN_H_
