// gain: exactness against the analytic factor, click-free runtime updates, validation and
// chunking invariance.
#include "processors/gain.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::DspCoreRegistry;
using ::audioproc::testing::Proc;
using ::audioproc::testing::RunWhole;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::Spec;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

TEST(GainTest, S16OutputIsWithinOneLsbOfTheAnalyticGain) {
  const std::vector<float> noise = testing::WhiteNoise(16000, 0.9, 3);
  const std::string input = testing::ToS16Bytes(noise);
  const std::vector<int16_t> in = testing::FromS16Bytes(input);
  for (double db : {-120.0, -60.0, -20.0, -6.0206, -0.5, 0.0, 0.1, 3.0, 6.0, 20.0, 60.0}) {
    absl::StatusOr<std::string> output = RunWhole(
        SameFormat(SampleEncoding::kS16, 16000, 1, {Proc("gain", {{"gain_db", db}})}), input);
    ASSERT_TRUE(output.ok()) << output.status();
    const std::vector<int16_t> out = testing::FromS16Bytes(*output);
    ASSERT_EQ(out.size(), in.size());
    const double factor = std::pow(10.0, db / 20.0);
    int worst = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const double expected = std::clamp(std::round(in[i] * factor), -32768.0, 32767.0);
      worst = std::max(worst, static_cast<int>(std::fabs(out[i] - expected)));
    }
    EXPECT_LE(worst, 1) << db << " dB";
  }
}

TEST(GainTest, ZeroDbIsBitExact) {
  const std::vector<float> noise = testing::WhiteNoise(4000, 1.0, 5);
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
    const std::string input =
        encoding == SampleEncoding::kS16 ? testing::ToS16Bytes(noise) : testing::ToF32Bytes(noise);
    absl::StatusOr<std::string> output =
        RunWhole(SameFormat(encoding, 48000, 1, {Proc("gain")}), input);
    ASSERT_TRUE(output.ok()) << output.status();
    EXPECT_TRUE(*output == input) << EncodingName(encoding);
  }
}

// Runs DC through a gain, updating it after `before` frames, and returns the output.
std::vector<float> DcThroughUpdatedGain(const std::vector<ProcessorConfig>& updates, size_t before,
                                        size_t after) {
  PipelineConfig config = SameFormat(SampleEncoding::kF32, 48000, 2, {Proc("gain")});
  auto pipeline = StreamPipeline::Create(DspCoreRegistry(), config);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  const std::string dc = testing::ToF32Bytes(std::vector<float>(2 * (before + after), 0.5f));
  std::string out;
  (*pipeline)->ProcessChunk(absl::string_view(dc).substr(0, 8 * before), &out);
  for (const ProcessorConfig& update : updates) {
    EXPECT_THAT((*pipeline)->chain().Update(0, update), testing::IsOk());
  }
  (*pipeline)->ProcessChunk(absl::string_view(dc).substr(8 * before), &out);
  (*pipeline)->Finish(&out);
  const std::vector<float> interleaved = testing::FromF32Bytes(out);
  std::vector<float> left;
  for (size_t i = 0; i < interleaved.size(); i += 2) {
    EXPECT_EQ(interleaved[i], interleaved[i + 1]) << "channels ramp together, frame " << i / 2;
    left.push_back(interleaved[i]);
  }
  return left;
}

TEST(GainTest, UpdateRampsLinearlyWithinTwentyMsWithoutAClick) {
  constexpr size_t kBefore = 4800;
  const std::vector<float> y =
      DcThroughUpdatedGain({Proc("gain", {{"gain_db", -20.0}})}, kBefore, 4800);
  ASSERT_EQ(y.size(), 9600u);
  for (size_t i = 0; i < kBefore; ++i) ASSERT_EQ(y[i], 0.5f) << i;
  const float final_value = 0.5f * static_cast<float>(std::pow(10.0, -20.0 / 20.0));
  const double ramp_frames = kGainRampMs * 48;  // 480
  const double step = (0.5 - final_value) / ramp_frames;
  size_t settled = 0;
  for (size_t i = kBefore; i < y.size(); ++i) {
    ASSERT_LE(y[i], y[i - 1]) << "monotonic at " << i;
    // A straight line: every step is the same size (no jump at the start or the end).
    ASSERT_LE(y[i - 1] - y[i], step * 1.001 + 1e-7) << "step at " << i;
    if (settled == 0 && y[i] == final_value) settled = i;
  }
  EXPECT_NEAR(y[kBefore] - final_value, (0.5 - final_value) * (1 - 1 / ramp_frames), 1e-6);
  EXPECT_EQ(settled - kBefore + 1, static_cast<size_t>(ramp_frames));
  EXPECT_LE(settled - kBefore, 960u) << "within 20 ms at 48 kHz";
  for (size_t i = settled; i < y.size(); ++i) ASSERT_EQ(y[i], final_value) << i;
}

TEST(GainTest, UpdateDuringARampContinuesFromWhereTheGainIs) {
  // Two updates between the same chunks: the second takes over at the first's start value,
  // so the output is the one ramp to the final gain.
  const std::vector<float> twice = DcThroughUpdatedGain(
      {Proc("gain", {{"gain_db", -40.0}}), Proc("gain", {{"gain_db", 6.0}})}, 1000, 2000);
  const std::vector<float> once =
      DcThroughUpdatedGain({Proc("gain", {{"gain_db", 6.0}})}, 1000, 2000);
  EXPECT_EQ(twice, once);
  EXPECT_EQ(once.back(), 0.5f * static_cast<float>(std::pow(10.0, 6.0 / 20.0)));
}

TEST(GainTest, InvalidValuesAreRefusedWithFieldAndRange) {
  const ProcessorRegistry& registry = DspCoreRegistry();
  for (double bad : {-121.0, 60.5, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_THAT(registry.Resolve(Proc("gain", {{"gain_db", bad}}), Spec(16000, 1)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("gain.gain_db must be in [-120, 60] dB")));
  }
  absl::StatusOr<ParamValues> defaults = registry.Resolve(Proc("gain"), Spec(16000, 1));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->Number("gain_db"), 0.0);
}

TEST(GainTest, RefusedUpdateLeavesTheStreamUnchanged) {
  auto pipeline = StreamPipeline::Create(
      DspCoreRegistry(),
      SameFormat(SampleEncoding::kS16, 16000, 1, {Proc("gain", {{"gain_db", -6.0}})}));
  ASSERT_TRUE(pipeline.ok());
  EXPECT_THAT((*pipeline)->chain().Update(0, Proc("gain", {{"gain_db", 99.0}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("chain[0].gain.gain_db must be in [-120, 60] dB, got 99")));
  EXPECT_EQ((*pipeline)->chain().resolved()[0].params.Number("gain_db"), -6.0);
}

TEST(GainTest, HugeFloatInputStaysFinite) {
  const std::vector<float> huge = {3e38f, -3e38f, 1.0f};
  absl::StatusOr<std::string> output =
      RunWhole(SameFormat(SampleEncoding::kF32, 16000, 1, {Proc("gain", {{"gain_db", 60.0}})}),
               testing::ToF32Bytes(huge));
  ASSERT_TRUE(output.ok());
  for (float y : testing::FromF32Bytes(*output)) EXPECT_TRUE(std::isfinite(y)) << y;
}

TEST(GainTest, OutputDoesNotDependOnChunking) {
  for (SampleEncoding encoding :
       {SampleEncoding::kS16, SampleEncoding::kF32, SampleEncoding::kMulaw}) {
    for (uint32_t channels : {1u, 2u}) {
      SCOPED_TRACE(absl::StrCat(EncodingName(encoding), " x", channels));
      const PipelineConfig config =
          SameFormat(encoding, 16000, channels, {Proc("gain", {{"gain_db", -7.5}})});
      const std::vector<float> signal = testing::WhiteNoise(6000 * channels, 0.8, 9);
      const std::string input = testing::EncodeAs(encoding, signal);
      testing::ExpectChunkingInvariant(config, input, DspCoreRegistry());
    }
  }
}

}  // namespace
}  // namespace audioproc
