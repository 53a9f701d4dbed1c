// The DESIGN.md section 8 workloads as the load generator sends them.
#include "bench/workload.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc::bench {
namespace {

using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

TEST(WorkloadTest, NullIsSixteenKilohertzMonoWithAnEmptyChain) {
  absl::StatusOr<Workload> w = MakeWorkload("null", 20);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->config.input().encoding(), v1::PCM_S16LE);
  EXPECT_EQ(w->config.input().sample_rate_hz(), 16000u);
  EXPECT_EQ(w->config.input().channels(), 1u);
  EXPECT_EQ(w->config.chain_size(), 0);
  EXPECT_EQ(w->chunk_frames, 320u);
  EXPECT_EQ(w->chunk_bytes, 640u);
  EXPECT_DOUBLE_EQ(w->chunk_seconds, 0.02);
  EXPECT_EQ(w->audio.size() % w->chunk_bytes, 0u);
  EXPECT_GT(w->audio.size(), 0u);
}

TEST(WorkloadTest, VoiceChainIsTheMicrobenchmarksOne) {
  absl::StatusOr<Workload> w = MakeWorkload("voice", 20);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->config.chain_size(), 5);
  EXPECT_FLOAT_EQ(w->config.chain(0).highpass().cutoff_hz(), 80);
  EXPECT_TRUE(w->config.chain(1).has_denoise());
  EXPECT_TRUE(w->config.chain(2).has_compressor());
  EXPECT_FLOAT_EQ(w->config.chain(3).loudness().target_lufs(), -16);
  EXPECT_FLOAT_EQ(w->config.chain(4).limiter().ceiling_db(), -1);
  EXPECT_FALSE(w->config.has_output());
}

TEST(WorkloadTest, MusicIsStereoFloatEndingAtFortyFourPointOneKilohertz) {
  absl::StatusOr<Workload> w = MakeWorkload("music", 20);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->config.input().encoding(), v1::PCM_F32LE);
  EXPECT_EQ(w->config.input().channels(), 2u);
  EXPECT_EQ(w->chunk_bytes, 960u * 2 * 4);
  ASSERT_EQ(w->config.chain_size(), 4);
  ASSERT_EQ(w->config.chain(0).eq().bands_size(), 3);
  EXPECT_EQ(w->config.chain(0).eq().bands(0).type(), v1::LOWSHELF);
  EXPECT_FLOAT_EQ(w->config.chain(0).eq().bands(1).gain_db(), -2);
  EXPECT_EQ(w->config.chain(3).resample().sample_rate_hz(), 44100u);
  // Otherwise the server would append a resampler back to the input's 48 kHz.
  EXPECT_EQ(w->config.output().sample_rate_hz(), 44100u);
}

TEST(WorkloadTest, LightIsVoiceFormatThroughHighpassGainAndLimiter) {
  absl::StatusOr<Workload> w = MakeWorkload("light", 20);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->config.input().encoding(), v1::PCM_S16LE);
  EXPECT_EQ(w->config.input().sample_rate_hz(), 16000u);
  EXPECT_EQ(w->chunk_bytes, 640u);
  ASSERT_EQ(w->config.chain_size(), 3);
  EXPECT_TRUE(w->config.chain(0).has_highpass());
  EXPECT_TRUE(w->config.chain(1).has_gain());
  EXPECT_FLOAT_EQ(w->config.chain(2).limiter().ceiling_db(), -1);
}

TEST(WorkloadTest, ChainFlagReplacesTheWorkloadsChain) {
  absl::StatusOr<Workload> w = MakeWorkload("voice", 10, "gain:gain_db=6");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->config.chain_size(), 1);
  EXPECT_FLOAT_EQ(w->config.chain(0).gain().gain_db(), 6);
  EXPECT_EQ(w->chunk_frames, 160u);
}

TEST(WorkloadTest, RefusesUnknownNamesAndBadChains) {
  EXPECT_THAT(MakeWorkload("speech", 20), StatusIs(absl::StatusCode::kInvalidArgument,
                                                   HasSubstr("null, light, voice or music")));
  EXPECT_THAT(MakeWorkload("null", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chunk_ms")));
  EXPECT_THAT(MakeWorkload("null", 20, "nosuch:x=1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nosuch")));
}

}  // namespace
}  // namespace audioproc::bench
