// Stream limits and lifecycle (DESIGN §5, §6): --max_streams, the drain, the idle timeout and
// --max_stream_seconds.
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

class IdleTimeoutTest : public testing::InProcessServerTest {
 protected:
  IdleTimeoutTest() { options_.idle_timeout_seconds = 1; }
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
  EXPECT_THAT(status.error_message(), HasSubstr("--idle_timeout_seconds=1 "));
  EXPECT_EQ(chunks, 1);  // the accepted chunk was answered first
}

TEST_F(IdleTimeoutTest, AStreamThatKeepsSendingIsNotIdle) {
  std::vector<v1::ProcessRequest> requests = {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))};
  grpc::ClientContext context;
  auto stream = stub_->Process(&context);
  ASSERT_TRUE(stream->Write(requests[0]));
  v1::ProcessResponse response;
  ASSERT_TRUE(stream->Read(&response));
  // Fifteen chunks 0.1 s apart: 1.5 s in all, longer than the timeout, but never idle for
  // more than a tenth of it (slack for a loaded machine).
  for (int i = 0; i < 15; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(stream->Write(ChunkRequest(std::string(640, '\0'))));
    ASSERT_TRUE(stream->Read(&response));
  }
  stream->WritesDone();
  while (stream->Read(&response)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

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
