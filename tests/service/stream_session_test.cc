// StreamSession: the Process protocol message by message, without gRPC. Requests go through
// what ProcessCall does with them (CheckRequest as they arrive, then Handle, and Finish at the
// half-close), with the fakes for the server's side in stream_session_harness.h.
#include "service/stream_session.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service/stream_session_harness.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using session_testing::ChunkRequest;
using session_testing::Clock;
using session_testing::ConfigRequest;
using session_testing::FakeAdmission;
using session_testing::FakeMetrics;
using session_testing::FullScaleSine;
using session_testing::Gain;
using session_testing::kMiB;
using session_testing::SessionHarness;
using session_testing::UpdateRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::IsOk;
using ::testing::SizeIs;
using testing::StatusIs;
// A full-scale sine's RMS: 20 log10(1/sqrt(2)).
constexpr float kFullScaleSineRmsDbfs = -3.0103f;

class StreamSessionTest : public ::testing::Test, public SessionHarness {};

// --- The order of messages ---

TEST_F(StreamSessionTest, ConfigThenChunksThenEndGivesReadyChunksTailAndSummary) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0)})), IsOk());
  ASSERT_THAT(responses_, SizeIs(1));
  ASSERT_TRUE(responses_[0].has_ready());
  const v1::StreamReady& ready = responses_[0].ready();
  ASSERT_THAT(ready.chain(), SizeIs(1));
  EXPECT_TRUE(ready.chain(0).gain().has_gain_db());
  EXPECT_EQ(ready.output().encoding(), v1::PCM_S16LE);
  EXPECT_EQ(ready.output().sample_rate_hz(), 16000u);
  EXPECT_EQ(ready.output().channels(), 1u);
  EXPECT_EQ(ready.latency_frames(), 0u);
  EXPECT_EQ(ready.stream_id(), "assigned-1");
  EXPECT_GT(ready.max_chunk_bytes(), 0u);
  EXPECT_EQ(admission_.holds_alive, 1);

  const std::string input = testing::ToS16Bytes(testing::Sine(440, 16000, 480, 0.5));
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(Send(ChunkRequest(input.substr(i * 320, 320))), IsOk());
  }
  ASSERT_THAT(End(), IsOk());

  ASSERT_THAT(responses_, SizeIs(6));
  for (int i = 0; i < 3; ++i) {
    const v1::ProcessedChunk& chunk = responses_[1 + i].chunk();
    EXPECT_EQ(chunk.metrics().sequence(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(chunk.metrics().frames_in(), 160u);
    EXPECT_EQ(chunk.metrics().frames_out(), 160u);
    EXPECT_FALSE(chunk.tail());
  }
  EXPECT_TRUE(responses_[4].chunk().tail());
  EXPECT_EQ(Output(), input);  // s16 through 0 dB: bit-exact
  ASSERT_TRUE(responses_[5].has_summary());
  const v1::StreamSummary& summary = responses_[5].summary();
  EXPECT_EQ(summary.frames_in(), 480u);
  EXPECT_EQ(summary.frames_out(), 480u);
  EXPECT_EQ(summary.chunks(), 3u);
  EXPECT_DOUBLE_EQ(summary.audio_seconds(), 0.03);
  ASSERT_THAT(summary.processors(), SizeIs(1));
  EXPECT_EQ(summary.processors(0).name(), "gain");
  EXPECT_EQ(summary.dropped_events(), 0u);
  EXPECT_EQ(summary.discarded_bytes(), 0u);
}

TEST_F(StreamSessionTest, FirstRequestThatIsNotAConfigIsInvalidArgument) {
  EXPECT_THAT(Send(ChunkRequest(std::string(4, '\0'))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the first message must be a config (StreamConfig), got chunk")));
  EXPECT_THAT(
      StreamSession::CheckRequest(UpdateRequest(0, Gain(0)), 8, /*first=*/true, {}, limits_),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got update")));
  EXPECT_THAT(StreamSession::CheckRequest(v1::ProcessRequest(), 0, /*first=*/true, {}, limits_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got an empty request")));
  EXPECT_THAT(responses_, IsEmpty());
}

TEST_F(StreamSessionTest, HandleKeepsTheOrderEvenWhenRequestsWereNotChecked) {
  std::vector<StreamSession::Response> out;
  auto handle = [&](const v1::ProcessRequest& request) {
    return session().Handle(
        request, "peer", now_, [] { return false; }, &out);
  };
  EXPECT_THAT(handle(ChunkRequest(std::string(2, '\0'))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be a config")));
  EXPECT_THAT(handle(UpdateRequest(0, Gain(0))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be a config")));
  ASSERT_THAT(handle(ConfigRequest(v1::PCM_S16LE, 16000, 1)), IsOk());
  EXPECT_THAT(handle(ConfigRequest(v1::PCM_S16LE, 16000, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only once")));
  EXPECT_THAT(out, SizeIs(1));  // `ready` only
}

TEST_F(StreamSessionTest, SecondConfigIsInvalidArgument) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1)), IsOk());
  EXPECT_THAT(
      Send(ConfigRequest(v1::PCM_S16LE, 16000, 1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("config may be sent only once")));
}

TEST_F(StreamSessionTest, EmptyRequestAfterConfigIsInvalidArgument) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1)), IsOk());
  EXPECT_THAT(Send(v1::ProcessRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request is empty")));
}

TEST_F(StreamSessionTest, EndBeforeConfigIsInvalidArgumentWithNoResponse) {
  EXPECT_THAT(End(), StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("the stream ended before its first message")));
  EXPECT_THAT(responses_, IsEmpty());
}

TEST_F(StreamSessionTest, EndWithNoChunkGivesAnEmptyTailAndSummary) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1)), IsOk());
  ASSERT_THAT(End(), IsOk());
  ASSERT_THAT(responses_, SizeIs(3));
  EXPECT_TRUE(responses_[1].chunk().tail());
  EXPECT_THAT(responses_[1].chunk().data(), IsEmpty());
  EXPECT_EQ(responses_[2].summary().frames_in(), 0u);
  EXPECT_EQ(responses_[2].summary().chunks(), 0u);
}

// --- Configs ---

struct BadConfigCase {
  const char* name;
  v1::ProcessRequest request;
  const char* message;
};

TEST_F(StreamSessionTest, BadConfigIsInvalidArgumentNamingTheFieldAndNothingIsHeld) {
  std::vector<BadConfigCase> cases;
  cases.push_back({"empty processor", ConfigRequest(v1::PCM_S16LE, 16000, 1, {v1::ProcessorSpec()}),
                   "chain[0]"});
  cases.push_back(
      {"gain out of range", ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(1000)}), "gain_db"});
  {
    v1::ProcessorSpec highpass;
    highpass.mutable_highpass();
    cases.push_back({"required parameter missing",
                     ConfigRequest(v1::PCM_S16LE, 16000, 1, {highpass}), "cutoff_hz"});
  }
  cases.push_back(
      {"no encoding", ConfigRequest(v1::ENCODING_UNSPECIFIED, 16000, 1), "input.encoding"});
  cases.push_back({"rate too low", ConfigRequest(v1::PCM_S16LE, 1000, 1), "input.sample_rate_hz"});
  cases.push_back({"too many channels", ConfigRequest(v1::PCM_S16LE, 16000, 9), "input.channels"});
  {
    v1::ProcessRequest request = ConfigRequest(v1::PCM_S16LE, 16000, 1);
    request.mutable_config()->set_stream_id("no spaces allowed");
    cases.push_back({"bad stream id", request, "config.stream_id"});
  }
  cases.push_back(
      {"chain too long",
       ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0), Gain(0), Gain(0), Gain(0), Gain(0)}),
       "chain"});
  for (const BadConfigCase& c : cases) {
    SCOPED_TRACE(c.name);
    Restart();
    metrics_.rejections.clear();
    EXPECT_THAT(Send(c.request),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
    EXPECT_THAT(responses_, IsEmpty());
    EXPECT_FALSE(session().configured());
    EXPECT_THAT(metrics_.rejections, ElementsAre("invalid_config"));
    EXPECT_EQ(admission_.holds_alive, 0);
  }
}

TEST_F(StreamSessionTest, ClientStreamIdIsKept) {
  v1::ProcessRequest request = ConfigRequest(v1::PCM_S16LE, 16000, 1);
  request.mutable_config()->set_stream_id("call-42.leg:a");
  ASSERT_THAT(Send(request), IsOk());
  EXPECT_EQ(responses_[0].ready().stream_id(), "call-42.leg:a");
  EXPECT_EQ(session().stream_id(), "call-42.leg:a");
}

TEST_F(StreamSessionTest, StreamThatCouldNeverRunIsInvalidArgumentNamingItsCost) {
  limits_.grant.max_stream_cost = 1e-9;
  EXPECT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0)})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_stream_cost")));
  EXPECT_THAT(responses_, IsEmpty());
}

TEST_F(StreamSessionTest, AdmissionRefusalEndsTheStreamWithItsStatusAndNothingBuilt) {
  admission_.refusal = absl::ResourceExhaustedError("the stream needs more memory");
  EXPECT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0)})),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("needs more memory")));
  EXPECT_THAT(responses_, IsEmpty());
  EXPECT_FALSE(session().configured());
  EXPECT_GT(admission_.admitted_cost.cpu_cores, 0);
  EXPECT_GT(admission_.admitted_cost.memory_bytes, 0);
  // Admission counts its own refusals; they are not bad configs.
  EXPECT_THAT(metrics_.rejections, IsEmpty());
}

TEST_F(StreamSessionTest, AdmittedShareIsHeldUntilTheSessionEnds) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1)), IsOk());
  ASSERT_THAT(End(), IsOk());
  EXPECT_EQ(admission_.holds_alive, 1);
  session_.reset();
  EXPECT_EQ(admission_.holds_alive, 0);
}

// --- Chunks ---

TEST_F(StreamSessionTest, ChunkLargerThanItsGrantIsResourceExhausted) {
  v1::ProcessRequest config = ConfigRequest(v1::PCM_S16LE, 16000, 1);
  config.mutable_config()->set_max_chunk_bytes(640);
  ASSERT_THAT(Send(config), IsOk());
  EXPECT_EQ(responses_[0].ready().max_chunk_bytes(), 640u);
  ASSERT_THAT(Send(ChunkRequest(std::string(640, '\0'))), IsOk());
  EXPECT_THAT(Send(ChunkRequest(std::string(642, '\0'))),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max_chunk_bytes=640")));
}

TEST_F(StreamSessionTest, ChunkMetricsEchoSequencesAndTimeTheChunk) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1)), IsOk());
  ASSERT_THAT(Send(ChunkRequest(std::string(320, '\0'), 42)), IsOk());
  ASSERT_THAT(Send(ChunkRequest(std::string(320, '\0'))), IsOk());
  EXPECT_EQ(responses_[1].chunk().metrics().sequence(), 42u);
  // Unset: the server numbers from 1, counting every chunk.
  EXPECT_EQ(responses_[2].chunk().metrics().sequence(), 2u);
  // The clock advances 1 ms a reading: received, started, ended.
  EXPECT_EQ(responses_[2].chunk().metrics().queue_wait_us(), 1000u);
  EXPECT_EQ(responses_[2].chunk().metrics().process_us(), 1000u);
  EXPECT_EQ(metrics_.chunks, 2);
  EXPECT_DOUBLE_EQ(metrics_.audio_seconds, 0.02);
  EXPECT_EQ(metrics_.bytes_out, 640u);
  EXPECT_THAT(metrics_.queue_waits, ElementsAre(0.001, 0.001));
}

TEST_F(StreamSessionTest, WholeStreamLevelsOfAFullScaleSine) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_F32LE, 48000, 1)), IsOk());
  ASSERT_THAT(Send(ChunkRequest(testing::ToF32Bytes(FullScaleSine(960)))), IsOk());
  const v1::ChunkMetrics& metrics = last().chunk().metrics();
  EXPECT_NEAR(metrics.in_peak_dbfs(), 0.0f, 0.01f);
  EXPECT_NEAR(metrics.in_rms_dbfs(), kFullScaleSineRmsDbfs, 0.01f);
  EXPECT_NEAR(metrics.out_rms_dbfs(), kFullScaleSineRmsDbfs, 0.01f);
  EXPECT_THAT(metrics.in_channel_levels(), IsEmpty());
  EXPECT_THAT(metrics.out_channel_levels(), IsEmpty());
}

TEST_F(StreamSessionTest, PerChannelLevelsMeasureEachChannel) {
  v1::ProcessRequest config = ConfigRequest(v1::PCM_F32LE, 48000, 2);
  config.mutable_config()->mutable_metrics()->set_per_channel(true);
  ASSERT_THAT(Send(config), IsOk());
  const std::vector<float> silence(960, 0.0f);
  ASSERT_THAT(
      Send(ChunkRequest(testing::ToF32Bytes(testing::Interleave({FullScaleSine(960), silence})))),
      IsOk());
  const v1::ChunkMetrics& metrics = last().chunk().metrics();
  ASSERT_THAT(metrics.in_channel_levels(), SizeIs(2));
  EXPECT_NEAR(metrics.in_channel_levels(0).peak_dbfs(), 0.0f, 0.01f);
  EXPECT_NEAR(metrics.in_channel_levels(0).rms_dbfs(), kFullScaleSineRmsDbfs, 0.01f);
  EXPECT_EQ(metrics.in_channel_levels(1).peak_dbfs(), -200.0f);
  EXPECT_EQ(metrics.in_channel_levels(1).rms_dbfs(), -200.0f);
  ASSERT_THAT(metrics.out_channel_levels(), SizeIs(2));
  EXPECT_NEAR(metrics.out_channel_levels(0).rms_dbfs(), kFullScaleSineRmsDbfs, 0.01f);
  EXPECT_EQ(metrics.out_channel_levels(1).rms_dbfs(), -200.0f);
  // The whole-stream RMS is over both channels: half the power, 3 dB less.
  EXPECT_NEAR(metrics.in_rms_dbfs(), kFullScaleSineRmsDbfs - 3.0103f, 0.01f);

  ASSERT_THAT(End(), IsOk());
  const v1::ChunkMetrics& tail = responses_[responses_.size() - 2].chunk().metrics();
  EXPECT_THAT(tail.in_channel_levels(), IsEmpty());
  ASSERT_THAT(tail.out_channel_levels(), SizeIs(2));  // every channel, even with no frames
  EXPECT_EQ(tail.out_channel_levels(0).rms_dbfs(), -200.0f);
}

TEST_F(StreamSessionTest, PerChannelLevelsFollowTheOutputsChannels) {
  v1::ProcessRequest config = ConfigRequest(v1::PCM_F32LE, 48000, 2);
  config.mutable_config()->mutable_metrics()->set_per_channel(true);
  config.mutable_config()->mutable_output()->set_channels(1);
  ASSERT_THAT(Send(config), IsOk());
  ASSERT_THAT(Send(ChunkRequest(testing::ToF32Bytes(
                  testing::Interleave({FullScaleSine(960), FullScaleSine(960)})))),
              IsOk());
  const v1::ChunkMetrics& metrics = last().chunk().metrics();
  EXPECT_THAT(metrics.in_channel_levels(), SizeIs(2));
  EXPECT_THAT(metrics.out_channel_levels(), SizeIs(1));
}

TEST_F(StreamSessionTest, OmitLevelsOmitsPerChannelLevelsToo) {
  v1::ProcessRequest config = ConfigRequest(v1::PCM_F32LE, 48000, 2);
  config.mutable_config()->mutable_metrics()->set_per_channel(true);
  config.mutable_config()->mutable_metrics()->set_omit_levels(true);
  ASSERT_THAT(Send(config), IsOk());
  ASSERT_THAT(Send(ChunkRequest(std::string(960 * 8, '\0'))), IsOk());
  const v1::ChunkMetrics& metrics = last().chunk().metrics();
  EXPECT_THAT(metrics.in_channel_levels(), IsEmpty());
  EXPECT_THAT(metrics.out_channel_levels(), IsEmpty());
  EXPECT_EQ(metrics.in_rms_dbfs(), 0.0f);  // unset
}

TEST_F(StreamSessionTest, PerChannelLevelsChangeNothingElse) {
  const std::string input = testing::ToS16Bytes(testing::Interleave(
      {testing::Sine(997, 48000, 4000, 0.7), testing::WhiteNoise(4000, 0.3, 7)}));
  auto run = [&](bool per_channel) {
    SessionHarness other;
    v1::ProcessRequest config = ConfigRequest(v1::PCM_S16LE, 48000, 2, {Gain(-3)});
    config.mutable_config()->mutable_metrics()->set_per_channel(per_channel);
    EXPECT_THAT(other.Send(config), IsOk());
    EXPECT_THAT(other.Send(ChunkRequest(input.substr(0, 6000))), IsOk());
    EXPECT_THAT(other.Send(ChunkRequest(input.substr(6000))), IsOk());
    EXPECT_THAT(other.End(), IsOk());
    std::vector<v1::ChunkMetrics> metrics;
    for (const v1::ProcessResponse& response : other.responses_) {
      if (!response.has_chunk()) continue;
      metrics.push_back(response.chunk().metrics());
      metrics.back().clear_in_channel_levels();
      metrics.back().clear_out_channel_levels();
    }
    return std::make_pair(other.Output(), metrics);
  };
  const auto [plain_output, plain_metrics] = run(false);
  const auto [measured_output, measured_metrics] = run(true);
  EXPECT_EQ(plain_output, measured_output);
  ASSERT_EQ(plain_metrics.size(), measured_metrics.size());
  for (size_t i = 0; i < plain_metrics.size(); ++i) {
    EXPECT_EQ(plain_metrics[i].SerializeAsString(), measured_metrics[i].SerializeAsString())
        << "chunk " << i;
  }
}

TEST_F(StreamSessionTest, PerChannelResponsesStayWithinTheGrantedBound) {
  limits_.grant.max_response_bytes = 64 << 10;
  v1::ProcessRequest config = ConfigRequest(v1::PCM_F32LE, 48000, 8);
  config.mutable_config()->mutable_metrics()->set_per_channel(true);
  ASSERT_THAT(Send(config), IsOk());
  const StreamGrant& grant = session().grant();
  ASSERT_GT(grant.max_chunk_bytes, 0u);
  const size_t frames = grant.max_chunk_bytes / 32;
  std::vector<std::vector<float>> channels(8, testing::WhiteNoise(frames, 0.9, 3));
  ASSERT_THAT(Send(ChunkRequest(testing::ToF32Bytes(testing::Interleave(channels)), UINT64_MAX)),
              IsOk());
  ASSERT_THAT(End(), IsOk());
  for (const v1::ProcessResponse& response : responses_) {
    EXPECT_LE(response.ByteSizeLong(), grant.max_response_bytes);
  }
  EXPECT_THAT(responses_[1].chunk().metrics().in_channel_levels(), SizeIs(8));
}

TEST_F(StreamSessionTest, LongChunkInSlicesGivesTheSameResponse) {
  const std::string input = testing::ToS16Bytes(testing::Sine(440, 16000, 5000, 0.5));
  SessionHarness whole;
  ASSERT_THAT(whole.Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(-6)})), IsOk());
  ASSERT_THAT(whole.Send(ChunkRequest(input)), IsOk());
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(-6)})), IsOk());
  ASSERT_THAT(Send(ChunkRequest(input), /*slice=*/true), IsOk());
  ASSERT_THAT(responses_, SizeIs(2));
  EXPECT_EQ(responses_[1].chunk().data(), whole.responses_[1].chunk().data());
  EXPECT_EQ(responses_[1].chunk().metrics().frames_in(), 5000u);
}

TEST_F(StreamSessionTest, StreamPastMaxStreamSecondsIsOutOfRange) {
  limits_.max_stream_seconds = 0.015;
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1)), IsOk());
  ASSERT_THAT(Send(ChunkRequest(std::string(320, '\0'))), IsOk());  // 10 ms
  EXPECT_THAT(Send(ChunkRequest(std::string(320, '\0'))),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("--max_stream_seconds=0.015")));
  EXPECT_THAT(responses_, SizeIs(2));  // the refused chunk is not processed
}

// --- Updates ---

TEST_F(StreamSessionTest, VadReportsReachTheWireAsSpeechProbabilityEvents) {
  v1::ProcessorSpec vad;
  vad.mutable_vad()->set_report_interval_ms(10);
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {vad})), IsOk());
  // 100 ms of digital silence: ten 10 ms reports, each at its hop's first frame, no speech.
  ASSERT_THAT(Send(ChunkRequest(std::string(3200, '\0'))), IsOk());
  const v1::ProcessedChunk& chunk = last().chunk();
  ASSERT_THAT(chunk.events(), SizeIs(10));
  for (int i = 0; i < chunk.events_size(); ++i) {
    const v1::Event& event = chunk.events(i);
    ASSERT_TRUE(event.has_speech_probability()) << i;
    EXPECT_EQ(event.frame(), 160u * i);
    EXPECT_EQ(event.speech_probability().probability(), 0.0f);
    EXPECT_FALSE(event.speech_probability().active());
  }
}

TEST_F(StreamSessionTest, AecTakesMicAndReferenceAndReportsTheEchoDelayOnTheWire) {
  // A microphone that hears the reference 40 ms late: one channel comes out, and the delay
  // estimate arrives as an EchoDelay event.
  v1::ProcessorSpec aec;
  aec.mutable_aec()->set_reference_channels(1);
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_F32LE, 16000, 2, {aec})), IsOk());
  const std::vector<float> far = testing::WhiteNoise(32000, 0.3, 1);
  std::vector<float> mic(far.size(), 0.0f);
  for (size_t i = 640; i < far.size(); ++i) mic[i] = 0.5f * far[i - 640];
  ASSERT_THAT(Send(ChunkRequest(testing::ToF32Bytes(testing::Interleave({mic, far})))), IsOk());
  const v1::ProcessedChunk& chunk = last().chunk();
  // One channel: four bytes a frame out for the frames out.
  EXPECT_EQ(chunk.data().size(), 4u * chunk.metrics().frames_out());
  EXPECT_GT(chunk.metrics().frames_out(), 0u);
  bool reported = false;
  for (const v1::Event& event : chunk.events()) {
    if (!event.has_echo_delay()) continue;
    reported = true;
    EXPECT_NEAR(event.echo_delay().delay_ms(), 40.0f, 0.5f);
  }
  EXPECT_TRUE(reported);
}

TEST_F(StreamSessionTest, AppliedUpdateRidesOnTheNextChunk) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0), Gain(0)})), IsOk());
  ASSERT_THAT(Send(UpdateRequest(1, Gain(-6))), IsOk());
  EXPECT_THAT(responses_, SizeIs(1));  // no response of its own
  ASSERT_THAT(Send(ChunkRequest(std::string(320, '\0'))), IsOk());
  const v1::ProcessedChunk& chunk = last().chunk();
  ASSERT_THAT(chunk.events(), SizeIs(1));
  EXPECT_EQ(chunk.events(0).processor_index(), 1u);
  EXPECT_TRUE(chunk.events(0).update().applied());
  EXPECT_EQ(chunk.events(0).update().message(), "applied");
}

TEST_F(StreamSessionTest, RefusedUpdatesAreAnsweredInBandAndTheStreamGoesOn) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0)})), IsOk());
  v1::ProcessorSpec highpass;
  highpass.mutable_highpass()->set_cutoff_hz(100);
  ASSERT_THAT(Send(UpdateRequest(0, Gain(1000))), IsOk());  // out of range
  ASSERT_THAT(Send(UpdateRequest(3, Gain(-6))), IsOk());    // past the chain
  ASSERT_THAT(Send(UpdateRequest(0, highpass)), IsOk());    // another processor
  ASSERT_THAT(Send(ChunkRequest(std::string(320, '\0'))), IsOk());
  const v1::ProcessedChunk& chunk = last().chunk();
  ASSERT_THAT(chunk.events(), SizeIs(3));
  for (const v1::Event& event : chunk.events()) EXPECT_FALSE(event.update().applied());
  EXPECT_THAT(chunk.events(0).update().message(), HasSubstr("gain_db"));
  EXPECT_THAT(chunk.events(1).update().message(), HasSubstr("past the chain of 1 processors"));
  EXPECT_EQ(chunk.events(1).processor_index(), 3u);
  EXPECT_FALSE(chunk.events(2).update().message().empty());
  // The stream ran on unchanged: 0 dB, bit-exact.
  ASSERT_THAT(Send(ChunkRequest(testing::ToS16Bytes(testing::Sine(440, 16000, 160, 0.5)))), IsOk());
  EXPECT_EQ(last().chunk().data(), testing::ToS16Bytes(testing::Sine(440, 16000, 160, 0.5)));
}

TEST_F(StreamSessionTest, UpdateAppliesWholeOrNotAtAll) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0), Gain(0)})), IsOk());
  v1::ProcessRequest update = UpdateRequest(0, Gain(-6));
  v1::ProcessorUpdate* bad = update.mutable_update()->add_updates();
  bad->set_index(1);
  *bad->mutable_spec() = Gain(1000);
  ASSERT_THAT(Send(update), IsOk());
  const std::string input = testing::ToS16Bytes(testing::Sine(440, 16000, 160, 0.5));
  ASSERT_THAT(Send(ChunkRequest(input)), IsOk());
  ASSERT_THAT(last().chunk().events(), SizeIs(1));
  EXPECT_FALSE(last().chunk().events(0).update().applied());
  EXPECT_EQ(last().chunk().events(0).processor_index(), 1u);
  EXPECT_EQ(last().chunk().data(), input);  // the first entry was not applied either
}

TEST_F(StreamSessionTest, TooManyUpdatesBeforeAChunkIsResourceExhausted) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(0)})), IsOk());
  for (uint32_t i = 0; i < kMaxPendingUpdates; ++i) {
    ASSERT_THAT(Send(UpdateRequest(0, Gain(-1))), IsOk()) << i;
  }
  EXPECT_THAT(Send(UpdateRequest(0, Gain(-1))),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("send audio between")));
  EXPECT_THAT(metrics_.rejections, ElementsAre("update_flood"));
}

// --- The end ---

TEST_F(StreamSessionTest, SummaryCountsThePartialLastFrameAsDiscardedBytes) {
  ASSERT_THAT(Send(ConfigRequest(v1::PCM_S16LE, 16000, 2)), IsOk());
  ASSERT_THAT(Send(ChunkRequest(std::string(4 * 100 + 3, '\0'))), IsOk());
  EXPECT_EQ(last().chunk().metrics().frames_in(), 100u);
  ASSERT_THAT(End(), IsOk());
  const v1::StreamSummary& summary = last().summary();
  EXPECT_EQ(summary.frames_in(), 100u);
  EXPECT_EQ(summary.frames_out(), 100u);
  EXPECT_EQ(summary.discarded_bytes(), 3u);
  EXPECT_EQ(summary.dropped_events(), 0u);
}

TEST_F(StreamSessionTest, SummaryTimesEveryProcessorIncludingTheAppendedConversions) {
  v1::ProcessRequest config = ConfigRequest(v1::PCM_S16LE, 16000, 1, {Gain(-1)});
  config.mutable_config()->mutable_output()->set_sample_rate_hz(8000);
  ASSERT_THAT(Send(config), IsOk());
  EXPECT_THAT(responses_[0].ready().chain(), SizeIs(1));  // as the client asked
  ASSERT_THAT(Send(ChunkRequest(std::string(3200, '\0'))), IsOk());
  ASSERT_THAT(End(), IsOk());
  const v1::StreamSummary& summary = last().summary();
  ASSERT_THAT(summary.processors(), SizeIs(2));
  EXPECT_EQ(summary.processors(0).name(), "gain");
  EXPECT_EQ(summary.processors(1).name(), "resample");
  EXPECT_EQ(summary.frames_in(), 1600u);
  EXPECT_EQ(summary.frames_out(), 800u);
  EXPECT_THAT(metrics_.processors, ElementsAre("gain", "resample"));
  EXPECT_EQ(metrics_.processor_observations, 2);  // each processor, once per chunk
  EXPECT_GT(summary.wall_seconds(), 0);           // from `ready`, on the injected clock
}

}  // namespace
}  // namespace audioproc
