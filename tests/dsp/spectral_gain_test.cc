// The gain rule's maths against independent references: E1 against its power series and
// continued fraction summed in long double (libstdc++'s std::expint is off by 1% at x = 100),
// the LSA gain against its definition, and the limits of the other rules.
#include "dsp/spectral_gain.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

// E1 by the power series -gamma - ln x - sum (-x)^k / (k k!) below 1, and above by the
// continued fraction e^-x / (x + 1 - 1 / (x + 3 - 4 / (x + 5 - ...))) (modified Lentz).
double ReferenceE1(double x) {
  const long double lx = x;
  if (x < 1) {
    long double sum = 0;
    long double term = 1;
    for (int k = 1; k < 60; ++k) {
      term *= -lx / k;
      sum += term / k;
    }
    return static_cast<double>(-0.5772156649015328606065120900824024L - std::log(lx) - sum);
  }
  const long double tiny = 1e-300L;
  long double b = lx + 1;
  long double c = 1 / tiny;
  long double d = 1 / b;
  long double h = d;
  for (int i = 1; i < 10000; ++i) {
    const long double a = -static_cast<long double>(i) * i;
    b += 2;
    d = 1 / (a * d + b);
    c = b + a / c;
    const long double delta = c * d;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-18L) break;
  }
  return static_cast<double>(h * std::exp(-lx));
}

TEST(SpectralGainTest, ExponentialIntegralMatchesTheStandardLibrary) {
  for (double x :
       {1e-9, 1e-4, 0.01, 0.1, 0.5, 0.99, 1.0, 1.01, 2.0, 5.0, 10.0, 30.0, 100.0, 700.0}) {
    SCOPED_TRACE(x);
    const double expected = ReferenceE1(x);
    // Abramowitz & Stegun's bounds: absolute 2e-7 below 1, relative 5e-8 (of x e^x E1) above
    // (with some room for the rounding of their printed coefficients), plus the float log's
    // and exp's rounding (relative 6e-8 each) that the implementation accepts for speed.
    const double tolerance = x < 1 ? 3e-7 + 6e-8 * std::fabs(std::log(x)) : 2e-7 * expected;
    EXPECT_NEAR(ExponentialIntegralE1(x), expected, tolerance);
  }
  // Outside the domain: large and finite, never NaN or Inf.
  for (double x : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_TRUE(std::isfinite(ExponentialIntegralE1(x)));
    EXPECT_GT(ExponentialIntegralE1(x), 700.0);
  }
}

TEST(SpectralGainTest, LogSpectralAmplitudeGainMatchesItsDefinition) {
  for (double xi : {0.003, 0.1, 1.0, 10.0, 1000.0}) {
    for (double gamma : {0.1, 1.0, 3.0, 30.0, 1e4}) {
      SCOPED_TRACE(::testing::Message() << "xi " << xi << " gamma " << gamma);
      const double ratio = xi / (1 + xi);
      const double expected = ratio * std::exp(0.5 * ReferenceE1(ratio * gamma));
      EXPECT_NEAR(LogSpectralAmplitudeGain(xi, gamma), expected, 1e-6 * expected);
    }
  }
  // At high SNR the gain tends to the Wiener gain xi / (1 + xi): speech passes unchanged.
  EXPECT_NEAR(LogSpectralAmplitudeGain(1e6, 1e6), 1.0, 1e-5);
}

TEST(SpectralGainTest, PrioriSnrEstimatesFollowTheirFormulas) {
  // 0.9 * 2 + 0.1 * (5 - 1).
  EXPECT_DOUBLE_EQ(DecisionDirectedPrioriSnr(2.0, 5.0, 0.9, 0.01), 2.2);
  // Below the bound, and for gamma < 1 (no negative SNR), the bound.
  EXPECT_DOUBLE_EQ(DecisionDirectedPrioriSnr(0.0, 0.5, 0.9, 0.01), 0.01);
  EXPECT_DOUBLE_EQ(
      DecisionDirectedPrioriSnr(std::numeric_limits<double>::quiet_NaN(), 2.0, 0.9, 0.01), 0.01);
  // (xi / (1 + xi))^2 gamma = (3 / 4)^2 * 8.
  EXPECT_DOUBLE_EQ(TwoStepPrioriSnr(3.0, 8.0, 0.01), 4.5);
  EXPECT_DOUBLE_EQ(TwoStepPrioriSnr(0.001, 1.0, 0.01), 0.01);
}

TEST(SpectralGainTest, SpeechPresenceProbabilityHasTheRightLimits) {
  EXPECT_DOUBLE_EQ(SpeechPresenceProbability(1.0, 1.0, 0.0), 1.0);  // q = 0: surely present
  // xi = 0: the observation says nothing, so p = 1 - q.
  EXPECT_NEAR(SpeechPresenceProbability(0.0, 5.0, 0.3), 0.7, 1e-12);
  // A strong observation overrides a prior of near-certain absence.
  EXPECT_GT(SpeechPresenceProbability(10.0, 100.0, 0.99), 0.999);
  EXPECT_LT(SpeechPresenceProbability(10.0, 0.1, 0.5), 0.1);
}

TEST(SpectralGainTest, GainsAreSmoothedOnlyInFramesOfNoise) {
  constexpr int kBins = 64;
  std::vector<double> power(kBins, 1.0);
  std::vector<double> scratch(kBins + 1);
  // A noise frame: gains at 0.05 with one isolated peak (a musical tone in the making).
  std::vector<double> gains(kBins, 0.05);
  gains[30] = 0.85;
  SmoothGainsInNoise(gains.data(), power.data(), kBins, 0.2, 10.0, scratch.data());
  EXPECT_LT(gains[30], 0.2);
  EXPECT_GT(gains[25], 0.06);
  double sum = 0;
  for (double g : gains) sum += g;
  EXPECT_NEAR(sum, 0.05 * kBins + 0.8, 1e-9);  // spread, not removed
  // A speech frame keeps enough power: untouched.
  std::vector<double> speech(kBins, 0.05);
  for (int k = 5; k < 25; ++k) speech[k] = 1.0;
  const std::vector<double> before = speech;
  SmoothGainsInNoise(speech.data(), power.data(), kBins, 0.2, 10.0, scratch.data());
  EXPECT_EQ(speech, before);
}

TEST(SpectralGainTest, FloatExponentialIntegralMatchesTheDoubleOne) {
  // Over the arguments denoise meets (v = xi / (1 + xi) gamma), from far below 1 to where E1
  // leaves float's normal range.
  double worst = 0;
  for (double log_x = -20; log_x < 4.4; log_x += 0.001) {
    const auto x = static_cast<float>(std::exp(log_x));
    const double expected = ExponentialIntegralE1(x);
    worst = std::max(worst, std::fabs(ExponentialIntegralE1F(x) - expected) / expected);
  }
  std::printf("[ measured ] E1 in float: worst relative difference %.2e\n", worst);
  EXPECT_LT(worst, 1e-6);
  EXPECT_TRUE(std::isfinite(ExponentialIntegralE1F(0.0f)));
  EXPECT_GT(ExponentialIntegralE1F(0.0f), 80.0f);
  EXPECT_EQ(ExponentialIntegralE1F(1e12f), 0.0f);
}

TEST(SpectralGainTest, BatchGainsMatchTheDoubleRules) {
  // A frame's worth of bins over the SNRs a frame meets, against the rules one at a time.
  constexpr int kBins = 257;
  std::vector<float> power(kBins), noise(kBins), previous(kBins), xi(kBins), gain(kBins);
  for (int k = 0; k < kBins; ++k) {
    power[k] = static_cast<float>(std::pow(10.0, -4.0 + 10.0 * k / kBins));
    noise[k] = 1.0f;
    previous[k] = static_cast<float>(std::pow(10.0, 3.0 - 6.0 * k / kBins));
  }
  const std::vector<float> previous_before = previous;
  LsaGains(power.data(), noise.data(), 0.92f, 0.00316f, 1e12f, previous.data(), xi.data(),
           gain.data(), kBins);
  for (int k = 0; k < kBins; ++k) {
    SCOPED_TRACE(k);
    const double gamma = power[k];
    const double xi_dd = DecisionDirectedPrioriSnr(previous_before[k], gamma, 0.92f, 0.00316f);
    const double expected_xi = TwoStepPrioriSnr(xi_dd, gamma, 0.00316f);
    const double expected_gain = std::min(LogSpectralAmplitudeGain(expected_xi, gamma), 1.0);
    EXPECT_NEAR(xi[k], expected_xi, 1e-6 * expected_xi);
    EXPECT_NEAR(gain[k], expected_gain, 2e-6 * expected_gain);
    EXPECT_NEAR(previous[k], expected_gain * expected_gain * gamma,
                5e-6 * expected_gain * expected_gain * gamma);
  }
  // OM-LSA: g^p floor^(1 - p).
  std::vector<float> presence(kBins), weighted(kBins);
  for (int k = 0; k < kBins; ++k) presence[k] = static_cast<float>(k) / (kBins - 1);
  PresenceWeightedGains(gain.data(), presence.data(), 0.063f, weighted.data(), kBins);
  for (int k = 0; k < kBins; ++k) {
    const double expected =
        std::pow(static_cast<double>(gain[k]), presence[k]) * std::pow(0.063, 1.0 - presence[k]);
    EXPECT_NEAR(weighted[k], expected, 1e-6 * expected) << k;
  }
}

}  // namespace
}  // namespace audioproc
