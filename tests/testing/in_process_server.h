// InProcessServer: a gtest fixture running an AudioprocServer inside the test process on a
// free loopback port, shut down in TearDown as gRPC's async end-to-end tests do. Service
// tests use it for exact assertions on statuses and responses; tests/e2e uses the real binary.
#ifndef AUDIOPROC_TESTS_TESTING_IN_PROCESS_SERVER_H_
#define AUDIOPROC_TESTS_TESTING_IN_PROCESS_SERVER_H_

#include <memory>

#include "audioproc/v1/audioproc.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server.h"
#include "tests/testing/process_exchange.h"

namespace audioproc::testing {

class InProcessServerTest : public ::testing::Test {
 protected:
  // Options for the server; override before SetUp runs (in the derived constructor).
  ServerOptions options_ = [] {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    // No /metrics listener unless a test asks for one: civetweb's stop waits out a 2 s poll.
    options.metrics_port = -1;
    options.workers = 2;
    options.cq_threads = 2;
    options.drain_seconds = 5;
    return options;
  }();

  void SetUp() override {
    server_ = std::make_unique<AudioprocServer>(options_);
    ASSERT_TRUE(server_->Start().ok());
    channel_ = LoopbackChannel(server_->grpc_port());
    stub_ = v1::AudioProcessor::NewStub(channel_);
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (server_) server_->Shutdown();
    server_.reset();
  }

  std::unique_ptr<AudioprocServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AudioProcessor::Stub> stub_;
};

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_IN_PROCESS_SERVER_H_
