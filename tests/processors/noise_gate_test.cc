// noise_gate: the DESIGN §4 bar (steady-state attenuation below the threshold within 0.5 dB of
// range_db; unity within 0.1 dB above it), the attack / hold / release timing against the
// detector's analytic response, linked channels, click-free runtime updates, validation
// messages and chunking invariance.
#include "processors/noise_gate.h"

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

constexpr auto Registry = testing::RegistryOf<NoiseGateDefinition>;

double RmsDb(const std::vector<float>& x, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += double{x[i]} * x[i];
  return 10 * std::log10(sum / static_cast<double>(end - begin));
}

// A 1 kHz sine at `level_db` dBFS RMS.
std::vector<float> SineAt(double level_db, size_t frames, double phase = 0) {
  return testing::Sine(1000, kRate, frames, std::sqrt(2.0) * std::pow(10, level_db / 20), phase);
}

// Runs mono `x` through `config` in blocks of 480 frames and returns the output.
std::vector<float> RunGate(const ProcessorConfig& config, std::vector<float> x) {
  auto processor = testing::MakeProcessor(Registry(), config, {kRate, 480, 1});
  EXPECT_TRUE(processor.ok()) << processor.status();
  if (processor.ok()) testing::RunMono(**processor, x, 480);
  return x;
}

TEST(NoiseGateTest, SteadySignalBelowTheThresholdIsAttenuatedByRangeDb) {
  struct Case {
    double threshold, range, level;
    bool loud_first;  // whether the gate was open before (and had to close)
  };
  const Case cases[] = {{-50, -40, -60, false}, {-50, -40, -60, true},  {-30, -100, -45, true},
                        {-20, -6, -21, true},   {-80, -80, -95, false}, {0, -20, -10, false},
                        {-50, 0, -70, true}};
  double worst = 0;
  for (const Case& c : cases) {
    std::vector<float> x = SineAt(c.level, 96000);
    if (c.loud_first) {
      const std::vector<float> loud = SineAt(c.threshold + 10, 24000);
      std::copy(loud.begin(), loud.end(), x.begin());
    }
    const std::vector<float> y =
        RunGate(Proc("noise_gate", {{"threshold_db", c.threshold}, {"range_db", c.range}}), x);
    const double attenuation = RmsDb(y, 72000, 96000) - RmsDb(x, 72000, 96000);
    EXPECT_NEAR(attenuation, c.range, 0.5)
        << absl::StrFormat("threshold %g range %g level %g", c.threshold, c.range, c.level);
    worst = std::max(worst, std::fabs(attenuation - c.range));
  }
  std::printf("[ measured ] below threshold: worst deviation from range_db %.2e dB\n", worst);
}

TEST(NoiseGateTest, SignalAboveTheThresholdPassesAtUnity) {
  struct Case {
    double threshold, level;
    bool noise;
  };
  const Case cases[] = {{-50, -40, false}, {-50, -3.01, false}, {-100, -90, false},
                        {-20, -19, false}, {-30, -24, true},    {-6, -3.01, false}};
  double worst = 0;
  for (const Case& c : cases) {
    // Uniform noise of amplitude a has an RMS of a / sqrt(3).
    const std::vector<float> x =
        c.noise ? testing::WhiteNoise(96000, std::sqrt(3.0) * std::pow(10, c.level / 20), 5)
                : SineAt(c.level, 96000);
    const std::vector<float> y = RunGate(Proc("noise_gate", {{"threshold_db", c.threshold}}), x);
    const double gain_db = RmsDb(y, 24000, 96000) - RmsDb(x, 24000, 96000);
    EXPECT_NEAR(gain_db, 0.0, 0.1)
        << absl::StrFormat("threshold %g level %g", c.threshold, c.level);
    worst = std::max(worst, std::fabs(gain_db));
  }
  std::printf("[ measured ] above threshold: worst deviation from unity %.2e dB\n", worst);
}

TEST(NoiseGateTest, OpensClosesAndHoldsWhereTheRmsDetectorCrossesTheThreshold) {
  // DC has an exact mean square, so the detector's crossings are known in closed form.
  constexpr size_t kLoud = 24000;
  std::vector<float> x(120000, 0.001f);           // -60 dBFS: below the -50 dB threshold
  std::fill(x.begin(), x.begin() + kLoud, 0.1f);  // -20 dBFS
  const std::vector<float> y = RunGate(Proc("noise_gate"), x);
  auto gain_db = [&](size_t i) { return 20 * std::log10(double{y[i]} / x[i]); };
  const double detector = std::exp(-1000 / (kNoiseGateRmsMs * kRate));
  const double attack = std::exp(-1000 / (1.0 * kRate));
  const double release = std::exp(-1000 / (100.0 * kRate));

  // Opening: the first frame already crosses -50 dB; the gain rises from -40 dB with attack.
  for (size_t i : {0, 10, 47, 200}) {
    EXPECT_NEAR(gain_db(i), -40 * std::pow(attack, i + 1), 1e-3) << i;
  }
  EXPECT_EQ(y[kLoud - 1], x[kLoud - 1]) << "open: unity";

  // Closing: the mean square after the drop is Pq + (P - Pq) d^(m + 1) at frame kLoud + m.
  const double p = 0.01, pq = 1e-6, threshold = 1e-5;
  const auto below = static_cast<size_t>(
      std::floor(std::log((threshold - pq) / (p - pq)) / std::log(detector)));  // m + 1 >= this
  const size_t hold = 2400;                                                     // 50 ms
  const size_t closing = kLoud + below + hold;  // the first frame with a gain below 1
  for (size_t i = kLoud; i + 1 < closing; ++i) ASSERT_EQ(y[i], x[i]) << "held open at " << i;
  EXPECT_LT(gain_db(closing + 1), 0.0);
  const auto closed = static_cast<size_t>(
      std::find_if(y.begin() + kLoud, y.end(), [](float v) { return v < 0.001f; }) - y.begin());
  std::printf("[ measured ] gate starts closing at frame %zu, expected %zu\n", closed, closing);
  // One release time constant later: 1 - 1/e of the way to -40 dB.
  const size_t one_tau = closing + 4800;
  EXPECT_NEAR(gain_db(one_tau), -40 * (1 - std::pow(release, 4800)), 0.05);
  EXPECT_NEAR(gain_db(one_tau), -25.28, 0.05);
  EXPECT_EQ(y.back(), static_cast<float>(0.001f * std::pow(10.0, -40.0 / 20))) << "closed";
}

TEST(NoiseGateTest, ChannelsShareOneGainDrivenByTheLoudestChannel) {
  const std::vector<float> loud = SineAt(-20, 48000);
  const std::vector<float> quiet = SineAt(-70, 48000);
  std::vector<float> left = loud, right = quiet;
  auto processor = testing::MakeProcessor(Registry(), Proc("noise_gate"), {kRate, 1000, 2});
  ASSERT_TRUE(processor.ok());
  for (uint32_t offset = 0; offset < 48000; offset += 1000) {
    float* channels[] = {left.data() + offset, right.data() + offset};
    AudioBlock block(channels, 2, 1000);
    (*processor)->Process(block, block);
  }
  // Once open, the quiet channel passes untouched along with the loud one.
  for (size_t i = 4800; i < 48000; ++i) {
    ASSERT_EQ(left[i], loud[i]) << i;
    ASSERT_EQ(right[i], quiet[i]) << i;
  }
}

// The largest sample-to-sample step in [begin, end).
double MaxStep(const std::vector<float>& y, size_t begin, size_t end) {
  double step = 0;
  for (size_t i = std::max<size_t>(begin, 1); i < end; ++i) {
    step = std::max(step, std::fabs(double{y[i]} - y[i - 1]));
  }
  return step;
}

// Streams `signal` (mono, 48 kHz f32), applies `update` halfway, and returns the output.
std::vector<float> ThroughUpdate(const ProcessorConfig& initial, const ProcessorConfig& update,
                                 const std::vector<float>& signal) {
  auto pipeline =
      StreamPipeline::Create(Registry(), SameFormat(SampleEncoding::kF32, 48000, 1, {initial}));
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  const std::string input = testing::ToF32Bytes(signal);
  std::string out;
  (*pipeline)->ProcessChunk(absl::string_view(input).substr(0, input.size() / 2), &out);
  EXPECT_THAT((*pipeline)->chain().Update(0, update), testing::IsOk());
  (*pipeline)->ProcessChunk(absl::string_view(input).substr(input.size() / 2), &out);
  (*pipeline)->Finish(&out);
  return testing::FromF32Bytes(out);
}

TEST(NoiseGateTest, UpdatesRampWithoutAClick) {
  struct Case {
    ProcessorConfig initial, update;
    double level;
  };
  // Attack and release of 0.1 and 1 ms: without the 10 ms parameter ramp a range change would
  // reach the gain within a few samples.
  const std::vector<Case> cases = {
      {Proc(
           "noise_gate",
           {{"threshold_db", -30.0}, {"range_db", -80.0}, {"attack_ms", 0.1}, {"release_ms", 1.0}}),
       Proc("noise_gate", {{"range_db", 0.0}}), -40},
      {Proc("noise_gate",
            {{"threshold_db", -30.0}, {"range_db", 0.0}, {"attack_ms", 0.1}, {"release_ms", 1.0}}),
       Proc("noise_gate", {{"range_db", -100.0}}), -40},
      {Proc("noise_gate", {{"threshold_db", -50.0}}), Proc("noise_gate", {{"threshold_db", -20.0}}),
       -30},
      {Proc("noise_gate", {{"threshold_db", -20.0}}), Proc("noise_gate", {{"threshold_db", -50.0}}),
       -30},
      {Proc("noise_gate"),
       Proc("noise_gate", {{"attack_ms", 1000.0}, {"hold_ms", 0.0}, {"release_ms", 5000.0}}), -30},
  };
  for (const Case& c : cases) {
    // A cosine: the update lands on a peak, where a step in the gain would show the most.
    const std::vector<float> y =
        ThroughUpdate(c.initial, c.update, SineAt(c.level, 96000 * 2, M_PI / 2));
    ASSERT_EQ(y.size(), 192000u);
    const double steady = std::max(MaxStep(y, 72000, 96000), MaxStep(y, 168000, 192000));
    const double during = MaxStep(y, 96000, 168000);
    const std::string name = absl::StrCat(c.update.params.begin()->first);
    std::printf("[ measured ] update %s: largest step %.3g, steady %.3g (ratio %.3f)\n",
                name.c_str(), during, steady, during / steady);
    EXPECT_LE(during, 1.1 * steady) << name;
  }
}

TEST(NoiseGateTest, HoldUpdateAppliesFromTheNextFrame) {
  // Loud for 2.5 s, then quiet; the update (hold 50 ms -> 2 s) comes at 2 s, before the drop,
  // so the gate is still open 1 s after it.
  std::vector<float> x = SineAt(-60, 192000);
  const std::vector<float> loud = SineAt(-20, 120000);
  std::copy(loud.begin(), loud.end(), x.begin());
  const std::vector<float> y =
      ThroughUpdate(Proc("noise_gate"), Proc("noise_gate", {{"hold_ms", 2000.0}}), x);
  ASSERT_EQ(y.size(), x.size());
  for (size_t i = 120000; i < 168000; ++i) ASSERT_EQ(y[i], x[i]) << "held open at " << i;
}

TEST(NoiseGateTest, OutOfRangeValuesAreRefusedNamingTheParameterAndRange) {
  testing::ExpectRefusals(
      Registry(), "noise_gate", Spec(16000, 1),
      {
          {"threshold_db", -101.0, "noise_gate.threshold_db must be in [-100, 0] dB, got -101"},
          {"threshold_db", 1.0, "noise_gate.threshold_db must be in [-100, 0] dB"},
          {"range_db", -100.5, "noise_gate.range_db must be in [-100, 0] dB"},
          {"range_db", 3.0, "noise_gate.range_db must be in [-100, 0] dB, got 3"},
          {"attack_ms", 0.01, "noise_gate.attack_ms must be in [0.1, 1000] ms"},
          {"attack_ms", 2000.0, "noise_gate.attack_ms must be in [0.1, 1000] ms"},
          {"hold_ms", -1.0, "noise_gate.hold_ms must be in [0, 5000] ms"},
          {"hold_ms", 5001.0, "noise_gate.hold_ms must be in [0, 5000] ms"},
          {"release_ms", 0.0, "noise_gate.release_ms must be in [1, 5000] ms"},
          {"release_ms", 6000.0, "noise_gate.release_ms must be in [1, 5000] ms"},
          {"range_db", std::numeric_limits<double>::quiet_NaN(), "noise_gate.range_db must be in"},
      });
  ParamValues current = *Registry().Resolve(Proc("noise_gate"), Spec(16000, 1));
  EXPECT_THAT(
      Registry().ValidateUpdate(Proc("noise_gate", {{"hold_ms", 9000.0}}), current, Spec(16000, 1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("noise_gate.hold_ms")));
}

TEST(NoiseGateTest, DefaultsAreTheDesignContract) {
  absl::StatusOr<ParamValues> resolved = Registry().Resolve(Proc("noise_gate"), Spec(16000, 1));
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->Number("threshold_db"), -50);
  EXPECT_EQ(resolved->Number("range_db"), -40);
  EXPECT_EQ(resolved->Number("attack_ms"), 1);
  EXPECT_EQ(resolved->Number("hold_ms"), 50);
  EXPECT_EQ(resolved->Number("release_ms"), 100);
  for (const ParamInfo& param : NoiseGateDefinition().info.params) {
    EXPECT_TRUE(param.runtime_updatable) << param.name;
  }
}

TEST(NoiseGateTest, OutputDoesNotDependOnChunking) {
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
    for (uint32_t channels : {1u, 2u}) {
      SCOPED_TRACE(absl::StrCat(EncodingName(encoding), " x", channels));
      // Bursts at several levels with gaps shorter and longer than the hold.
      std::vector<float> signal = testing::WhiteNoise(9000 * channels, 1.0, 13);
      for (size_t i = 0; i < signal.size(); ++i) {
        const size_t segment = i / channels / 700;
        signal[i] *= static_cast<float>(std::array{0.5, 0.001, 0.2, 0.0, 0.02}[segment % 5]);
      }
      const PipelineConfig config = SameFormat(
          encoding, 16000, channels,
          {Proc("noise_gate", {{"threshold_db", -30.0}, {"hold_ms", 20.0}, {"release_ms", 30.0}})});
      testing::ExpectChunkingInvariant(config, testing::EncodeAs(encoding, signal), Registry());
    }
  }
}

}  // namespace
}  // namespace audioproc
