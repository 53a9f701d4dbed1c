// grpc.health.v1.Health as the server serves it on its own completion queues: Check and
// Watch on the main port, NOT_SERVING from the start of a drain, a bound on watchers, and no
// callback-API polling threads in the process (why it is not gRPC's default service).
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/health_calls.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/process_exchange.h"

namespace audioproc {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class HealthTest : public testing::InProcessServerTest {
 protected:
  HealthCheckRequest Request(const std::string& service) {
    HealthCheckRequest request;
    request.set_service(service);
    return request;
  }
};

std::vector<std::string> ThreadNames() {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.push_back(name);
  }
  return names;
}

TEST_F(HealthTest, CheckAnswersKnownServicesAndNotFoundForOthers) {
  auto health = Health::NewStub(channel_);
  for (const char* service : {"", "audioproc.v1.AudioProcessor"}) {
    grpc::ClientContext context;
    HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, Request(service), &response).ok()) << service;
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << service;
  }
  grpc::ClientContext context;
  HealthCheckResponse response;
  EXPECT_EQ(health->Check(&context, Request("no.such.Service"), &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(HealthTest, WatchSaysServiceUnknownAndStaysOpenForAnUnknownService) {
  auto health = Health::NewStub(channel_);
  grpc::ClientContext context;
  auto watch = health->Watch(&context, Request("no.such.Service"));
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  context.TryCancel();
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(HealthTest, WatchTurnsNotServingAsSoonAsTheServerDrains) {
  auto health = Health::NewStub(channel_);
  grpc::ClientContext watch_context;
  auto watch = health->Watch(&watch_context, Request("audioproc.v1.AudioProcessor"));
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  // An open stream keeps the drain waiting (up to drain_seconds) while the watcher hears.
  grpc::ClientContext stream_context;
  auto stream = stub_->Process(&stream_context);
  ASSERT_TRUE(stream->Write(testing::ConfigRequest(testing::MakeConfig(v1::PCM_S16LE, 16000, 1))));
  v1::ProcessResponse ready;
  ASSERT_TRUE(stream->Read(&ready));
  ASSERT_TRUE(ready.has_ready());
  std::thread drain([this] { server_->Drain(); });
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);

  stream->WritesDone();
  v1::ProcessResponse rest;
  while (stream->Read(&rest)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
  drain.join();
  // The server is gone: the watch ends rather than hang.
  while (watch->Read(&response)) {
  }
  EXPECT_FALSE(watch->Finish().ok());
}

TEST_F(HealthTest, WatchersPastTheBoundAreRefused) {
  auto health = Health::NewStub(channel_);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<HealthCheckResponse>>> watches;
  for (int i = 0; i < HealthWatchCall::kMaxWatchers; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    watches.push_back(health->Watch(contexts.back().get(), Request("")));
    HealthCheckResponse response;
    ASSERT_TRUE(watches.back()->Read(&response)) << i;
  }
  grpc::ClientContext context;
  auto refused = health->Watch(&context, Request(""));
  HealthCheckResponse response;
  EXPECT_FALSE(refused->Read(&response));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // One ends: a new watcher is welcome again.
  contexts.front()->TryCancel();
  watches.front()->Finish();
  for (int attempt = 0;; ++attempt) {
    grpc::ClientContext again_context;
    auto again = health->Watch(&again_context, Request(""));
    if (again->Read(&response)) {
      again_context.TryCancel();
      again->Finish();
      break;
    }
    again->Finish();
    ASSERT_LT(attempt, 50) << "the cancelled watcher's place never came back";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (size_t i = 1; i < contexts.size(); ++i) {
    contexts[i]->TryCancel();
    watches[i]->Finish();
  }
}

TEST_F(HealthTest, NoCallbackApiPollingThreadsCompeteWithTheCompletionQueues) {
  auto health = Health::NewStub(channel_);
  grpc::ClientContext context;
  HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, Request(""), &response).ok());
  const std::string audio(6400, '\0');
  std::vector<v1::ProcessRequest> requests = {
      testing::ConfigRequest(testing::MakeConfig(v1::PCM_S16LE, 16000, 1))};
  for (auto& chunk : testing::ChunkRequests(audio, 640)) requests.push_back(std::move(chunk));
  ASSERT_TRUE(testing::Exchange(*stub_, requests).status.ok());
  for (const std::string& name : ThreadNames()) EXPECT_NE(name, "nexting_thread");
}

}  // namespace
}  // namespace audioproc
