// dc_block: DC attenuated by at least 60 dB in the steady state, a 1 kHz tone passed within
// 0.1 dB, the response of a first-order Butterworth highpass, and the usual parameter and
// chunking contracts.
#include "processors/dc_block.h"

#include <cmath>
#include <cstdio>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/reference_filters.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::NumericConfig;
using ::audioproc::testing::StatusIs;
using ::audioproc::testing::ToDb;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint32_t kBlockFrames = 1024;

constexpr auto Registry = testing::RegistryOf<DcBlockDefinition>;

std::unique_ptr<Processor> MakeDcBlock(double cutoff_hz, double rate) {
  auto processor = testing::MakeProcessor(
      Registry(), NumericConfig("dc_block", {{"cutoff_hz", cutoff_hz}}), {rate, kBlockFrames, 1});
  EXPECT_TRUE(processor.ok()) << processor.status();
  return processor.ok() ? *std::move(processor) : nullptr;
}

TEST(DcBlockTest, AttenuatesDcByAtLeast60Db) {
  constexpr double kOffset = 0.5;
  double worst_db = -1000;
  for (double rate : {8000.0, 48000.0, 192000.0}) {
    for (double cutoff : {0.5, 5.0, 50.0}) {
      auto processor = MakeDcBlock(cutoff, rate);
      ASSERT_NE(processor, nullptr);
      // Ten time constants to settle, then one second: a whole number of 1 kHz periods, so
      // the tone adds nothing to the mean.
      const auto settle = static_cast<size_t>(10 * rate / (2 * M_PI * cutoff));
      const auto window = static_cast<size_t>(rate);
      std::vector<float> signal = testing::Sine(1000, rate, settle + window, 0.25);
      for (float& x : signal) x += kOffset;
      testing::RunMono(*processor, signal, kBlockFrames);
      double sum = 0;
      for (size_t n = settle; n < signal.size(); ++n) sum += signal[n];
      const double residual_db = ToDb(std::fabs(sum / window) / kOffset);
      EXPECT_LE(residual_db, -60) << cutoff << " Hz at " << rate << " Hz";
      worst_db = std::max(worst_db, residual_db);
    }
  }
  std::printf("[ measured ] dc_block: worst residual DC %.1f dB relative to the input's\n",
              worst_db);
}

TEST(DcBlockTest, PassesOneKilohertzToneWithinTenthDb) {
  for (double rate : {8000.0, 44100.0, 192000.0}) {
    for (double cutoff : {0.5, 5.0, 50.0}) {
      auto processor = MakeDcBlock(cutoff, rate);
      ASSERT_NE(processor, nullptr);
      const auto frames = static_cast<size_t>(rate);
      std::vector<float> signal = testing::Sine(1000, rate, 2 * frames, 0.5);
      testing::RunMono(*processor, signal, kBlockFrames);
      const double gain_db =
          ToDb(testing::ToneAmplitude(std::span(signal).subspan(frames), 1000, rate) / 0.5);
      EXPECT_NEAR(gain_db, 0, 0.1) << cutoff << " Hz at " << rate << " Hz";
    }
  }
}

TEST(DcBlockTest, MagnitudeMatchesFirstOrderButterworthHighpassWithinTenthDb) {
  for (double rate : {8000.0, 48000.0}) {
    for (double cutoff : {0.5, 5.0, 50.0}) {
      auto processor = MakeDcBlock(cutoff, rate);
      ASSERT_NE(processor, nullptr);
      const std::vector<float> response =
          testing::ImpulseResponse(*processor, kBlockFrames, 1 << 22);
      const testing::Zpk reference = testing::ButterworthZpk(1, cutoff, true, rate);
      for (double f = cutoff / 8; f < rate / 2; f *= 1.5) {
        const double expected = ToDb(testing::ZpkMagnitude(reference, f, rate));
        if (expected <= -40) continue;
        EXPECT_NEAR(ToDb(testing::DtftMagnitude(response, f, rate)), expected, 0.1)
            << f << " Hz, cutoff " << cutoff << " Hz at " << rate << " Hz";
      }
    }
  }
}

TEST(DcBlockTest, DefinitionMatchesTheContract) {
  const ProcessorDefinition* definition = Registry().Find("dc_block");
  ASSERT_NE(definition, nullptr);
  ASSERT_EQ(definition->info.params.size(), 1u);
  const ParamInfo& cutoff = definition->info.params[0];
  EXPECT_EQ(cutoff.name, "cutoff_hz");
  EXPECT_EQ(cutoff.unit, "Hz");
  EXPECT_EQ(cutoff.default_value, 5);
  EXPECT_EQ(cutoff.min, 0.5);
  EXPECT_EQ(cutoff.max, 50);
  EXPECT_FALSE(cutoff.required);
  EXPECT_FALSE(cutoff.runtime_updatable);
  absl::StatusOr<ParamValues> resolved =
      Registry().Resolve(NumericConfig("dc_block", {}), {16000, kBlockFrames, 1});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->Number("cutoff_hz"), 5);
}

TEST(DcBlockTest, RejectsCutoffOutsideRangeNamingIt) {
  for (double cutoff : {0.0, 0.4, 51.0, std::nan("")}) {
    EXPECT_THAT(Registry().Resolve(NumericConfig("dc_block", {{"cutoff_hz", cutoff}}),
                                   {16000, kBlockFrames, 1}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("dc_block.cutoff_hz"), HasSubstr("[0.5, 50] Hz"))))
        << cutoff;
  }
  const ParamValues current =
      *Registry().Resolve(NumericConfig("dc_block", {}), {16000, kBlockFrames, 1});
  EXPECT_THAT(Registry().ValidateUpdate(NumericConfig("dc_block", {{"cutoff_hz", 10}}), current,
                                        {16000, kBlockFrames, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dc_block.cutoff_hz")));
}

TEST(DcBlockTest, OutputIsIndependentOfChunking) {
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
    for (uint32_t channels : {1u, 2u}) {
      std::vector<std::vector<float>> planar;
      for (uint32_t c = 0; c < channels; ++c) {
        std::vector<float> x = testing::WhiteNoise(4000, 0.3, 5 + c);
        for (float& v : x) v += 0.2f;
        planar.push_back(std::move(x));
      }
      const std::vector<float> signal = testing::Interleave(planar);
      const std::string input = encoding == SampleEncoding::kS16 ? testing::ToS16Bytes(signal)
                                                                 : testing::ToF32Bytes(signal);
      SCOPED_TRACE(std::string(EncodingName(encoding)) + " x" + std::to_string(channels));
      testing::ExpectChunkingInvariant(
          testing::SameFormat(encoding, 16000, channels,
                              {NumericConfig("dc_block", {{"cutoff_hz", 20}})}),
          input, Registry());
    }
  }
}

}  // namespace
}  // namespace audioproc
