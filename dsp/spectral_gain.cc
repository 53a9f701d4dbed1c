#include "dsp/spectral_gain.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace audioproc {
namespace {

// The transcendental functions below run several times per bin per frame and were most of
// denoise's time in double; glibc's float versions take about a third of that, and the gains
// need no more than float's 1e-7 relative precision. Outside the arguments where float's
// results are finite and normal, double takes over.
constexpr double kFloatLogMin = 1e-30;
constexpr double kFloatExpMin = -80.0;  // e^-80 ~ 1.8e-35 > FLT_MIN
constexpr double kFloatExpMax = 80.0;   // e^80 ~ 5.5e34 < FLT_MAX
double FastLog(double x) {
  return x >= kFloatLogMin ? std::log(static_cast<float>(x)) : std::log(x);
}
double FastExp(double x) {
  return x >= kFloatExpMin && x <= kFloatExpMax ? std::exp(static_cast<float>(x)) : std::exp(x);
}

}  // namespace

double ExponentialIntegralE1(double x) noexcept {
  if (!(x > DBL_MIN)) x = DBL_MIN;  // also maps NaN to a finite result
  if (x < 1.0) {
    // A&S 5.1.53: E1(x) + ln x = a0 + a1 x + ... + a5 x^5.
    const double polynomial =
        -0.57721566 +
        x * (0.99999193 +
             x * (-0.24991055 + x * (0.05519968 + x * (-0.00976004 + x * 0.00107857))));
    return polynomial - FastLog(x);
  }
  // A&S 5.1.56: x e^x E1(x) = (x^4 + a1 x^3 + a2 x^2 + a3 x + a4) / (x^4 + b1 x^3 + ...).
  const double numerator =
      0.2677737343 + x * (8.6347608925 + x * (18.0590169730 + x * (8.5733287401 + x)));
  const double denominator =
      3.9584969228 + x * (21.0996530827 + x * (25.6329561486 + x * (9.5733223454 + x)));
  // exp(-x) underflows to 0 for large x, which is the right limit.
  return numerator / denominator * FastExp(-x) / x;
}

double LogSpectralAmplitudeGain(double xi, double gamma) noexcept {
  const double ratio = xi / (1.0 + xi);
  const double v = ratio * gamma;
  return ratio * FastExp(0.5 * ExponentialIntegralE1(v));
}

double DecisionDirectedPrioriSnr(double previous, double gamma, double alpha,
                                 double xi_min) noexcept {
  const double xi = alpha * previous + (1.0 - alpha) * std::max(gamma - 1.0, 0.0);
  // std::max(NaN, m) would pass the NaN on; the comparison this way round does not.
  return xi > xi_min ? xi : xi_min;
}

double TwoStepPrioriSnr(double xi_dd, double gamma, double xi_min) noexcept {
  const double wiener = xi_dd / (1.0 + xi_dd);
  const double xi = wiener * wiener * gamma;
  return xi > xi_min ? xi : xi_min;
}

double SpeechPresenceProbability(double xi, double gamma, double q) noexcept {
  const double v = xi / (1.0 + xi) * gamma;
  // exp(-v) of a large v is 0: presence is then certain, as it should be.
  const double odds_absent = q / (1.0 - q) * (1.0 + xi) * FastExp(-std::min(v, 700.0));
  return 1.0 / (1.0 + odds_absent);
}

namespace {

template <typename T>
void SmoothGains(T* gains, const T* power, int bins, double threshold, double max_half_width,
                 double* scratch) noexcept {
  double in = 0;
  double out = 0;
  for (int k = 0; k < bins; ++k) {
    in += power[k];
    out += static_cast<double>(gains[k]) * gains[k] * power[k];
  }
  if (!(in > 0)) return;
  const double kept = out / in;
  if (!(kept < threshold)) return;
  const int half = static_cast<int>(std::lround((1.0 - kept / threshold) * max_half_width));
  if (half <= 0) return;
  // A running sum gives every mean in O(1); windows are cut short at the band edges.
  double* sums = scratch;
  sums[0] = 0;
  for (int k = 0; k < bins; ++k) sums[k + 1] = sums[k] + gains[k];
  // Windows cut short at the edges divide by their own width; the full ones in between share
  // one width, whose reciprocal saves a division per bin.
  const auto mean = [&](int k) {
    const int low = std::max(0, k - half);
    const int high = std::min(bins - 1, k + half);
    return static_cast<T>((sums[high + 1] - sums[low]) / (high - low + 1));
  };
  const int interior_end = std::max(half, bins - half);
  for (int k = 0; k < std::min(half, bins); ++k) gains[k] = mean(k);
  const double inverse_width = 1.0 / (2 * half + 1);
  for (int k = half; k < interior_end; ++k) {
    gains[k] = static_cast<T>((sums[k + half + 1] - sums[k - half]) * inverse_width);
  }
  for (int k = interior_end; k < bins; ++k) gains[k] = mean(k);
}

}  // namespace

void SmoothGainsInNoise(double* gains, const double* power, int bins, double threshold,
                        double max_half_width, double* scratch) noexcept {
  SmoothGains(gains, power, bins, threshold, max_half_width, scratch);
}

void SmoothGainsInNoise(float* gains, const float* power, int bins, double threshold,
                        double max_half_width, double* scratch) noexcept {
  SmoothGains(gains, power, bins, threshold, max_half_width, scratch);
}

AUDIOPROC_SIMD_CLONES void LsaGains(const float* power, const float* noise, float alpha,
                                    float xi_min, float max_snr, float* previous_snr, float* xi,
                                    float* gain_h1, int bins) noexcept {
  // The comparisons are written so that a NaN selects the bound, as in the double rules.
#pragma omp simd
  for (int k = 0; k < bins; ++k) {
    const float ratio_snr = power[k] / noise[k];
    const float gamma = ratio_snr < max_snr ? ratio_snr : max_snr;
    const float excess = gamma - 1.0f > 0.0f ? gamma - 1.0f : 0.0f;
    const float dd = alpha * previous_snr[k] + (1.0f - alpha) * excess;
    const float xi_dd = dd > xi_min ? dd : xi_min;
    const float wiener = xi_dd / (1.0f + xi_dd);
    const float two_step = wiener * wiener * gamma;
    const float bounded = two_step > xi_min ? two_step : xi_min;
    const float x = bounded < max_snr ? bounded : max_snr;
    // The LSA gain xi / (1 + xi) exp(E1(v) / 2), v = xi / (1 + xi) gamma, at most 1.
    const float ratio = x / (1.0f + x);
    const float lsa = ratio * fast_math::Exp(0.5f * ExponentialIntegralE1F(ratio * gamma));
    const float g = lsa < 1.0f ? lsa : 1.0f;
    xi[k] = x;
    gain_h1[k] = g;
    previous_snr[k] = g * g * gamma;
  }
}

AUDIOPROC_SIMD_CLONES void PresenceWeightedGains(const float* gain_h1, const float* presence,
                                                 float floor_gain, float* gains,
                                                 int bins) noexcept {
  const float log_floor = fast_math::Log(floor_gain);
#pragma omp simd
  for (int k = 0; k < bins; ++k) {
    const float p = presence[k];
    gains[k] = fast_math::Exp(p * fast_math::Log(gain_h1[k]) + (1.0f - p) * log_floor);
  }
}

AUDIOPROC_SIMD_CLONES void MultiplyByWindow(const float* x, const float* window, float* out,
                                            int n) noexcept {
#pragma omp simd
  for (int i = 0; i < n; ++i) out[i] = x[i] * window[i];
}

AUDIOPROC_SIMD_CLONES void PowerSpectrum(const float* spectrum, float max_power, float* power,
                                         int bins) noexcept {
#pragma omp simd
  for (int k = 0; k < bins; ++k) {
    const float re = spectrum[2 * k];
    const float im = spectrum[2 * k + 1];
    const float p = re * re + im * im;
    power[k] = p <= max_power ? p : max_power;
  }
}

AUDIOPROC_SIMD_CLONES void ApplyGains(const float* gains, float* spectrum, int bins) noexcept {
#pragma omp simd
  for (int k = 0; k < bins; ++k) {
    spectrum[2 * k] *= gains[k];
    spectrum[2 * k + 1] *= gains[k];
  }
}

AUDIOPROC_SIMD_CLONES void FloorGains(float floor, float* gains, int bins) noexcept {
#pragma omp simd
  for (int k = 0; k < bins; ++k) gains[k] = gains[k] > floor ? gains[k] : floor;
}

AUDIOPROC_SIMD_CLONES void OverlapAdd(const float* frame, const float* window, float* overlap,
                                      int n) noexcept {
  constexpr float kMax = 3.40282347e38f;  // FLT_MAX
#pragma omp simd
  for (int i = 0; i < n; ++i) {
    const float y = overlap[i] + frame[i] * window[i];
    // Only an input beyond float's range (an overflowed FFT) can make this non-finite. The
    // test (|y| <= FLT_MAX is false for Inf and NaN) is isfinite's, without the call.
    overlap[i] = ((y <= kMax) & (y >= -kMax)) ? y : 0.0f;
  }
}

}  // namespace audioproc
