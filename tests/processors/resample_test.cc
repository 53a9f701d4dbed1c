// resample: exact length through a StreamPipeline, alignment of a click, a 1 kHz tone against
// the analytic sine at the output rate, chunking invariance, the latency bound, validation.
#include "processors/resample.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

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

using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr auto ResampleRegistry = testing::RegistryOf<ResampleDefinition>;

struct RatePair {
  uint32_t in;
  uint32_t out;
};

std::string Name(const ::testing::TestParamInfo<RatePair>& info) {
  return std::to_string(info.param.in) + "To" + std::to_string(info.param.out);
}

// A stream from `in` to `out` Hz with an empty chain: the pipeline appends the resample.
PipelineConfig Conversion(RatePair rates, uint32_t channels) {
  PipelineConfig config;
  config.input = {SampleEncoding::kF32, rates.in, channels};
  config.output = {SampleEncoding::kF32, rates.out, channels};
  return config;
}

std::vector<float> RunF32(const PipelineConfig& config, const std::vector<float>& interleaved) {
  const std::string input = testing::ToF32Bytes(interleaved);
  absl::StatusOr<std::string> output =
      testing::RunInChunks(config, input, {input.size() + 1}, ResampleRegistry());
  EXPECT_TRUE(output.ok()) << output.status();
  return output.ok() ? testing::FromF32Bytes(*output) : std::vector<float>{};
}

class ResampleRatesTest : public ::testing::TestWithParam<RatePair> {};

TEST_P(ResampleRatesTest, OutputIsExactlyTheRoundedScaledLength) {
  const RatePair rates = GetParam();
  for (size_t frames : {size_t{0}, size_t{1}, size_t{7}, size_t{999}, size_t{rates.in} + 3,
                        size_t{3 * rates.in + 1}}) {
    const std::vector<float> input = testing::WhiteNoise(frames * 2, 0.5, 7);
    const std::vector<float> output = RunF32(Conversion(rates, 2), input);
    const double expected = std::round(static_cast<double>(frames) * rates.out / rates.in);
    EXPECT_EQ(output.size(), 2 * static_cast<size_t>(expected)) << frames << " frames in";
  }
}

TEST_P(ResampleRatesTest, ClickAtInputFrameNComesOutAtFrameNTimesTheRatio) {
  const RatePair rates = GetParam();
  for (size_t n : {size_t{1000}, size_t{4321}, size_t{rates.in / 2 + 17}}) {
    std::vector<float> input(rates.in, 0.0f);
    input[n] = 0.5f;
    const std::vector<float> output = RunF32(Conversion(rates, 1), input);
    size_t peak = 0;
    for (size_t i = 0; i < output.size(); ++i) {
      if (std::abs(output[i]) > std::abs(output[peak])) peak = i;
    }
    const double expected = std::round(static_cast<double>(n) * rates.out / rates.in);
    EXPECT_NEAR(static_cast<double>(peak), expected, 1.0) << "click at input frame " << n;
  }
}

TEST_P(ResampleRatesTest, ToneAtHighQualityIsWithin100DbOfTheAnalyticSine) {
  const RatePair rates = GetParam();
  constexpr double kAmplitude = 0.5;
  const std::vector<float> input = testing::Sine(1000, rates.in, 2 * rates.in, kAmplitude);
  const std::vector<float> output = RunF32(Conversion(rates, 1), input);
  ASSERT_EQ(output.size(), 2u * rates.out);
  // Away from the edges, where the input's abrupt start and end ring.
  double signal = 0, error = 0;
  for (size_t m = rates.out / 10; m < output.size() - rates.out / 10; ++m) {
    const double reference =
        kAmplitude * std::sin(2 * M_PI * 1000.0 * static_cast<double>(m) / rates.out);
    signal += reference * reference;
    error += (output[m] - reference) * (output[m] - reference);
  }
  const double snr_db = 10 * std::log10(signal / error);
  EXPECT_GE(snr_db, 100.0);
  RecordProperty("snr_db", std::to_string(snr_db));
}

TEST_P(ResampleRatesTest, OutputDoesNotDependOnChunking) {
  const RatePair rates = GetParam();
  const std::vector<float> input = testing::Interleave(
      {testing::WhiteNoise(rates.in / 5, 0.5, 11), testing::Sine(440, rates.in, rates.in / 5)});
  testing::ExpectChunkingInvariant(Conversion(rates, 2), testing::ToF32Bytes(input),
                                   ResampleRegistry());
}

TEST_P(ResampleRatesTest, ChannelsStayApart) {
  const RatePair rates = GetParam();
  const std::vector<float> left = testing::Sine(1000, rates.in, rates.in, 0.5);
  const std::vector<float> silent(rates.in, 0.0f);
  const std::vector<float> output =
      RunF32(Conversion(rates, 2), testing::Interleave({silent, left}));
  double left_peak = 0, right_peak = 0;
  for (size_t i = 0; i + 1 < output.size(); i += 2) {
    left_peak = std::max(left_peak, static_cast<double>(std::abs(output[i])));
    right_peak = std::max(right_peak, static_cast<double>(std::abs(output[i + 1])));
  }
  EXPECT_EQ(left_peak, 0.0);
  EXPECT_NEAR(right_peak, 0.5, 0.01);
}

INSTANTIATE_TEST_SUITE_P(Rates, ResampleRatesTest,
                         ::testing::Values(RatePair{16000, 48000}, RatePair{48000, 44100},
                                           RatePair{44100, 16000}, RatePair{8000, 16000},
                                           // Odd rates: phases interpolated between rows.
                                           RatePair{44101, 48000}, RatePair{48000, 8001}),
                         Name);

// A tone of `frequency_hz` from `in` to `out` Hz at `quality`: the output's RMS over the
// input's, away from the edges, in dB.
double ToneGainDb(RatePair rates, const std::string& quality, double frequency_hz) {
  PipelineConfig config = Conversion(rates, 1);
  ProcessorConfig resample{"resample", {}};
  resample.params.Set("sample_rate_hz", static_cast<double>(rates.out));
  resample.params.Set("quality", quality);
  config.chain = {resample};
  const std::vector<float> input = testing::Sine(frequency_hz, rates.in, rates.in, 0.5);
  const std::vector<float> output = RunF32(config, input);
  double power = 0;
  size_t count = 0;
  for (size_t m = rates.out / 5; m + rates.out / 5 < output.size(); ++m, ++count) {
    power += double{output[m]} * output[m];
  }
  return 10 * std::log10(power / static_cast<double>(count) / (0.5 * 0.5 / 2));
}

// Each quality's design, measured: a tone in the passband comes through at its level, one
// past the lower rate's Nyquist frequency (it would alias) is attenuated by the quality's
// stopband, down by an integer and by a fraction, and up (the image of a tone near Nyquist).
TEST(ResampleTest, EachQualityHoldsItsPassbandAndStopband) {
  struct Design {
    const char* quality;
    double passband;        // of the lower Nyquist
    double attenuation_db;  // the design's; a few dB go to the window's first sidelobes' edge
  };
  for (const Design& design : {Design{"LOW", 0.80, 80}, Design{"MEDIUM", 0.85, 100},
                               Design{"HIGH", 0.91, 120}, Design{"VERY_HIGH", 0.95, 140}}) {
    SCOPED_TRACE(design.quality);
    for (RatePair rates : {RatePair{48000, 16000}, RatePair{48000, 44100}}) {
      const double nyquist = rates.out / 2.0;
      EXPECT_NEAR(ToneGainDb(rates, design.quality, 0.95 * design.passband * nyquist), 0.0, 0.01)
          << rates.in << " -> " << rates.out;
      // 1.1 x Nyquist would fold back to 0.9 x Nyquist.
      EXPECT_LT(ToneGainDb(rates, design.quality, 1.1 * nyquist), -(design.attenuation_db - 6))
          << rates.in << " -> " << rates.out;
    }
  }
  // Up: the stopband removes the images above the input's Nyquist; the output's level at the
  // tone's frequency stays, so the gain is 0 dB and nothing else adds to it.
  EXPECT_NEAR(ToneGainDb(RatePair{16000, 48000}, "HIGH", 7000), 0.0, 0.01);
}

// Drives one resample in a chain with random block sizes (single frames included) and
// checks that each frame was computable when the schedule called for it.
void ExpectNeverLate(uint32_t in_rate, uint32_t out_rate, const std::string& quality,
                     uint32_t seed) {
  ProcessorConfig config{"resample", {}};
  config.params.Set("sample_rate_hz", static_cast<double>(out_rate));
  config.params.Set("quality", quality);
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(ResampleRegistry(), {config}, ProcessSpec{double(in_rate), 1024, 1});
  ASSERT_TRUE(chain.ok()) << chain.status();
  auto& resample = dynamic_cast<ResampleProcessor&>((*chain)->processor(0));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint32_t> size(1, 1024);
  AudioBuffer buffer(1, 1024);
  uint64_t emitted = 0;
  auto emit = [&](const AudioBlock& block) { emitted += block.num_frames(); };
  uint64_t fed = 0;
  while (fed < 2 * uint64_t{in_rate}) {
    const uint32_t frames = rng() % 4 == 0 ? 1 : size(rng);
    AudioBlock block = buffer.Block(frames);
    block.Clear();
    (*chain)->Process(block, emit);
    fed += frames;
  }
  (*chain)->Flush(emit);
  EXPECT_EQ(resample.late_frames(), 0u) << in_rate << " -> " << out_rate << " " << quality;
  EXPECT_EQ(emitted, static_cast<uint64_t>(std::llround(double(fed) * out_rate / in_rate)));
}

TEST(ResampleTest, LatencyCoversTheKernelsLookaheadAtEveryQualityAndRatio) {
  uint32_t seed = 1;
  for (const char* quality : {"LOW", "MEDIUM", "HIGH", "VERY_HIGH"}) {
    for (RatePair rates :
         {RatePair{8000, 192000}, RatePair{192000, 8000}, RatePair{44100, 48000},
          RatePair{48000, 11025}, RatePair{22050, 96000}, RatePair{16000, 8000},
          RatePair{44101, 48000}, RatePair{191999, 8000}, RatePair{8000, 191999}}) {
      ExpectNeverLate(rates.in, rates.out, quality, seed++);
    }
  }
}

TEST(ResampleTest, ReportsItsLatencyInOutputFramesToTheChain) {
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ResampleRegistry(), Conversion({16000, 48000}, 1));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const int latency = (*pipeline)->chain().processor(0).LatencyFrames();
  EXPECT_GT(latency, 0);
  EXPECT_LT(latency, 48000 / 10);  // under 100 ms at HIGH
  EXPECT_EQ((*pipeline)->chain().latency_frames(), static_cast<uint32_t>(latency));
}

TEST(ResampleTest, EqualRatesCopyTheInputWithoutLatency) {
  ProcessorConfig config{"resample", {}};
  config.params.Set("sample_rate_hz", 16000.0);
  PipelineConfig pipeline = testing::SameFormat(SampleEncoding::kF32, 16000, 1, {config});
  const std::vector<float> input = testing::WhiteNoise(5000, 0.9, 3);
  EXPECT_EQ(RunF32(pipeline, input), input);
}

TEST(ResampleTest, ResetStartsOverLikeAFreshProcessor) {
  const std::vector<float> input = testing::WhiteNoise(3000, 0.5, 5);
  auto run = [&](ResampleProcessor& processor) {
    std::vector<float> x = input;
    std::vector<float> y(4000);
    float* in_ptr = x.data();
    float* out_ptr = y.data();
    AudioBlock in(&in_ptr, 1, 1000), out(&out_ptr, 1, 0);
    std::vector<float> all;
    for (int i = 0; i < 3; ++i) {
      AudioBlock slice = in.Slice(1000 * i, 1000);
      processor.Process(slice, out);
      all.insert(all.end(), y.begin(), y.begin() + out.num_frames());
    }
    return all;
  };
  ResampleProcessor fresh(44100, ResampleQuality::kHigh);
  ResampleProcessor reused(44100, ResampleQuality::kHigh);
  ASSERT_TRUE(fresh.Prepare({16000, 1000, 1}).ok());
  ASSERT_TRUE(reused.Prepare({16000, 1000, 1}).ok());
  run(reused);
  reused.Reset();
  EXPECT_EQ(run(reused), run(fresh));
}

TEST(ResampleTest, RefusesRatesOutOfRangeAndUnknownQualities) {
  const ProcessSpec input{48000, 1024, 2};
  ProcessorConfig too_high{"resample", {}};
  too_high.params.Set("sample_rate_hz", 200000.0);
  EXPECT_THAT(ResampleRegistry().Resolve(too_high, input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("resample.sample_rate_hz must be in [8000, 192000] Hz")));
  ProcessorConfig missing{"resample", {}};
  EXPECT_THAT(ResampleRegistry().Resolve(missing, input),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("resample.sample_rate_hz")));
  ProcessorConfig bad_quality{"resample", {}};
  bad_quality.params.Set("sample_rate_hz", 16000.0);
  bad_quality.params.Set("quality", std::string("ULTRA"));
  EXPECT_THAT(ResampleRegistry().Resolve(bad_quality, input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("resample.quality must be one of LOW, MEDIUM, HIGH, VERY_HIGH")));
}

TEST(ResampleTest, QualityDefaultsToHigh) {
  ProcessorConfig config{"resample", {}};
  config.params.Set("sample_rate_hz", 16000.0);
  absl::StatusOr<ParamValues> resolved = ResampleRegistry().Resolve(config, {48000, 1024, 1});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->Text("quality"), "HIGH");
}

}  // namespace
}  // namespace audioproc
