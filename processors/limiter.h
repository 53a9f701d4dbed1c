// limiter: a lookahead peak limiter with linked channels and optional true-peak detection.
//
// Guarantees: no output sample exceeds the ceiling, and a signal that never exceeds it comes
// out unchanged, sample for sample, delayed by LatencyFrames() (which the chain drops). The
// gain computer, per frame, in double precision:
//   1. peak p: the largest |sample| over all channels (true_peak: the 4x oversampled estimate
//      of TruePeakDetector, which lags the input by its own DelayFrames());
//   2. required gain r = min(1, ceiling / p);
//   3. hold: the minimum of r over the last L + 2H + 1 frames (SlidingMin, O(1) amortized),
//      L being the lookahead in frames and H a guard (0 for sample peaks, kTruePeakGuardFrames
//      for true peaks);
//   4. release: rises toward the hold value by a one-pole filter with the release time
//      constant, drops to it at once, and so never exceeds it;
//   5. attack: a moving average over L + 1 frames, which ramps the gain down linearly over
//      the lookahead. Every value averaged is at most the required gain of each frame from H
//      frames before to H frames after the one the gain is applied to, so the average is too.
// The audio is delayed by L + H (+ the detector's delay) to line up with that gain. The moving
// average is kept as a running sum of gain reductions with a count of non-zero ones: when the
// count is zero the gain is exactly 1.0f (no float drift), which is what makes the
// below-ceiling output bit-exact. A final clamp to the ceiling only absorbs float rounding.
//
// With true_peak, H frames of guard make the gain flat at its minimum across the
// interpolation kernel's centre, so the 4x oversampled output also stays within 0.1 dB of the
// ceiling (measured: +0.003 dB at most) for content below 0.45 x the sample rate, where the
// detector's interpolator is accurate. Energy between 0.45 x and the Nyquist frequency is
// partly invisible to any interpolator short enough for a limiter's latency: full-band white
// noise at +12 dB comes out with 4x peaks up to about 1 dB over the ceiling (measured +0.8 dB
// at 16 kHz, +1.1 dB at 48 kHz); its samples still never exceed it.
//
// A ceiling update applies to audio that enters after it (the gain ramps over the lookahead,
// no click); audio already inside the lookahead keeps the ceiling it was limited to.
//
// Thread safety: a LimiterProcessor is used by one thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_LIMITER_H_
#define AUDIOPROC_PROCESSORS_LIMITER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/sliding_min.h"
#include "dsp/true_peak.h"

namespace audioproc {

// Guard frames on each side of an inter-sample peak in true-peak mode (H above).
inline constexpr uint32_t kTruePeakGuardFrames = 3;

// The limiter's metadata (ceiling_db: -1, [-60, 0] dB, runtime-updatable; lookahead_ms: 5,
// [0.5, 50] ms; release_ms: 50, [1, 1000] ms; true_peak: false) and factory.
ProcessorDefinition LimiterDefinition();

// Settings of a LimiterProcessor, as resolved by the registry.
struct LimiterSettings {
  double ceiling_db = -1.0;
  double lookahead_ms = 5.0;
  double release_ms = 50.0;
  bool true_peak = false;
};

// The lookahead L and the audio delay (L, plus the guard and the detector's delay with
// true_peak) in frames, as Prepare sets them for a stream at `sample_rate_hz`.
struct LimiterFrames {
  uint32_t lookahead = 1;
  uint32_t delay = 1;
};
LimiterFrames LimiterFramesFor(const LimiterSettings& settings, double sample_rate_hz);

// limiter's run-time settings: what an update changes.
struct LimiterRuntimeSettings {
  std::optional<double> ceiling_db;
};

class LimiterProcessor : public UpdatableProcessor<LimiterRuntimeSettings> {
 public:
  explicit LimiterProcessor(const LimiterSettings& settings);

  // Sizes the delay line and the gain computer's windows. Allocates.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  void Reset() noexcept override;
  // The audio delay: lookahead (+ guard and detector delay with true_peak), in frames.
  int LatencyFrames() const override { return static_cast<int>(delay_frames_); }
  // Takes a new ceiling_db; does not allocate.
  void ApplySettings(const LimiterRuntimeSettings& settings) noexcept override;
  // The gain computer (its hold window, release, true-peak history), the output clamp and the
  // lookahead delay line.
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

 private:
  // The gain for the audio frame leaving the delay line, given the new frame's peak.
  float NextGain(float peak) noexcept;

  LimiterSettings settings_;
  uint32_t channels_ = 0;
  uint32_t lookahead_frames_ = 1;  // L
  uint32_t delay_frames_ = 1;      // the audio delay
  double release_coefficient_ = 0;

  // Gain computer.
  double ceiling_ = 1.0;  // linear ceiling the gain computer limits new audio to
  SlidingMin hold_;
  // Consecutive required gains of exactly 1 pushed into hold_, counted up to its window: at
  // the window, hold_ holds only ones, and while nothing needs limiting NextGain skips it.
  uint32_t unity_pushes_ = 0;
  double released_gain_ = 1.0;
  std::vector<double> reductions_;  // the last L + 1 values of 1 - released gain (a ring)
  uint32_t reduction_position_ = 0;
  double reduction_sum_ = 0;
  uint32_t nonzero_reductions_ = 0;
  TruePeakDetector true_peak_;

  // Output clamp: the ceiling of the audio leaving the delay line, which lags a lowered
  // ceiling by the delay.
  float clamp_ceiling_ = 1.0f;
  float next_clamp_ceiling_ = 1.0f;
  uint32_t clamp_countdown_ = 0;

  // Audio delay line, channel-major, delay_frames_ per channel, one shared write position.
  std::vector<float> delay_;
  uint32_t delay_position_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_LIMITER_H_
