#include "dsp/noise_tracker.h"

#include <algorithm>
#include <cmath>

#include "dsp/cost_model.h"
#include "dsp/spectral_gain.h"

namespace audioproc {
namespace {

// Cohen (2003), Table I, at his 8 ms hop: a_s = 0.9 and a_d = 0.85, as time constants.
constexpr double kPowerSmoothingSeconds = 0.076;
constexpr double kNoiseAveragingSeconds = 0.049;
// The minimum of the smoothed periodogram of noise, over the window, is below its mean by
// about this factor (Cohen's B_min).
constexpr double kMinimumBias = 1.66;
// Speech is surely absent where P / (B_min S_min) < gamma0 and S / (B_min S_min) < zeta0.
constexpr double kGamma0 = 4.6;
constexpr double kZeta0 = 1.67;
// q falls from 1 at P / (B_min S_min) = 1 to 0 at gamma1.
constexpr double kGamma1 = 3.0;
// Averaging only while speech is absent picks the lower values of P: this restores the mean.
constexpr double kNoiseBias = 1.47;

// The estimate never drops below this: digital silence would otherwise make it 0 and every
// later SNR infinite. Far below one s16 LSB's power in any bin.
constexpr double kNoiseFloor = 1e-20;

double Coefficient(double seconds, double frame_rate_hz) {
  return std::exp(-1.0 / (seconds * frame_rate_hz));
}

// b = [0.25, 0.5, 0.25] across bins (Cohen's w = 1), folded at the band edges so it keeps its
// unit sum.
template <typename Value>
double AcrossBins(const Value& x, size_t k, size_t last) {
  const double below = x(k == 0 ? std::min<size_t>(1, last) : k - 1);
  const double above = x(k == last ? (last == 0 ? 0 : last - 1) : k + 1);
  return 0.25 * below + 0.5 * x(k) + 0.25 * above;
}

}  // namespace

void NoiseTracker::MinimumSearch::Init(size_t bins) {
  smoothed.assign(bins, 0.0);
  minimum.assign(bins, 0.0);
  current_minimum.assign(bins, 0.0);
  subwindows.assign(bins * kSubwindows, 0.0);
}

void NoiseTracker::MinimumSearch::Start(const double* value, size_t bins) {
  std::copy(value, value + bins, smoothed.begin());
  std::copy(value, value + bins, minimum.begin());
  std::copy(value, value + bins, current_minimum.begin());
}

void NoiseTracker::MinimumSearch::Smooth(size_t k, double value, double alpha) {
  const double s = alpha * smoothed[k] + (1.0 - alpha) * value;
  smoothed[k] = s;
  minimum[k] = std::min(minimum[k], s);
  current_minimum[k] = std::min(current_minimum[k], s);
}

void NoiseTracker::MinimumSearch::EndSubwindow(uint32_t slot, uint32_t stored, size_t bins) {
  std::copy(current_minimum.begin(), current_minimum.end(), subwindows.begin() + slot * bins);
  std::copy(subwindows.begin(), subwindows.begin() + bins, minimum.begin());
  for (uint32_t w = 1; w < stored; ++w) {
    const double* window_minimum = subwindows.data() + w * bins;
    for (size_t k = 0; k < bins; ++k) minimum[k] = std::min(minimum[k], window_minimum[k]);
  }
  std::copy(smoothed.begin(), smoothed.end(), current_minimum.begin());
}

uint64_t NoiseTracker::InitBytes(size_t bins) {
  // Two minimum searches (three spectra and kSubwindows more each) and five spectra.
  return 2 * (3 * cost::VectorBytes<double>(bins) + cost::VectorBytes<double>(bins * kSubwindows)) +
         5 * cost::VectorBytes<double>(bins);
}

void NoiseTracker::Init(size_t bins, double frame_rate_hz) {
  bins_ = bins;
  alpha_s_ = Coefficient(kPowerSmoothingSeconds, frame_rate_hz);
  alpha_d_ = Coefficient(kNoiseAveragingSeconds, frame_rate_hz);
  subwindow_frames_ =
      std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(kSubwindowSeconds * frame_rate_hz)));
  first_.Init(bins);
  second_.Init(bins);
  across_.assign(bins, 0.0);
  absent_.assign(bins, 0.0);
  average_.assign(bins, 0.0);
  presence_.assign(bins, 0.0);
  noise_.assign(bins, kNoiseFloor);
  Reset();
}

void NoiseTracker::Reset() noexcept {
  initialized_ = false;
  subwindow_position_ = 0;
  oldest_subwindow_ = 0;
  stored_subwindows_ = 0;
  std::fill(presence_.begin(), presence_.end(), 0.0);
  std::fill(noise_.begin(), noise_.end(), kNoiseFloor);
}

void NoiseTracker::Update(const double* power, const double* priori_snr) noexcept {
  const size_t last = bins_ - 1;
  for (size_t k = 0; k < bins_; ++k) {
    across_[k] = AcrossBins([power](size_t i) { return power[i]; }, k, last);
  }
  if (!initialized_) {
    first_.Start(across_.data(), bins_);
    second_.Start(across_.data(), bins_);
    for (size_t k = 0; k < bins_; ++k) {
      average_[k] = power[k];
      noise_[k] = std::max(power[k], kNoiseFloor);
      presence_[k] = 0.0;
    }
    initialized_ = true;
    return;
  }

  // First pass, and the rough decision from it.
  for (size_t k = 0; k < bins_; ++k) {
    first_.Smooth(k, across_[k], alpha_s_);
    const double floor = kMinimumBias * first_.minimum[k];
    absent_[k] = power[k] < kGamma0 * floor && first_.smoothed[k] < kZeta0 * floor ? 1.0 : 0.0;
  }
  // Second pass over the bins where speech is absent; where none of a bin's neighbourhood
  // is, it keeps its value.
  for (size_t k = 0; k < bins_; ++k) {
    const double weight = AcrossBins([this](size_t i) { return absent_[i]; }, k, last);
    const double value =
        weight > 0
            ? AcrossBins([this, power](size_t i) { return absent_[i] * power[i]; }, k, last) /
                  weight
            : second_.smoothed[k];
    second_.Smooth(k, value, alpha_s_);
  }

  for (size_t k = 0; k < bins_; ++k) {
    // Against the second pass's minimum. kNoiseFloor keeps a silent bin's ratios finite.
    const double floor = std::max(kMinimumBias * second_.minimum[k], kNoiseFloor);
    const double gamma_min = power[k] / floor;
    const double zeta = first_.smoothed[k] / floor;
    double p = 1.0;  // where P or S stands well above the minimum
    if (zeta < kZeta0) {
      if (gamma_min <= 1.0) {
        p = 0.0;  // q = 1
      } else if (gamma_min < kGamma1) {
        const double q = (kGamma1 - gamma_min) / (kGamma1 - 1.0);
        p = SpeechPresenceProbability(priori_snr[k], power[k] / noise_[k], q);
      }
    }
    presence_[k] = p;
    const double alpha = alpha_d_ + (1.0 - alpha_d_) * p;
    average_[k] = alpha * average_[k] + (1.0 - alpha) * power[k];
    noise_[k] = std::max(kNoiseBias * average_[k], kNoiseFloor);
  }

  if (++subwindow_position_ < subwindow_frames_) return;
  subwindow_position_ = 0;
  stored_subwindows_ = std::min(stored_subwindows_ + 1, kSubwindows);
  first_.EndSubwindow(oldest_subwindow_, stored_subwindows_, bins_);
  second_.EndSubwindow(oldest_subwindow_, stored_subwindows_, bins_);
  oldest_subwindow_ = (oldest_subwindow_ + 1) % kSubwindows;
}

}  // namespace audioproc
