// Analytic facts of the filter shapes, measured on the processors with tones and impulse
// responses: Butterworth's -3.01 dB at the cutoff, the peaking gain at the center, the notch's
// depth, the band-pass's 0 dB center and the shelves' gains at DC and Nyquist.
#include <cmath>
#include <numeric>
#include <vector>

#include "gtest/gtest.h"
#include "processors/biquad_filters.h"
#include "tests/testing/reference_filters.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using ::audioproc::testing::NumericConfig;
using ::audioproc::testing::ToDb;

constexpr uint32_t kBlockFrames = 512;
constexpr double kAmplitude = 0.5;

const ProcessorRegistry& Registry() {
  static const ProcessorRegistry* const registry = new ProcessorRegistry(
      {HighpassDefinition(), LowpassDefinition(), BandpassDefinition(), NotchDefinition(),
       PeakingDefinition(), LowshelfDefinition(), HighshelfDefinition()});
  return *registry;
}

// The gain in dB of `config` for a steady tone: 1 s of it in, the second half measured.
double ToneGainDb(const ProcessorConfig& config, double tone_hz, double rate) {
  auto processor = testing::MakeProcessor(Registry(), config, {rate, kBlockFrames, 1});
  EXPECT_TRUE(processor.ok()) << processor.status();
  if (!processor.ok()) return 0;
  std::vector<float> signal =
      testing::Sine(tone_hz, rate, static_cast<size_t>(rate), kAmplitude, 0.3);
  testing::RunMono(**processor, signal, kBlockFrames);
  const std::span<const float> steady = std::span(signal).subspan(signal.size() / 2);
  return ToDb(testing::ToneAmplitude(steady, tone_hz, rate) / kAmplitude);
}

std::vector<float> ImpulseResponseOf(const ProcessorConfig& config, double rate) {
  auto processor = testing::MakeProcessor(Registry(), config, {rate, kBlockFrames, 1});
  EXPECT_TRUE(processor.ok()) << processor.status();
  if (!processor.ok()) return {};
  return testing::ImpulseResponse(**processor, kBlockFrames, 1 << 20);
}

TEST(ButterworthTest, GainIsMinus3Point01DbAtTheCutoffForEveryOrder) {
  const double half_power_db = 10 * std::log10(0.5);
  for (const char* name : {"highpass", "lowpass"}) {
    for (double rate : {16000.0, 48000.0}) {
      for (int order = 1; order <= 8; ++order) {
        const double cutoff = rate / 16;
        EXPECT_NEAR(
            ToneGainDb(NumericConfig(name, {{"cutoff_hz", cutoff}, {"order", double(order)}}),
                       cutoff, rate),
            half_power_db, 0.001)
            << name << " order " << order << " at " << rate << " Hz";
      }
    }
  }
}

TEST(ButterworthTest, LowpassPassesDcAndHighpassPassesNyquistAtUnity) {
  for (int order = 1; order <= 8; ++order) {
    // The impulse response's plain sum is H(1), its alternating sum H(-1).
    const std::vector<float> lowpass = ImpulseResponseOf(
        NumericConfig("lowpass", {{"cutoff_hz", 300}, {"order", double(order)}}), 16000);
    const std::vector<float> highpass = ImpulseResponseOf(
        NumericConfig("highpass", {{"cutoff_hz", 3000}, {"order", double(order)}}), 16000);
    EXPECT_NEAR(ToDb(testing::DtftMagnitude(lowpass, 0, 16000)), 0, 1e-4) << order;
    EXPECT_NEAR(ToDb(testing::DtftMagnitude(highpass, 8000, 16000)), 0, 1e-4) << order;
  }
}

TEST(PeakingTest, GainAtTheCenterEqualsGainDb) {
  for (double gain_db : {-48.0, -24.0, -6.0, 0.0, 3.0, 12.0, 48.0}) {
    for (double q : {0.5, 1.0, 8.0}) {
      EXPECT_NEAR(ToneGainDb(NumericConfig("peaking",
                                           {{"center_hz", 1000}, {"q", q}, {"gain_db", gain_db}}),
                             1000, 48000),
                  gain_db, 0.01)
          << "q " << q;
    }
  }
}

TEST(NotchTest, RemovesTheCenterToneByMoreThan100Db) {
  for (double rate : {8000.0, 48000.0}) {
    for (double q : {0.7071, 4.0, 30.0}) {
      const double center = rate / 8;
      EXPECT_LT(ToneGainDb(NumericConfig("notch", {{"center_hz", center}, {"q", q}}), center, rate),
                -100)
          << "q " << q << " at " << rate << " Hz";
      // Half an octave away a narrow notch leaves the tone nearly untouched.
      if (q >= 4) {
        EXPECT_GT(ToneGainDb(NumericConfig("notch", {{"center_hz", center}, {"q", q}}),
                             center * std::sqrt(2.0), rate),
                  -0.5);
      }
    }
  }
}

TEST(BandpassTest, PassesTheCenterAtZeroDb) {
  for (double q : {0.1, 0.7071, 10.0, 40.0}) {
    EXPECT_NEAR(ToneGainDb(NumericConfig("bandpass", {{"center_hz", 2000}, {"q", q}}), 2000, 44100),
                0, 0.01)
        << "q " << q;
  }
}

TEST(ShelfTest, LowshelfReachesGainDbAtDcAndHighshelfAtNyquist) {
  for (double gain_db : {-48.0, -12.0, 6.0, 48.0}) {
    const std::vector<float> low = ImpulseResponseOf(
        NumericConfig("lowshelf", {{"cutoff_hz", 500}, {"gain_db", gain_db}}), 48000);
    const std::vector<float> high = ImpulseResponseOf(
        NumericConfig("highshelf", {{"cutoff_hz", 5000}, {"gain_db", gain_db}}), 48000);
    EXPECT_NEAR(ToDb(testing::DtftMagnitude(low, 0, 48000)), gain_db, 0.01);
    EXPECT_NEAR(ToDb(testing::DtftMagnitude(high, 24000, 48000)), gain_db, 0.01);
    // And the other end is left alone.
    EXPECT_NEAR(ToDb(testing::DtftMagnitude(low, 24000, 48000)), 0, 0.01);
    EXPECT_NEAR(ToDb(testing::DtftMagnitude(high, 0, 48000)), 0, 0.01);
  }
}

}  // namespace
}  // namespace audioproc
