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

using ::testing::HasSubstr;
using testing::ChunkRequest;
using testing::ChunkRequests;
using testing::ConfigRequest;
using testing::Exchange;
using testing::ExchangeResult;
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
  for (int i = 0; i < 25; ++i) requests.push_back(ChunkRequest(audio.substr(i * 640, 640), 100 + i));
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
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(
      MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"limiter":{"ceilingDb":-1}}])"))};
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

TEST_F(ProcessStreamTest, NonFiniteFloatInputIsZeroedAndCounted) {
  std::vector<float> x = {0.5f, NAN, INFINITY, -INFINITY, 0.25f};
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_F32LE, 16000, 1)), ChunkRequest(testing::ToF32Bytes(x))};
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

// DESIGN §6: each bad input gets its exact code and a message naming the field.
struct BadInputCase {
  const char* name;
  std::vector<v1::ProcessRequest> (*requests)();
  grpc::StatusCode code;
  const char* message;
  bool ready = false;  // whether a valid config came before the bad input
};

class BadInputTest : public testing::InProcessServerTest,
                     public ::testing::WithParamInterface<BadInputCase> {};

std::vector<v1::ProcessRequest> WithChain(const char* chain) {
  return {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, chain)), ChunkRequest("\x01\x02")};
}

TEST_P(BadInputTest, GetsItsStatusAndNamesTheField) {
  // A bystander stream, open before the bad input arrives and used after it.
  grpc::ClientContext bystander_context;
  auto bystander = stub_->Process(&bystander_context);
  ASSERT_TRUE(bystander->Write(ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))));
  v1::ProcessResponse response;
  ASSERT_TRUE(bystander->Read(&response));
  ASSERT_TRUE(bystander->Write(ChunkRequest(std::string(640, '\x01'))));
  ASSERT_TRUE(bystander->Read(&response));

  const ExchangeResult result = Exchange(*stub_, GetParam().requests());
  EXPECT_EQ(result.status.error_code(), GetParam().code) << result.status.error_message();
  EXPECT_THAT(result.status.error_message(), HasSubstr(GetParam().message));
  // A bad config ends the call before `ready`; a later error ends it without tail or summary.
  EXPECT_EQ(result.has_ready(), GetParam().ready);
  EXPECT_EQ(result.tail(), nullptr);
  EXPECT_EQ(result.summary(), nullptr);
  // The server keeps serving others: the bystander goes on, and new streams start.
  ASSERT_TRUE(bystander->Write(ChunkRequest(std::string(640, '\x02'))));
  ASSERT_TRUE(bystander->Read(&response));
  EXPECT_EQ(response.chunk().data(), std::string(640, '\x02'));
  bystander->WritesDone();
  while (bystander->Read(&response)) {
  }
  EXPECT_TRUE(bystander->Finish().ok());
  const ExchangeResult next = Exchange(*stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 8000, 1))});
  EXPECT_TRUE(next.status.ok()) << next.status.error_message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadInputTest,
    ::testing::Values(
        BadInputCase{"FirstMessageIsAChunk", [] { return std::vector{ChunkRequest("ab")}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "first message must be a config"},
        BadInputCase{"NoMessageAtAll", [] { return std::vector<v1::ProcessRequest>{}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config"},
        BadInputCase{"EmptyRequest", [] { return std::vector{v1::ProcessRequest()}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config"},
        BadInputCase{"UnknownEncoding",
                     [] {
                       v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1);
                       config.mutable_input()->clear_encoding();
                       return std::vector{ConfigRequest(config)};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.input.encoding"},
        BadInputCase{"RateTooLow",
                     [] { return std::vector{ConfigRequest(MakeConfig(v1::PCM_S16LE, 4000, 1))}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.input.sample_rate_hz"},
        BadInputCase{"TooManyChannels",
                     [] { return std::vector{ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 9))}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.input.channels"},
        BadInputCase{"EmptyProcessor", [] { return WithChain("[{}]"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.chain[0]"},
        BadInputCase{"MissingRequiredParameter", [] { return WithChain(R"([{"highpass":{}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "chain[0].highpass.cutoff_hz"},
        BadInputCase{"ParameterOutOfRange",
                     [] { return WithChain(R"([{"gain":{}},{"gain":{"gainDb":99}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "chain[1].gain.gain_db must be in [-120, 60]"},
        BadInputCase{"CutoffAboveNyquist",
                     [] { return WithChain(R"([{"lowpass":{"cutoffHz":9000}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "lowpass.cutoff_hz must be in (0, 8000)"},
        BadInputCase{"NaNParameter", [] { return WithChain(R"([{"gain":{"gainDb":"NaN"}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "gain.gain_db"},
        BadInputCase{"BadStreamId",
                     [] {
                       v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1);
                       config.set_stream_id("no spaces allowed");
                       return std::vector{ConfigRequest(config)};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.stream_id"},
        BadInputCase{"ChainLongerThanTheLimit",
                     [] {
                       v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1);
                       for (int i = 0; i < 33; ++i) config.add_chain()->mutable_gain();
                       return std::vector{ConfigRequest(config)};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "--max_chain_length=32"},
        BadInputCase{"SecondConfig",
                     [] {
                       auto config = ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1));
                       return std::vector{config, config};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "second config", true},
        BadInputCase{"ChunkLargerThanTheLimit",
                     [] {
                       return std::vector{ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1)),
                                          ChunkRequest(std::string(1048577, '\0'))};
                     },
                     grpc::StatusCode::RESOURCE_EXHAUSTED, "--max_chunk_bytes=1048576", true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ProcessStreamTest, ChunksAcceptedBeforeAnOversizedChunkAreAnsweredFirst) {
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1)),
                                              ChunkRequest(std::string(640, '\0')),
                                              ChunkRequest(std::string(640, '\0')),
                                              ChunkRequest(std::string(1048577, '\0'))};
  const ExchangeResult result = Exchange(*stub_, requests);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_TRUE(result.has_ready());
  EXPECT_EQ(result.chunks().size(), 2u);
  EXPECT_EQ(result.tail(), nullptr);
  EXPECT_EQ(result.summary(), nullptr);
}

class MaxStreamsTest : public testing::InProcessServerTest {
 protected:
  MaxStreamsTest() { options_.max_streams = 2; }
};

TEST_F(MaxStreamsTest, StreamsBeyondTheLimitAreResourceExhaustedAtOnce) {
  // Two streams held open (config sent, no half-close).
  grpc::ClientContext contexts[2];
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProcessRequest, v1::ProcessResponse>> open[2];
  for (int i = 0; i < 2; ++i) {
    open[i] = stub_->Process(&contexts[i]);
    ASSERT_TRUE(open[i]->Write(ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))));
    v1::ProcessResponse ready;
    ASSERT_TRUE(open[i]->Read(&ready));
    ASSERT_TRUE(ready.has_ready());
  }
  const ExchangeResult third =
      Exchange(*stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))});
  EXPECT_EQ(third.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(third.status.error_message(), HasSubstr("--max_streams=2"));
  // The open streams are unaffected, and once one ends a new stream is admitted.
  ASSERT_TRUE(open[0]->Write(ChunkRequest(std::string(640, '\0'))));
  open[0]->WritesDone();
  v1::ProcessResponse response;
  int chunks = 0;
  while (open[0]->Read(&response)) chunks += response.has_chunk();
  EXPECT_TRUE(open[0]->Finish().ok());
  EXPECT_EQ(chunks, 2);  // one chunk and the tail
  const ExchangeResult after =
      Exchange(*stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))});
  EXPECT_TRUE(after.status.ok()) << after.status.error_message();
  open[1]->WritesDone();
  while (open[1]->Read(&response)) {
  }
  EXPECT_TRUE(open[1]->Finish().ok());
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

class DrainTest : public testing::InProcessServerTest {
 protected:
  DrainTest() { options_.drain_seconds = 1; }
};

TEST_F(DrainTest, NewStreamsAreUnavailableAndRunningOnesEndUnavailableAfterTheDeadline) {
  grpc::ClientContext context;
  auto running = stub_->Process(&context);
  ASSERT_TRUE(running->Write(ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))));
  v1::ProcessResponse response;
  ASSERT_TRUE(running->Read(&response));
  ASSERT_TRUE(response.has_ready());
  ASSERT_TRUE(running->Write(ChunkRequest(std::string(640, '\0'))));
  ASSERT_TRUE(running->Read(&response));  // the chunk's answer
  ASSERT_TRUE(response.has_chunk());

  std::thread drainer([&] { server_->Drain(); });
  // Health turns NOT_SERVING and new calls are refused while the drain runs.
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckResponse::ServingStatus status =
      grpc::health::v1::HealthCheckResponse::SERVING;
  for (int i = 0; i < 200 && status == grpc::health::v1::HealthCheckResponse::SERVING; ++i) {
    grpc::ClientContext health_context;
    grpc::health::v1::HealthCheckResponse health_response;
    health->Check(&health_context, {}, &health_response);
    status = health_response.status();
  }
  EXPECT_EQ(status, grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  const ExchangeResult refused =
      Exchange(*stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))});
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("draining"));

  // The running stream still works during the drain ...
  ASSERT_TRUE(running->Write(ChunkRequest(std::string(640, '\0'))));
  ASSERT_TRUE(running->Read(&response));
  EXPECT_TRUE(response.has_chunk());
  // ... and ends UNAVAILABLE at the deadline, with no tail or summary.
  int more = 0;
  while (running->Read(&response)) ++more;
  const grpc::Status end = running->Finish();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(end.error_message(), HasSubstr("drain"));
  EXPECT_EQ(more, 0);
  drainer.join();
}

}  // namespace
}  // namespace audioproc

namespace audioproc {
namespace {

class IdleTimeoutTest : public testing::InProcessServerTest {
 protected:
  IdleTimeoutTest() { options_.idle_timeout_seconds = 0.3; }
};

TEST_F(IdleTimeoutTest, AStreamThatSendsNothingWhileTheServerWaitsIsDeadlineExceeded) {
  grpc::ClientContext context;
  auto stream = stub_->Process(&context);
  ASSERT_TRUE(stream->Write(ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))));
  ASSERT_TRUE(stream->Write(ChunkRequest(std::string(640, '\0'))));
  v1::ProcessResponse response;
  int chunks = 0;
  while (stream->Read(&response)) chunks += response.has_chunk();  // ends at the timeout
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status.error_message(), HasSubstr("--idle_timeout_seconds=0.3"));
  EXPECT_EQ(chunks, 1);  // the accepted chunk was answered first
}

TEST_F(IdleTimeoutTest, AStreamThatKeepsSendingIsNotIdle) {
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))};
  grpc::ClientContext context;
  auto stream = stub_->Process(&context);
  ASSERT_TRUE(stream->Write(requests[0]));
  v1::ProcessResponse response;
  ASSERT_TRUE(stream->Read(&response));
  // Eight chunks 0.1 s apart: 0.8 s in all, longer than the timeout, but never idle for it.
  for (int i = 0; i < 8; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(stream->Write(ChunkRequest(std::string(640, '\0'))));
    ASSERT_TRUE(stream->Read(&response));
  }
  stream->WritesDone();
  while (stream->Read(&response)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace audioproc

namespace audioproc {
namespace {

// An invalid mid-stream update is refused in band, naming the parameter (and its range where
// one applies), and the stream goes on unchanged.
struct BadUpdateCase {
  const char* name;
  void (*make)(v1::ProcessorUpdate*);
  const char* message;
};

class BadUpdateTest : public testing::InProcessServerTest,
                      public ::testing::WithParamInterface<BadUpdateCase> {};

TEST_P(BadUpdateTest, IsRefusedInBandAndTheStreamGoesOnUnchanged) {
  const std::string audio = testing::ToS16Bytes(testing::Sine(500, 16000, 640, 0.25));
  v1::ProcessRequest update;
  GetParam().make(update.mutable_update()->add_updates());
  const auto config = ConfigRequest(MakeConfig(
      v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":-6}},{"highpass":{"cutoffHz":100}}])"));
  const ExchangeResult refused =
      Exchange(*stub_, {config, ChunkRequest(audio.substr(0, 640)), update,
                        ChunkRequest(audio.substr(640))});
  const ExchangeResult plain =
      Exchange(*stub_, {config, ChunkRequest(audio.substr(0, 640)), ChunkRequest(audio.substr(640))});
  ASSERT_TRUE(refused.status.ok()) << refused.status.error_message();
  const auto chunks = refused.chunks();
  ASSERT_EQ(chunks[1]->events_size(), 1);
  EXPECT_FALSE(chunks[1]->events(0).update().applied());
  EXPECT_THAT(chunks[1]->events(0).update().message(), HasSubstr(GetParam().message));
  EXPECT_EQ(refused.audio(), plain.audio()) << "a refused update changes nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadUpdateTest,
    ::testing::Values(
        BadUpdateCase{"WrongProcessorAtIndex",
                      [](v1::ProcessorUpdate* u) {
                        u->set_index(0);
                        u->mutable_spec()->mutable_limiter()->set_ceiling_db(-3);
                      },
                      "chain[0] is gain, not limiter"},
        BadUpdateCase{"OutOfRange",
                      [](v1::ProcessorUpdate* u) {
                        u->set_index(0);
                        u->mutable_spec()->mutable_gain()->set_gain_db(75);
                      },
                      "gain.gain_db must be in [-120, 60] dB, got 75"},
        BadUpdateCase{"AboveNyquist",
                      [](v1::ProcessorUpdate* u) {
                        u->set_index(1);
                        u->mutable_spec()->mutable_highpass()->set_cutoff_hz(8000);
                      },
                      "highpass.cutoff_hz must be in (0, 8000) Hz (below Nyquist)"},
        BadUpdateCase{"NotRuntimeUpdatable",
                      [](v1::ProcessorUpdate* u) {
                        u->set_index(1);
                        u->mutable_spec()->mutable_highpass()->set_order(4);
                      },
                      "highpass.order cannot be changed while streaming; what can: cutoff_hz"},
        BadUpdateCase{"IndexPastTheChain",
                      [](v1::ProcessorUpdate* u) {
                        u->set_index(2);
                        u->mutable_spec()->mutable_gain()->set_gain_db(1);
                      },
                      "index is 2, past the chain of 2 processors"},
        BadUpdateCase{"EmptySpec", [](v1::ProcessorUpdate* u) { u->set_index(0); },
                      "update.updates[0].spec is empty"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ProcessStreamTest, AnUpdateWithOneBadEntryAppliesNone) {
  const std::string audio = testing::ToS16Bytes(testing::Sine(500, 16000, 640, 0.25));
  v1::ProcessRequest update;
  auto* good = update.mutable_update()->add_updates();
  good->set_index(0);
  good->mutable_spec()->mutable_gain()->set_gain_db(-20);
  auto* bad = update.mutable_update()->add_updates();
  bad->set_index(0);
  bad->mutable_spec()->mutable_gain()->set_gain_db(1000);
  const auto config = ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{}}])"));
  const ExchangeResult result = Exchange(*stub_, {config, update, ChunkRequest(audio)});
  ASSERT_TRUE(result.status.ok());
  EXPECT_FALSE(result.chunks()[0]->events(0).update().applied());
  EXPECT_EQ(result.audio(), audio) << "the valid entry was not applied either";
}

}  // namespace
}  // namespace audioproc

namespace audioproc {
namespace {

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

namespace audioproc {
namespace {

class MaxStreamSecondsTest : public testing::InProcessServerTest {
 protected:
  MaxStreamSecondsTest() { options_.max_stream_seconds = 0.5; }
};

TEST_F(MaxStreamSecondsTest, AStreamPastItsAudioTimeIsOutOfRangeAfterItsChunksAreAnswered) {
  // 20 ms chunks at 16 kHz: the 26th chunk would take the stream past 0.5 s.
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))};
  for (int i = 0; i < 40; ++i) requests.push_back(ChunkRequest(std::string(640, '\0')));
  const ExchangeResult result = Exchange(*stub_, requests);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("--max_stream_seconds=0.5"));
  EXPECT_EQ(result.chunks().size(), 25u) << "every chunk within the limit was answered";
  EXPECT_EQ(result.summary(), nullptr);
}

}  // namespace
}  // namespace audioproc
