// VoiceFeatureExtractor: per 10 ms hop of mono audio, how likely the hop holds speech against
// the noise under it, whatever that noise's colour.
//
// Each hop is analysed with the last kVadWindowHops hops (30 ms), Hann-windowed and
// zero-padded to N >= 2 x window. In every bin of 200-4000 Hz (the band speech carries):
//   - the noise's power is tracked by minimum statistics (Martin 2001): the power spectrum
//     smoothed over ~50 ms, its minimum over the last kVadNoiseSubwindows x
//     kVadNoiseSubwindowHops hops (1.28 s, kept as sub-window minima so that the minimum
//     forgets), times the bias of such a minimum (kVadNoiseBias: the minimum of a smoothed
//     periodogram lies below its mean). Speech has pauses and dips between syllables, a
//     stationary noise has none, so the minimum finds the noise under the speech in each bin,
//     and rises to meet a new noise within that window;
//   - the likelihood ratio of speech over noise (Sohn, Kim and Sung 1999): with the a
//     posteriori SNR gamma = |X|^2 / noise and the a priori SNR xi by the decision-directed
//     rule (Ephraim and Malah 1984), log L = gamma xi / (1 + xi) - ln(1 + xi).
// The hop's evidence is the mean log ratio over the band: each bin is judged against its own
// noise, so brown noise or a hum that swamps the low bins says nothing about the bins where the
// voice stands above it, which is what a broadband energy or periodicity measure cannot tell
// apart. The probability is a logistic of that mean (0.5 at kVadLikelihoodMidpoint), zero for
// hops quieter than kVadMinEnergyDbfs.
//
// Thread safety: one thread at a time. Init allocates and may plan an FFT (RealFftPlan::Shared).
#ifndef AUDIOPROC_DSP_VAD_FEATURES_H_
#define AUDIOPROC_DSP_VAD_FEATURES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "dsp/fftw_plan.h"
#include "dsp/state_codec.h"

namespace audioproc {

// Hops per analysis window.
inline constexpr uint32_t kVadWindowHops = 3;
// Quieter hops are never speech: below 16-bit dither, where no microphone's speech lies.
inline constexpr double kVadMinEnergyDbfs = -70.0;
// The noise floor: the smoothed spectrum's minimum over kVadNoiseSubwindows sub-windows of
// kVadNoiseSubwindowHops hops, times kVadNoiseBias (measured on white noise: the mean of the
// periodogram over that minimum, smoothing 0.8, 1.28 s, is 2.5; 2.4 over 0.96 s, 2.6 over
// 1.6 s). tests/processors/vad_noise_test.cc holds what depends on it: noise alone of every
// colour is never speech.
inline constexpr uint32_t kVadNoiseSubwindows = 8;
inline constexpr uint32_t kVadNoiseSubwindowHops = 16;
inline constexpr double kVadNoiseSmoothing = 0.8;
inline constexpr double kVadNoiseBias = 2.5;
// Mean log likelihood ratio at probability 0.5, and the logistic's width. Noise alone averages
// 0.02 (its 99th percentile 0.05); a voiced hop 10 dB over the noise in its formants, several.
inline constexpr double kVadLikelihoodMidpoint = 0.25;
inline constexpr double kVadLikelihoodWidth = 0.05;

// The speech probability of a mean log likelihood ratio `likelihood` when `evidence` times the
// usual evidence is asked for: a logistic of width kVadLikelihoodWidth x evidence centred on
// kVadLikelihoodMidpoint x evidence.
double SpeechProbability(double likelihood, double evidence = 1.0);

struct VoiceFeatures {
  double energy_dbfs = -200;  // the hop's mean square
  double likelihood = 0;      // mean log likelihood ratio of speech over noise in the band
  double probability = 0;     // of speech, 0..1
};

class VoiceFeatureExtractor {
 public:
  // Sizes everything for `sample_rate_hz` and finds the FFT plan. Allocates. INTERNAL if FFTW
  // cannot plan.
  absl::Status Init(double sample_rate_hz);

  // Frames per hop: 10 ms.
  uint32_t hop_frames() const { return hop_; }

  // The sizes Init(sample_rate_hz) sets, in frames (fft_size in points, bins inclusive).
  struct Sizes {
    uint32_t hop = 1;
    uint32_t window = 3;
    uint32_t fft_size = 8;
    uint32_t band_low = 0;  // first and last bin of 200-4000 Hz
    uint32_t band_high = 0;
    uint32_t band_bins() const { return band_high >= band_low ? band_high - band_low + 1 : 0; }
  };
  static Sizes SizesFor(double sample_rate_hz);
  // The heap bytes Init(sample_rate_hz) allocates and the extractor keeps (the FFT plan is
  // shared, not counted).
  static uint64_t InitBytes(double sample_rate_hz);

  // Analyses the next hop (hop_frames() mono samples) with the ones before it. Real-time safe.
  const VoiceFeatures& Analyze(const float* hop) noexcept;

  // Forgets the past (window and noise floor). Real-time safe.
  void Reset() noexcept;

  // The sample history, noise floor tracking and decision memory, for a checkpoint. Does not
  // allocate.
  void SaveState(StateWriter& writer) const noexcept;
  // Reads what SaveState wrote into an extractor Init'ed for the same rate. On failure the
  // reader fails; the caller Resets. Does not allocate.
  void RestoreState(StateReader& reader) noexcept;

 private:
  // Folds the hop's band power into the noise floor and scores it against the floor.
  double Likelihood() noexcept;

  uint32_t hop_ = 0;
  uint32_t window_ = 0;  // kVadWindowHops hops
  uint32_t fft_size_ = 0;
  uint32_t band_low_ = 0;
  uint32_t band_bins_ = 0;
  const RealFftPlan* fft_ = nullptr;  // shared, RealFftPlan::Shared
  std::vector<float> history_;        // the last window_ samples, oldest first
  std::vector<float> hann_;           // window_ taps
  FftwBuffer<float> time_;
  FftwBuffer<fftwf_complex> spectrum_;
  // Per band bin: this hop's power, its smoothed power, the minimum of the sub-window being
  // filled, each finished sub-window's minimum (kVadNoiseSubwindows rows) and their minimum,
  // and the last hop's estimated speech power (the decision-directed rule's memory).
  std::vector<float> power_;
  std::vector<float> smoothed_;
  std::vector<float> current_min_;
  std::vector<float> subwindow_min_;
  std::vector<float> finished_min_;
  std::vector<float> previous_speech_;
  uint32_t filled_ = 0;          // hops seen since Reset, up to kVadWindowHops
  uint32_t hops_ = 0;            // hops with a full window since Reset, up to the warm-up's end
  uint32_t subwindow_fill_ = 0;  // hops in the sub-window being filled
  uint32_t subwindow_next_ = 0;  // the row it replaces when full
  VoiceFeatures features_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_VAD_FEATURES_H_
