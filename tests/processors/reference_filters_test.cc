// The references themselves, checked against closed forms they do not share code with: the
// analog Butterworth magnitude at the prewarped frequency and the cookbook's analog
// prototypes.
#include "tests/testing/reference_filters.h"

#include <cmath>

#include "gtest/gtest.h"

namespace audioproc::testing {
namespace {

TEST(ReferenceFiltersTest, ButterworthZpkMatchesAnalogButterworthAtTheWarpedFrequency) {
  for (bool highpass : {false, true}) {
    for (int order = 1; order <= 8; ++order) {
      for (double rate : {8000.0, 96000.0}) {
        const double cutoff = rate / 7;
        const Zpk zpk = ButterworthZpk(order, cutoff, highpass, rate);
        ASSERT_EQ(zpk.poles.size(), static_cast<size_t>(order));
        for (const auto& pole : zpk.poles) EXPECT_LT(std::abs(pole), 1);
        for (double f = 10; f < rate / 2; f *= 1.3) {
          const double w = std::tan(M_PI * f / rate) / std::tan(M_PI * cutoff / rate);
          const double lowpass = 1 / std::sqrt(1 + std::pow(w, 2 * order));
          const double expected = highpass ? lowpass * std::pow(w, order) : lowpass;
          EXPECT_NEAR(ZpkMagnitude(zpk, f, rate), expected, 1e-9)
              << (highpass ? "highpass" : "lowpass") << " order " << order << " at " << f;
        }
      }
    }
  }
}

TEST(ReferenceFiltersTest, CookbookMatchesItsAnalogPrototypeThroughTheBilinearTransform) {
  for (Cookbook shape :
       {Cookbook::kLowpass, Cookbook::kHighpass, Cookbook::kBandpass, Cookbook::kNotch,
        Cookbook::kPeaking, Cookbook::kLowshelf, Cookbook::kHighshelf}) {
    for (double q : {0.1, 0.7071, 5.0}) {
      for (double gain : {-30.0, 0.0, 18.0}) {
        for (double f = 15; f < 24000; f *= 1.7) {
          const double digital = CookbookMagnitude(shape, 3000, q, gain, f, 48000);
          const double analog = CookbookPrototypeMagnitude(shape, 3000, q, gain, f, 48000);
          EXPECT_NEAR(digital, analog, 1e-9 * std::max(1.0, analog))
              << static_cast<int>(shape) << " q " << q << " gain " << gain << " at " << f;
        }
      }
    }
  }
}

TEST(ReferenceFiltersTest, ToneAmplitudeAndDtftMeasureKnownSignals) {
  std::vector<float> tone(4801);
  for (size_t n = 0; n < tone.size(); ++n)
    tone[n] = 0.25f * std::sin(2 * M_PI * 997 * n / 48000 + 1);
  EXPECT_NEAR(ToneAmplitude(tone, 997, 48000), 0.25, 1e-6);
  const std::vector<float> impulse = {1, 0.5f};  // H = 1 + 0.5 z^-1
  EXPECT_NEAR(DtftMagnitude(impulse, 0, 48000), 1.5, 1e-12);
  EXPECT_NEAR(DtftMagnitude(impulse, 24000, 48000), 0.5, 1e-12);
}

}  // namespace
}  // namespace audioproc::testing
