// mix: given and standard matrices against sums computed here, validation, and chunking.
#include "processors/mix.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// `in` channels of distinct noise, interleaved.
std::vector<float> Noise(uint32_t channels, size_t frames, double amplitude) {
  std::vector<std::vector<float>> planar;
  for (uint32_t c = 0; c < channels; ++c) {
    planar.push_back(testing::WhiteNoise(frames, amplitude, 100 + c));
  }
  return testing::Interleave(planar);
}

// Runs interleaved float `input` (in channels) through a single mix to `out` channels, in f32.
std::vector<float> MixF32(const std::vector<float>& input, uint32_t in, uint32_t out,
                          std::vector<float> matrix) {
  PipelineConfig config;
  config.input = {SampleEncoding::kF32, 48000, in};
  config.output = {SampleEncoding::kF32, 48000, out};
  ProcessorConfig mix = Proc("mix", {{"output_channels", static_cast<double>(out)}});
  if (!matrix.empty()) mix.params.Set("matrix", std::move(matrix));
  config.chain = {mix};
  absl::StatusOr<std::string> output = RunWhole(config, testing::ToF32Bytes(input));
  EXPECT_TRUE(output.ok()) << output.status();
  return output.ok() ? testing::FromF32Bytes(*output) : std::vector<float>{};
}

// The reference: the exact sum (in double) of each output row, rounded to float once.
std::vector<float> Reference(const std::vector<float>& input, uint32_t in, uint32_t out,
                             const std::vector<double>& matrix) {
  const size_t frames = input.size() / in;
  std::vector<float> expected(frames * out);
  for (size_t f = 0; f < frames; ++f) {
    for (uint32_t o = 0; o < out; ++o) {
      double sum = 0;
      for (uint32_t i = 0; i < in; ++i) sum += matrix[o * in + i] * input[f * in + i];
      expected[f * out + o] = static_cast<float>(sum);
    }
  }
  return expected;
}

TEST(MixTest, GivenMatrixProducesTheExactRowSums) {
  // 3 in -> 2 out, weights that include negatives, zeros and non-dyadic values.
  const std::vector<float> matrix = {0.5f, -0.25f, 1.0f, 0.1f, 0.0f, -0.7f};
  const std::vector<float> input = Noise(3, 5000, 0.5);
  const std::vector<float> output = MixF32(input, 3, 2, matrix);
  const std::vector<double> weights(matrix.begin(), matrix.end());
  const std::vector<float> expected = Reference(input, 3, 2, weights);
  ASSERT_EQ(output.size(), expected.size());
  for (size_t i = 0; i < output.size(); ++i) {
    // Double sums of three products round to the same float unless a sum lies within 1e-16
    // of a rounding boundary: allow one float ulp, and require almost all to be identical.
    ASSERT_NEAR(output[i], expected[i], std::fabs(expected[i]) * 1.2e-7) << i;
  }
  size_t identical = 0;
  for (size_t i = 0; i < output.size(); ++i) identical += output[i] == expected[i];
  EXPECT_GE(identical, output.size() - 2);
}

TEST(MixTest, DyadicMatrixIsBitExactAtS16) {
  // Sums of s16 samples with weights 1, 1/2, 1/4 are exact in float, so the s16 output is
  // exactly the rounded sum.
  const std::vector<float> noise = Noise(2, 4000, 0.4);
  const std::string input = testing::ToS16Bytes(noise);
  const std::vector<int16_t> in = testing::FromS16Bytes(input);
  PipelineConfig config;
  config.input = {SampleEncoding::kS16, 16000, 2};
  config.output = {SampleEncoding::kS16, 16000, 3};
  config.chain = {Proc("mix", {{"output_channels", 3.0},
                               {"matrix", std::vector<float>{1, 0, 0.5f, 0.5f, -0.25f, 1}}})};
  absl::StatusOr<std::string> output = RunWhole(config, input);
  ASSERT_TRUE(output.ok()) << output.status();
  const std::vector<int16_t> out = testing::FromS16Bytes(*output);
  ASSERT_EQ(out.size(), in.size() / 2 * 3);
  for (size_t f = 0; f < in.size() / 2; ++f) {
    const double l = in[2 * f], r = in[2 * f + 1];
    EXPECT_EQ(out[3 * f], l);
    EXPECT_EQ(out[3 * f + 1], std::nearbyint(0.5 * l + 0.5 * r));
    EXPECT_EQ(out[3 * f + 2], std::nearbyint(-0.25 * l + r));
  }
}

TEST(MixTest, StandardMatricesFollowTheDocumentedRules) {
  const double k = 1 / std::sqrt(2.0);
  struct Row {
    uint32_t in, out;
    std::vector<double> matrix;
  };
  const std::vector<Row> rows = {
      {2, 2, {1, 0, 0, 1}},
      {1, 3, {1, 1, 1}},
      {2, 1, {0.5, 0.5}},
      {6, 1, {1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0}},
      // 5.1 (L R C LFE Ls Rs) to stereo, ITU-R BS.775: C and surrounds at -3 dB, LFE dropped.
      {6, 2, {1, 0, k, 0, k, 0, /**/ 0, 1, k, 0, 0, k}},
      // Stereo up: L and R on the first two, the rest silent.
      {2, 6, {1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
      {3, 2, {1, 0, 0, 0, 1, 0}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(absl::StrCat(row.in, " -> ", row.out));
    EXPECT_EQ(StandardMixMatrix(row.in, row.out), row.matrix);
    const std::vector<float> input = Noise(row.in, 3000, 0.3);
    const std::vector<float> output = MixF32(input, row.in, row.out, {});
    const std::vector<float> expected = Reference(input, row.in, row.out, row.matrix);
    ASSERT_EQ(output.size(), expected.size());
    size_t identical = 0;
    for (size_t i = 0; i < output.size(); ++i) {
      ASSERT_NEAR(output[i], expected[i], std::fabs(expected[i]) * 1.2e-7 + 1e-30) << i;
      identical += output[i] == expected[i];
    }
    EXPECT_GE(identical, output.size() - 3);
  }
}

TEST(MixTest, CopiesAndSilenceAreExact) {
  // Mono to stereo copies bit for bit; 2 -> 4 puts exact copies on 0 and 1 and zeros on 2, 3.
  const std::vector<float> mono = testing::WhiteNoise(2000, 1.0, 1);
  const std::vector<float> stereo = MixF32(mono, 1, 2, {});
  for (size_t f = 0; f < mono.size(); ++f) {
    ASSERT_EQ(stereo[2 * f], mono[f]);
    ASSERT_EQ(stereo[2 * f + 1], mono[f]);
  }
  const std::vector<float> quad = MixF32(stereo, 2, 4, {});
  for (size_t f = 0; f < mono.size(); ++f) {
    ASSERT_THAT(std::vector<float>(quad.begin() + 4 * f, quad.begin() + 4 * f + 4),
                ::testing::ElementsAre(mono[f], mono[f], 0.0f, 0.0f));
  }
}

TEST(MixTest, MatrixSizeMustMatchOutputsTimesInputs) {
  const ProcessorRegistry& registry = DspCoreRegistry();
  EXPECT_THAT(registry.Resolve(
                  Proc("mix", {{"output_channels", 2.0}, {"matrix", std::vector<float>(5, 0.5f)}}),
                  Spec(48000, 6)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("mix.matrix must hold output_channels x input channels = "
                                 "2 x 6 = 12 weights")));
  EXPECT_THAT(
      registry.Resolve(
          Proc("mix", {{"output_channels", 8.0}, {"matrix", std::vector<float>(65, 0.1f)}}),
          Spec(48000, 8)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mix.matrix may hold at most 64")));
  EXPECT_TRUE(registry
                  .Resolve(Proc("mix", {{"output_channels", 2.0},
                                        {"matrix", std::vector<float>(12, 0.5f)}}),
                           Spec(48000, 6))
                  .ok());
}

TEST(MixTest, OutputChannelsIsRequiredAndInRange) {
  const ProcessorRegistry& registry = DspCoreRegistry();
  EXPECT_THAT(registry.Resolve(Proc("mix"), Spec(48000, 2)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("mix.output_channels is required, in [1, 8]")));
  for (double bad : {0.0, 9.0, 1.5, std::nan("")}) {
    EXPECT_THAT(registry.Resolve(Proc("mix", {{"output_channels", bad}}), Spec(48000, 2)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mix.output_channels")))
        << bad;
  }
}

TEST(MixTest, OutputDoesNotDependOnChunking) {
  for (SampleEncoding encoding :
       {SampleEncoding::kS16, SampleEncoding::kF32, SampleEncoding::kMulaw}) {
    for (auto [in, out] : std::vector<std::pair<uint32_t, uint32_t>>{{1, 2}, {2, 1}, {2, 2}}) {
      SCOPED_TRACE(absl::StrCat(EncodingName(encoding), " ", in, " -> ", out));
      PipelineConfig config;
      config.input = {encoding, 16000, in};
      config.output = {encoding, 16000, out};
      config.chain = {Proc("mix", {{"output_channels", static_cast<double>(out)}})};
      const std::vector<float> signal = Noise(in, 5000, 0.7);
      const std::string input = testing::EncodeAs(encoding, signal);
      testing::ExpectChunkingInvariant(config, input, DspCoreRegistry());
    }
  }
}

}  // namespace
}  // namespace audioproc
