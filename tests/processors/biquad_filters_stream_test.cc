// The filter processors while streaming: output independent of chunking (end to end through
// StreamPipeline, and with a mid-stream update), and updates that ramp to the new response
// within 20 ms without a click.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "processors/biquad_filters.h"
#include "tests/testing/chunking.h"
#include "tests/testing/reference_filters.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using ::audioproc::testing::NumericConfig;

constexpr uint32_t kBlockFrames = 1024;
constexpr size_t kNever = SIZE_MAX;

const ProcessorRegistry& Registry() {
  static const ProcessorRegistry* const registry = new ProcessorRegistry(
      {HighpassDefinition(), LowpassDefinition(), BandpassDefinition(), NotchDefinition(),
       PeakingDefinition(), LowshelfDefinition(), HighshelfDefinition()});
  return *registry;
}

// One configuration of every filter type, with a cascade of odd order among them.
std::vector<ProcessorConfig> OneOfEach() {
  return {NumericConfig("highpass", {{"cutoff_hz", 120}, {"order", 5}}),
          NumericConfig("lowpass", {{"cutoff_hz", 3000}, {"q", 2}}),
          NumericConfig("bandpass", {{"center_hz", 1000}, {"q", 4}}),
          NumericConfig("notch", {{"center_hz", 440}, {"q", 10}}),
          NumericConfig("peaking", {{"center_hz", 2500}, {"q", 1}, {"gain_db", 9}}),
          NumericConfig("lowshelf", {{"cutoff_hz", 200}, {"gain_db", -12}}),
          NumericConfig("highshelf", {{"cutoff_hz", 6000}, {"gain_db", 6}, {"q", 1.2}})};
}

// Noise plus a tone, one differently seeded signal per channel.
std::vector<float> TestSignal(uint32_t channels, size_t frames, double rate) {
  std::vector<std::vector<float>> planar;
  for (uint32_t c = 0; c < channels; ++c) {
    std::vector<float> noise = testing::WhiteNoise(frames, 0.3, 17 + c);
    const std::vector<float> tone = testing::Sine(440 * (c + 1), rate, frames, 0.4);
    for (size_t n = 0; n < frames; ++n) noise[n] += tone[n];
    planar.push_back(std::move(noise));
  }
  return testing::Interleave(planar);
}

TEST(BiquadFiltersTest, OutputIsIndependentOfChunkingForEveryType) {
  constexpr uint32_t kRate = 16000;
  for (const ProcessorConfig& filter : OneOfEach()) {
    for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
      for (uint32_t channels : {1u, 2u}) {
        SCOPED_TRACE(filter.name + " " + std::string(EncodingName(encoding)) + " x" +
                     std::to_string(channels));
        const std::vector<float> signal = TestSignal(channels, 4000, kRate);
        const std::string input = encoding == SampleEncoding::kS16 ? testing::ToS16Bytes(signal)
                                                                   : testing::ToF32Bytes(signal);
        testing::ExpectChunkingInvariant(testing::SameFormat(encoding, kRate, channels, {filter}),
                                         input, Registry());
      }
    }
  }
}

// Runs `input` through a fresh `config` processor in blocks of the cycled `block_sizes`, with
// `update` applied once `update_at` frames have gone through (a block boundary there).
std::vector<float> RunWithUpdate(const ProcessorConfig& config, double rate,
                                 std::vector<float> input, size_t update_at,
                                 const ParamValues& update, const std::vector<uint32_t>& sizes) {
  auto processor = testing::MakeProcessor(Registry(), config, {rate, kBlockFrames, 1});
  EXPECT_TRUE(processor.ok()) << processor.status();
  if (!processor.ok()) return {};
  size_t offset = 0;
  for (size_t i = 0; offset < input.size(); ++i) {
    if (offset == update_at) testing::ApplyUpdate(Registry(), config.name, **processor, update);
    const size_t limit = offset < update_at ? std::min(update_at, input.size()) : input.size();
    const auto frames =
        static_cast<uint32_t>(std::min<size_t>(sizes[i % sizes.size()], limit - offset));
    float* channel = input.data() + offset;
    AudioBlock block(&channel, 1, frames);
    (*processor)->Process(block, block);
    offset += frames;
  }
  return input;
}

TEST(BiquadFiltersTest, RampedUpdateOutputIsIndependentOfBlockSizes) {
  constexpr double kRate = 48000;
  const std::vector<float> input = TestSignal(1, 24000, kRate);
  std::mt19937 rng(7);
  std::vector<uint32_t> random;
  for (int i = 0; i < 97; ++i)
    random.push_back(std::uniform_int_distribution<uint32_t>(1, 1024)(rng));
  struct Case {
    ProcessorConfig config;
    ParamValues update;
  };
  std::vector<Case> cases;
  for (const ProcessorConfig& filter : OneOfEach()) {
    const char* frequency = filter.params.Has("center_hz") ? "center_hz" : "cutoff_hz";
    Case c{filter, {}};
    c.update.Set(frequency, filter.params.Number(frequency) * 1.7);
    if (filter.name == "peaking") c.update.Set("gain_db", -20.0);
    cases.push_back(std::move(c));
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config.name);
    // An odd position, so no block size lines up with it by chance.
    const size_t update_at = 10003;
    const std::vector<float> whole =
        RunWithUpdate(c.config, kRate, input, update_at, c.update, {kBlockFrames});
    for (const std::vector<uint32_t>& sizes :
         std::vector<std::vector<uint32_t>>{{1}, {7}, {16}, {333}, random}) {
      EXPECT_EQ(RunWithUpdate(c.config, kRate, input, update_at, c.update, sizes), whole)
          << "blocks of " << sizes[0] << (sizes.size() > 1 ? " (random)" : "");
    }
  }
}

// The largest |x[n] - x[n-1]| in [begin, end).
double MaxJump(const std::vector<float>& x, size_t begin, size_t end) {
  double jump = 0;
  for (size_t n = std::max<size_t>(begin, 1); n < end; ++n) {
    jump = std::max(jump, std::fabs(double{x[n]} - x[n - 1]));
  }
  return jump;
}

double MaxDifference(const std::vector<float>& a, const std::vector<float>& b, size_t begin,
                     size_t end) {
  double difference = 0;
  for (size_t n = begin; n < end; ++n)
    difference = std::max(difference, std::fabs(double{a[n]} - b[n]));
  return difference;
}

// The largest |x[n] - 2 x[n-1] + x[n-2]| in [begin, end): a click detector. A tone's second
// difference is its amplitude times (2 sin(pi f / fs))^2, small for low tones, while a step
// shows up at full size.
double MaxCurvature(const std::vector<float>& x, size_t begin, size_t end) {
  double curvature = 0;
  for (size_t n = std::max<size_t>(begin, 2); n < end; ++n) {
    curvature = std::max(curvature, std::fabs(double{x[n]} - 2.0 * x[n - 1] + x[n - 2]));
  }
  return curvature;
}

// A mid-stream update of one parameter, and a tone that hears the change.
struct UpdateCase {
  ProcessorConfig before;
  const char* param;
  double value;
  double tone_hz;
};

// The outputs of a tone through `c.before` updated half-way, and through the filters before
// and after the update alone.
struct UpdateRun {
  std::vector<float> updated, old_only, new_only;
};

constexpr double kUpdateRate = 48000;
constexpr size_t kUpdateAt = 24000;
constexpr size_t k20Ms = 960;

UpdateRun RunUpdateCase(const UpdateCase& c) {
  const std::vector<float> input = testing::Sine(c.tone_hz, kUpdateRate, 48000, 0.5);
  ParamValues update;
  update.Set(c.param, c.value);
  ProcessorConfig after = c.before;
  after.params.Set(c.param, c.value);
  return {RunWithUpdate(c.before, kUpdateRate, input, kUpdateAt, update, {kBlockFrames}),
          RunWithUpdate(c.before, kUpdateRate, input, kNever, {}, {kBlockFrames}),
          RunWithUpdate(after, kUpdateRate, input, kNever, {}, {kBlockFrames})};
}

std::string Describe(const UpdateCase& c) {
  return c.before.name + " " + c.param + " -> " + std::to_string(c.value);
}

TEST(BiquadFiltersTest, UpdateReachesNewResponseWithin20Ms) {
  // Every new filter here settles within a millisecond, so any difference from it left 20 ms
  // after the update would be the ramp's, not the filter's own ringing.
  const std::vector<UpdateCase> cases = {
      {NumericConfig("lowpass", {{"cutoff_hz", 1000}, {"order", 4}}), "cutoff_hz", 8000, 3000},
      {NumericConfig("lowpass", {{"cutoff_hz", 8000}, {"order", 8}}), "cutoff_hz", 1000, 3000},
      {NumericConfig("highpass", {{"cutoff_hz", 4000}}), "cutoff_hz", 500, 1500},
      {NumericConfig("highpass", {{"cutoff_hz", 200}, {"order", 3}}), "cutoff_hz", 3000, 1000},
      {NumericConfig("bandpass", {{"center_hz", 500}, {"q", 2}}), "center_hz", 2000, 2000},
      {NumericConfig("notch", {{"center_hz", 1000}, {"q", 2}}), "center_hz", 1500, 1000},
      {NumericConfig("peaking", {{"center_hz", 1000}}), "gain_db", 24, 1000},
      {NumericConfig("peaking", {{"center_hz", 1000}, {"gain_db", 12}}), "q", 0.3, 1300},
      {NumericConfig("lowshelf", {{"cutoff_hz", 300}, {"gain_db", -18}}), "gain_db", 18, 200},
      {NumericConfig("highshelf", {{"cutoff_hz", 3000}, {"gain_db", 12}}), "cutoff_hz", 500, 1500},
  };
  for (const UpdateCase& c : cases) {
    SCOPED_TRACE(Describe(c));
    const UpdateRun run = RunUpdateCase(c);
    EXPECT_EQ(MaxDifference(run.updated, run.old_only, 0, kUpdateAt), 0) << "changed too early";
    EXPECT_LE(MaxDifference(run.updated, run.new_only, kUpdateAt + k20Ms, run.updated.size()),
              1e-4 * testing::Peak(run.new_only));
  }
}

TEST(BiquadFiltersTest, UpdateRampsWithoutDiscontinuity) {
  // Low tones, whose own steps and curvature are small, so that a click would stand out.
  const std::vector<UpdateCase> cases = {
      {NumericConfig("lowpass", {{"cutoff_hz", 200}, {"order", 4}}), "cutoff_hz", 2000, 500},
      {NumericConfig("lowpass", {{"cutoff_hz", 2000}, {"order", 8}}), "cutoff_hz", 200, 400},
      {NumericConfig("highpass", {{"cutoff_hz", 1000}}), "cutoff_hz", 100, 300},
      {NumericConfig("highpass", {{"cutoff_hz", 50}, {"order", 3}}), "cutoff_hz", 600, 300},
      {NumericConfig("bandpass", {{"center_hz", 100}, {"q", 2}}), "center_hz", 400, 400},
      {NumericConfig("notch", {{"center_hz", 300}, {"q", 2}}), "center_hz", 450, 300},
      {NumericConfig("peaking", {{"center_hz", 200}}), "gain_db", 24, 200},
      {NumericConfig("peaking", {{"center_hz", 300}, {"gain_db", 12}}), "q", 0.3, 400},
      {NumericConfig("lowshelf", {{"cutoff_hz", 300}, {"gain_db", -18}}), "gain_db", 18, 100},
      {NumericConfig("highshelf", {{"cutoff_hz", 2000}, {"gain_db", 12}}), "cutoff_hz", 200, 400},
  };
  for (const UpdateCase& c : cases) {
    SCOPED_TRACE(Describe(c));
    const UpdateRun run = RunUpdateCase(c);
    // The steady outputs before and after set the scale of the signal's own movement.
    const size_t begin = kUpdateAt - k20Ms, end = kUpdateAt + 3 * k20Ms;
    const double own_jump =
        std::max(MaxJump(run.old_only, begin, end), MaxJump(run.new_only, begin, end));
    const double own_curvature =
        std::max(MaxCurvature(run.old_only, begin, end), MaxCurvature(run.new_only, begin, end));
    // Changing a filter makes it ring a little, so the jumps may exceed the steady ones
    // somewhat; a click multiplies the curvature (an unramped switch: up to 20 times).
    EXPECT_LE(MaxJump(run.updated, begin, end), 1.5 * own_jump);
    EXPECT_LE(MaxCurvature(run.updated, begin, end), 1.5 * own_curvature);
  }
}

TEST(BiquadFiltersTest, SecondUpdateDuringRampContinuesFromWhereTheRampIs) {
  constexpr double kRate = 16000;
  const std::vector<float> input = testing::Sine(1000, kRate, 16000, 0.5);
  auto processor = testing::MakeProcessor(
      Registry(), NumericConfig("peaking", {{"center_hz", 1000}, {"gain_db", -24}}),
      {kRate, kBlockFrames, 1});
  ASSERT_TRUE(processor.ok()) << processor.status();
  std::vector<float> output = input;
  std::vector<float> head(output.begin(), output.begin() + 8000);
  testing::RunMono(**processor, head, 100);
  ParamValues up, down;
  up.Set("gain_db", 24.0);
  down.Set("gain_db", 0.0);
  testing::ApplyUpdate(Registry(), "peaking", **processor, up);
  std::vector<float> middle(output.begin() + 8000, output.begin() + 8080);  // 5 ms into the ramp
  testing::RunMono(**processor, middle, 100);
  testing::ApplyUpdate(Registry(), "peaking", **processor, down);
  std::vector<float> tail(output.begin() + 8080, output.end());
  testing::RunMono(**processor, tail, 100);
  std::copy(head.begin(), head.end(), output.begin());
  std::copy(middle.begin(), middle.end(), output.begin() + 8000);
  std::copy(tail.begin(), tail.end(), output.begin() + 8080);

  // The unity-gain tone's largest step, with margin for the ramp's overshoot-free path.
  const double own_jump = MaxJump(input, 1, input.size());
  EXPECT_LE(MaxJump(output, 7000, 9000), 1.1 * own_jump);
  // 0 dB reached: the tone comes out as it went in.
  EXPECT_NEAR(testing::ToneAmplitude(std::span(output).subspan(8080 + 320), 1000, kRate), 0.5,
              0.5e-4);
}

TEST(BiquadFiltersTest, ResetRestartsFromSilenceWithTheLatestParameters) {
  constexpr double kRate = 48000;
  const std::vector<float> input = TestSignal(1, 4800, kRate);
  auto updated = testing::MakeProcessor(Registry(), NumericConfig("lowpass", {{"cutoff_hz", 500}}),
                                        {kRate, kBlockFrames, 1});
  auto fresh = testing::MakeProcessor(Registry(), NumericConfig("lowpass", {{"cutoff_hz", 2500}}),
                                      {kRate, kBlockFrames, 1});
  ASSERT_TRUE(updated.ok() && fresh.ok());
  std::vector<float> scratch = input;
  testing::RunMono(**updated, scratch, kBlockFrames);
  ParamValues update;
  update.Set("cutoff_hz", 2500.0);
  testing::ApplyUpdate(Registry(), "lowpass", **updated, update);
  testing::RunMono(**updated, scratch, 37);  // mid-ramp
  (*updated)->Reset();
  std::vector<float> after_reset = input, expected = input;
  testing::RunMono(**updated, after_reset, 111);
  testing::RunMono(**fresh, expected, kBlockFrames);
  EXPECT_EQ(after_reset, expected);
}

TEST(BiquadFiltersTest, HugeFiniteInputNeverProducesInfOrNan) {
  constexpr double kRate = 8000;
  std::vector<float> input(4096);
  for (size_t n = 0; n < input.size(); ++n) input[n] = (n % 3 == 0 ? 1 : -1) * 3e38f;
  for (const ProcessorConfig& config :
       {NumericConfig("peaking", {{"center_hz", 3900}, {"gain_db", 48}, {"q", 40}}),
        NumericConfig("lowshelf", {{"cutoff_hz", 100}, {"gain_db", 48}}),
        NumericConfig("lowpass", {{"cutoff_hz", 3999}, {"q", 40}})}) {
    auto processor = testing::MakeProcessor(Registry(), config, {kRate, kBlockFrames, 1});
    ASSERT_TRUE(processor.ok()) << processor.status();
    std::vector<float> output = input;
    testing::RunMono(**processor, output, kBlockFrames);
    EXPECT_TRUE(std::all_of(output.begin(), output.end(), [](float x) { return std::isfinite(x); }))
        << config.name;
  }
}

}  // namespace
}  // namespace audioproc
