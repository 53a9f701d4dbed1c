// compressor: the DESIGN §4 bar (static curve within 0.5 dB of the analytic soft-knee curve,
// levels in dBFS RMS), the documented detector and smoothing, linked channels, click-free
// runtime updates, validation messages and chunking invariance.
#include "processors/compressor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/reference_filters.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Proc;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::Spec;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr double kRate = 48000;

constexpr auto Registry = testing::RegistryOf<CompressorDefinition>;

// The analytic static curve (Giannoulis, Massberg and Reiss 2012, eq. 4): output level for a
// steady input level, all in dB.
double AnalyticOutputDb(double threshold, double ratio, double knee, double makeup, double level) {
  const double over = level - threshold;
  double out = level;
  if (2 * std::fabs(over) <= knee && knee > 0) {
    out = level + (1 / ratio - 1) * (over + knee / 2) * (over + knee / 2) / (2 * knee);
  } else if (2 * over > knee) {
    out = threshold + over / ratio;
  }
  return out + makeup;
}

double RmsDb(const float* samples, size_t count) {
  double sum = 0;
  for (size_t i = 0; i < count; ++i) sum += double{samples[i]} * samples[i];
  return 10 * std::log10(sum / static_cast<double>(count));
}

// The output level (dBFS RMS) of a steady 1 kHz sine at `level_db` dBFS RMS through `config`,
// measured over the last half second of two (500 whole periods).
double SteadyOutputDb(const ProcessorConfig& config, double level_db) {
  auto processor = testing::MakeProcessor(Registry(), config, {kRate, 480, 1});
  EXPECT_TRUE(processor.ok()) << processor.status();
  if (!processor.ok()) return 1e9;
  std::vector<float> x =
      testing::Sine(1000, kRate, 2 * kRate, std::sqrt(2.0) * std::pow(10, level_db / 20));
  testing::RunMono(**processor, x, 480);
  return RmsDb(x.data() + x.size() / 4 * 3, x.size() / 4);
}

TEST(CompressorTest, TenDbfsSineAtFourToOneComesOutAtMinusSeventeenAndAHalf) {
  const double out = SteadyOutputDb(
      Proc("compressor", {{"threshold_db", -20.0}, {"ratio", 4.0}, {"knee_db", 0.0}}), -10);
  std::printf("[ measured ] -10 dBFS RMS in, -20/4:1/knee 0 -> %.4f dBFS RMS (bar -17.5)\n", out);
  EXPECT_NEAR(out, -17.5, 0.5);
}

TEST(CompressorTest, StaticCurveMatchesTheAnalyticSoftKneeCurveWithinHalfDb) {
  struct Curve {
    double threshold, ratio, knee, makeup;
  };
  const Curve curves[] = {{-20, 4, 0, 0},    {-20, 4, 6, 0},   {-30, 2, 12, 6}, {-10, 100, 24, 0},
                          {-40, 1.5, 0, -6}, {-60, 8, 10, 24}, {-20, 1, 6, 0}};
  double worst = 0;
  std::string worst_where;
  for (const Curve& c : curves) {
    // Below, at the edges of, inside and above the knee, up to a full-scale sine.
    std::vector<double> levels = {c.threshold - c.knee / 2 - 10, c.threshold - c.knee / 2,
                                  c.threshold - c.knee / 4,      c.threshold,
                                  c.threshold + c.knee / 4,      c.threshold + c.knee / 2,
                                  c.threshold + c.knee / 2 + 8,  -3.0103};
    for (double level : levels) {
      if (level > -3.0103 || level < -90) continue;
      const ProcessorConfig config = Proc("compressor", {{"threshold_db", c.threshold},
                                                         {"ratio", c.ratio},
                                                         {"knee_db", c.knee},
                                                         {"makeup_db", c.makeup}});
      const double measured = SteadyOutputDb(config, level);
      const double expected = AnalyticOutputDb(c.threshold, c.ratio, c.knee, c.makeup, level);
      const std::string where = absl::StrFormat("T %g R %g W %g M %g at %.2f dB", c.threshold,
                                                c.ratio, c.knee, c.makeup, level);
      EXPECT_NEAR(measured, expected, 0.5) << where;
      if (std::fabs(measured - expected) >= worst) {
        worst = std::fabs(measured - expected);
        worst_where = where;
      }
    }
  }
  std::printf("[ measured ] static curve: worst deviation %.4f dB (%s)\n", worst,
              worst_where.c_str());
}

// The header's per-frame model, written out in double for a DC input (whose mean square the
// detector sees without ripple): detector, curve, attack / release in dB, makeup.
std::vector<double> ModelGainDb(const std::vector<float>& x, double threshold, double ratio,
                                double knee, double attack_ms, double release_ms, double makeup) {
  const double detector = std::exp(-1 / (kCompressorRmsMs / 1000 * kRate));
  const double attack = std::exp(-1 / (attack_ms / 1000 * kRate));
  const double release = std::exp(-1 / (release_ms / 1000 * kRate));
  double mean_square = 0, reduction = 0;
  std::vector<double> gain_db;
  for (float sample : x) {
    mean_square = sample * sample + detector * (mean_square - double{sample} * sample);
    const double level = mean_square > 0 ? 10 * std::log10(mean_square) : -400;
    const double target = level - AnalyticOutputDb(threshold, ratio, knee, 0, level);
    const double a = target > reduction ? attack : release;
    reduction = target + a * (reduction - target);
    gain_db.push_back(makeup - reduction);
  }
  return gain_db;
}

TEST(CompressorTest, GainFollowsTheRmsDetectorAndAttackReleaseSmoothingInDb) {
  // DC steps: quiet, loud (attack), quiet again (release).
  std::vector<float> x(48000, 0.01f);
  std::fill(x.begin() + 4800, x.begin() + 14400, 0.5f);
  const ProcessorConfig config = Proc("compressor", {{"threshold_db", -24.0},
                                                     {"ratio", 5.0},
                                                     {"knee_db", 8.0},
                                                     {"attack_ms", 3.0},
                                                     {"release_ms", 40.0},
                                                     {"makeup_db", 2.0}});
  auto processor = testing::MakeProcessor(Registry(), config, {kRate, 256, 1});
  ASSERT_TRUE(processor.ok()) << processor.status();
  std::vector<float> y = x;
  testing::RunMono(**processor, y, 256);
  const std::vector<double> model = ModelGainDb(x, -24, 5, 8, 3, 40, 2);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, std::fabs(20 * std::log10(y[i] / x[i]) - model[i]));
  }
  std::printf("[ measured ] DC steps: worst gain deviation from the model %.2e dB\n", worst);
  EXPECT_LT(worst, 1e-3);
  // The release returned all the way: below the knee the gain is exactly the makeup.
  EXPECT_EQ(y.back(), 0.01f * static_cast<float>(std::pow(10.0, 2.0 / 20)));
}

TEST(CompressorTest, BelowTheKneeWithoutMakeupTheOutputEqualsTheInput) {
  const std::vector<float> noise = testing::WhiteNoise(20000, 0.05, 7);  // about -31 dBFS RMS
  auto processor = testing::MakeProcessor(Registry(), Proc("compressor"), {kRate, 512, 1});
  ASSERT_TRUE(processor.ok());
  std::vector<float> y = noise;
  testing::RunMono(**processor, y, 512);
  EXPECT_EQ(y, noise);
}

TEST(CompressorTest, ChannelsShareOneGainDrivenByTheLoudestChannel) {
  const std::vector<float> loud = testing::Sine(440, kRate, 48000, 0.7);
  std::vector<float> quiet = loud;
  for (float& v : quiet) v *= 0.01f;  // -43 dBFS RMS: far below the threshold on its own
  std::vector<float> left = loud, right = quiet;
  float* channels[] = {left.data(), right.data()};
  auto processor = testing::MakeProcessor(Registry(), Proc("compressor"), {kRate, 1000, 2});
  ASSERT_TRUE(processor.ok());
  for (uint32_t offset = 0; offset < 48000; offset += 1000) {
    float* block_channels[] = {channels[0] + offset, channels[1] + offset};
    AudioBlock block(block_channels, 2, 1000);
    (*processor)->Process(block, block);
  }
  for (size_t i = 0; i < loud.size(); ++i) {
    if (std::fabs(loud[i]) < 0.05f) continue;
    const double left_gain = left[i] / loud[i];
    ASSERT_NEAR(right[i] / quiet[i], left_gain, 1e-5 * left_gain) << i;
  }
  // The quiet channel is compressed as much as the loud one: -6.1 dBFS RMS at 4:1, knee 6.
  const double gain_db = 20 * std::log10(right.back() / quiet.back());
  EXPECT_NEAR(gain_db, AnalyticOutputDb(-20, 4, 6, 0, -6.099) + 6.099, 0.1);
}

// The largest sample-to-sample step of the left channel in [begin, end).
double MaxStep(const std::vector<float>& y, size_t begin, size_t end) {
  double step = 0;
  for (size_t i = std::max<size_t>(begin, 1); i < end; ++i) {
    step = std::max(step, std::fabs(double{y[i]} - y[i - 1]));
  }
  return step;
}

// Streams a stereo 1 kHz cosine at -10 dBFS RMS, applies `update` after one second, streams
// another second, and returns the left channel.
std::vector<float> SineThroughUpdate(const ProcessorConfig& initial,
                                     const ProcessorConfig& update) {
  auto pipeline =
      StreamPipeline::Create(Registry(), SameFormat(SampleEncoding::kF32, 48000, 2, {initial}));
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  // A cosine: the update lands on a peak, where a step in the gain would show the most.
  const std::vector<float> sine = testing::Sine(1000, kRate, 96000, std::sqrt(0.2), M_PI / 2);
  const std::string input = testing::ToF32Bytes(testing::Interleave({sine, sine}));
  std::string out;
  (*pipeline)->ProcessChunk(absl::string_view(input).substr(0, input.size() / 2), &out);
  EXPECT_THAT((*pipeline)->chain().Update(0, update), testing::IsOk());
  (*pipeline)->ProcessChunk(absl::string_view(input).substr(input.size() / 2), &out);
  (*pipeline)->Finish(&out);
  const std::vector<float> interleaved = testing::FromF32Bytes(out);
  std::vector<float> left;
  for (size_t i = 0; i < interleaved.size(); i += 2) left.push_back(interleaved[i]);
  return left;
}

TEST(CompressorTest, UpdatesRampWithoutAClick) {
  // Attack 0.1 ms and release 1 ms: without the parameter ramp the gain would follow a 40 dB
  // threshold or makeup change within a few samples.
  const ProcessorConfig initial =
      Proc("compressor", {{"attack_ms", 0.1}, {"release_ms", 1.0}, {"knee_db", 0.0}});
  const std::vector<ProcessorConfig> updates = {
      Proc("compressor", {{"threshold_db", -60.0}}),
      Proc("compressor", {{"threshold_db", 0.0}, {"ratio", 1.0}}),
      Proc("compressor", {{"makeup_db", 24.0}}),
      Proc("compressor", {{"makeup_db", -24.0}, {"ratio", 100.0}, {"knee_db", 24.0}}),
      Proc("compressor", {{"attack_ms", 1000.0}, {"release_ms", 5000.0}}),
  };
  for (const ProcessorConfig& update : updates) {
    const std::vector<float> y = SineThroughUpdate(initial, update);
    ASSERT_EQ(y.size(), 96000u);
    // Steady steps before and long after the update bound what a click-free change may do.
    const double steady = std::max(MaxStep(y, 24000, 48000), MaxStep(y, 72000, 96000));
    const double during = MaxStep(y, 48000, 72000);
    std::printf("[ measured ] update %s: largest step %.4f, steady %.4f (ratio %.3f)\n",
                absl::StrCat(update.params.begin()->first).c_str(), during, steady,
                during / steady);
    EXPECT_LE(during, 1.1 * steady) << update.params.begin()->first;
    for (float v : y) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(CompressorTest, OutOfRangeValuesAreRefusedNamingTheParameterAndRange) {
  testing::ExpectRefusals(
      Registry(), "compressor", Spec(48000, 2),
      {
          {"threshold_db", -81.0, "compressor.threshold_db must be in [-80, 0] dB, got -81"},
          {"threshold_db", 0.5, "compressor.threshold_db must be in [-80, 0] dB"},
          {"ratio", 0.5, "compressor.ratio must be in [1, 100], got 0.5"},
          {"ratio", 101.0, "compressor.ratio must be in [1, 100]"},
          {"knee_db", -1.0, "compressor.knee_db must be in [0, 24] dB"},
          {"knee_db", 25.0, "compressor.knee_db must be in [0, 24] dB"},
          {"attack_ms", 0.05, "compressor.attack_ms must be in [0.1, 1000] ms"},
          {"attack_ms", 1001.0, "compressor.attack_ms must be in [0.1, 1000] ms"},
          {"release_ms", 0.5, "compressor.release_ms must be in [1, 5000] ms"},
          {"release_ms", 5001.0, "compressor.release_ms must be in [1, 5000] ms"},
          {"makeup_db", -25.0, "compressor.makeup_db must be in [-24, 48] dB"},
          {"makeup_db", 49.0, "compressor.makeup_db must be in [-24, 48] dB"},
          {"ratio", std::numeric_limits<double>::quiet_NaN(),
           "compressor.ratio must be in [1, 100]"},
      });
  // Mid-stream: the same check, and the stream keeps its settings.
  ParamValues current = *Registry().Resolve(Proc("compressor"), Spec(48000, 2));
  EXPECT_THAT(
      Registry().ValidateUpdate(Proc("compressor", {{"ratio", 200.0}}), current, Spec(48000, 2)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("compressor.ratio")));
}

TEST(CompressorTest, DefaultsAreTheDesignContract) {
  absl::StatusOr<ParamValues> resolved = Registry().Resolve(Proc("compressor"), Spec(16000, 1));
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->Number("threshold_db"), -20);
  EXPECT_EQ(resolved->Number("ratio"), 4);
  EXPECT_EQ(resolved->Number("knee_db"), 6);
  EXPECT_EQ(resolved->Number("attack_ms"), 10);
  EXPECT_EQ(resolved->Number("release_ms"), 100);
  EXPECT_EQ(resolved->Number("makeup_db"), 0);
  for (const ParamInfo& param : CompressorDefinition().info.params) {
    EXPECT_TRUE(param.runtime_updatable) << param.name;
  }
}

TEST(CompressorTest, HugeInputWithMakeupStaysFinite) {
  const std::vector<float> huge = {3e38f, -3e38f, 1.0f, 3e38f, 0.0f};
  absl::StatusOr<std::string> output = testing::RunInChunks(
      SameFormat(SampleEncoding::kF32, 16000, 1,
                 {Proc("compressor", {{"makeup_db", 48.0}, {"attack_ms", 1000.0}})}),
      testing::ToF32Bytes(huge), {1000}, Registry());
  ASSERT_TRUE(output.ok());
  for (float y : testing::FromF32Bytes(*output)) EXPECT_TRUE(std::isfinite(y)) << y;
}

// Bursts of noise at different levels with silence between: the detector, attack and release
// all run across chunk boundaries.
std::vector<float> Bursts(size_t frames, uint32_t channels) {
  std::vector<float> signal = testing::WhiteNoise(frames * channels, 1.0, 11);
  for (size_t i = 0; i < signal.size(); ++i) {
    const size_t segment = i / channels / 1500;
    signal[i] *= static_cast<float>(std::array{0.9, 0.0, 0.05, 0.5, 0.003}[segment % 5]);
  }
  return signal;
}

TEST(CompressorTest, OutputDoesNotDependOnChunking) {
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
    for (uint32_t channels : {1u, 2u}) {
      SCOPED_TRACE(absl::StrCat(EncodingName(encoding), " x", channels));
      const PipelineConfig config = SameFormat(
          encoding, 16000, channels,
          {Proc("compressor", {{"threshold_db", -30.0}, {"attack_ms", 1.0}, {"makeup_db", 6.0}})});
      testing::ExpectChunkingInvariant(config, testing::EncodeAs(encoding, Bursts(8000, channels)),
                                       Registry());
    }
  }
}

}  // namespace
}  // namespace audioproc
