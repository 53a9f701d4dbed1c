// Single-precision exp and log for the spectral loops (denoise's per-bin gains, the noise
// tracker), written so that a loop calling them vectorizes: no branches, no libm calls, no
// lookup tables, only float and int32 arithmetic and bit reinterpretation.
//
// Why not libm: expf and logf are calls the compiler cannot vectorize, and denoise made five
// of them per bin per frame, most of its time (perf: 40% of the voice chain). These are
// Cephes's range reductions and minimax polynomials (Moshier, "Methods and Programs for
// Mathematical Functions", 1989): within 2 ulp of the correctly rounded result on their
// domains (tests/dsp/fast_math_test.cc measures the error against glibc's double exp and log).
//
//   #pragma omp simd  // with -fopenmp-simd, as dsp/CMakeLists.txt builds
//   for (int k = 0; k < bins; ++k) y[k] = fast_math::Exp(x[k]);
//
// Thread safety: pure functions; safe from any thread.
#ifndef AUDIOPROC_DSP_FAST_MATH_H_
#define AUDIOPROC_DSP_FAST_MATH_H_

#include <bit>
#include <cstdint>

// On a function whose loops are vectorized: GCC compiles it twice, for the x86-64 baseline
// (SSE2, 4 floats) and for x86-64-v3 (AVX2, 8 floats), and picks one at load time by the CPU
// (an ifunc). The build sets -ffp-contract=off for these files, so the wider clone performs the
// same IEEE operations per lane, in the same order, with no fused multiply-add: both clones
// give identical results. Measured on denoise's LSA gains: 22 -> 10 ns per bin.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AUDIOPROC_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define AUDIOPROC_SIMD_CLONES
#endif

namespace audioproc::fast_math {

// The domain of Exp: below kExpMin the result would be subnormal and is 0; above kExpMax it
// would overflow and is held at e^kExpMax (about 1.6e38).
inline constexpr float kExpMin = -87.33f;
inline constexpr float kExpMax = 88.0f;

// e^x. Within 2 ulp for x in [kExpMin, kExpMax]; 0 below, e^kExpMax above; NaN gives NaN or
// any finite value (callers keep NaN out).
inline float Exp(float x) {
  const float clamped = x < kExpMin ? kExpMin : (x > kExpMax ? kExpMax : x);
  // x = n ln 2 + r, |r| <= ln 2 / 2; n rounded to nearest by adding and subtracting 1.5 * 2^23
  // (float addition rounds to nearest; no floor call, which SSE2 cannot vectorize).
  constexpr float kRound = 12582912.0f;
  const float n = (clamped * 1.44269504088896341f + kRound) - kRound;
  // ln 2 split in two so that n * kLn2High is exact.
  const float r = (clamped - n * 0.693359375f) + n * 2.12194440e-4f;
  const float r2 = r * r;
  const float p = ((((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
                      4.1665795894e-2f) *
                         r +
                     1.6666665459e-1f) *
                        r +
                    5.0000001201e-1f) *
                   r2) +
                  r + 1.0f;
  // 2^n built in the exponent field; n is in [-126, 127] on the clamped domain.
  const auto scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  const float result = p * scale;
  return x < kExpMin ? 0.0f : result;
}

// The natural logarithm of x for x >= FLT_MIN (smaller, zero and negative x are taken as
// FLT_MIN: about -87.3). Within 2 ulp of the correctly rounded result, and within 1e-7
// absolutely near x = 1; +Inf gives a large finite value.
inline float Log(float x) {
  constexpr float kMin = 1.17549435e-38f;  // FLT_MIN
  const float clamped = x > kMin ? x : kMin;
  const auto bits = std::bit_cast<int32_t>(clamped);
  // x = m 2^e with m in [sqrt(1/2), sqrt(2)), so that log(m) is small.
  int32_t e = (bits >> 23) - 127;
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f800000);  // in [1, 2)
  const bool high = m > 1.41421356f;
  m = high ? 0.5f * m : m;
  e = high ? e + 1 : e;
  const float f = m - 1.0f;
  const float z = f * f;
  const float fe = static_cast<float>(e);
  float y = ((((((((7.0376836292e-2f * f - 1.1514610310e-1f) * f + 1.1676998740e-1f) * f -
                  1.2420140846e-1f) *
                     f +
                 1.4249322787e-1f) *
                    f -
                1.6668057665e-1f) *
                   f +
               2.0000714765e-1f) *
                  f -
              2.4999993993e-1f) *
                 f +
             3.3333331174e-1f) *
            f * z;
  y += -2.12194440e-4f * fe;
  y += -0.5f * z;
  return (f + y) + 0.693359375f * fe;
}

}  // namespace audioproc::fast_math

#endif  // AUDIOPROC_DSP_FAST_MATH_H_
