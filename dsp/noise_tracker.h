// NoiseTracker: per-bin noise power spectrum and speech presence probability of a noisy
// signal, frame by frame, by improved minima controlled recursive averaging (IMCRA: Cohen,
// "Noise spectrum estimation in adverse environments: improved minima controlled recursive
// averaging", IEEE Trans. SAP 11(5), 2003; after MCRA, Cohen & Berdugo, IEEE SPL 9(1), 2002).
//
// Per bin k and frame l, with periodogram P = |Y(k, l)|^2:
//   1. S = a_s S + (1 - a_s) (P smoothed across 3 bins), and its minimum S_min over about
//      one second, searched in kSubwindows sub-windows as in Martin's minimum statistics
//      (IEEE Trans. SAP 9(5), 2001), so that old minima leave the window a sub-window at a
//      time rather than all at once;
//   2. a rough decision: speech is surely absent where P and S are both near the (bias-
//      corrected) minimum. A second smoothing and minimum search run over those bins only,
//      so strong speech does not lift the minimum of the second pass;
//   3. from P and S against that minimum, an a priori speech absence probability q, and,
//      with the a priori SNR from the gain rule, the presence probability
//      p = 1 / (1 + q / (1 - q) (1 + xi) exp(-v)), v = gamma xi / (1 + xi);
//   4. noise = b * average of P with the weight a_d + (1 - a_d) p: the average follows P
//      where speech is absent and holds where it is present, and b corrects the bias of
//      averaging only the low-energy frames.
//   5. a crowd bias on top of b: babble (many talkers at once) is not Gaussian noise. Its
//      periodogram fluctuates far more about its mean, so its minima lie further below the
//      mean than B_min and b assume, and the estimate falls well short of its mean power.
//      Per frame, the fluctuation is the mean over the speech band of the local variance
//      (over about 40 ms) of P / (b x average): Gaussian noise of any colour gives about 1
//      there (an exponential variable's variance is its squared mean), babble several times
//      more. A talker in stationary noise gives more while they talk, but pauses every few
//      seconds, and a pause has the noise's own fluctuation; a crowd does not. So the
//      smallest fluctuation over the last 4 s tells a crowd from a talker. Measured on six
//      voices at 16 and 48 kHz: in white, pink, brown and fan noise at -5..15 dB its median
//      is 0.54-0.67 and its 90th percentile at most 1.1; in babble its 10th percentile is at
//      least 2.4 and its median 3.0-4.4. Where it is above 2 the estimate is raised toward
//      kCrowdBias x, fully at 3. A talker who goes 4 s without a pause gets part of the bias
//      for a moment (about 10% of these talks' frames, clean or at 10-15 dB SNR), which
//      costs them nothing measurable: the noise is far below their speech then.
// Noise that falls is followed within a fraction of a second; noise that rises, once the
// quieter frames have left both minimum searches: about 2 s (measured: 2.1 s for +10 dB).
// Cohen's parameters are for a 16 kHz signal in 32 ms frames every 8 ms; the time constants
// here are his, in seconds, so other hops (other sample rates) smooth alike. The first Update
// initializes every state from that frame: the estimate is usable at once, and if that frame
// held speech the minimum search corrects it as quieter frames arrive.
//
// State and arithmetic are float, and the per-bin loops are written to vectorize: the
// tracker runs on every bin of every STFT frame, and float halves its memory (the two
// minimum searches' sub-window rings are most of a denoise stream's state) and doubles the
// SIMD width. Float's 24 bits are far finer than the estimate's own variance.
//
// Thread safety: one thread at a time.
#ifndef AUDIOPROC_DSP_NOISE_TRACKER_H_
#define AUDIOPROC_DSP_NOISE_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dsp/sliding_min.h"
#include "dsp/state_codec.h"

namespace audioproc {

class NoiseTracker {
 public:
  // The minimum search: kSubwindows sub-windows of kSubwindowSeconds each.
  static constexpr uint32_t kSubwindows = 8;
  static constexpr double kSubwindowSeconds = 0.12;

  // The crowd detector's window: kFluctuationSubwindows sub-windows of kSubwindowSeconds
  // (about 4 s), and it decides only once kFluctuationMinSubwindows are in (about 2 s).
  static constexpr uint32_t kFluctuationSubwindows = 33;
  static constexpr uint32_t kFluctuationMinSubwindows = 17;

  // Bins [first, end): the speech band, where the crowd detector looks.
  struct Band {
    size_t first = 0;
    size_t end = 0;
  };

  // Sizes the state for `bins` bins updated `frame_rate_hz` times a second, the crowd
  // detector looking at `band` (clipped to the bins; all of them if that leaves it empty).
  // Allocates.
  void Init(size_t bins, double frame_rate_hz, Band band);

  // The heap bytes Init(bins, ..., band) allocates and the tracker keeps.
  static uint64_t InitBytes(size_t bins, Band band);

  // The crowd bias applied to the last estimate: 1 for a talker in stationary noise, up to
  // the crowd bias in babble.
  float crowd_bias() const { return crowd_bias_; }

  // Forgets everything; the next Update initializes the estimate again. Real-time safe.
  void Reset() noexcept;

  // The minimum searches, the averages, the speech presence and the estimate, for a
  // checkpoint. Does not allocate.
  void SaveState(StateWriter& writer) const noexcept;
  // Reads what SaveState wrote into a tracker Init'ed for the same bins and frame rate. On
  // failure the reader fails; the caller Resets. Does not allocate.
  void RestoreState(StateReader& reader) noexcept;

  // Takes one frame's periodogram `power` and the gain rule's a priori SNR `priori_snr` for
  // it (computed against noise() before this call), `bins` values each, finite and >= 0.
  // Updates speech_presence() for this frame and noise() for the next. Real-time safe.
  void Update(const float* power, const float* priori_snr) noexcept;

  // The noise power estimate per bin (> 0), in the units of the periodogram.
  const float* noise() const { return noise_.data(); }
  // The speech presence probability per bin, in [0, 1], of the last frame updated.
  const float* speech_presence() const { return presence_.data(); }

 private:
  // One pass of smoothing and windowed minimum search.
  struct MinimumSearch {
    std::vector<float> smoothed;         // S
    std::vector<float> minimum;          // over the stored sub-windows and the current one
    std::vector<float> current_minimum;  // over the current sub-window
    // kSubwindows x bins, a ring of each sub-window's minimum in 16 bits: a float's upper half
    // (bfloat16), so truncated toward zero, at most 2^-7 (0.034 dB) below the value. Far finer
    // than the minimum's own spread, and it halves the ring, half of a denoise stream's state.
    std::vector<uint16_t> subwindows;
    void Init(size_t bins);
    void Start(const float* value, size_t bins);
    // Stores the current sub-window's minimum in `slot`; `stored` slots now hold one.
    void EndSubwindow(uint32_t slot, uint32_t stored, size_t bins);
  };

  // The crowd detector: this frame's fluctuation (step 5) from the periodogram's local
  // moments, then the smallest over the window, then the bias it calls for, smoothed.
  void UpdateCrowdBias(const float* power) noexcept;

  // `band` clipped to `bins`, or all of them if that leaves it empty.
  static Band Clipped(size_t bins, Band band);

  size_t bins_ = 0;
  Band band_;
  float alpha_s_ = 0;  // power smoothing
  float alpha_d_ = 0;  // noise averaging where speech is absent
  float alpha_f_ = 0;  // the local moments of the fluctuation
  float alpha_c_ = 0;  // the crowd bias's smoothing
  uint32_t subwindow_frames_ = 1;
  uint32_t subwindow_position_ = 0;  // frames into the current sub-window
  uint32_t oldest_subwindow_ = 0;    // the ring slot the next complete sub-window replaces
  uint32_t stored_subwindows_ = 0;   // complete sub-windows in the ring, up to kSubwindows
  bool initialized_ = false;

  MinimumSearch first_;
  MinimumSearch second_;
  std::vector<float> across_;    // scratch: P smoothed across frequency
  std::vector<float> absent_;    // scratch: the rough speech-absence decision, 0 or 1
  std::vector<float> average_;   // the noise average before the bias factor
  std::vector<float> presence_;  // p
  std::vector<float> noise_;     // the estimate

  // Over the speech band: the local mean and mean square of P / (b x average).
  std::vector<float> moment1_;
  std::vector<float> moment2_;
  SlidingMin fluctuation_minima_;    // over the last kFluctuationSubwindows sub-windows
  uint32_t fluctuation_stored_ = 0;  // complete sub-windows seen, up to kFluctuationSubwindows
  float fluctuation_minimum_ = 0;    // over the current sub-window
  uint32_t fluctuation_settling_frames_ = 0;
  uint32_t settling_frames_ = 0;  // frames left before the fluctuation is the signal's
  float crowd_bias_ = 1;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_NOISE_TRACKER_H_
