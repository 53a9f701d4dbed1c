// The tests' reference loudness meter (tests/testing/loudness_meter.h) against ITU-R BS.1770-4's
// coefficient table and the EBU Tech 3341 test signals (1 kHz sines whose loudness is known).
#include "tests/testing/loudness_meter.h"

#include <cmath>
#include <complex>
#include <limits>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using ::audioproc::testing::IntegratedLufs;

// A 1 kHz sine with a peak of `dbfs`, `seconds` long.
std::vector<float> Tone(double dbfs, double seconds, double rate) {
  return testing::Sine(1000, rate, static_cast<size_t>(std::llround(seconds * rate)),
                       std::pow(10.0, dbfs / 20.0));
}

// Consecutive tone segments {dbfs, seconds}, the same on both stereo channels.
std::vector<std::vector<float>> StereoSegments(
    const std::vector<std::pair<double, double>>& segments, double rate) {
  std::vector<float> channel;
  for (const auto& [dbfs, seconds] : segments) {
    const std::vector<float> tone = Tone(dbfs, seconds, rate);
    channel.insert(channel.end(), tone.begin(), tone.end());
  }
  return {channel, channel};
}

TEST(LoudnessMeterTest, KWeightingAt48kHzMatchesTheBs1770Table) {
  const auto stages = testing::KWeightingFilters(48000);
  EXPECT_NEAR(stages[0].b0, 1.53512485958697, 1e-10);
  EXPECT_NEAR(stages[0].b1, -2.69169618940638, 1e-10);
  EXPECT_NEAR(stages[0].b2, 1.19839281085285, 1e-10);
  EXPECT_NEAR(stages[0].a1, -1.69065929318241, 1e-10);
  EXPECT_NEAR(stages[0].a2, 0.73248077421585, 1e-10);
  EXPECT_NEAR(stages[1].b0, 1.0, 1e-12);
  EXPECT_NEAR(stages[1].b1, -2.0, 1e-12);
  EXPECT_NEAR(stages[1].b2, 1.0, 1e-12);
  EXPECT_NEAR(stages[1].a1, -1.99004745483398, 1e-10);
  EXPECT_NEAR(stages[1].a2, 0.99007225036621, 1e-10);
}

// |H(f)| in dB of both stages, evaluated on the unit circle.
double KWeightingDb(double frequency, double rate) {
  const std::complex<double> z1 = std::polar(1.0, -2 * M_PI * frequency / rate);
  std::complex<double> h = 1.0;
  for (const auto& f : testing::KWeightingFilters(rate)) {
    h *= (f.b0 + f.b1 * z1 + f.b2 * z1 * z1) / (1.0 + f.a1 * z1 + f.a2 * z1 * z1);
  }
  return 20 * std::log10(std::abs(h));
}

TEST(LoudnessMeterTest, KWeightingHasTheSameResponseAtEveryRate) {
  // Up to a quarter of each rate the bilinear designs agree with the 48 kHz one, closely from
  // 16 kHz up; at 8 kHz the shelf (1.7 kHz) sits at a fifth of the rate, where the transform's
  // frequency warping bends it by about 0.2 dB.
  for (double rate : {8000.0, 16000.0, 44100.0, 96000.0}) {
    const double tolerance_db = rate < 16000 ? 0.25 : 0.05;
    for (double frequency : {20.0, 38.0, 100.0, 500.0, 1000.0, 2000.0, 4000.0}) {
      if (frequency > rate / 4) continue;
      EXPECT_NEAR(KWeightingDb(frequency, rate), KWeightingDb(frequency, 48000), tolerance_db)
          << frequency << " Hz at " << rate << " Hz";
    }
  }
  // The shelf's +4 dB and the high pass's cut, as the curve in BS.1770 shows them.
  EXPECT_NEAR(KWeightingDb(10000, 48000), 4.0, 0.1);
  EXPECT_LT(KWeightingDb(20, 48000), -10.0);
}

class LoudnessMeterRateTest : public ::testing::TestWithParam<double> {};

TEST_P(LoudnessMeterRateTest, StereoSineAtMinus23DbfsReadsMinus23Lufs) {
  // Tech 3341 case 1.
  EXPECT_NEAR(IntegratedLufs(StereoSegments({{-23, 20}}, GetParam()), GetParam()), -23.0, 0.1);
}

TEST_P(LoudnessMeterRateTest, StereoSineAtMinus33DbfsReadsMinus33Lufs) {
  // Tech 3341 case 2.
  EXPECT_NEAR(IntegratedLufs(StereoSegments({{-33, 20}}, GetParam()), GetParam()), -33.0, 0.1);
}

TEST_P(LoudnessMeterRateTest, RelativeGateIgnoresQuietSegments) {
  // Tech 3341 case 3: -36 / -23 / -36 dBFS for 10 / 60 / 10 s.
  EXPECT_NEAR(
      IntegratedLufs(StereoSegments({{-36, 10}, {-23, 60}, {-36, 10}}, GetParam()), GetParam()),
      -23.0, 0.1);
}

TEST_P(LoudnessMeterRateTest, AbsoluteGateIgnoresNearSilence) {
  // Tech 3341 case 4: -72 / -36 / -23 / -36 / -72 dBFS for 10 / 10 / 60 / 10 / 10 s.
  EXPECT_NEAR(IntegratedLufs(StereoSegments({{-72, 10}, {-36, 10}, {-23, 60}, {-36, 10}, {-72, 10}},
                                            GetParam()),
                             GetParam()),
              -23.0, 0.1);
}

TEST_P(LoudnessMeterRateTest, LouderMiddleSegmentAveragesInEnergy) {
  // Tech 3341 case 5: -26 / -20 / -26 dBFS for 20 / 20.1 / 20 s.
  EXPECT_NEAR(
      IntegratedLufs(StereoSegments({{-26, 20}, {-20, 20.1}, {-26, 20}}, GetParam()), GetParam()),
      -23.0, 0.1);
}

TEST_P(LoudnessMeterRateTest, SurroundChannelsAreWeightedAndLfeIgnored) {
  // Tech 3341 case 6 (5.0 at -28 / -28 / -24 / -30 / -30 dBFS), with a loud LFE added that
  // must not count: L R C LFE Ls Rs.
  const double rate = GetParam();
  const std::vector<std::vector<float>> channels = {Tone(-28, 20, rate), Tone(-28, 20, rate),
                                                    Tone(-24, 20, rate), Tone(-6, 20, rate),
                                                    Tone(-30, 20, rate), Tone(-30, 20, rate)};
  EXPECT_NEAR(IntegratedLufs(channels, rate), -23.0, 0.1);
}

INSTANTIATE_TEST_SUITE_P(Rates, LoudnessMeterRateTest, ::testing::Values(44100.0, 48000.0),
                         [](const ::testing::TestParamInfo<double>& info) {
                           return std::to_string(static_cast<int>(info.param)) + "Hz";
                         });

TEST(LoudnessMeterTest, MonoCountsOneChannel) {
  // The same sine on one channel instead of two is 3 dB less loud.
  EXPECT_NEAR(IntegratedLufs({Tone(-23, 20, 48000)}, 48000), -26.01, 0.1);
}

TEST(LoudnessMeterTest, SkippingTheStartMeasuresOnlyWhatFollows) {
  const auto channels = StereoSegments({{-30, 5}, {-23, 20}}, 48000);
  EXPECT_NEAR(IntegratedLufs(channels, 48000, 5.0), -23.0, 0.1);
  EXPECT_LT(IntegratedLufs(channels, 48000), -23.2);
}

TEST(LoudnessMeterTest, SilenceAndShortInputReadMinusInfinity) {
  EXPECT_EQ(IntegratedLufs({std::vector<float>(48000, 0.0f)}, 48000),
            -std::numeric_limits<double>::infinity());
  EXPECT_EQ(IntegratedLufs({Tone(-10, 0.3, 48000)}, 48000),
            -std::numeric_limits<double>::infinity());
}

TEST(LoudnessMeterTest, BlocksAre400MsEvery100Ms) {
  const std::vector<double> blocks = testing::BlockLoudness({Tone(-23, 2, 16000)}, 16000);
  EXPECT_EQ(blocks.size(), 17u);  // starts at 0, 0.1, ..., 1.6 s
  EXPECT_NEAR(blocks.back(), -26.01, 0.1);
}

}  // namespace
}  // namespace audioproc
