#include "dsp/vad_features.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "dsp/cost_model.h"

namespace audioproc {
namespace {

constexpr double kBandLowHz = 300.0;
constexpr double kBandHighHz = 3400.0;
constexpr double kMaxPitchHz = 400.0;
constexpr double kMinPitchHz = 70.0;
constexpr double kFloorSeconds = 1.0;
constexpr double kTiny = 1e-20;  // keeps logarithms of digital silence finite

double Logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// 0 below `low`, 1 above `high`, smooth in between.
double SmoothStep(double x, double low, double high) {
  const double t = std::clamp((x - low) / (high - low), 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

uint32_t NextPowerOfTwo(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

VoiceFeatureExtractor::Sizes VoiceFeatureExtractor::SizesFor(double sample_rate_hz) {
  Sizes sizes;
  sizes.hop = std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(sample_rate_hz / 100.0)));
  sizes.window = kVadWindowHops * sizes.hop;
  sizes.fft_size = NextPowerOfTwo(2 * sizes.window);
  const double bin_hz = sample_rate_hz / sizes.fft_size;
  const uint32_t nyquist_bin = sizes.fft_size / 2;
  sizes.band_low = std::min(nyquist_bin, static_cast<uint32_t>(std::ceil(kBandLowHz / bin_hz)));
  sizes.band_high = std::min(nyquist_bin, static_cast<uint32_t>(std::floor(kBandHighHz / bin_hz)));
  sizes.min_lag = static_cast<uint32_t>(std::floor(sample_rate_hz / kMaxPitchHz));
  // Beyond half the window the autocorrelation rests on too few products to trust.
  sizes.max_lag =
      std::min(static_cast<uint32_t>(std::ceil(sample_rate_hz / kMinPitchHz)), sizes.window / 2);
  return sizes;
}

uint64_t VoiceFeatureExtractor::InitBytes(double sample_rate_hz) {
  const Sizes sizes = SizesFor(sample_rate_hz);
  const uint32_t bins = sizes.fft_size / 2 + 1;
  // The noise floor's SlidingMin keeps window + 1 entries of an index and a value.
  const uint64_t floor_entries = static_cast<uint64_t>(std::lround(kFloorSeconds * 100.0)) + 1;
  return 2 * cost::VectorBytes<float>(sizes.window) + cost::VectorBytes<double>(sizes.max_lag + 1) +
         cost::VectorBytes<double>(bins) + cost::FftwBufferBytes<float>(sizes.fft_size) +
         cost::FftwBufferBytes<fftwf_complex>(bins) +
         cost::HeapBlock(floor_entries * (sizeof(uint64_t) + sizeof(double)));
}

absl::Status VoiceFeatureExtractor::Init(double sample_rate_hz) {
  rate_ = sample_rate_hz;
  const Sizes sizes = SizesFor(sample_rate_hz);
  hop_ = sizes.hop;
  window_ = sizes.window;
  fft_size_ = sizes.fft_size;
  // The process's plan of this size, shared by every stream (RealFftPlan::Shared).
  absl::StatusOr<const RealFftPlan*> fft = RealFftPlan::Shared(static_cast<int>(fft_size_));
  if (!fft.ok()) return fft.status();
  fft_ = *fft;
  band_low_ = sizes.band_low;
  band_high_ = sizes.band_high;
  min_lag_ = sizes.min_lag;
  max_lag_ = sizes.max_lag;

  history_.assign(window_, 0.0f);
  hann_.resize(window_);
  for (uint32_t n = 0; n < window_; ++n) {
    hann_[n] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * (n + 0.5) / window_));
  }
  power_.assign(fft_size_ / 2 + 1, 0.0);
  time_ = FftwBuffer<float>(fft_size_);
  spectrum_ = FftwBuffer<fftwf_complex>(fft_size_ / 2 + 1);

  // The window's autocorrelation, by the same route as the signal's.
  std::copy(hann_.begin(), hann_.end(), time_.data());
  fft_->Forward(time_.data(), spectrum_.data());
  for (uint32_t k = 0; k <= fft_size_ / 2; ++k) {
    spectrum_[k][0] = spectrum_[k][0] * spectrum_[k][0] + spectrum_[k][1] * spectrum_[k][1];
    spectrum_[k][1] = 0.0f;
  }
  fft_->Inverse(spectrum_.data(), time_.data());
  window_acf_.assign(max_lag_ + 1, 0.0);
  for (uint32_t lag = 0; lag <= max_lag_; ++lag) window_acf_[lag] = time_[lag] / time_[0];

  floor_.Init(static_cast<uint32_t>(std::lround(kFloorSeconds * 100.0)));
  Reset();
  return absl::OkStatus();
}

void VoiceFeatureExtractor::Reset() noexcept {
  std::fill(history_.begin(), history_.end(), 0.0f);
  floor_.Reset();
  features_ = VoiceFeatures();
}

double VoiceFeatureExtractor::Periodicity() noexcept {
  // Autocorrelation of the band-limited, windowed signal: the inverse transform of its power
  // spectrum restricted to the band.
  for (uint32_t k = 0; k <= fft_size_ / 2; ++k) {
    const bool in_band = k >= band_low_ && k <= band_high_;
    spectrum_[k][0] = in_band ? static_cast<float>(power_[k]) : 0.0f;
    spectrum_[k][1] = 0.0f;
  }
  fft_->Inverse(spectrum_.data(), time_.data());
  const double energy = time_[0];
  if (!(energy > kTiny)) return 0.0;
  double best = 0.0;
  for (uint32_t lag = min_lag_; lag <= max_lag_; ++lag) {
    best = std::max(best, time_[lag] / energy / window_acf_[lag]);
  }
  return std::min(best, 1.0);
}

const VoiceFeatures& VoiceFeatureExtractor::Analyze(const float* hop) noexcept {
  std::move(history_.begin() + hop_, history_.end(), history_.begin());
  std::copy(hop, hop + hop_, history_.end() - hop_);

  VoiceFeatures& f = features_;
  double sum_squares = 0.0;
  uint32_t crossings = 0;
  for (uint32_t n = 0; n < hop_; ++n) {
    sum_squares += static_cast<double>(hop[n]) * hop[n];
    if (n > 0 && (hop[n] >= 0.0f) != (hop[n - 1] >= 0.0f)) ++crossings;
  }
  f.energy_dbfs = 10.0 * std::log10(sum_squares / hop_ + kTiny);
  f.snr_db = f.energy_dbfs - floor_.Push(f.energy_dbfs);
  f.zero_crossings = static_cast<double>(crossings) / hop_;

  for (uint32_t n = 0; n < window_; ++n) time_[n] = history_[n] * hann_[n];
  std::fill(time_.data() + window_, time_.data() + fft_size_, 0.0f);
  fft_->Forward(time_.data(), spectrum_.data());
  double total = 0.0, band = 0.0, log_sum = 0.0;
  for (uint32_t k = 0; k <= fft_size_ / 2; ++k) {
    power_[k] = static_cast<double>(spectrum_[k][0]) * spectrum_[k][0] +
                static_cast<double>(spectrum_[k][1]) * spectrum_[k][1];
    if (k > 0) total += power_[k];
    if (k >= band_low_ && k <= band_high_) {
      band += power_[k];
      log_sum += std::log(power_[k] + kTiny);
    }
  }
  const double band_bins = band_high_ >= band_low_ ? band_high_ - band_low_ + 1 : 1;
  f.flatness = std::clamp(std::exp(log_sum / band_bins) / (band / band_bins + kTiny), 0.0, 1.0);
  f.band_share = band / (total + kTiny);
  f.periodicity = Periodicity();

  // Voiced speech is periodic and peaky; noise is neither. The band share and zero crossings
  // tip the balance for what lies between (breathy or noisy voicing).
  const double evidence = 10.0 * (f.periodicity - 0.45) + 6.0 * (0.3 - f.flatness) +
                          3.0 * (f.band_share - 0.6) + 4.0 * (0.15 - f.zero_crossings);
  const double gate = SmoothStep(f.snr_db, 3.0, 9.0) *
                      SmoothStep(f.energy_dbfs, kVadMinEnergyDbfs, kVadMinEnergyDbfs + 6.0);
  f.probability = gate * Logistic(evidence);
  // Samples near the float limit overflow the float FFT; such a hop is not speech.
  if (!std::isfinite(f.probability)) f.probability = 0.0;
  return f;
}

}  // namespace audioproc
