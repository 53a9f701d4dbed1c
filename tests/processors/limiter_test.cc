// limiter: the ceiling holds for loud signals, quiet signals pass bit-exactly, latency is
// reported exactly, the gain ramps in before a peak and releases after it, ceiling updates,
// validation and chunking invariance. True-peak mode: limiter_true_peak_test.cc.
#include "processors/limiter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/limiter_test_signals.h"
#include "tests/testing/chunking.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::DspCoreRegistry;
using ::audioproc::testing::LoudTestSignal;
using ::audioproc::testing::Proc;
using ::audioproc::testing::RunWhole;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::Spec;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

const double kCeiling = std::pow(10.0, -1.0 / 20.0);  // -1 dBFS
// The s16 bar: round(ceiling x 32768).
const int kS16Ceiling = static_cast<int>(std::lround(kCeiling * 32768.0));  // 29205

int MaxAbs(const std::vector<int16_t>& samples) {
  int peak = 0;
  for (int16_t s : samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  return peak;
}

TEST(LimiterTest, NoS16SampleExceedsTheCeilingForSignalsTwelveDbOverFullScale) {
  const std::vector<float> loud = LoudTestSignal(16000, 4.0);  // +12 dBFS peaks
  struct Row {
    double lookahead_ms, release_ms;
    uint32_t channels;
  };
  for (const Row& row :
       std::vector<Row>{{5, 50, 1}, {0.5, 1, 1}, {50, 1000, 1}, {2, 10, 2}, {5, 50, 2}}) {
    SCOPED_TRACE(absl::StrCat("lookahead ", row.lookahead_ms, " ms, release ", row.release_ms,
                              " ms, channels ", row.channels));
    std::vector<float> input = loud;
    if (row.channels == 2) {
      // The second channel: the signal reversed, so the channels peak at different times.
      input = testing::Interleave({loud, std::vector<float>(loud.rbegin(), loud.rend())});
    }
    PipelineConfig config = SameFormat(SampleEncoding::kF32, 16000, row.channels,
                                       {Proc("limiter", {{"ceiling_db", -1.0},
                                                         {"lookahead_ms", row.lookahead_ms},
                                                         {"release_ms", row.release_ms}})});
    config.output.encoding = SampleEncoding::kS16;
    absl::StatusOr<std::string> output = RunWhole(config, testing::ToF32Bytes(input));
    ASSERT_TRUE(output.ok()) << output.status();
    const std::vector<int16_t> samples = testing::FromS16Bytes(*output);
    ASSERT_EQ(samples.size(), input.size());
    const int peak = MaxAbs(samples);
    EXPECT_LE(peak, kS16Ceiling);
    // ... and it limits to the ceiling, not far below it.
    EXPECT_GE(peak, kS16Ceiling - 2);
    std::printf("[ measured ] limiter max |s16| = %d, bar %d (%.4f dBFS vs -1)\n", peak,
                kS16Ceiling, 20 * std::log10(peak / 32768.0));
  }
}

TEST(LimiterTest, GainTwelveDbThenLimiterKeepsS16UnderTheCeiling) {
  std::vector<float> signal = LoudTestSignal(16000, 1.0);  // full scale in s16
  const std::string input = testing::ToS16Bytes(signal);
  absl::StatusOr<std::string> output = RunWhole(
      SameFormat(SampleEncoding::kS16, 16000, 1,
                 {Proc("gain", {{"gain_db", 12.0}}), Proc("limiter", {{"ceiling_db", -1.0}})}),
      input);
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_LE(MaxAbs(testing::FromS16Bytes(*output)), kS16Ceiling);
}

TEST(LimiterTest, SignalBelowTheCeilingComesOutIdenticalAfterTheLatency) {
  // s16 up to 29204 (29205 / 32768 is already above -1 dBFS), including the extremes.
  std::vector<float> noise = testing::WhiteNoise(40000, 1.0, 21);
  std::vector<float> s16_signal;
  for (float x : noise) s16_signal.push_back(std::round(x * 29204.0f) / 32768.0f);
  s16_signal[100] = 29204.0f / 32768.0f;
  s16_signal[200] = -29204.0f / 32768.0f;
  // f32 right up to the ceiling itself.
  const auto ceiling = static_cast<float>(kCeiling);
  std::vector<float> f32_signal;
  for (float x : noise) f32_signal.push_back(x * ceiling);
  f32_signal[100] = ceiling;
  f32_signal[300] = -ceiling;
  for (uint32_t channels : {1u, 2u}) {
    for (bool s16 : {true, false}) {
      SCOPED_TRACE(absl::StrCat(s16 ? "s16" : "f32", " x", channels));
      const std::string input =
          s16 ? testing::ToS16Bytes(s16_signal) : testing::ToF32Bytes(f32_signal);
      const PipelineConfig config =
          SameFormat(s16 ? SampleEncoding::kS16 : SampleEncoding::kF32, 16000, channels,
                     {Proc("limiter", {{"ceiling_db", -1.0}})});
      absl::StatusOr<std::string> output = RunWhole(config, input);
      ASSERT_TRUE(output.ok()) << output.status();
      EXPECT_TRUE(*output == input);
    }
  }
}

TEST(LimiterTest, OutputIsExactAgainOnceTheGainHasRecovered) {
  // 0.2 s at +6 dB, then 3 s below the ceiling: once the release has settled (50 ms time
  // constant: well within 1.2 s) the gain is exactly 1 again, with no drift left behind.
  std::vector<float> signal = testing::WhiteNoise(3200, 2.0, 4);
  const std::vector<float> quiet = testing::WhiteNoise(48000, 0.8, 5);
  signal.insert(signal.end(), quiet.begin(), quiet.end());
  const std::string input = testing::ToF32Bytes(signal);
  absl::StatusOr<std::string> output =
      RunWhole(SameFormat(SampleEncoding::kF32, 16000, 1, {Proc("limiter")}), input);
  ASSERT_TRUE(output.ok());
  const std::vector<float> out = testing::FromF32Bytes(*output);
  const size_t settled = 3200 + 16000 * 12 / 10;
  EXPECT_TRUE(std::equal(out.begin() + settled, out.end(), signal.begin() + settled));
  EXPECT_FALSE(std::equal(out.begin(), out.begin() + 3200, signal.begin()));
}

// A prepared limiter with the given parameters (defaults for the rest) for `rate`.
std::unique_ptr<Processor> MakeLimiter(
    const std::vector<std::pair<std::string, ParamValue>>& params, double rate, uint32_t channels,
    uint32_t block) {
  absl::StatusOr<std::unique_ptr<Processor>> limiter =
      DspCoreRegistry().Create(Proc("limiter", params), Spec(rate, channels), nullptr);
  EXPECT_TRUE(limiter.ok()) << limiter.status();
  EXPECT_TRUE((*limiter)->Prepare(ProcessSpec{rate, block, channels}).ok());
  return *std::move(limiter);
}

// Runs mono `x` through `limiter` in one block (the limiter's own delay included).
std::vector<float> RunMono(Processor& limiter, std::vector<float> x) {
  float* channel = x.data();
  AudioBlock block(&channel, 1, static_cast<uint32_t>(x.size()));
  limiter.Process(block, block);
  return x;
}

TEST(LimiterTest, LatencyFramesIsTheExactDelay) {
  struct Row {
    double rate, lookahead_ms;
    bool true_peak;
    int expected;
  };
  for (const Row& row : std::vector<Row>{{16000, 5, false, 80},
                                         {48000, 5, false, 240},
                                         {8000, 0.5, false, 4},
                                         {16000, 5, true, 80 + 3 + 16}}) {
    auto limiter = MakeLimiter({{"lookahead_ms", row.lookahead_ms}, {"true_peak", row.true_peak}},
                               row.rate, 1, 4096);
    EXPECT_EQ(limiter->LatencyFrames(), row.expected);
    std::vector<float> impulse(4096, 0.0f);
    impulse[10] = 0.5f;
    const std::vector<float> out = RunMono(*limiter, impulse);
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i], i == 10 + static_cast<size_t>(row.expected) ? 0.5f : 0.0f) << i;
    }
  }
}

TEST(LimiterTest, GainRampsDownOverTheLookaheadAndReachesTheCeilingAtThePeak) {
  // DC at 0.5 with one spike of 4 (+12 dB) at frame 1000: the gain falls linearly over the
  // L + 1 frames before the spike to exactly ceiling / 4, so the spike leaves at the ceiling.
  auto limiter = MakeLimiter({}, 16000, 1, 8192);
  constexpr int kL = 80;
  std::vector<float> x(6000, 0.5f);
  x[1000] = 4.0f;
  const std::vector<float> out = RunMono(*limiter, x);
  const double required = kCeiling / 4.0;
  EXPECT_NEAR(out[1000 + kL], kCeiling, 1e-6);
  EXPECT_EQ(out[1000 + kL - kL - 1], 0.5f) << "untouched before the lookahead";
  for (int k = 1; k <= kL; ++k) {
    // Frame 1000 - k carries the gain 1 - (1 - required) (L + 1 - k) / (L + 1).
    const double gain = 1.0 - (1.0 - required) * (kL + 1 - k) / (kL + 1.0);
    EXPECT_NEAR(out[1000 - k + kL], 0.5 * gain, 1e-6) << "k = " << k;
  }
}

TEST(LimiterTest, GainReleasesSmoothlyAfterThePeak) {
  auto limiter = MakeLimiter({{"release_ms", 50.0}}, 16000, 1, 40000);
  constexpr int kL = 80;
  std::vector<float> x(40000, 0.5f);
  x[1000] = 4.0f;
  const std::vector<float> out = RunMono(*limiter, x);
  // After the spike, the gain never rises above where it will end, never jumps, and is back
  // to exactly 1 long after (20 time constants = 1 s).
  double largest_step = 0;
  for (int i = 1000 + kL + 2; i < 40000; ++i) {
    ASSERT_GE(out[i], out[i - 1] - 1e-7f) << i;
    largest_step = std::max(largest_step, double{out[i]} - out[i - 1]);
  }
  EXPECT_LT(largest_step, 0.5 * (1 - kCeiling / 4) / kL);
  // One release time constant after the hold has passed, the reduction is about 1/e of its
  // peak (the moving average adds L frames of smoothing).
  const double start_reduction = 1 - kCeiling / 4;
  const double reduction = 1 - out[1000 + 2 * kL + 800] / 0.5;
  EXPECT_GT(reduction, start_reduction * 0.25);
  EXPECT_LT(reduction, start_reduction * 0.5);
  EXPECT_EQ(out[1000 + kL + 24000], 0.5f);
}

TEST(LimiterTest, CeilingUpdateHoldsBothCeilingsWithoutAClick) {
  const std::vector<float> sine = testing::Sine(200, 16000, 32000, 2.0);
  auto pipeline = StreamPipeline::Create(
      DspCoreRegistry(), SameFormat(SampleEncoding::kF32, 16000, 1, {Proc("limiter")}));
  ASSERT_TRUE(pipeline.ok());
  const std::string input = testing::ToF32Bytes(sine);
  std::string bytes;
  (*pipeline)->ProcessChunk(absl::string_view(input).substr(0, 4 * 16000), &bytes);
  const size_t update_frame = bytes.size() / 4;  // output frames emitted before the update
  ASSERT_THAT((*pipeline)->chain().Update(0, Proc("limiter", {{"ceiling_db", -6.0}})),
              testing::IsOk());
  (*pipeline)->ProcessChunk(absl::string_view(input).substr(4 * 16000), &bytes);
  (*pipeline)->Finish(&bytes);
  const std::vector<float> out = testing::FromF32Bytes(bytes);
  ASSERT_EQ(out.size(), sine.size());
  const double new_ceiling = std::pow(10.0, -6.0 / 20.0);
  double steady_step = 0, transition_step = 0;
  for (size_t i = 1; i < out.size(); ++i) {
    ASSERT_LE(std::fabs(out[i]), kCeiling + 1e-7) << i;
    // The audio behind the update (80 frames of lookahead) keeps the old ceiling.
    if (i >= update_frame + 80) {
      ASSERT_LE(std::fabs(out[i]), new_ceiling + 1e-7) << i;
    }
    const double step = std::fabs(out[i] - out[i - 1]);
    if (i > 8000 && i < update_frame) steady_step = std::max(steady_step, step);
    if (i >= update_frame && i < update_frame + 1600)
      transition_step = std::max(transition_step, step);
  }
  EXPECT_LE(transition_step, steady_step * 1.05) << "no click";
}

TEST(LimiterTest, HugeInputStaysFiniteAndUnderTheCeiling) {
  auto limiter = MakeLimiter({}, 16000, 1, 1024);
  std::vector<float> x(1024, 0.0f);
  x[10] = 3e38f;
  x[11] = -3e38f;
  x[12] = std::numeric_limits<float>::max();
  for (float y : RunMono(*limiter, x)) {
    ASSERT_TRUE(std::isfinite(y));
    ASSERT_LE(std::fabs(y), kCeiling);
  }
}

TEST(LimiterTest, InvalidParametersAreRefusedWithFieldAndRange) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  testing::ExpectRefusals(
      DspCoreRegistry(), "limiter", Spec(16000, 1),
      {
          {"ceiling_db", 0.5, "limiter.ceiling_db must be in [-60, 0] dB, got 0.5"},
          {"ceiling_db", -61.0, "limiter.ceiling_db must be in [-60, 0] dB, got -61"},
          {"ceiling_db", nan, "limiter.ceiling_db must be in [-60, 0] dB, got nan"},
          {"lookahead_ms", 0.4, "limiter.lookahead_ms must be in [0.5, 50] ms"},
          {"lookahead_ms", 51.0, "limiter.lookahead_ms must be in [0.5, 50] ms"},
          {"release_ms", 0.0, "limiter.release_ms must be in [1, 1000] ms"},
          {"true_peak", 1.0, "limiter.true_peak must be true or false"},
      });
  absl::StatusOr<ParamValues> defaults = DspCoreRegistry().Resolve(Proc("limiter"), Spec(16000, 1));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->Number("ceiling_db"), -1.0);
  EXPECT_EQ(defaults->Number("lookahead_ms"), 5.0);
  EXPECT_EQ(defaults->Number("release_ms"), 50.0);
  EXPECT_EQ(defaults->Bool("true_peak"), false);
  EXPECT_THAT(DspCoreRegistry().ValidateUpdate(Proc("limiter", {{"lookahead_ms", 10.0}}), *defaults,
                                               Spec(16000, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("limiter.lookahead_ms cannot be changed while streaming")));
}

TEST(LimiterTest, OutputDoesNotDependOnChunking) {
  const std::vector<float> loud = LoudTestSignal(16000, 4.0);
  const std::vector<float> signal(loud.begin(), loud.begin() + 24000);
  struct Row {
    const char* name;
    std::vector<ProcessorConfig> chain;
  };
  const std::vector<Row> rows = {
      {"limiter", {Proc("limiter")}},
      {"true-peak limiter", {Proc("limiter", {{"true_peak", true}, {"lookahead_ms", 1.0}})}},
      {"gain +12 dB -> limiter -1",
       {Proc("gain", {{"gain_db", 12.0}}), Proc("limiter", {{"ceiling_db", -1.0}})}},
      {"gain -> mix -> limiter",
       {Proc("gain", {{"gain_db", 6.0}}), Proc("mix", {{"output_channels", 1.0}}),
        Proc("limiter", {{"release_ms", 5.0}})}},
  };
  for (const Row& row : rows) {
    for (SampleEncoding encoding :
         {SampleEncoding::kS16, SampleEncoding::kF32, SampleEncoding::kMulaw}) {
      for (uint32_t channels : {1u, 2u}) {
        SCOPED_TRACE(absl::StrCat(row.name, ", ", EncodingName(encoding), " x", channels));
        std::vector<float> input = signal;
        if (channels == 2) input = testing::Interleave({signal, testing::WhiteNoise(24000, 3, 8)});
        std::string bytes;
        if (encoding == SampleEncoding::kF32) bytes = testing::ToF32Bytes(input);
        if (encoding == SampleEncoding::kS16) bytes = testing::ToS16Bytes(input);
        if (encoding == SampleEncoding::kMulaw) {
          std::vector<float> quiet;
          for (float x : input) quiet.push_back(x / 4);
          bytes = testing::ToS16Bytes(quiet);  // any bytes are valid mu-law
        }
        testing::ExpectChunkingInvariant(SameFormat(encoding, 16000, channels, row.chain), bytes,
                                         DspCoreRegistry());
      }
    }
  }
}

}  // namespace
}  // namespace audioproc
