// VoiceFeatureExtractor: per 10 ms hop of mono audio, the features vad decides on and the
// hop's speech probability.
//
// Each hop is analysed with the last kVadWindowHops hops (30 ms, enough for two periods of an
// 70 Hz voice), Hann-windowed and zero-padded to N >= 2 x window so the autocorrelation below
// is linear, not circular:
//   - energy: the hop's mean square (dBFS), and its height above a noise floor, the minimum
//     hop energy of the last second (minimum statistics: speech has pauses and dips between
//     syllables, stationary noise has none, so the floor finds the noise under the speech
//     and rises to meet a steady noise within a second);
//   - periodicity: the largest normalized autocorrelation at a pitch lag (70 to 400 Hz) of the
//     300-3400 Hz band, computed from the power spectrum (Wiener-Khinchin) and divided by
//     the window's own autocorrelation (Boersma 1993). Voiced speech reads 0.6 to 0.95;
//     white and pink noise have no repeating period (~0.3);
//   - spectral flatness of the 300-3400 Hz band (geometric over arithmetic mean of the power
//     spectrum): harmonics and formants make speech peaky (low), noise is flat (~0.5);
//   - the share of energy in 300-3400 Hz (speech: most of it; white noise at 16 kHz: 40%);
//   - the zero-crossing rate (per sample): high for noise and fricatives, low for vowels.
// The probability is a logistic combination of the spectral features, gated by the energy
// being clearly above the floor and above kVadMinEnergyDbfs, so silence and steady noise are
// non-speech whatever their spectrum. Weights are set by hand from these features' known
// ranges (not fitted to a test signal).
//
// Thread safety: one thread at a time. Init plans FFTs under the process-wide planner mutex.
#ifndef AUDIOPROC_DSP_VAD_FEATURES_H_
#define AUDIOPROC_DSP_VAD_FEATURES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "dsp/fftw_plan.h"
#include "dsp/sliding_min.h"

namespace audioproc {

// Hops per analysis window.
inline constexpr uint32_t kVadWindowHops = 3;
// Quieter hops are never speech: below 16-bit dither, where no microphone's speech lies.
inline constexpr double kVadMinEnergyDbfs = -70.0;

struct VoiceFeatures {
  double energy_dbfs = -200;
  double snr_db = 0;          // energy above the noise floor
  double periodicity = 0;     // 0..1
  double flatness = 1;        // 0..1, in 300-3400 Hz
  double band_share = 0;      // 0..1, energy in 300-3400 Hz of all but DC
  double zero_crossings = 0;  // per sample
  double probability = 0;     // of speech, 0..1
};

class VoiceFeatureExtractor {
 public:
  // Sizes everything for `sample_rate_hz` and plans the FFTs. Allocates and locks the planner
  // mutex. INTERNAL if FFTW cannot plan.
  absl::Status Init(double sample_rate_hz);

  // Frames per hop: 10 ms.
  uint32_t hop_frames() const { return hop_; }

  // The sizes Init(sample_rate_hz) sets, in frames (fft_size in points, lags inclusive).
  struct Sizes {
    uint32_t hop = 1;
    uint32_t window = 3;
    uint32_t fft_size = 8;
    uint32_t band_low = 0;  // first and last bin of 300-3400 Hz
    uint32_t band_high = 0;
    uint32_t min_lag = 0;
    uint32_t max_lag = 0;
  };
  static Sizes SizesFor(double sample_rate_hz);
  // The heap bytes Init(sample_rate_hz) allocates and the extractor keeps, its FFT plan
  // included.
  static uint64_t InitBytes(double sample_rate_hz);

  // Analyses the next hop (hop_frames() mono samples) with the ones before it. Real-time safe.
  const VoiceFeatures& Analyze(const float* hop) noexcept;

  // Forgets the past (window and noise floor). Real-time safe.
  void Reset() noexcept;

 private:
  double Periodicity() noexcept;

  double rate_ = 0;
  uint32_t hop_ = 0;
  uint32_t window_ = 0;  // kVadWindowHops hops
  uint32_t fft_size_ = 0;
  uint32_t band_low_ = 0;  // first and last bin of 300-3400 Hz
  uint32_t band_high_ = 0;
  uint32_t min_lag_ = 0;  // pitch lags, in frames
  uint32_t max_lag_ = 0;
  const RealFftPlan* fft_ = nullptr;  // shared, RealFftPlan::Shared
  std::vector<float> history_;        // the last window_ samples, oldest first
  std::vector<float> hann_;           // window_ taps
  std::vector<double> window_acf_;    // the Hann window's autocorrelation, normalized
  std::vector<double> power_;         // |X_k|^2
  FftwBuffer<float> time_;
  FftwBuffer<fftwf_complex> spectrum_;
  SlidingMin floor_;  // of hop energies in dB over the last second
  VoiceFeatures features_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_VAD_FEATURES_H_
