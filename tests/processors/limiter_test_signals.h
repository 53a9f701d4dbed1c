// Test material for the limiter tests: a loud composite signal and an independent 4x
// oversampling true-peak meter.
#ifndef AUDIOPROC_TESTS_PROCESSORS_LIMITER_TEST_SIGNALS_H_
#define AUDIOPROC_TESTS_PROCESSORS_LIMITER_TEST_SIGNALS_H_

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "tests/testing/signals.h"

namespace audioproc::testing {

// 4 s of material that is hard on a limiter, every part peaking at `amplitude`, in 0.5 s
// segments: a 1 kHz sine; a sine at rate/4 with a 45 degree phase (samples at 0.707 x its
// true peak); a sine at 0.4375 x rate; 50 ms noise bursts with 50 ms gaps; isolated impulses
// and +/- doublets; a chirp from 50 Hz to 0.45 x rate; a 500 Hz square wave; 100 Hz plus noise.
inline std::vector<float> LoudTestSignal(double rate, double amplitude) {
  const auto segment = static_cast<size_t>(rate / 2);
  std::vector<float> out;
  auto append = [&](const std::vector<float>& part) {
    out.insert(out.end(), part.begin(), part.end());
  };
  append(Sine(1000, rate, segment, amplitude));
  append(Sine(rate / 4, rate, segment, amplitude, std::numbers::pi / 4));
  append(Sine(0.4375 * rate, rate, segment, amplitude, 0.3));
  std::vector<float> bursts = WhiteNoise(segment, amplitude, 31);
  const auto burst = static_cast<size_t>(rate / 20);
  for (size_t i = 0; i < segment; ++i) {
    if ((i / burst) % 2 == 1) bursts[i] = 0.0f;
  }
  append(bursts);
  std::vector<float> impulses(segment, 0.0f);
  const auto spacing = static_cast<size_t>(rate / 25);
  for (size_t i = spacing / 2, n = 0; i + 1 < segment; i += spacing, ++n) {
    impulses[i] = static_cast<float>(n % 2 == 0 ? amplitude : -amplitude);
    if (n % 3 == 0) impulses[i + 1] = -impulses[i];
  }
  append(impulses);
  std::vector<float> chirp(segment);
  const double duration = static_cast<double>(segment) / rate;
  const double f0 = 50, f1 = 0.45 * rate;
  for (size_t i = 0; i < segment; ++i) {
    const double t = static_cast<double>(i) / rate;
    chirp[i] = static_cast<float>(
        amplitude * std::sin(2 * std::numbers::pi * (f0 * t + (f1 - f0) * t * t / (2 * duration))));
  }
  append(chirp);
  std::vector<float> square(segment);
  for (size_t i = 0; i < segment; ++i) {
    square[i] = static_cast<float>(std::fmod(i * 500.0 / rate, 1.0) < 0.5 ? amplitude : -amplitude);
  }
  append(square);
  std::vector<float> mixed = Sine(100, rate, segment, amplitude / 2);
  const std::vector<float> noise = WhiteNoise(segment, amplitude / 2, 32);
  for (size_t i = 0; i < segment; ++i) mixed[i] += noise[i];
  append(mixed);
  return out;
}

// `x` low-passed at `cutoff` x its rate by a linear-phase Kaiser (beta 8) windowed sinc of 201
// taps, in double, with the delay compensated: for true-peak material whose content stays
// below 0.45 x the rate, as real recordings' anti-alias filters ensure.
inline std::vector<float> BandLimit(const std::vector<float>& x, double cutoff) {
  constexpr int kHalf = 100;
  constexpr double kBeta = 8;
  const double norm = std::cyl_bessel_i(0.0, kBeta);
  std::vector<double> h(2 * kHalf + 1);
  for (int k = -kHalf; k <= kHalf; ++k) {
    const double u = static_cast<double>(k) / (kHalf + 1);
    const double window = std::cyl_bessel_i(0.0, kBeta * std::sqrt(1 - u * u)) / norm;
    const double ideal =
        k == 0 ? 2 * cutoff : std::sin(2 * std::numbers::pi * cutoff * k) / (std::numbers::pi * k);
    h[k + kHalf] = ideal * window;
  }
  const auto n = static_cast<long>(x.size());
  std::vector<float> y(x.size());
  for (long i = 0; i < n; ++i) {
    double sum = 0;
    for (long k = std::max(-long{kHalf}, i - n + 1); k <= std::min(long{kHalf}, i); ++k) {
      sum += h[k + kHalf] * x[i - k];
    }
    y[i] = static_cast<float>(sum);
  }
  return y;
}

// The largest magnitude of `x` upsampled 4x by band-limited interpolation in double precision:
// a Kaiser (beta 10) windowed sinc reaching 128 samples each side, evaluated directly at each
// quarter-sample position. Deliberately unlike the limiter's detector (short polyphase float
// FIR), so it checks that detector rather than restating it.
inline double TruePeak4x(const std::vector<float>& x) {
  constexpr int kHalf = 128;
  constexpr double kBeta = 10;
  const double norm = std::cyl_bessel_i(0.0, kBeta);
  double taps[3][2 * kHalf + 2];
  for (int phase = 1; phase < 4; ++phase) {
    for (int k = -kHalf; k <= kHalf + 1; ++k) {
      const double t = phase / 4.0 - k;  // from sample j + k to position j + phase / 4
      const double u = t / (kHalf + 1.0);
      const double window = std::cyl_bessel_i(0.0, kBeta * std::sqrt(1 - u * u)) / norm;
      taps[phase - 1][k + kHalf] = std::sin(std::numbers::pi * t) / (std::numbers::pi * t) * window;
    }
  }
  const int n = static_cast<int>(x.size());
  double peak = 0;
  for (int j = 0; j < n; ++j) {
    peak = std::max(peak, std::fabs(double{x[j]}));
    for (auto& tap : taps) {
      double y = 0;
      for (int k = std::max(-kHalf, -j); k <= kHalf + 1 && j + k < n; ++k) {
        y += tap[k + kHalf] * x[j + k];
      }
      peak = std::max(peak, std::fabs(y));
    }
  }
  return peak;
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_PROCESSORS_LIMITER_TEST_SIGNALS_H_
