// convolve: against a double-precision direct convolution (DESIGN §4: max abs error at most
// 1e-5 of its peak), exact alignment (latency reported = latency added), the dry/wet mix and
// its ramp, impulse files (first channel, other rates), validation, chunking, finite output.
#include "processors/convolve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audio_io/impulse_file.h"
#include "chain/chain.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Proc;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr auto Registry = testing::RegistryOf<ConvolveDefinition>;

std::vector<float> Gaussian(size_t n, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, sigma);
  std::vector<float> out(n);
  for (float& x : out) x = static_cast<float>(dist(rng));
  return out;
}

absl::StatusOr<std::vector<float>> RunF32(const std::vector<float>& interleaved, uint32_t rate,
                                          uint32_t channels, const ProcessorConfig& convolve) {
  const PipelineConfig config = SameFormat(SampleEncoding::kF32, rate, channels, {convolve});
  absl::StatusOr<std::string> out = testing::RunInChunks(config, testing::ToF32Bytes(interleaved),
                                                         {interleaved.size() * 4 + 1}, Registry());
  if (!out.ok()) return out.status();
  return testing::FromF32Bytes(*out);
}

// sum over k of h[k] x[n - k], in double.
double Direct(const std::vector<float>& h, const std::vector<float>& x, size_t n) {
  double sum = 0;
  const size_t taps = std::min(h.size(), n + 1);
  for (size_t k = 0; k < taps; ++k) sum += static_cast<double>(h[k]) * x[n - k];
  return sum;
}

TEST(ConvolveTest, MatchesDoublePrecisionDirectConvolutionWithinOneInTenToTheFifthOfItsPeak) {
  for (size_t taps : {1u, 63u, 1000u, 48000u}) {
    SCOPED_TRACE(absl::StrCat(taps, " taps"));
    const std::vector<float> impulse = Gaussian(taps, 1.0 / std::sqrt(taps), 7 + taps);
    // Longer than the impulse, so every partition of it meets the input.
    const std::vector<float> input = Gaussian(taps + 4000, 0.25, 11);
    absl::StatusOr<std::vector<float>> output =
        RunF32(input, 48000, 1, Proc("convolve", {{"impulse", impulse}}));
    ASSERT_TRUE(output.ok()) << output.status();
    ASSERT_EQ(output->size(), input.size());
    // Every output sample for short impulses; for the long one (a direct reference costs
    // 48000 multiplies per sample) every 7th, plus the whole of the first and last 1024.
    const size_t stride = taps > 10000 ? 7 : 1;
    double peak = 0, max_error = 0;
    for (size_t n = 0; n < input.size(); ++n) {
      if (n % stride != 0 && n >= 1024 && n + 1024 < input.size()) continue;
      const double reference = Direct(impulse, input, n);
      peak = std::max(peak, std::fabs(reference));
      max_error = std::max(max_error, std::fabs((*output)[n] - reference));
    }
    EXPECT_LE(max_error, 1e-5 * peak);
    std::printf("[ measured ] convolve %zu taps: max error / peak = %.3g (bar 1e-5)\n", taps,
                max_error / peak);
  }
}

TEST(ConvolveTest, EachChannelIsConvolvedWithTheSameImpulse) {
  const std::vector<float> impulse = Gaussian(300, 0.1, 3);
  const std::vector<float> left = Gaussian(3000, 0.3, 4);
  const std::vector<float> right = Gaussian(3000, 0.3, 5);
  absl::StatusOr<std::vector<float>> output = RunF32(testing::Interleave({left, right}), 16000, 2,
                                                     Proc("convolve", {{"impulse", impulse}}));
  ASSERT_TRUE(output.ok()) << output.status();
  double peak = 0, max_error = 0;
  for (size_t n = 0; n < left.size(); ++n) {
    const double l = Direct(impulse, left, n), r = Direct(impulse, right, n);
    peak = std::max({peak, std::fabs(l), std::fabs(r)});
    max_error =
        std::max({max_error, std::fabs((*output)[2 * n] - l), std::fabs((*output)[2 * n + 1] - r)});
  }
  EXPECT_LE(max_error, 1e-5 * peak);
}

TEST(ConvolveTest, UnitImpulseGivesTheInputSampleForSample) {
  const std::vector<float> input = Gaussian(5000, 0.3, 8);
  absl::StatusOr<std::vector<float>> output =
      RunF32(input, 48000, 1, Proc("convolve", {{"impulse", std::vector<float>{1.0f}}}));
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_EQ(output->size(), input.size());
  for (size_t n = 0; n < input.size(); ++n) ASSERT_NEAR((*output)[n], input[n], 1e-6) << n;

  // At s16 the FFTs' rounding (~1e-7) is far below half an LSB: bit-exact.
  const std::string s16 = testing::ToS16Bytes(input);
  absl::StatusOr<std::string> out16 =
      testing::RunInChunks(SameFormat(SampleEncoding::kS16, 16000, 1,
                                      {Proc("convolve", {{"impulse", std::vector<float>{1.0f}}})}),
                           s16, {s16.size() + 1}, Registry());
  ASSERT_TRUE(out16.ok()) << out16.status();
  EXPECT_TRUE(*out16 == s16);
}

TEST(ConvolveTest, ReportsOnePartitionOfLatencyAndAddsExactlyThat) {
  for (size_t taps : {1u, 1000u, 5000u, 48000u, 262144u}) {
    std::vector<float> impulse(taps, 0.0f);
    impulse[0] = 1.0f;
    absl::StatusOr<std::unique_ptr<Chain>> chain = Chain::Build(
        Registry(), {Proc("convolve", {{"impulse", impulse}})}, ProcessSpec{48000, 1024, 1});
    ASSERT_TRUE(chain.ok()) << chain.status();
    const uint32_t partition = ConvolvePartitionFrames(taps);
    EXPECT_EQ((*chain)->latency_frames(), partition) << taps;
    EXPECT_GE(partition, 64u);
    EXPECT_LE(partition, 256u);
    std::printf("[ measured ] convolve latency for %zu taps: %u frames\n", taps, partition);
  }
  // A pure delay of 5 taps comes out 5 frames late, no more.
  const std::vector<float> input = Gaussian(2000, 0.3, 9);
  absl::StatusOr<std::vector<float>> output = RunF32(
      input, 16000, 1, Proc("convolve", {{"impulse", std::vector<float>{0, 0, 0, 0, 0, 1}}}));
  ASSERT_TRUE(output.ok()) << output.status();
  for (size_t n = 0; n < input.size(); ++n) {
    ASSERT_NEAR((*output)[n], n < 5 ? 0.0f : input[n - 5], 1e-6) << n;
  }
}

TEST(ConvolveTest, WetMixesTheFilteredSignalWithTheAlignedDryInput) {
  const std::vector<float> input = Gaussian(3000, 0.3, 10);
  absl::StatusOr<std::vector<float>> dry =
      RunF32(input, 16000, 1, Proc("convolve", {{"impulse", Gaussian(200, 0.1, 1)}, {"wet", 0.0}}));
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_TRUE(*dry == input) << "wet 0 is the input itself, bit for bit";

  const std::vector<float> half = {0.0f, 0.5f};  // a half-gain, one-frame delay
  absl::StatusOr<std::vector<float>> mixed =
      RunF32(input, 16000, 1, Proc("convolve", {{"impulse", half}, {"wet", 0.25}}));
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  for (size_t n = 1; n < input.size(); ++n) {
    ASSERT_NEAR((*mixed)[n], 0.75 * input[n] + 0.25 * 0.5 * input[n - 1], 1e-6) << n;
  }
}

TEST(ConvolveTest, WetUpdateRampsWithinTwentyMilliseconds) {
  const uint32_t rate = 16000;
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(Registry(), {Proc("convolve", {{"impulse", std::vector<float>{0.0f}}})},
                   ProcessSpec{static_cast<double>(rate), 256, 1});
  ASSERT_TRUE(chain.ok()) << chain.status();
  // A zero impulse: the output is (1 - wet) x input, so a constant input traces the ramp.
  AudioBuffer ones(1, 256);
  std::vector<float> trace;
  auto collect = [&](const AudioBlock& out) {
    trace.insert(trace.end(), out.channel(0), out.channel(0) + out.num_frames());
  };
  for (int block = 0; block < 8; ++block) {
    if (block == 4) {
      ASSERT_TRUE((*chain)->Update(0, Proc("convolve", {{"wet", 0.0}})).ok());
    }
    AudioBlock in = ones.Block();
    std::fill(in.channel(0), in.channel(0) + 256, 1.0f);
    (*chain)->Process(in, collect);
  }
  // Blocks 0-3 in, less the latency, are all zero; then a monotonic rise to 1.
  const size_t start = 4 * 256 - (*chain)->latency_frames();
  for (size_t n = 0; n < start; ++n) ASSERT_EQ(trace[n], 0.0f) << n;
  size_t reached = start;
  for (size_t n = start + 1; n < trace.size(); ++n) {
    ASSERT_GE(trace[n], trace[n - 1]) << n;
    if (trace[n] < 1.0f) reached = n + 1;
  }
  EXPECT_GT(reached, start + 1) << "the change is ramped, not a step";
  EXPECT_LE(reached - start, static_cast<size_t>(0.020 * rate));
  EXPECT_EQ(trace.back(), 1.0f);
}

// `samples` (first of `channels` interleaved) as a 16-bit PCM WAV file.
std::string WavS16(const std::vector<float>& interleaved, uint32_t rate, uint16_t channels) {
  std::string out;
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(char(v >> (8 * i)));
  };
  auto u16 = [&](uint16_t v) {
    for (int i = 0; i < 2; ++i) out.push_back(char(v >> (8 * i)));
  };
  const std::string data = testing::ToS16Bytes(interleaved);
  out += "RIFF";
  u32(static_cast<uint32_t>(36 + data.size()));
  out += "WAVEfmt ";
  u32(16);
  u16(1);
  u16(channels);
  u32(rate);
  u32(rate * channels * 2);
  u16(static_cast<uint16_t>(channels * 2));
  u16(16);
  out += "data";
  u32(static_cast<uint32_t>(data.size()));
  return out + data;
}

TEST(ConvolveTest, ImpulseFileUsesItsFirstChannelLikeTheSameTapsAsAList) {
  // Taps that are exact at s16, so the file and the list hold the same numbers.
  std::vector<float> taps = Gaussian(700, 0.05, 12);
  for (float& t : taps) t = std::round(t * 32768.0f) / 32768.0f;
  const std::vector<float> junk = Gaussian(700, 0.5, 13);
  const std::string file = WavS16(testing::Interleave({taps, junk}), 16000, 2);
  const std::vector<float> input = Gaussian(4000, 0.3, 14);
  absl::StatusOr<std::vector<float>> from_file =
      RunF32(input, 16000, 1, Proc("convolve", {{"impulse_file", file}}));
  absl::StatusOr<std::vector<float>> from_list =
      RunF32(input, 16000, 1, Proc("convolve", {{"impulse", taps}}));
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  ASSERT_TRUE(from_list.ok()) << from_list.status();
  EXPECT_TRUE(*from_file == *from_list);
}

TEST(ConvolveTest, ImpulseFileAtAnotherRateIsResampledKeepingItsResponse) {
  // An identity impulse recorded at 48 kHz is still an identity for a 16 kHz stream: a 1 kHz
  // tone keeps its level and its timing. Not exactly: resampling band-limits the click with a
  // linear-phase filter whose ringing before the first tap cannot be kept without latency, so
  // about 2% of a full-band click is lost (soxr HQ, 48 to 16 kHz; smooth impulses lose less).
  std::vector<float> identity(480, 0.0f);
  identity[0] = 0.5f;  // -6 dB, well inside s16
  const std::string file = WavS16(identity, 48000, 1);
  const std::vector<float> tone = testing::Sine(1000, 16000, 8000, 0.5);
  absl::StatusOr<std::vector<float>> output =
      RunF32(tone, 16000, 1, Proc("convolve", {{"impulse_file", file}}));
  ASSERT_TRUE(output.ok()) << output.status();
  double error = 0;
  for (size_t n = 1000; n < tone.size(); ++n) {
    error = std::max(error, std::fabs((*output)[n] - 0.5 * tone[n]));
  }
  EXPECT_LT(error, 0.25 * 0.03);  // within 3% of the tone's amplitude after the gain
  std::printf("[ measured ] convolve 48k identity file at 16 kHz: max error %.3g of 0.25\n", error);
}

absl::Status BuildError(const ProcessorConfig& config) {
  return Chain::Build(Registry(), {config}, ProcessSpec{48000, 1024, 2}).status();
}

TEST(ConvolveTest, ValidationNamesTheParameterAndItsRange) {
  EXPECT_THAT(BuildError(Proc("convolve")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("set convolve.impulse"), HasSubstr("convolve.impulse_file"),
                             HasSubstr("262144"))));
  EXPECT_THAT(BuildError(Proc("convolve", {{"impulse", std::vector<float>{1}},
                                           {"impulse_file", std::string("RIFF")}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("convolve.impulse and convolve.impulse_file are both set")));
  EXPECT_THAT(BuildError(Proc("convolve", {{"impulse", std::vector<float>(262145, 0.0f)}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("convolve.impulse may hold at most 262144")));
  EXPECT_THAT(BuildError(Proc("convolve", {{"impulse", std::vector<float>{}}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("convolve.impulse must")));
  EXPECT_THAT(
      BuildError(Proc("convolve", {{"impulse", std::vector<float>{1}}, {"wet", 1.5}})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("convolve.wet must be in [0, 1]")));
  EXPECT_THAT(
      BuildError(Proc("convolve", {{"impulse_file", std::string(kMaxImpulseFileBytes + 1, 'x')}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("convolve.impulse_file may hold at most")));
  EXPECT_THAT(BuildError(Proc("convolve", {{"impulse_file", std::string("not audio at all")}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("convolve.impulse_file is not an audio file")));
  // 100000 frames at 8 kHz are 600000 taps at 48 kHz.
  EXPECT_THAT(BuildError(Proc("convolve", {{"impulse_file",
                                            WavS16(std::vector<float>(100000, 0.1f), 8000, 1)}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("convolve.impulse_file must hold at most 262144 taps")));
  EXPECT_THAT(BuildError(Proc("convolve", {{"impulse_file", WavS16({}, 48000, 1)}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("convolve.impulse_file holds no audio")));
}

TEST(ConvolveTest, OutputIsIndependentOfChunking) {
  const std::vector<float> input = Gaussian(2 * 6000, 0.2, 15);
  for (size_t taps : {1u, 700u}) {
    SCOPED_TRACE(absl::StrCat(taps, " taps"));
    const ProcessorConfig convolve =
        Proc("convolve", {{"impulse", Gaussian(taps, 0.1, 16)}, {"wet", 0.7}});
    testing::ExpectChunkingInvariant(SameFormat(SampleEncoding::kS16, 16000, 2, {convolve}),
                                     testing::ToS16Bytes(input), Registry());
    testing::ExpectChunkingInvariant(SameFormat(SampleEncoding::kF32, 48000, 1, {convolve}),
                                     testing::ToF32Bytes(input), Registry());
  }
}

TEST(ConvolveTest, NeverEmitsNanOrInf) {
  const float huge = std::numeric_limits<float>::max();
  std::vector<float> input = Gaussian(3000, 1.0, 17);
  for (size_t n = 0; n < input.size(); n += 97) input[n] = n % 2 ? huge : -huge;
  // Taps at their largest allowed magnitude, on samples at float's largest.
  const float tap = kMaxImpulseTap;
  absl::StatusOr<std::vector<float>> output =
      RunF32(input, 48000, 1, Proc("convolve", {{"impulse", std::vector<float>{tap, -tap, tap}}}));
  ASSERT_TRUE(output.ok()) << output.status();
  for (size_t n = 0; n < output->size(); ++n) ASSERT_TRUE(std::isfinite((*output)[n])) << n;
  // Larger taps, which could overflow, are refused.
  EXPECT_FALSE(RunF32(input, 48000, 1,
                      Proc("convolve", {{"impulse", std::vector<float>{huge, -huge, huge}}}))
                   .ok());
}

}  // namespace
}  // namespace audioproc
