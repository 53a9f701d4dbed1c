// StreamGrant: a stream's largest chunk keeps every response within --max_response_bytes and
// --max_events_per_response whatever its expansion; streams that could never run are refused
// at config, naming their cost; a client that says how large its chunks are holds less.
// Estimates are written here by hand, so the arithmetic is checked apart from the cost model.
#include "service/stream_grant.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::StatusIs;

constexpr int64_t kMiB = 1 << 20;

StreamGrantLimits Limits() {
  StreamGrantLimits limits;
  limits.max_chunk_bytes = kMiB;
  limits.max_response_bytes = 4 * kMiB;
  limits.max_events_per_response = 1024;
  limits.max_stream_cost = 0.5;
  limits.memory_budget_bytes = 768 * kMiB;
  return limits;
}

PipelineConfig Config(SampleEncoding in, uint32_t in_rate, uint32_t in_channels, SampleEncoding out,
                      uint32_t out_rate, uint32_t out_channels) {
  PipelineConfig config;
  config.input = {in, in_rate, in_channels};
  config.output = {out, out_rate, out_channels};
  return config;
}

PipelineEstimate Estimate(double cores, uint64_t memory, uint32_t latency = 0,
                          EventRate events = {}) {
  PipelineEstimate estimate;
  estimate.cpu_cores = cores;
  estimate.memory_bytes = memory;
  estimate.chain.cpu_cores = cores;
  estimate.chain.memory_bytes = memory;
  estimate.chain.max_latency_frames = latency;
  estimate.chain.events = events;
  return estimate;
}

TEST(StreamGrantTest, VoiceStreamGetsTheServersLargestChunk) {
  const PipelineConfig config =
      Config(SampleEncoding::kS16, 16000, 1, SampleEncoding::kS16, 16000, 1);
  absl::StatusOr<StreamGrant> grant = GrantStream(config, Estimate(0.01, 100000, 160), 0, Limits());
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->max_chunk_bytes, kMiB);
  EXPECT_LE(grant->max_response_bytes, uint64_t{4 * kMiB});
  // Its memory: the chain, room for the largest message and response and a little more, and
  // the message in gRPC's transport before it is read.
  EXPECT_GE(grant->cost.memory_bytes, 100000 + 3 * kMiB);
  EXPECT_LE(grant->cost.memory_bytes, 100000 + 4 * kMiB);
  EXPECT_EQ(grant->transport_bytes, grant->max_message_bytes);
  EXPECT_GT(grant->cost.cpu_cores, 0.01);  // the engine's share on top of the DSP
}

TEST(StreamGrantTest, ExpansionBoundsTheLargestChunkSoResponsesFit) {
  // 8 kHz mono mu-law in, 192 kHz 8-channel f32 out: 768 output bytes per input byte.
  const PipelineConfig config =
      Config(SampleEncoding::kMulaw, 8000, 1, SampleEncoding::kF32, 192000, 8);
  absl::StatusOr<StreamGrant> grant = GrantStream(config, Estimate(0.1, 1 << 20, 600), 0, Limits());
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_LE(uint64_t{grant->max_chunk_bytes} * 768, uint64_t{4 * kMiB});
  EXPECT_GT(grant->max_chunk_bytes, 4000u);  // not needlessly small either
  EXPECT_LE(grant->MaxOutputBytes(grant->max_chunk_bytes), uint64_t{4 * kMiB});
  EXPECT_LE(grant->max_response_bytes, uint64_t{4 * kMiB});
  // And so its memory stays small too, whatever the client sends.
  EXPECT_LT(grant->cost.memory_bytes, 12 * kMiB);
}

TEST(StreamGrantTest, EventsBoundTheLargestChunk) {
  // 32 analyze stages at 10 ms on 8 kHz: 32 events per 80 frames.
  const PipelineConfig config =
      Config(SampleEncoding::kMulaw, 8000, 1, SampleEncoding::kMulaw, 8000, 1);
  const EventRate events{32.0 / 80, 64};
  absl::StatusOr<StreamGrant> grant =
      GrantStream(config, Estimate(0.05, 100000, 0, events), 0, Limits());
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_LE(grant->max_events_per_response, 1024u);
  EXPECT_LT(grant->max_chunk_bytes, 2400u);  // about 290 ms of audio, not 1 MiB
  EXPECT_GE(grant->max_chunk_bytes, 80u);    // at least 10 ms
}

TEST(StreamGrantTest, ChainThatReportsTooManyEventsEvenFor10msIsRefused) {
  const PipelineConfig config =
      Config(SampleEncoding::kS16, 48000, 2, SampleEncoding::kS16, 48000, 2);
  const EventRate events{2.0, 600};  // two events per frame
  EXPECT_THAT(GrantStream(config, Estimate(0.05, 100000, 0, events), 0, Limits()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("events"), HasSubstr("--max_events_per_response=1024"))));
}

TEST(StreamGrantTest, ChainCostlierThanAStreamMayBeIsRefusedWithItsCost) {
  const PipelineConfig config =
      Config(SampleEncoding::kF32, 48000, 8, SampleEncoding::kF32, 48000, 8);
  EXPECT_THAT(GrantStream(config, Estimate(12.0, 600 * kMiB), 0, Limits()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("config.chain costs "), HasSubstr("--max_stream_cost=0.5"),
                             HasSubstr("48000 Hz and 8 channels"))));
}

TEST(StreamGrantTest, StreamLargerThanTheWholeBudgetIsRefused) {
  const PipelineConfig config =
      Config(SampleEncoding::kF32, 48000, 2, SampleEncoding::kF32, 48000, 2);
  EXPECT_THAT(GrantStream(config, Estimate(0.1, 800 * kMiB), 0, Limits()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("needs 80"), HasSubstr("whole budget"))));
}

TEST(StreamGrantTest, DeclaredChunksAreGrantedAndHoldLess) {
  const PipelineConfig config =
      Config(SampleEncoding::kS16, 16000, 1, SampleEncoding::kS16, 16000, 1);
  absl::StatusOr<StreamGrant> large = GrantStream(config, Estimate(0.01, 100000, 160), 0, Limits());
  absl::StatusOr<StreamGrant> small =
      GrantStream(config, Estimate(0.01, 100000, 160), 640, Limits());
  ASSERT_TRUE(large.ok() && small.ok());
  EXPECT_EQ(small->max_chunk_bytes, 640u);
  EXPECT_LT(small->cost.memory_bytes, 300 << 10);
  EXPECT_GT(large->cost.memory_bytes, 10 * small->cost.memory_bytes);
  // Asking for more than the server allows gets what it allows.
  absl::StatusOr<StreamGrant> greedy =
      GrantStream(config, Estimate(0.01, 100000, 160), 8 * kMiB, Limits());
  ASSERT_TRUE(greedy.ok());
  EXPECT_EQ(greedy->max_chunk_bytes, kMiB);
}

TEST(StreamGrantTest, DeclaredChunkSmallerThanAFrameIsRefused) {
  const PipelineConfig config =
      Config(SampleEncoding::kF32, 48000, 2, SampleEncoding::kF32, 48000, 2);
  EXPECT_THAT(GrantStream(config, Estimate(0.01, 100000), 7, Limits()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config.max_chunk_bytes must be at least one frame (8 bytes)")));
}

}  // namespace
}  // namespace audioproc
