// aec: its format (microphones in front, references behind, microphones out), its refusals,
// transparency without a far end, chunking invariance, Reset, and updates. The echo bars on
// speech are in aec_echo_test.cc.
#include "processors/aec.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/chain.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/event_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::HasSubstr;
using testing::Proc;
using testing::StatusIs;

constexpr auto Registry = testing::RegistryOf<AecDefinition>;

// `x` delayed by `delay` samples and scaled, as a pure-delay "room".
std::vector<float> Delayed(const std::vector<float>& x, size_t delay, float scale) {
  std::vector<float> y(x.size(), 0.0f);
  for (size_t i = delay; i < x.size(); ++i) y[i] = scale * x[i - delay];
  return y;
}

// The chain's output (latency dropped, as long as the input) for planar `channels`.
std::vector<std::vector<float>> RunAec(const std::vector<std::vector<float>>& channels, double rate,
                                       const ProcessorConfig& config) {
  absl::StatusOr<std::unique_ptr<Chain>> chain = Chain::Build(
      Registry(), {config},
      ProcessSpec{rate, kDefaultMaxBlockFrames, static_cast<uint32_t>(channels.size())});
  EXPECT_TRUE(chain.ok()) << chain.status();
  if (!chain.ok()) return {};
  const uint32_t outputs = (*chain)->output_spec().channels;
  std::vector<std::vector<float>> out(outputs);
  auto emit = [&](const AudioBlock& block) {
    for (uint32_t c = 0; c < outputs; ++c) {
      out[c].insert(out[c].end(), block.channel(c), block.channel(c) + block.num_frames());
    }
  };
  const size_t n = channels[0].size();
  for (size_t at = 0; at < n; at += kDefaultMaxBlockFrames) {
    const auto frames = static_cast<uint32_t>(std::min<size_t>(kDefaultMaxBlockFrames, n - at));
    AudioBlock in = (*chain)->input_buffer().Block(frames);
    for (uint32_t c = 0; c < channels.size(); ++c) {
      std::copy(channels[c].begin() + at, channels[c].begin() + at + frames, in.channel(c));
    }
    (*chain)->Process(in, emit);
  }
  (*chain)->Flush(emit);
  return out;
}

TEST(AecTest, NeedsAMicrophoneBesideTheReferences) {
  EXPECT_THAT(Chain::Build(Registry(), {Proc("aec")}, testing::Spec(16000, 1)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("aec.reference_channels is 1 but the input has 1 channel")));
  EXPECT_THAT(Chain::Build(Registry(), {Proc("aec", {{"reference_channels", 3.0}})},
                           testing::Spec(16000, 3))
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 3 channels")));
  AecProcessor processor(2, 1.0);
  EXPECT_THAT(processor.Prepare(testing::Spec(48000, 2)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference_channels is 2")));
  testing::ExpectRefusals(Registry(), "aec", testing::Spec(16000, 8),
                          {{"reference_channels", 0.0, "reference_channels"},
                           {"reference_channels", 8.0, "reference_channels"},
                           {"reference_channels", 1.5, "reference_channels"},
                           {"suppression", -0.5, "suppression"},
                           {"suppression", 4.5, "suppression"},
                           {"suppression", std::nan(""), "suppression"}});
}

TEST(AecTest, OutputsTheMicrophoneChannelsOnly) {
  for (const auto& [channels, references] :
       {std::pair{2u, 1u}, std::pair{3u, 2u}, std::pair{4u, 1u}, std::pair{8u, 7u}}) {
    AecProcessor processor(references, 1.0);
    absl::StatusOr<ProcessSpec> out = processor.Prepare(testing::Spec(48000, channels));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->channels, channels - references);
    EXPECT_EQ(out->sample_rate_hz, 48000);
    EXPECT_FALSE(processor.ProcessesInPlace());
    EXPECT_EQ(processor.LatencyFrames(), 2 * 256 - 1);
  }
  EXPECT_EQ(AecBlockSize(16000), 128u);
  EXPECT_EQ(AecBlockSize(48000), 256u);
  EXPECT_EQ(AecBlockSize(8000), 64u);
}

TEST(AecTest, WithoutAFarEndTheMicrophonesPassUnchanged) {
  // Two microphones of noise, a silent reference: nothing to cancel, nothing to suppress.
  const size_t n = 32000;
  const std::vector<float> a = testing::WhiteNoise(n, 0.3, 1);
  const std::vector<float> b = testing::WhiteNoise(n, 0.1, 2);
  const std::vector<std::vector<float>> out =
      RunAec({a, b, std::vector<float>(n, 0.0f)}, 16000, Proc("aec"));
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].size(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(out[0][i], a[i], 1e-5) << i;
    ASSERT_NEAR(out[1][i], b[i], 1e-5) << i;
  }
}

TEST(AecTest, OutputDoesNotDependOnChunking) {
  // Noise far end, its echo 40 ms late in the microphone, near-end noise in the second half.
  const size_t n = 16000;
  const std::vector<float> far = testing::WhiteNoise(n, 0.3, 3);
  std::vector<float> mic = Delayed(far, 640, 0.5f);
  const std::vector<float> near = testing::WhiteNoise(n, 0.05, 4);
  for (size_t i = n / 2; i < n; ++i) mic[i] += near[i];
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
    PipelineConfig config = testing::SameFormat(encoding, 16000, 2, {Proc("aec")});
    config.output.channels = 1;
    testing::ExpectEventsChunkingInvariant(
        Registry(), config, testing::EncodeAs(encoding, testing::Interleave({mic, far})));
  }
}

TEST(AecTest, ResetReturnsToThePreparedState) {
  const size_t n = 24000;
  const std::vector<float> far = testing::WhiteNoise(n, 0.3, 5);
  const std::vector<float> mic = Delayed(far, 1600, 0.3f);
  AecProcessor processor(1, 1.0);
  ASSERT_TRUE(processor.Prepare(ProcessSpec{16000, 1000, 2}).ok());
  auto run = [&] {
    std::vector<float> result;
    std::vector<float> x0(1000);
    std::vector<float> x1(1000);
    std::vector<float> y(1000);
    for (size_t at = 0; at + 1000 <= n; at += 1000) {
      std::copy(mic.begin() + at, mic.begin() + at + 1000, x0.begin());
      std::copy(far.begin() + at, far.begin() + at + 1000, x1.begin());
      float* ins[] = {x0.data(), x1.data()};
      float* outs[] = {y.data()};
      AudioBlock in(ins, 2, 1000);
      AudioBlock out(outs, 1, 1000);
      processor.Process(in, out);
      result.insert(result.end(), y.begin(), y.end());
    }
    return result;
  };
  const std::vector<float> first = run();
  EXPECT_GT(processor.alignment_samples(), 0u);
  processor.Reset();
  EXPECT_EQ(processor.alignment_samples(), 0u);
  EXPECT_EQ(run(), first);
}

}  // namespace
}  // namespace audioproc
