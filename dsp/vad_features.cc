#include "dsp/vad_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "dsp/cost_model.h"

namespace audioproc {
namespace {

constexpr double kBandLowHz = 200.0;
constexpr double kBandHighHz = 4000.0;
// Hops whose smoothed power is a plain running mean (too few for a minimum yet): the noise is
// taken to be that mean until then.
constexpr uint32_t kWarmUpHops = 5;
// The a priori SNR's floor (-25 dB) and the decision-directed rule's weight of the past.
constexpr float kMinPrioriSnr = 0.00316f;
constexpr float kDecisionDirected = 0.98f;
constexpr float kTinyPower = 1e-20f;  // keeps ratios of digital silence finite
constexpr double kTiny = 1e-20;

double Logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

uint32_t NextPowerOfTwo(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

double SpeechProbability(double likelihood, double evidence) {
  return Logistic((likelihood - kVadLikelihoodMidpoint * evidence) /
                  (kVadLikelihoodWidth * evidence));
}

VoiceFeatureExtractor::Sizes VoiceFeatureExtractor::SizesFor(double sample_rate_hz) {
  Sizes sizes;
  sizes.hop = std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(sample_rate_hz / 100.0)));
  sizes.window = kVadWindowHops * sizes.hop;
  sizes.fft_size = NextPowerOfTwo(2 * sizes.window);
  const double bin_hz = sample_rate_hz / sizes.fft_size;
  // Below Nyquist by a margin: the resampler or codec that made a low-rate stream leaves the
  // top of its band empty, which would read as a noise floor of zero.
  const uint32_t top_bin = static_cast<uint32_t>(std::floor(0.45 * sample_rate_hz / bin_hz));
  sizes.band_low = std::min(top_bin, static_cast<uint32_t>(std::ceil(kBandLowHz / bin_hz)));
  sizes.band_high = std::min(top_bin, static_cast<uint32_t>(std::floor(kBandHighHz / bin_hz)));
  return sizes;
}

uint64_t VoiceFeatureExtractor::InitBytes(double sample_rate_hz) {
  const Sizes sizes = SizesFor(sample_rate_hz);
  const uint32_t bins = sizes.fft_size / 2 + 1;
  const uint32_t band = sizes.band_bins();
  return 2 * cost::VectorBytes<float>(sizes.window) + cost::FftwBufferBytes<float>(sizes.fft_size) +
         cost::FftwBufferBytes<fftwf_complex>(bins) + 5 * cost::VectorBytes<float>(band) +
         cost::VectorBytes<float>(static_cast<uint64_t>(band) * kVadNoiseSubwindows);
}

absl::Status VoiceFeatureExtractor::Init(double sample_rate_hz) {
  const Sizes sizes = SizesFor(sample_rate_hz);
  hop_ = sizes.hop;
  window_ = sizes.window;
  fft_size_ = sizes.fft_size;
  // The process's plan of this size, shared by every stream (RealFftPlan::Shared).
  absl::StatusOr<const RealFftPlan*> fft = RealFftPlan::Shared(static_cast<int>(fft_size_));
  if (!fft.ok()) return fft.status();
  fft_ = *fft;
  band_low_ = sizes.band_low;
  band_bins_ = sizes.band_bins();

  history_.assign(window_, 0.0f);
  hann_.resize(window_);
  for (uint32_t n = 0; n < window_; ++n) {
    hann_[n] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * (n + 0.5) / window_));
  }
  time_ = FftwBuffer<float>(fft_size_);
  spectrum_ = FftwBuffer<fftwf_complex>(fft_size_ / 2 + 1);
  power_.assign(band_bins_, 0.0f);
  smoothed_.assign(band_bins_, 0.0f);
  current_min_.assign(band_bins_, 0.0f);
  subwindow_min_.assign(static_cast<size_t>(band_bins_) * kVadNoiseSubwindows, 0.0f);
  finished_min_.assign(band_bins_, 0.0f);
  previous_speech_.assign(band_bins_, 0.0f);
  Reset();
  return absl::OkStatus();
}

void VoiceFeatureExtractor::Reset() noexcept {
  std::fill(history_.begin(), history_.end(), 0.0f);
  std::fill(current_min_.begin(), current_min_.end(), std::numeric_limits<float>::infinity());
  std::fill(subwindow_min_.begin(), subwindow_min_.end(), std::numeric_limits<float>::infinity());
  std::fill(finished_min_.begin(), finished_min_.end(), std::numeric_limits<float>::infinity());
  std::fill(previous_speech_.begin(), previous_speech_.end(), 0.0f);
  filled_ = 0;
  hops_ = 0;
  subwindow_fill_ = 0;
  subwindow_next_ = 0;
  features_ = VoiceFeatures();
}

double VoiceFeatureExtractor::Likelihood() noexcept {
  if (hops_ <= kWarmUpHops) ++hops_;  // saturates: a stream may run for years
  // A running mean at first, then exponential smoothing.
  const float weight =
      std::max(static_cast<float>(1.0 - kVadNoiseSmoothing), 1.0f / static_cast<float>(hops_));
  for (uint32_t k = 0; k < band_bins_; ++k) smoothed_[k] += weight * (power_[k] - smoothed_[k]);
  if (hops_ == 1) std::copy(power_.begin(), power_.end(), smoothed_.begin());
  const bool warm = hops_ > kWarmUpHops;
  if (warm) {
    for (uint32_t k = 0; k < band_bins_; ++k) {
      current_min_[k] = std::min(current_min_[k], smoothed_[k]);
    }
    if (++subwindow_fill_ == kVadNoiseSubwindowHops) {
      std::copy(current_min_.begin(), current_min_.end(),
                subwindow_min_.begin() + static_cast<size_t>(subwindow_next_) * band_bins_);
      std::fill(current_min_.begin(), current_min_.end(), std::numeric_limits<float>::infinity());
      subwindow_fill_ = 0;
      subwindow_next_ = (subwindow_next_ + 1) % kVadNoiseSubwindows;
      // The finished sub-windows' minimum changes only here: once per sub-window, not per hop.
      std::fill(finished_min_.begin(), finished_min_.end(), std::numeric_limits<float>::infinity());
      for (uint32_t w = 0; w < kVadNoiseSubwindows; ++w) {
        const float* row = subwindow_min_.data() + static_cast<size_t>(w) * band_bins_;
        for (uint32_t k = 0; k < band_bins_; ++k)
          finished_min_[k] = std::min(finished_min_[k], row[k]);
      }
    }
  }
  double sum = 0.0;
  for (uint32_t k = 0; k < band_bins_; ++k) {
    float noise = smoothed_[k];
    if (warm) {
      noise = static_cast<float>(kVadNoiseBias) * std::min(current_min_[k], finished_min_[k]);
    }
    noise = std::max(noise, kTinyPower);
    const float posteriori = power_[k] / noise;
    const float priori =
        std::max(kDecisionDirected * previous_speech_[k] / noise +
                     (1.0f - kDecisionDirected) * std::max(posteriori - 1.0f, 0.0f),
                 kMinPrioriSnr);
    sum += posteriori * priori / (1.0f + priori) - std::log1p(priori);
    const float wiener = priori / (1.0f + priori);
    previous_speech_[k] = wiener * wiener * power_[k];
  }
  return band_bins_ > 0 ? sum / band_bins_ : 0.0;
}

const VoiceFeatures& VoiceFeatureExtractor::Analyze(const float* hop) noexcept {
  std::move(history_.begin() + hop_, history_.end(), history_.begin());
  std::copy(hop, hop + hop_, history_.end() - hop_);
  if (filled_ < kVadWindowHops) ++filled_;

  VoiceFeatures& f = features_;
  double sum_squares = 0.0;
  for (uint32_t n = 0; n < hop_; ++n) sum_squares += static_cast<double>(hop[n]) * hop[n];
  f.energy_dbfs = 10.0 * std::log10(sum_squares / hop_ + kTiny);
  if (filled_ < kVadWindowHops) {
    // The window still holds the zeros before the stream: its spectrum would teach the noise
    // floor a silence that is not there.
    f.likelihood = 0.0;
    f.probability = 0.0;
    return f;
  }

  for (uint32_t n = 0; n < window_; ++n) time_[n] = history_[n] * hann_[n];
  std::fill(time_.data() + window_, time_.data() + fft_size_, 0.0f);
  fft_->Forward(time_.data(), spectrum_.data());
  for (uint32_t k = 0; k < band_bins_; ++k) {
    const fftwf_complex& x = spectrum_[band_low_ + k];
    power_[k] = x[0] * x[0] + x[1] * x[1];
  }
  f.likelihood = Likelihood();
  f.probability = f.energy_dbfs < kVadMinEnergyDbfs ? 0.0 : SpeechProbability(f.likelihood);
  // Samples near the float limit overflow the float FFT; such a hop is not speech.
  if (!std::isfinite(f.probability)) f.probability = 0.0;
  return f;
}

void VoiceFeatureExtractor::SaveState(StateWriter& writer) const noexcept {
  writer.PutFloats(history_);
  writer.PutFloats(power_);
  writer.PutFloats(smoothed_);
  writer.PutFloats(current_min_);
  writer.PutFloats(subwindow_min_);
  writer.PutFloats(finished_min_);
  writer.PutFloats(previous_speech_);
  writer.PutU32(filled_);
  writer.PutU32(hops_);
  writer.PutU32(subwindow_fill_);
  writer.PutU32(subwindow_next_);
  writer.PutDouble(features_.energy_dbfs);
  writer.PutDouble(features_.likelihood);
  writer.PutDouble(features_.probability);
}

void VoiceFeatureExtractor::RestoreState(StateReader& reader) noexcept {
  reader.GetFiniteFloats(history_);
  // Powers and their minima: not negative, and not NaN; the minima start at +Inf.
  for (std::vector<float>* powers :
       {&power_, &smoothed_, &current_min_, &subwindow_min_, &finished_min_, &previous_speech_}) {
    reader.GetFloats(*powers);
    for (const float x : *powers) {
      if (!(x >= 0)) return reader.Fail("a negative or NaN power in the voice features");
    }
  }
  filled_ = reader.GetU32AtMost(kVadWindowHops);
  hops_ = reader.GetU32();
  subwindow_fill_ = reader.GetU32AtMost(kVadNoiseSubwindowHops);
  subwindow_next_ = reader.GetU32AtMost(kVadNoiseSubwindows - 1);
  features_.energy_dbfs = reader.GetFiniteDouble();
  features_.likelihood = reader.GetFiniteDouble();
  features_.probability = reader.GetFiniteDouble();
}

}  // namespace audioproc
