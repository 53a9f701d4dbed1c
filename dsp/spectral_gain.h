// Spectral gain rules for STFT noise suppression, in double precision.
//
// The MMSE log-spectral amplitude estimator of Ephraim & Malah ("Speech enhancement using a
// minimum mean-square error log-spectral amplitude estimator", IEEE Trans. ASSP 33(2), 1985);
// the a priori SNR by their "decision-directed" rule (Ephraim & Malah, IEEE Trans. ASSP
// 32(6), 1984) and its two-step refinement (Plapous et al. 2006); the speech presence
// probability that Cohen & Berdugo's OM-LSA ("Speech enhancement for non-stationary noise
// environments", Signal Processing 81, 2001) uses to blend that gain with a floor; and Esch &
// Vary's smoothing of the gains of noise frames against musical noise. Plain functions:
// DenoiseProcessor applies them per bin and frame.
//
// Thread safety: pure functions; safe from any thread.
#ifndef AUDIOPROC_DSP_SPECTRAL_GAIN_H_
#define AUDIOPROC_DSP_SPECTRAL_GAIN_H_

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

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_SPECTRAL_GAIN_H_
