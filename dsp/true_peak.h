// TruePeakDetector: an estimate of a multichannel signal's inter-sample peaks by 4x
// oversampling (ITU-R BS.1770-4 Annex 2 style), for the limiter's gain computer.
//
// For every input frame j it reports the largest magnitude, over all channels, of the sample
// x[j] itself and of the three band-limited interpolations at j + 1/4, j + 2/4 and j + 3/4.
// The interpolation is a polyphase FIR: each fractional phase is a Kaiser-windowed sinc of
// kTruePeakTaps taps, normalized to unit DC gain. Interpolating at j + 3/4 needs samples up
// to j + kTruePeakTaps / 2, so the estimate for frame j comes out DelayFrames() frames after
// x[j] went in.
// Thread safety: one thread at a time.
#ifndef AUDIOPROC_DSP_TRUE_PEAK_H_
#define AUDIOPROC_DSP_TRUE_PEAK_H_

#include <array>
#include <cstdint>
#include <vector>

#include "dsp/audio_block.h"
#include "dsp/state_codec.h"

namespace audioproc {

// Taps per fractional phase. With a Kaiser window of beta 5, 32 taps estimate the 4x grid's
// peak of any tone up to 0.45 x the sample rate within -0.03 / +0.04 dB (16 taps, as in
// BS.1770's 48-tap filter, miss it by 0.1 dB and more near 0.45: their passband is too narrow).
inline constexpr uint32_t kTruePeakTaps = 32;  // a multiple of 4 (see Push)
inline constexpr uint32_t kTruePeakOversampling = 4;

class TruePeakDetector {
 public:
  TruePeakDetector();

  // Sizes the per-channel history. Allocates.
  void Init(uint32_t channels);
  // Clears the history to silence.
  void Reset();

  // How many frames the estimate lags the input.
  static constexpr uint32_t DelayFrames() { return kTruePeakTaps / 2; }

  // Pushes frame `frame` of `in` and returns the true-peak estimate (max over channels) of
  // the frame pushed DelayFrames() frames earlier.
  float Push(const AudioBlock& in, uint32_t frame) noexcept;

  // The history, for a checkpoint. Does not allocate.
  void SaveState(StateWriter& writer) const noexcept;
  // Reads what SaveState wrote into a detector Init'ed for the same channels. On failure the
  // reader fails; the caller Resets. Does not allocate.
  void RestoreState(StateReader& reader) noexcept;

 private:
  // phases_[p] interpolates at fraction (p + 1) / 4 between the two middle history samples.
  std::array<std::array<float, kTruePeakTaps>, kTruePeakOversampling - 1> phases_;
  uint32_t channels_ = 0;
  // Per channel, 2 x kTruePeakTaps: every sample is written twice, kTruePeakTaps apart, so
  // the latest kTruePeakTaps samples are always contiguous (no wrap inside the dot product).
  std::vector<float> history_;
  uint32_t position_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_TRUE_PEAK_H_
