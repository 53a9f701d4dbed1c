// Spectral gain rules for STFT noise suppression: the rules one value at a time in double
// precision (the definitions, which the tests check against references), and the batch forms
// DenoiseProcessor runs per frame, in single precision and vectorized.
//
// The MMSE log-spectral amplitude estimator of Ephraim & Malah ("Speech enhancement using a
// minimum mean-square error log-spectral amplitude estimator", IEEE Trans. ASSP 33(2), 1985);
// the a priori SNR by their "decision-directed" rule (Ephraim & Malah, IEEE Trans. ASSP
// 32(6), 1984) and its two-step refinement (Plapous et al. 2006); the speech presence
// probability that Cohen & Berdugo's OM-LSA ("Speech enhancement for non-stationary noise
// environments", Signal Processing 81, 2001) uses to blend that gain with a floor; and Esch &
// Vary's smoothing of the gains of noise frames against musical noise.
//
// The batch forms compute the same formulas per bin in float with fast_math's Exp and Log
// (within 2 ulp), branch-free so that the compiler vectorizes them: denoise spent most of its
// time in the per-bin double arithmetic and libm calls (perf: 40% of the voice chain in
// expf, E1 and the LSA gain). Float is enough: the gains are applied to a float spectrum, and
// the measured difference to the double rules is a few 1e-7 relative (spectral_gain_test.cc).
//
// Thread safety: pure functions; safe from any thread.
#ifndef AUDIOPROC_DSP_SPECTRAL_GAIN_H_
#define AUDIOPROC_DSP_SPECTRAL_GAIN_H_

#include "dsp/fast_math.h"

namespace audioproc {

// The exponential integral E1(x) = integral from x to infinity of exp(-t) / t dt, for x > 0
// (at x <= 0 it returns E1 of the smallest positive normal double, a large finite value).
// Abramowitz & Stegun 5.1.53 below 1 (absolute error < 2e-7) and 5.1.56 from 1 on (relative
// error < 5e-8): no series that might not converge, no allocation, no exceptions.
double ExponentialIntegralE1(double x) noexcept;

// The LSA gain G(xi, gamma) = xi / (1 + xi) * exp(E1(v) / 2), v = xi / (1 + xi) * gamma,
// where xi is the a priori and gamma the a posteriori SNR (|Y|^2 / noise power), both > 0.
// It can exceed 1 when gamma is far below 1; callers cap it.
double LogSpectralAmplitudeGain(double xi, double gamma) noexcept;

// Decision-directed a priori SNR: alpha * previous + (1 - alpha) * max(gamma - 1, 0), no
// lower than xi_min, where `previous` is the previous frame's estimate of the clean power
// over the noise power, |G Y|^2 / noise, for this bin. The weight alpha near 1 is what suppresses
// musical noise: xi follows gamma's random peaks in noise-only bins only by 1 - alpha (Cappe,
// "Elimination of the musical noise phenomenon with the Ephraim and Malah noise suppressor", IEEE
// Trans. SAP 2(2), 1994).
double DecisionDirectedPrioriSnr(double previous, double gamma, double alpha,
                                 double xi_min) noexcept;

// The second step of Plapous, Marro & Scalart's two-step noise reduction ("Improved
// signal-to-noise ratio estimation for speech enhancement", IEEE Trans. ASLP 14(6), 2006):
// xi = (xi_dd / (1 + xi_dd))^2 gamma, no lower than xi_min. It removes the one-frame lag
// that the decision-directed estimate xi_dd has at speech onsets and offsets, while keeping
// its smoothness in noise.
double TwoStepPrioriSnr(double xi_dd, double gamma, double xi_min) noexcept;

// Conditional speech presence probability given the observation (Cohen & Berdugo 2001):
// 1 / (1 + q / (1 - q) * (1 + xi) * exp(-v)), v = xi / (1 + xi) * gamma, for an a priori
// speech absence probability q in [0, 1).
double SpeechPresenceProbability(double xi, double gamma, double q) noexcept;

// Musical-noise smoothing after Esch & Vary ("Efficient musical noise suppression for speech
// enhancement systems", ICASSP 2009): when a frame's gains keep less than `threshold` of its
// power (sum of gain^2 power over sum of power: a frame of noise), each gain becomes the mean
// of its neighbours within a half-width growing to `max_half_width` bins as that ratio falls
// to 0. Isolated gain peaks in noise, heard as musical tones, are spread out; frames with
// speech keep their gains. `scratch` holds bins + 1 values. Real-time safe.
void SmoothGainsInNoise(double* gains, const double* power, int bins, double threshold,
                        double max_half_width, double* scratch) noexcept;
// The same on float gains and powers (sums still in double). `scratch` holds bins + 1 values.
void SmoothGainsInNoise(float* gains, const float* power, int bins, double threshold,
                        double max_half_width, double* scratch) noexcept;

// ExponentialIntegralE1 in float, for x > 0 (x <= 0 and NaN give E1(FLT_MIN), about 87):
// the same approximations, both evaluated (each on an argument held inside its own range, so
// neither overflows) and one selected, so that it has no branch.
inline float ExponentialIntegralE1F(float x) noexcept {
  constexpr float kMin = 1.17549435e-38f;  // FLT_MIN
  x = x > kMin ? x : kMin;
  const float low = x < 1.0f ? x : 1.0f;
  const float below =
      -0.57721566f +
      low * (0.99999193f + low * (-0.24991055f +
                                  low * (0.05519968f + low * (-0.00976004f + low * 0.00107857f)))) -
      fast_math::Log(low);
  const float high = x < 1.0f ? 1.0f : x;
  // Past 88, e^-x is 0 in float (fast_math::Exp), so the ratio, whose x^4 would overflow
  // there, may stop at 100.
  const float h = high < 100.0f ? high : 100.0f;
  const float numerator =
      0.2677737343f + h * (8.6347608925f + h * (18.0590169730f + h * (8.5733287401f + h)));
  const float denominator =
      3.9584969228f + h * (21.0996530827f + h * (25.6329561486f + h * (9.5733223454f + h)));
  const float above = numerator * fast_math::Exp(-high) / (denominator * high);
  return x < 1.0f ? below : above;
}

// SpeechPresenceProbability in float, branch-free, for the noise tracker's per-bin loop.
inline float SpeechPresenceProbabilityF(float xi, float gamma, float q) noexcept {
  const float v = xi / (1.0f + xi) * gamma;
  // Exp of a large -v is 0: presence is then certain, as it should be.
  const float odds_absent = q / (1.0f - q) * (1.0f + xi) * fast_math::Exp(-v);
  return 1.0f / (1.0f + odds_absent);
}

// Per bin k of a frame, in float: the a posteriori SNR gamma = power / noise (at most
// max_snr), the decision-directed a priori SNR from previous_snr[k] with weight `alpha`, its
// two-step refinement (both at least xi_min; the result at most max_snr) into xi[k], the LSA
// gain given speech, at most 1, into gain_h1[k], and that gain's |G|^2 gamma into
// previous_snr[k] for the next frame. power >= 0 and noise > 0, finite. Real-time safe.
void LsaGains(const float* power, const float* noise, float alpha, float xi_min, float max_snr,
              float* previous_snr, float* xi, float* gain_h1, int bins) noexcept;

// OM-LSA's presence-weighted gains: gains[k] = gain_h1[k]^p floor^(1 - p), p = presence[k],
// computed as exp(p log gain_h1 + (1 - p) log floor); gain_h1 in (0, 1], floor in (0, 1].
void PresenceWeightedGains(const float* gain_h1, const float* presence, float floor_gain,
                           float* gains, int bins) noexcept;

// The STFT's per-sample and per-bin steps around the gains, vectorized like the rules above
// (the processors' own loops are not: -O2 leaves loops of unknown length scalar). All
// real-time safe; arrays of `n` (or `bins`) values, not overlapping unless stated.
// out[i] = x[i] * window[i].
void MultiplyByWindow(const float* x, const float* window, float* out, int n) noexcept;
// For interleaved complex bins (re, im), power[k] = re^2 + im^2, held at max_power (which a
// NaN or Inf also becomes).
void PowerSpectrum(const float* spectrum, float max_power, float* power, int bins) noexcept;
// Multiplies both parts of each interleaved complex bin by gains[k], in place.
void ApplyGains(const float* gains, float* spectrum, int bins) noexcept;
// gains[k] = max(gains[k], floor), a NaN becoming the floor. In place.
void FloorGains(float floor, float* gains, int bins) noexcept;
// overlap[i] += frame[i] * window[i], a non-finite result becoming 0. In place.
void OverlapAdd(const float* frame, const float* window, float* overlap, int n) noexcept;

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_SPECTRAL_GAIN_H_
