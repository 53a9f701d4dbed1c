// EchoDelayEstimator: how far the echo in a microphone signal lags the far-end reference
// that a loudspeaker played, over 0 to a few hundred milliseconds, for an echo canceller to
// align its reference before its adaptive filter.
//
// Both signals are decimated to about 4 kHz (a box average of `decimation` samples: the
// aliasing is the same linear map on both, so the correlation still peaks at the echo's lag).
// Every kHop decimated samples (16 ms) the last hop of the microphone is cross-correlated
// with the reference over every lag up to the maximum, in the frequency domain: the
// cross-spectrum and both auto-spectra are averaged over time (time constant
// kSmoothingSeconds), and the correlation is the inverse FFT of the cross-spectrum whitened
// by the two (the SCOT weighting of generalized cross-correlation: Carter, Nuttall & Cedar
// 1973), which turns speech's broad autocorrelation into a sharp peak at the delay. Hops
// where the reference is silent teach nothing and are skipped, and so are those the caller
// marks as loud near speech (its chance correlation with the far end, averaged over 0.4 s,
// lifted false peaks at 160-500 ms when a near end 20 dB over the echo talked).
//
// The estimate changes only on evidence: the peak must stand well above the correlation's
// mean (kMinPeakRatio), and a new lag must beat the current one by kSwitchMargin on
// kConfirmations evaluations in a row with the same lag (within kLagTolerance), so the
// estimate does not flap between the early reflections of a reverberant echo; the first estimate
// needs kFirstConfirmations, as the averages it comes from are young.
//
//   EchoDelayEstimator estimator;
//   estimator.Init(16000, 0.5);                       // allocates, plans FFTs
//   if (estimator.Update(reference, mic, frames)) {   // real-time safe
//     Report(estimator.delay_samples());
//   }
//
// Thread safety: one thread at a time.
#ifndef AUDIOPROC_DSP_ECHO_DELAY_ESTIMATOR_H_
#define AUDIOPROC_DSP_ECHO_DELAY_ESTIMATOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "dsp/fftw_plan.h"
#include "dsp/state_codec.h"

namespace audioproc {

class EchoDelayEstimator {
 public:
  // Decimated samples per hop (16 ms at 4 kHz).
  static constexpr uint32_t kHop = 64;
  // Time constant of the averaged spectra.
  static constexpr double kSmoothingSeconds = 0.4;
  // The correlation is evaluated every this many hops.
  static constexpr uint32_t kHopsPerEvaluation = 2;
  // A peak counts only if it is this many times the mean magnitude of the correlation.
  static constexpr float kMinPeakRatio = 8.0f;
  // No estimate before this many active hops have been averaged (a quarter second).
  static constexpr uint32_t kMinActiveHops = 16;
  // A new lag must be this many times as strong as the current lag's peak ...
  static constexpr float kSwitchMargin = 1.2f;
  // ... on this many evaluations in a row (kFirstConfirmations for the first estimate, the .cc
  // has why) ...
  static constexpr uint32_t kConfirmations = 3;
  static constexpr uint32_t kFirstConfirmations = 5;
  // ... each within this many decimated samples of the first.
  static constexpr int kLagTolerance = 2;
  // A hop of the decimated reference quieter than this mean square (-70 dBFS) is silence.
  static constexpr float kActiveMeanSquare = 1e-7f;
  // Decimated samples (8 ms) at each end of the reference's window tapered to zero (a half
  // Hann), so that the window's edges do not correlate with the microphone: the .cc has why.
  static constexpr uint32_t kEdgeTaper = 32;

  // Sizes everything for signals at `sample_rate_hz` and delays up to `max_delay_seconds`.
  // Allocates and plans an FFT. INVALID_ARGUMENT for a non-positive rate or delay.
  absl::Status Init(double sample_rate_hz, double max_delay_seconds);

  // The heap bytes Init(sample_rate_hz, max_delay_seconds) allocates and keeps.
  static uint64_t InitBytes(double sample_rate_hz, double max_delay_seconds);
  // CPU-seconds per second of signal, on the reference machine (cost_model.h).
  static double CpuCores(double sample_rate_hz, double max_delay_seconds);

  // Back to no estimate and no history. Real-time safe.
  void Reset() noexcept;

  // Takes the next `frames` samples of the reference and of the microphone (full rate) and
  // returns true if the estimate changed during them. With `loud_near` (the caller finds loud
  // near speech in these frames) a hop that ends in them is skipped. Real-time safe.
  bool Update(const float* reference, const float* mic, uint32_t frames,
              bool loud_near = false) noexcept;

  // Writes the averages, the decimation and hop positions and the estimate's state (a
  // checkpoint; dsp/state_codec.h). Allocates nothing.
  void SaveState(StateWriter& writer) const noexcept;
  // Reads what SaveState wrote into an estimator Init'ed for the same rate and delay; every
  // size and position is checked against this one. On failure the reader fails (the caller
  // Resets). Allocates nothing.
  void RestoreState(StateReader& reader) noexcept;

  // Whether there is an estimate yet.
  bool has_estimate() const { return delay_ >= 0; }
  // The estimated lag of the echo behind the reference, in full-rate samples (0 while
  // there is no estimate).
  int64_t delay_samples() const { return delay_ < 0 ? 0 : int64_t{delay_} * decimation_; }
  double delay_ms() const { return 1000.0 * static_cast<double>(delay_samples()) / rate_; }
  uint32_t decimation() const { return decimation_; }
  // The last evaluation's peak over the correlation's mean magnitude (for tests).
  float peak_ratio() const { return peak_ratio_; }

 private:
  // Runs one hop (unless `loud_near`): spectra, averages, and every kHopsPerEvaluation hops the
  // peak search. Returns true if the estimate changed.
  bool RunHop(bool loud_near) noexcept;
  bool Evaluate() noexcept;

  double rate_ = 0;
  uint32_t decimation_ = 1;
  uint32_t max_lag_ = 0;  // decimated samples
  uint32_t fft_size_ = 0;
  uint32_t bins_ = 0;
  float smoothing_ = 0;  // per hop

  const RealFftPlan* fft_ = nullptr;  // shared, immutable
  FftwBuffer<float> frame_;
  FftwBuffer<fftwf_complex> reference_spectrum_;
  FftwBuffer<fftwf_complex> mic_spectrum_;
  std::vector<float> reference_history_;  // max_lag_ + kHop decimated samples, oldest first
  std::vector<float> mic_hop_;            // kHop
  std::vector<float> cross_;              // averaged cross-spectrum, interleaved re, im
  std::vector<float> reference_power_;    // averaged |A|^2
  std::vector<float> mic_power_;          // averaged |B|^2

  // Decimation state.
  double reference_sum_ = 0;
  double mic_sum_ = 0;
  uint32_t in_sum_ = 0;
  uint32_t in_hop_ = 0;
  uint32_t hops_ = 0;
  uint32_t active_hops_ = 0;

  float peak_ratio_ = 0;
  int delay_ = -1;      // decimated samples, -1 for none
  int candidate_ = -1;  // the lag being confirmed
  uint32_t confirmations_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_ECHO_DELAY_ESTIMATOR_H_
