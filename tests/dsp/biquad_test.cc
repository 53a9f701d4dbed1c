// BiquadCascade against a direct-form-I reference in double, and its streaming contracts:
// output independent of run lengths, separate channel state, coefficient changes that keep
// state, Reset.
#include "dsp/biquad.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "dsp/biquad_design.h"
#include "gtest/gtest.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

// A few stable sections of different kinds: resonant, first order, near z = 1.
std::vector<BiquadCoefficients> TestSections() {
  return {{0.2, 0.4, 0.2, -0.6, 0.3},
          {0.7, -0.7, 0, -0.4, 0},
          {1.1, -1.9, 0.85, -1.95, 0.96},
          {0.5, 0.1, -0.3, 0.2, 0.5}};
}

// Direct form I in double, section after section: the textbook difference equation.
std::vector<double> DirectFormOne(const std::vector<BiquadCoefficients>& sections,
                                  const std::vector<float>& input) {
  std::vector<double> signal(input.begin(), input.end());
  for (const BiquadCoefficients& k : sections) {
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (double& v : signal) {
      const double y = k.b0 * v + k.b1 * x1 + k.b2 * x2 - k.a1 * y1 - k.a2 * y2;
      x2 = x1, x1 = v, y2 = y1, y1 = y, v = y;
    }
  }
  return signal;
}

// Runs a one-channel cascade over `signal` in place, in runs of the cycled `runs` lengths.
void RunCascade(BiquadCascade& cascade, std::vector<float>& signal,
                const std::vector<uint32_t>& runs) {
  float* channel = signal.data();
  const AudioBlock block(&channel, 1, static_cast<uint32_t>(signal.size()));
  uint32_t offset = 0;
  for (size_t i = 0; offset < signal.size(); ++i) {
    const uint32_t frames =
        std::min<uint32_t>(runs[i % runs.size()], static_cast<uint32_t>(signal.size()) - offset);
    cascade.Process(block, offset, frames);
    offset += frames;
  }
}

TEST(BiquadCascadeTest, MatchesDirectFormOneReferenceInDouble) {
  const std::vector<float> input = testing::WhiteNoise(20000, 0.5, 3);
  const std::vector<BiquadCoefficients> sections = TestSections();
  const std::vector<double> expected = DirectFormOne(sections, input);
  BiquadCascade cascade;
  cascade.Prepare(1);
  cascade.SetSections(sections);
  std::vector<float> output = input;
  RunCascade(cascade, output, {4096});
  double peak = 0, error = 0;
  for (size_t n = 0; n < output.size(); ++n) {
    peak = std::max(peak, std::fabs(expected[n]));
    error = std::max(error, std::fabs(output[n] - expected[n]));
  }
  // Float output rounding only: the double state adds nothing visible.
  EXPECT_LE(error, peak * 1e-7);
}

TEST(BiquadCascadeTest, OutputDoesNotDependOnRunLengths) {
  const std::vector<float> input = testing::WhiteNoise(5000, 0.5, 4);
  std::vector<float> whole = input;
  BiquadCascade cascade;
  cascade.Prepare(1);
  cascade.SetSections(TestSections());
  RunCascade(cascade, whole, {5000});
  for (const std::vector<uint32_t>& runs :
       std::vector<std::vector<uint32_t>>{{1}, {2}, {7}, {1023}, {3, 1, 250, 9}}) {
    cascade.Reset();
    std::vector<float> output = input;
    RunCascade(cascade, output, runs);
    EXPECT_EQ(output, whole) << "runs of " << runs[0];
  }
}

TEST(BiquadCascadeTest, ChannelsKeepSeparateState) {
  const std::vector<float> left = testing::WhiteNoise(3000, 0.5, 5);
  const std::vector<float> right = testing::Sine(300, 8000, 3000, 0.7);
  BiquadCascade stereo, mono;
  stereo.Prepare(2);
  mono.Prepare(1);
  stereo.SetSections(TestSections());
  mono.SetSections(TestSections());
  std::vector<float> l = left, r = right;
  float* channels[] = {l.data(), r.data()};
  const AudioBlock block(channels, 2, 3000);
  stereo.Process(block, 0, 1000);
  stereo.Process(block, 1000, 2000);
  for (const auto& [input, output] : {std::pair{&left, &l}, std::pair{&right, &r}}) {
    mono.Reset();
    std::vector<float> expected = *input;
    RunCascade(mono, expected, {3000});
    EXPECT_EQ(*output, expected);
  }
}

TEST(BiquadCascadeTest, SettingTheSameSectionsMidStreamKeepsTheState) {
  const std::vector<float> input = testing::WhiteNoise(4000, 0.5, 6);
  BiquadCascade steady, reset_midway;
  for (BiquadCascade* cascade : {&steady, &reset_midway}) {
    cascade->Prepare(1);
    cascade->SetSections(TestSections());
  }
  std::vector<float> expected = input, output = input;
  RunCascade(steady, expected, {4000});
  float* channel = output.data();
  const AudioBlock block(&channel, 1, 4000);
  reset_midway.Process(block, 0, 2000);
  reset_midway.SetSections(TestSections());
  reset_midway.Process(block, 2000, 2000);
  EXPECT_EQ(output, expected);
}

TEST(BiquadCascadeTest, ResetReturnsToSilence) {
  const std::vector<float> input = testing::WhiteNoise(2000, 0.5, 8);
  BiquadCascade cascade;
  cascade.Prepare(1);
  cascade.SetSections(TestSections());
  std::vector<float> first = input, second = input;
  RunCascade(cascade, first, {512});
  cascade.Reset();
  RunCascade(cascade, second, {512});
  EXPECT_EQ(first, second);
}

TEST(BiquadDesignTest, ButterworthHasOneSectionPerPolePairPlusOneForOddOrders) {
  for (int order = 1; order <= 8; ++order) {
    const BiquadSections sections = DesignButterworth(false, order, 1000, 48000);
    EXPECT_EQ(sections.size(), (order + 1) / 2) << order;
    const bool has_first_order = sections[sections.size() - 1].a2 == 0;
    EXPECT_EQ(has_first_order, order % 2 == 1) << order;
  }
}

TEST(BiquadDesignTest, FirstOrderHighpassHasItsZeroExactlyAtDc) {
  for (double cutoff : {0.5, 5.0, 50.0, 1000.0}) {
    const BiquadCoefficients section = FirstOrderPass(true, cutoff, 192000);
    EXPECT_EQ(section.b0 + section.b1, 0) << cutoff;
  }
}

}  // namespace
}  // namespace audioproc
