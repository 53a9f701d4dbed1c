// BuildStreamSummary: the one summary of streams and files, from the pipeline that processed
// them and what only the caller knows.
#include "service/stream_summary.h"

#include <memory>
#include <string>

#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace audioproc {
namespace {

std::unique_ptr<StreamPipeline> StereoS16ToMono8k() {
  PipelineConfig config;
  config.input = {SampleEncoding::kS16, 16000, 2};
  config.output = {SampleEncoding::kS16, 8000, 1};
  ParamValues gain;
  gain.Set("gain_db", -6.0);
  config.chain.push_back({"gain", std::move(gain)});
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return *std::move(pipeline);
}

TEST(StreamSummaryTest, CountsFramesProcessorsAndWhatTheInputLeftIncomplete) {
  std::unique_ptr<StreamPipeline> pipeline = StereoS16ToMono8k();
  std::string out;
  pipeline->ProcessChunk(std::string(4 * 1600 + 3, '\0'), &out);  // 1600 frames and 3 bytes
  pipeline->Finish(&out);
  const v1::StreamSummary summary =
      BuildStreamSummary(*pipeline, {.chunks = 1, .wall_seconds = 2.5, .processing_seconds = 0.01});
  EXPECT_EQ(summary.frames_in(), 1600u);
  EXPECT_EQ(summary.frames_out(), 800u);
  EXPECT_EQ(summary.chunks(), 1u);
  EXPECT_DOUBLE_EQ(summary.audio_seconds(), 0.1);
  EXPECT_DOUBLE_EQ(summary.wall_seconds(), 2.5);
  EXPECT_DOUBLE_EQ(summary.real_time_factor(), 0.1);
  ASSERT_EQ(summary.processors_size(), 3);  // the chain, then the output's mix and resample
  EXPECT_EQ(summary.processors(0).name(), "gain");
  EXPECT_EQ(summary.processors(1).name(), "mix");
  EXPECT_EQ(summary.processors(2).name(), "resample");
  EXPECT_EQ(summary.discarded_bytes(), 3u);
  EXPECT_EQ(summary.dropped_events(), 0u);
  EXPECT_FALSE(summary.has_integrated_lufs());
}

TEST(StreamSummaryTest, AddsEventsNoResponseCarriedToThoseTheChainLost) {
  std::unique_ptr<StreamPipeline> pipeline = StereoS16ToMono8k();
  std::string out;
  pipeline->Finish(&out);
  const v1::StreamSummary summary =
      BuildStreamSummary(*pipeline, {.integrated_lufs = -16.5f, .events_not_sent = 7});
  EXPECT_EQ(summary.dropped_events(), 7u + pipeline->dropped_events());
  EXPECT_FLOAT_EQ(summary.integrated_lufs(), -16.5f);
  EXPECT_EQ(summary.real_time_factor(), 0.0);  // no audio
  EXPECT_EQ(summary.discarded_bytes(), 0u);
}

}  // namespace
}  // namespace audioproc
