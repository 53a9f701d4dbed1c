// Chain: finite output whatever the parameters stack up to, latency compensation, and an
// exact-length tail.
#include "chain/chain.h"

#include <cmath>
#include <memory>
#include <optional>

#include "chain/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;

ProcessorConfig Gain(double db) {
  ProcessorConfig config{"gain", {}};
  config.params.Set("gain_db", db);
  return config;
}

std::vector<float> RunWhole(Chain& chain, std::vector<float> input) {
  std::vector<float> out;
  float* channel = input.data();
  chain.Process(AudioBlock(&channel, 1, static_cast<uint32_t>(input.size())),
                [&](const AudioBlock& block) {
                  out.insert(out.end(), block.channel(0), block.channel(0) + block.num_frames());
                });
  chain.Flush([&](const AudioBlock& block) {
    out.insert(out.end(), block.channel(0), block.channel(0) + block.num_frames());
  });
  return out;
}

TEST(ChainTest, StackedGainsNeverOverflowAndFiltersAfterThemStayFinite) {
  // 32 gains of +60 dB would take full scale to 1e96, far past float's range.
  std::vector<ProcessorConfig> configs(31, Gain(60));
  ProcessorConfig highpass{"highpass", {}};
  highpass.params.Set("cutoff_hz", 100.0);
  configs.push_back(highpass);
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(ProcessorRegistry::Default(), configs, {16000, kDefaultMaxBlockFrames, 1});
  ASSERT_TRUE(chain.ok()) << chain.status();
  const std::vector<float> out = RunWhole(**chain, testing::Sine(440, 16000, 4000, 1.0));
  ASSERT_EQ(out.size(), 4000u);
  for (float x : out) ASSERT_TRUE(std::isfinite(x));
}

TEST(ChainTest, SignalsWithinRangePassTheGuardUntouched) {
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(ProcessorRegistry::Default(), {Gain(60)}, {16000, kDefaultMaxBlockFrames, 1});
  ASSERT_TRUE(chain.ok());
  const std::vector<float> in = testing::Sine(440, 16000, 1000, 100.0);  // +40 dBFS
  const std::vector<float> out = RunWhole(**chain, in);
  for (size_t i = 0; i < in.size(); ++i) ASSERT_FLOAT_EQ(out[i], in[i] * 1000.0f);
}

TEST(ChainTest, ListValuesThatCouldOverflowAreRefusedNamingTheValue) {
  ProcessorConfig convolve{"convolve", {}};
  convolve.params.Set("impulse", std::vector<float>{1.0f, -1.7e38f});
  EXPECT_THAT(Chain::Build(ProcessorRegistry::Default(), {convolve}, {16000, 1024, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("convolve.impulse[1] must be in [-1000, 1000]")));
  ProcessorConfig mix{"mix", {}};
  mix.params.Set("output_channels", 1.0);
  mix.params.Set("matrix", std::vector<float>{1e5f});
  EXPECT_THAT(Chain::Build(ProcessorRegistry::Default(), {mix}, {16000, 1024, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("mix.matrix[0] must be in [-1000, 1000]")));
}

TEST(ChainTest, LatencyIsDroppedAndTheTailMakesTheOutputExactlyAsLongAsTheInput) {
  ProcessorConfig limiter{"limiter", {}};
  limiter.params.Set("ceiling_db", 0.0);
  for (size_t frames : {0u, 1u, 79u, 80u, 81u, 5000u}) {
    absl::StatusOr<std::unique_ptr<Chain>> chain =
        Chain::Build(ProcessorRegistry::Default(), {limiter}, {16000, kDefaultMaxBlockFrames, 1});
    ASSERT_TRUE(chain.ok());
    EXPECT_EQ((*chain)->latency_frames(), 80u);
    const std::vector<float> in = testing::Sine(300, 16000, frames, 0.5);
    EXPECT_EQ(RunWhole(**chain, in), in) << frames << " frames";
  }
}

TEST(ChainTest, TheEventBufferHoldsEveryEventOfABlockAndOfAFlush) {
  // The most events per frame the catalogue reports: analyze every 10 ms, before and after an
  // upsampler, vad and loudness, at 8 kHz, drained after each block as StreamPipeline does.
  ProcessorConfig analyze{"analyze", {}};
  analyze.params.Set("interval_ms", 10.0);
  ProcessorConfig resample{"resample", {}};
  resample.params.Set("sample_rate_hz", 48000.0);
  const std::vector<ProcessorConfig> configs = {
      analyze, {"vad", {}}, {"loudness", {}}, resample, analyze};
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(ProcessorRegistry::Default(), configs, {8000, kDefaultMaxBlockFrames, 1});
  ASSERT_TRUE(chain.ok()) << chain.status();
  std::vector<float> input = testing::WhiteNoise(8 * kDefaultMaxBlockFrames, 0.5, 9);
  size_t first_analyze_events = 0;
  auto drain = [&] {
    ASSERT_EQ((*chain)->dropped_events(), 0u);
    for (const ProcessorEvent& event : (*chain)->events()) {
      first_analyze_events += event.processor_index == 0;
    }
    (*chain)->ClearEvents();
  };
  for (uint32_t offset = 0; offset < input.size(); offset += kDefaultMaxBlockFrames) {
    float* channel = input.data() + offset;
    (*chain)->Process(AudioBlock(&channel, 1, kDefaultMaxBlockFrames), [](const AudioBlock&) {});
    drain();
  }
  (*chain)->Flush([](const AudioBlock&) {});
  drain();
  // One per 80 frames of input, and those the flush's silence completes.
  EXPECT_GE(first_analyze_events, input.size() / 80);
}

// A registry whose one processor has a runtime-updatable parameter that counts how often its
// typed settings arrive, and what they said.
struct CountingSettings {
  std::optional<double> level;
};

struct Received {
  int updates = 0;
  std::optional<double> level;
};

Received& LastReceived() {
  static Received received;
  return received;
}

class CountingProcessor final : public UpdatableProcessor<CountingSettings> {
 public:
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override { return input; }
  void Process(AudioBlock& /*in*/, AudioBlock& /*out*/) noexcept override {}
  void Reset() noexcept override {}
  void ApplySettings(const CountingSettings& settings) noexcept override {
    ++LastReceived().updates;
    LastReceived().level = settings.level;
  }
};

ProcessorDefinition CountingDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "counting";
  definition.info.params = {FloatParam("level", "", 0.0, -1.0, 1.0, true, "a level"),
                            FloatParam("fixed", "", 0.0, -1.0, 1.0, false, "set at the start")};
  definition.create = [](const ParamValues&) -> std::unique_ptr<Processor> {
    return std::make_unique<CountingProcessor>();
  };
  definition.estimate = [](const ParamValues&,
                           const ProcessSpec& input) -> absl::StatusOr<StageEstimate> {
    StageEstimate estimate;
    estimate.output = input;
    return estimate;
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    CountingSettings settings;
    if (changes.Has("level")) settings.level = changes.Number("level");
    return std::make_unique<TypedUpdate<CountingSettings>>(settings);
  };
  return definition;
}

TEST(ChainTest, AResolvedUpdateReachesTheProcessorAsTypedSettingsWhenApplied) {
  const ProcessorRegistry registry({CountingDefinition()});
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(registry, {{"counting", {}}}, {16000, kDefaultMaxBlockFrames, 1});
  ASSERT_TRUE(chain.ok()) << chain.status();
  LastReceived() = {};
  ProcessorConfig update{"counting", {}};
  update.params.Set("level", 0.5);
  absl::StatusOr<Chain::ResolvedUpdate> resolved = (*chain)->ResolveUpdate(0, update);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  // Resolving validates and types the update; nothing reaches the processor yet.
  EXPECT_EQ(LastReceived().updates, 0);
  EXPECT_EQ((*chain)->resolved()[0].params.Number("level"), 0.0);
  (*chain)->Apply(*resolved);
  EXPECT_EQ(LastReceived().updates, 1);
  EXPECT_EQ(LastReceived().level, 0.5);
  EXPECT_EQ((*chain)->resolved()[0].params.Number("level"), 0.5);
}

TEST(ChainTest, AnUpdateIsRefusedWhenResolvedAndNothingChanges) {
  const ProcessorRegistry registry({CountingDefinition()});
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(registry, {{"counting", {}}}, {16000, kDefaultMaxBlockFrames, 1});
  ASSERT_TRUE(chain.ok()) << chain.status();
  LastReceived() = {};
  ProcessorConfig fixed{"counting", {}};
  fixed.params.Set("fixed", 0.5);
  EXPECT_THAT((*chain)->ResolveUpdate(0, fixed).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("chain[0].counting.fixed cannot be changed while streaming")));
  ProcessorConfig out_of_range{"counting", {}};
  out_of_range.params.Set("level", 2.0);
  EXPECT_THAT((*chain)->Update(0, out_of_range),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("chain[0].counting.level must be in [-1, 1]")));
  EXPECT_THAT((*chain)->ResolveUpdate(1, out_of_range).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("past the end")));
  EXPECT_EQ(LastReceived().updates, 0);
  EXPECT_EQ((*chain)->resolved()[0].params.Number("level"), 0.0);
}

TEST(ChainDeathTest, ADefinitionWithUpdatableParametersMustResolveUpdates) {
  ProcessorDefinition definition = CountingDefinition();
  definition.resolve_update = nullptr;
  EXPECT_DEATH(ProcessorRegistry({definition}),
               "has runtime-updatable parameters but no resolve_update");
}

}  // namespace
}  // namespace audioproc
