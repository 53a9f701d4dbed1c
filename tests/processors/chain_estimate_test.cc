// EstimateChain and EstimatePipeline against the chains and pipelines they describe: the same
// refusals, word for word, as Chain::Build and StreamPipeline::Create (table-driven); the same
// stages (the output format's mix and resample included) and output; a latency bound at least
// the built chain's. (Their memory: resource_estimate_memory_test.cc.)
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/chain.h"
#include "chain/registry.h"
#include "chain/resource_estimate.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processors/gain.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/estimate_cases.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using testing::Pipeline;
using testing::Proc;

const ProcessorRegistry& Registry() { return ProcessorRegistry::Default(); }

TEST(ChainEstimateTest, PipelinesStateTheirBuiltChainsStagesOutputAndALatencyBound) {
  for (const auto& [name, config] : testing::EstimatePipelines()) {
    SCOPED_TRACE(name);
    absl::StatusOr<PipelineEstimate> estimate = EstimatePipeline(Registry(), config);
    ASSERT_TRUE(estimate.ok()) << estimate.status();
    absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
        StreamPipeline::Create(Registry(), config);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    const Chain& chain = (*pipeline)->chain();
    ASSERT_EQ(estimate->chain.stages.size(), chain.size());
    EXPECT_EQ(estimate->chain.output, chain.output_spec());
    EXPECT_EQ(estimate->chain.output.sample_rate_hz, config.output.sample_rate_hz);
    EXPECT_EQ(estimate->chain.output.channels, config.output.channels);
    EXPECT_GE(estimate->chain.max_latency_frames, chain.latency_frames());
    EXPECT_GE(estimate->memory_bytes, estimate->chain.memory_bytes);
    EXPECT_GT(estimate->cpu_cores, estimate->chain.cpu_cores) << "decoding and encoding are free";
    double stage_cores = 0;
    for (const StageEstimate& stage : estimate->chain.stages) stage_cores += stage.cpu_cores;
    EXPECT_GT(estimate->chain.cpu_cores, stage_cores) << "the chain's own work is free";
  }
}

TEST(ChainEstimateTest, ChainsStateWhatBuildMakes) {
  const std::vector<std::pair<std::vector<ProcessorConfig>, ProcessSpec>> chains = {
      {{}, {16000, kDefaultMaxBlockFrames, 1}},
      {{Proc("mix", {{"output_channels", 6.0}}), Proc("resample", {{"sample_rate_hz", 96000.0}}),
        Proc("mix", {{"output_channels", 2.0}}), Proc("limiter", {{"true_peak", true}})},
       {44100, kDefaultMaxBlockFrames, 1}},
      {{Proc("denoise"), Proc("convolve", {{"impulse", testing::TestImpulse(70000)}})},
       {48000, 480, 2}},
  };
  for (const auto& [configs, spec] : chains) {
    absl::StatusOr<ChainEstimate> estimate = EstimateChain(Registry(), configs, spec);
    ASSERT_TRUE(estimate.ok()) << estimate.status();
    absl::StatusOr<std::unique_ptr<Chain>> chain = Chain::Build(Registry(), configs, spec);
    ASSERT_TRUE(chain.ok()) << chain.status();
    EXPECT_EQ(estimate->stages.size(), (*chain)->size());
    EXPECT_EQ(estimate->output, (*chain)->output_spec());
    EXPECT_GE(estimate->max_latency_frames, (*chain)->latency_frames());
  }
}

// A config both must refuse, and the words the refusal must hold.
struct Refused {
  std::string name;
  PipelineConfig config;
  std::string message;
};

std::vector<Refused> RefusedPipelines() {
  const StreamFormat s16_16k{SampleEncoding::kS16, 16000, 1};
  auto same = [&](std::vector<ProcessorConfig> chain) {
    return Pipeline(s16_16k, s16_16k, std::move(chain));
  };
  std::vector<ParamValues> band(1);
  band[0].Set("type", std::string("PEAKING"));
  band[0].Set("freq_hz", 12000.0);
  return {
      {"input rate", Pipeline({SampleEncoding::kS16, 7999, 1}, s16_16k, {}),
       "input.sample_rate_hz must be in [8000, 192000] Hz, got 7999"},
      {"input channels", Pipeline({SampleEncoding::kS16, 16000, 0}, s16_16k, {}),
       "input.channels must be in [1, 8], got 0"},
      {"output rate", Pipeline(s16_16k, {SampleEncoding::kS16, 192001, 1}, {}),
       "output.sample_rate_hz"},
      {"output channels", Pipeline(s16_16k, {SampleEncoding::kS16, 16000, 9}, {}),
       "output.channels must be in [1, 8], got 9"},
      {"unknown processor", same({Proc("nope")}), "chain[0].unknown processor 'nope'"},
      {"empty processor", same({Proc("gain"), Proc("")}), "chain[1].processor is empty"},
      {"unknown parameter", same({Proc("gain", {{"gain", 1.0}})}),
       "chain[0].gain has no parameter 'gain'"},
      {"above Nyquist", same({Proc("highpass", {{"cutoff_hz", 9000.0}})}),
       "chain[0].highpass.cutoff_hz must be in (0, 8000) Hz (below Nyquist), got 9000"},
      {"required", same({Proc("lowpass")}), "chain[0].lowpass.cutoff_hz is required"},
      {"not a number", same({Proc("gain", {{"gain_db", std::nan("")}})}),
       "chain[0].gain.gain_db must be in [-120, 60] dB, got nan"},
      {"q with another order",
       same({Proc("highpass", {{"cutoff_hz", 100.0}, {"order", 4.0}, {"q", 2.0}})}),
       "chain[0].highpass.q applies only to order 2"},
      {"mix matrix",
       same({Proc("mix", {{"output_channels", 2.0}, {"matrix", std::vector<float>{1, 1, 1}}})}),
       "chain[0].mix.matrix must hold output_channels x input channels = 2 x 1 = 2"},
      {"resample quality",
       same({Proc("resample", {{"sample_rate_hz", 8000.0}, {"quality", std::string("ULTRA")}})}),
       "chain[0].resample.quality must be one of LOW, MEDIUM, HIGH, VERY_HIGH"},
      {"eq band above Nyquist", same({Proc("eq", {{"bands", band}})}),
       "chain[0].eq.bands[0].freq_hz must be in (0, 8000) Hz"},
      {"analyze bands", same({Proc("analyze", {{"bands", 0.0}})}),
       "chain[0].analyze.bands must be in [1, 32]"},
      {"limiter lookahead", same({Proc("gain"), Proc("limiter", {{"lookahead_ms", 100.0}})}),
       "chain[1].limiter.lookahead_ms must be in [0.5, 50] ms, got 100"},
      {"convolve without impulse", same({Proc("convolve")}),
       "chain[0].convolve needs an impulse response"},
      {"convolve with both",
       same({Proc("convolve",
                  {{"impulse", std::vector<float>{1}}, {"impulse_file", std::string("x")}})}),
       "chain[0].convolve.impulse and convolve.impulse_file are both set"},
      {"impulse file not audio",
       same({Proc("convolve", {{"impulse_file", std::string("not audio at all")}})}),
       "chain[0].convolve.impulse_file is not an audio file libsndfile can read: "},
      {"impulse file too long",
       same({Proc("convolve", {{"impulse_file", testing::TestImpulseFile(200000, 8000)}})}),
       "chain[0].convolve.impulse_file must hold at most 262144 taps at the stream's 16000 Hz; "
       "it holds at least 200000 frames at 8000 Hz"},
      {"a stage after a rate change",
       same({Proc("resample", {{"sample_rate_hz", 8000.0}}),
             Proc("lowpass", {{"cutoff_hz", 5000.0}})}),
       "chain[1].lowpass.cutoff_hz must be in (0, 4000) Hz (below Nyquist), got 5000"},
  };
}

TEST(ChainEstimateTest, RefusesWhatCreateRefusesWithTheSameStatus) {
  for (const Refused& r : RefusedPipelines()) {
    SCOPED_TRACE(r.name);
    absl::StatusOr<std::unique_ptr<StreamPipeline>> built =
        StreamPipeline::Create(Registry(), r.config);
    ASSERT_FALSE(built.ok()) << "Create accepted it";
    EXPECT_THAT(built.status(), testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                  ::testing::HasSubstr(r.message)));
    absl::StatusOr<PipelineEstimate> estimate = EstimatePipeline(Registry(), r.config);
    EXPECT_EQ(estimate.status(), built.status());
  }
}

TEST(ChainEstimateTest, RefusesAnOutputRateWithoutAResampleProcessorAsCreateDoes) {
  const ProcessorRegistry registry({GainDefinition()});
  const PipelineConfig config =
      Pipeline({SampleEncoding::kS16, 16000, 1}, {SampleEncoding::kS16, 48000, 1}, {Proc("gain")});
  absl::StatusOr<std::unique_ptr<StreamPipeline>> built = StreamPipeline::Create(registry, config);
  EXPECT_THAT(built, testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                       ::testing::HasSubstr("this server has no resample")));
  EXPECT_EQ(EstimatePipeline(registry, config).status(), built.status());
}

TEST(ChainEstimateTest, RefusesWhatOnlyPrepareRefusesAsBuildDoes) {
  // A rate that is not a whole number of hertz: only resample's Prepare checks it.
  const ProcessSpec spec{44100.5, kDefaultMaxBlockFrames, 1};
  const std::vector<ProcessorConfig> configs = {Proc("gain"),
                                                Proc("resample", {{"sample_rate_hz", 48000.0}})};
  absl::StatusOr<std::unique_ptr<Chain>> built = Chain::Build(Registry(), configs, spec);
  EXPECT_THAT(built, testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                       ::testing::HasSubstr("chain[1].resample needs a whole")));
  EXPECT_EQ(EstimateChain(Registry(), configs, spec).status(), built.status());
}

}  // namespace
}  // namespace audioproc
