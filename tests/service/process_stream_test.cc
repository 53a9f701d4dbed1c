// The Process stream, message by message (DESIGN §3), against an in-process server.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using testing::ChunkRequest;
using testing::ChunkRequests;
using testing::ConfigRequest;
using testing::Exchange;
using testing::ExchangeResult;
using ::testing::HasSubstr;
using testing::MakeConfig;

class ProcessStreamTest : public testing::InProcessServerTest {};

std::string SpeechLikeS16(size_t frames) {
  std::vector<float> x = testing::Sine(440, 16000, frames, 0.3);
  std::vector<float> noise = testing::WhiteNoise(frames, 0.05, 7);
  for (size_t i = 0; i < frames; ++i) x[i] += noise[i];
  return testing::ToS16Bytes(x);
}

TEST_F(ProcessStreamTest, ReadyThenOneChunkPerInputChunkInOrderThenTailAndSummary) {
  const std::string audio = SpeechLikeS16(16000);
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))};
  for (int i = 0; i < 25; ++i)
    requests.push_back(ChunkRequest(audio.substr(i * 640, 640), 100 + i));
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_TRUE(result.has_ready());
  const auto chunks = result.chunks();
  ASSERT_EQ(chunks.size(), 26u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_FALSE(chunks[i]->tail());
    EXPECT_EQ(chunks[i]->metrics().sequence(), 100u + i);
    EXPECT_EQ(chunks[i]->metrics().frames_in(), 320u);
  }
  EXPECT_TRUE(chunks[25]->tail());
  ASSERT_NE(result.summary(), nullptr);
  EXPECT_TRUE(result.responses.back().has_summary());
  EXPECT_EQ(result.summary()->frames_in(), 8000u);
  EXPECT_EQ(result.summary()->frames_out(), 8000u);
  EXPECT_EQ(result.summary()->chunks(), 25u);
  EXPECT_DOUBLE_EQ(result.summary()->audio_seconds(), 0.5);
  // s16 through an empty chain is bit-exact.
  EXPECT_EQ(result.audio(), audio.substr(0, 16000));
}

TEST_F(ProcessStreamTest, ServerNumbersChunksFromOneWhenSequenceIsZero) {
  const std::string audio = SpeechLikeS16(960);
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))};
  for (auto& chunk : ChunkRequests(audio, 640)) requests.push_back(chunk);
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok());
  const auto chunks = result.chunks();
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0]->metrics().sequence(), 1u);
  EXPECT_EQ(chunks[1]->metrics().sequence(), 2u);
  EXPECT_EQ(chunks[2]->metrics().sequence(), 3u);
}

TEST_F(ProcessStreamTest, ReadyEchoesTheResolvedChainWithDefaultsAndTheLatency) {
  v1::StreamConfig config = MakeConfig(
      v1::PCM_S16LE, 16000, 1, R"([{"highpass":{"cutoffHz":80}},{"limiter":{"ceilingDb":-1}}])");
  config.set_stream_id("leg-1");
  const ExchangeResult result = Exchange(*stub_, {ConfigRequest(config)});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const v1::StreamReady& ready = result.ready();
  ASSERT_EQ(ready.chain_size(), 2);
  EXPECT_FLOAT_EQ(ready.chain(0).highpass().cutoff_hz(), 80);
  EXPECT_TRUE(ready.chain(0).highpass().has_q());
  EXPECT_EQ(ready.chain(0).highpass().order(), 2u);
  EXPECT_FLOAT_EQ(ready.chain(1).limiter().lookahead_ms(), 5);
  EXPECT_TRUE(ready.chain(1).limiter().has_true_peak());
  EXPECT_EQ(ready.latency_frames(), 80u);  // 5 ms lookahead at 16 kHz
  EXPECT_EQ(ready.stream_id(), "leg-1");
  EXPECT_EQ(ready.output().encoding(), v1::PCM_S16LE);
  EXPECT_EQ(ready.output().sample_rate_hz(), 16000u);
  EXPECT_EQ(ready.output().channels(), 1u);
}

TEST_F(ProcessStreamTest, AnEmptyStreamIdIsAssignedByTheServer) {
  const ExchangeResult result =
      Exchange(*stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))});
  ASSERT_TRUE(result.status.ok());
  EXPECT_FALSE(result.ready().stream_id().empty());
}

TEST_F(ProcessStreamTest, LimiterOutputIsAlignedAndOfExactLengthWithOddByteChunks) {
  const std::string audio = SpeechLikeS16(4000);
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"limiter":{"ceilingDb":-1}}])"))};
  for (auto& chunk : ChunkRequests(audio, 333)) requests.push_back(chunk);  // odd bytes
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok());
  // The signal peaks near -9 dBFS: the limiter never acts, so output = input exactly.
  EXPECT_EQ(result.audio(), audio);
  // The pre-roll (5 ms lookahead: 80 frames) is dropped from the start.
  EXPECT_EQ(result.ready().latency_frames(), 80u);
  EXPECT_EQ(result.chunks().front()->metrics().frames_in(), 166u);
  EXPECT_EQ(result.chunks().front()->metrics().frames_out(), 166u - 80u);
}

TEST_F(ProcessStreamTest, DownmixToMonoFromOutputChannels) {
  std::vector<float> left = testing::Sine(300, 16000, 1600, 0.5);
  std::vector<float> right(1600, 0.25f);
  v1::StreamConfig config = MakeConfig(v1::PCM_F32LE, 16000, 2);
  config.mutable_output()->set_channels(1);
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(config)};
  requests.push_back(ChunkRequest(testing::ToF32Bytes(testing::Interleave({left, right}))));
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.ready().output().channels(), 1u);
  const std::vector<float> mono = testing::FromF32Bytes(result.audio());
  ASSERT_EQ(mono.size(), 1600u);
  for (size_t i = 0; i < mono.size(); ++i) ASSERT_FLOAT_EQ(mono[i], (left[i] + right[i]) / 2);
}

TEST_F(ProcessStreamTest, UnsetOutputChannelsAreTheChainsNotMixedBackToTheInputs) {
  std::vector<float> left = testing::Sine(300, 16000, 1600, 0.5);
  std::vector<float> right(1600, 0.25f);
  // The chain mixes to mono on purpose; the output does not upmix it back to stereo.
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_F32LE, 16000, 2, R"([{"mix":{"outputChannels":1}}])"))};
  requests.push_back(ChunkRequest(testing::ToF32Bytes(testing::Interleave({left, right}))));
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.ready().output().channels(), 1u);
  const std::vector<float> mono = testing::FromF32Bytes(result.audio());
  ASSERT_EQ(mono.size(), 1600u);
  for (size_t i = 0; i < mono.size(); ++i) ASSERT_FLOAT_EQ(mono[i], (left[i] + right[i]) / 2);
  // Unless the output asks for stereo again.
  v1::StreamConfig stereo =
      MakeConfig(v1::PCM_F32LE, 16000, 2, R"([{"mix":{"outputChannels":1}}])");
  stereo.mutable_output()->set_channels(2);
  requests[0] = ConfigRequest(stereo);
  const ExchangeResult upmixed = Exchange(*stub_, requests);
  ASSERT_TRUE(upmixed.status.ok()) << upmixed.status.error_message();
  EXPECT_EQ(upmixed.ready().output().channels(), 2u);
  EXPECT_EQ(testing::FromF32Bytes(upmixed.audio()).size(), 3200u);
}

TEST_F(ProcessStreamTest, NonFiniteFloatInputIsZeroedAndCounted) {
  std::vector<float> x = {0.5f, NAN, INFINITY, -INFINITY, 0.25f};
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(MakeConfig(v1::PCM_F32LE, 16000, 1)),
                                              ChunkRequest(testing::ToF32Bytes(x))};
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok());
  EXPECT_EQ(result.chunks()[0]->metrics().nonfinite_samples(), 3u);
  EXPECT_EQ(result.summary()->nonfinite_samples(), 3u);
  EXPECT_EQ(testing::FromF32Bytes(result.audio()), (std::vector<float>{0.5f, 0, 0, 0, 0.25f}));
}

TEST_F(ProcessStreamTest, ChunkMetricsReportLevels) {
  const std::string audio = testing::ToS16Bytes(testing::Sine(1000, 16000, 1600, 0.5));
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":-6}}])")),
      ChunkRequest(audio)};
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok());
  const v1::ChunkMetrics& metrics = result.chunks()[0]->metrics();
  EXPECT_NEAR(metrics.in_peak_dbfs(), -6.02, 0.01);
  EXPECT_NEAR(metrics.in_rms_dbfs(), -9.03, 0.01);
  EXPECT_NEAR(metrics.out_peak_dbfs(), -12.02, 0.01);
  EXPECT_NEAR(metrics.out_rms_dbfs(), -15.03, 0.01);
}

TEST_F(ProcessStreamTest, ValidUpdateIsReportedAppliedOnTheNextChunk) {
  const std::string audio = SpeechLikeS16(640);
  v1::ProcessRequest update;
  auto* entry = update.mutable_update()->add_updates();
  entry->set_index(0);
  entry->mutable_spec()->mutable_gain()->set_gain_db(-6);
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{}}])")),
      ChunkRequest(audio.substr(0, 640)), update, ChunkRequest(audio.substr(640))};
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const auto chunks = result.chunks();
  ASSERT_EQ(chunks[1]->events_size(), 1);
  EXPECT_TRUE(chunks[1]->events(0).update().applied());
  EXPECT_EQ(chunks[1]->events(0).frame(), 320u);
}

TEST_F(ProcessStreamTest, InvalidUpdateIsRefusedInBandAndTheStreamGoesOn) {
  v1::ProcessRequest update;
  auto* entry = update.mutable_update()->add_updates();
  entry->set_index(0);
  entry->mutable_spec()->mutable_limiter()->set_lookahead_ms(10);  // not runtime-updatable
  const std::string audio = SpeechLikeS16(640);
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"limiter":{}}])")), update,
      ChunkRequest(audio)};
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok());
  const auto chunks = result.chunks();
  ASSERT_EQ(chunks[0]->events_size(), 1);
  EXPECT_FALSE(chunks[0]->events(0).update().applied());
  EXPECT_THAT(chunks[0]->events(0).update().message(), HasSubstr("limiter.lookahead_ms"));
  EXPECT_EQ(result.summary()->frames_out(), 640u);
}

TEST_F(ProcessStreamTest, ListProcessorsNamesEveryProcessor) {
  grpc::ClientContext context;
  v1::ListProcessorsResponse response;
  ASSERT_TRUE(stub_->ListProcessors(&context, {}, &response).ok());
  std::vector<std::string> names;
  for (const auto& info : response.processors()) names.push_back(info.name());
  EXPECT_THAT(names, ::testing::IsSupersetOf({"gain", "highpass", "limiter", "mix"}));
}

TEST_F(ProcessStreamTest, HealthIsServingOverallAndForTheService) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* service : {"", "audioproc.v1.AudioProcessor"}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
}

TEST_F(ProcessStreamTest, AnotherOutputRateAppendsAResampleWithExactLength) {
  const std::string audio = testing::ToS16Bytes(testing::Sine(440, 16000, 16000, 0.5));
  v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":-1}}])");
  config.mutable_output()->set_sample_rate_hz(48000);
  config.mutable_output()->set_channels(2);
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(config)};
  for (auto& chunk : ChunkRequests(audio, 640)) requests.push_back(std::move(chunk));
  const ExchangeResult result = Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.ready().output().sample_rate_hz(), 48000u);
  EXPECT_EQ(result.ready().output().channels(), 2u);
  EXPECT_EQ(result.ready().chain_size(), 1) << "the appended conversions are not echoed";
  EXPECT_EQ(result.audio().size(), 48000u * 2 * 2) << "exactly 3x the frames, two channels";
  EXPECT_EQ(result.summary()->frames_out(), 48000u);
}

}  // namespace
}  // namespace audioproc
