// TLS, mutual TLS, bearer tokens and the plaintext health port (DESIGN §5 "Security"),
// against an in-process server with throwaway certificates made by openssl.
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server.h"
#include "tests/testing/certificates.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using testing::Certificates;
using ::testing::HasSubstr;
using testing::TlsChannel;

ServerOptions BaseOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.metrics_port = -1;
  options.workers = 1;
  options.cq_threads = 1;
  return options;
}

grpc::Status ListProcessors(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& token = "") {
  auto stub = v1::AudioProcessor::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  v1::ListProcessorsResponse response;
  return stub->ListProcessors(&context, {}, &response);
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(
    const std::shared_ptr<grpc::Channel>& channel, grpc::Status* status) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  *status = stub->Check(&context, {}, &response);
  return response.status();
}

// One reflection request (list_services), as grpcurl's `list` sends it: its status says
// whether reflection is served, and to whom.
grpc::Status ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel,
                                    const std::string& token = "") {
  namespace reflection = grpc::reflection::v1alpha;
  auto stub = reflection::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest request;
  request.set_list_services("");
  reflection::ServerReflectionResponse response;
  if (stream->Write(request)) stream->Read(&response);
  stream->WritesDone();
  return stream->Finish();
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<Certificates> certs =
        testing::MakeCertificates(testing::ProcessTempDir("audioproc-certs"), "a");
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new Certificates(*certs);
  }
  static void TearDownTestSuite() { delete certs_; }

  std::unique_ptr<AudioprocServer> Start(const ServerOptions& options) {
    auto server = std::make_unique<AudioprocServer>(options);
    const absl::Status status = server->Start();
    EXPECT_TRUE(status.ok()) << status;
    return server;
  }

  static Certificates* certs_;
};

Certificates* SecurityTest::certs_ = nullptr;

TEST_F(SecurityTest, TlsServerServesTlsClientsAndRefusesPlaintext) {
  ServerOptions options = BaseOptions();
  options.tls = {certs_->server_cert, certs_->server_key, ""};
  auto server = Start(options);
  EXPECT_TRUE(ListProcessors(TlsChannel(server->grpc_port(), certs_->ca_cert)).ok());
  const grpc::Status plaintext = ListProcessors(testing::LoopbackChannel(server->grpc_port()));
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE);
  server->Shutdown();
}

TEST_F(SecurityTest, MutualTlsRequiresAClientCertificateSignedByTheClientCa) {
  ServerOptions options = BaseOptions();
  options.tls = {certs_->server_cert, certs_->server_key, certs_->ca_cert};
  auto server = Start(options);
  EXPECT_TRUE(ListProcessors(TlsChannel(server->grpc_port(), certs_->ca_cert, certs_->client_cert,
                                        certs_->client_key))
                  .ok());
  EXPECT_FALSE(ListProcessors(TlsChannel(server->grpc_port(), certs_->ca_cert)).ok());
  absl::StatusOr<Certificates> stranger =
      testing::MakeCertificates(testing::ProcessTempDir("audioproc-certs"), "stranger");
  ASSERT_TRUE(stranger.ok());
  EXPECT_FALSE(ListProcessors(TlsChannel(server->grpc_port(), certs_->ca_cert,
                                         stranger->client_cert, stranger->client_key))
                   .ok());
  server->Shutdown();
}

TEST_F(SecurityTest, RotatedCertificateFilesAreUsedWithoutARestart) {
  // The server reads the files the flags name; rotation replaces those files.
  const std::string dir = testing::ProcessTempDir("audioproc-rotate");
  absl::StatusOr<Certificates> first = testing::MakeCertificates(dir, "first");
  absl::StatusOr<Certificates> second = testing::MakeCertificates(dir, "second");
  ASSERT_TRUE(first.ok() && second.ok());
  const std::string cert = dir + "/live.pem", key = dir + "/live-key.pem";
  std::ofstream(cert) << testing::ReadFile(first->server_cert);
  std::ofstream(key) << testing::ReadFile(first->server_key);
  ServerOptions options = BaseOptions();
  options.tls = {cert, key, ""};
  options.tls_refresh_seconds = 1;
  auto server = Start(options);
  ASSERT_TRUE(ListProcessors(TlsChannel(server->grpc_port(), first->ca_cert)).ok());
  std::ofstream(key) << testing::ReadFile(second->server_key);
  std::ofstream(cert) << testing::ReadFile(second->server_cert);
  // New connections get the new certificate once the watcher has read it.
  bool rotated = false;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(15);
       !rotated && absl::Now() < deadline;) {
    rotated = ListProcessors(TlsChannel(server->grpc_port(), second->ca_cert)).ok();
    if (!rotated) absl::SleepFor(absl::Milliseconds(200));  // the watcher polls the files
  }
  EXPECT_TRUE(rotated);
  server->Shutdown();
}

class TokenTest : public SecurityTest {
 protected:
  void SetUp() override {
    tokens_file_ = testing::ProcessTempDir("audioproc-tokens");
    std::ofstream(tokens_file_) << "# test tokens\nfirst-token\n";
    ServerOptions options = BaseOptions();
    options.auth_tokens_file = tokens_file_;
    server_ = Start(options);
    channel_ = testing::LoopbackChannel(server_->grpc_port());
  }
  void TearDown() override { server_->Shutdown(); }

  std::string tokens_file_;
  std::unique_ptr<AudioprocServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(TokenTest, EveryServiceButHealthNeedsAKnownBearerToken) {
  EXPECT_EQ(ListProcessors(channel_).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListProcessors(channel_, "wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListProcessors(channel_, "first-token").ok());

  auto stub = v1::AudioProcessor::NewStub(channel_);
  const auto refused = testing::Exchange(
      *stub, {testing::ConfigRequest(testing::MakeConfig(v1::PCM_S16LE, 16000, 1))});
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("authorization: Bearer"));

  grpc::ClientContext file_context;
  v1::ProcessFileRequest file;
  v1::ProcessFileResponse answer;
  EXPECT_EQ(stub->ProcessFile(&file_context, file, &answer).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  EXPECT_EQ(ReflectionListServices(channel_).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ReflectionListServices(channel_, "first-token").ok());

  grpc::Status health_status;
  EXPECT_EQ(Health(channel_, &health_status), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(health_status.ok());
}

TEST_F(TokenTest, AChangedTokensFileTakesEffectWithoutARestart) {
  ASSERT_TRUE(ListProcessors(channel_, "first-token").ok());
  const std::string next = tokens_file_ + ".next";
  std::ofstream(next) << "second-token\n";
  ASSERT_EQ(rename(next.c_str(), tokens_file_.c_str()), 0);
  bool switched = false;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);
       !switched && absl::Now() < deadline;) {
    switched = ListProcessors(channel_, "second-token").ok();
    if (!switched) absl::SleepFor(absl::Milliseconds(100));  // the file is polled each second
  }
  EXPECT_TRUE(switched);
  EXPECT_EQ(ListProcessors(channel_, "first-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SecurityTest, HealthPortServesOnlyHealthInPlaintextWhileTlsGuardsTheRest) {
  ServerOptions options = BaseOptions();
  options.tls = {certs_->server_cert, certs_->server_key, ""};
  // A free port for the health listener (0 there means "off").
  auto probe = std::make_unique<AudioprocServer>(BaseOptions());
  ASSERT_TRUE(probe->Start().ok());
  options.health_port = probe->grpc_port();
  probe->Shutdown();
  probe.reset();
  auto server = Start(options);
  ASSERT_EQ(server->health_port(), options.health_port);
  auto health_channel = testing::LoopbackChannel(server->health_port());
  grpc::Status status;
  EXPECT_EQ(Health(health_channel, &status), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ListProcessors(health_channel).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ReflectionListServices(health_channel).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // Draining turns both health endpoints NOT_SERVING.
  server->state().set_draining();
  server->Drain();
  server.reset();
}

TEST_F(SecurityTest, ReflectionIsServedUnlessTurnedOff) {
  auto on = Start(BaseOptions());
  EXPECT_TRUE(ReflectionListServices(testing::LoopbackChannel(on->grpc_port())).ok());
  on->Shutdown();
  ServerOptions options = BaseOptions();
  options.reflection = false;
  auto off = Start(options);
  EXPECT_EQ(ReflectionListServices(testing::LoopbackChannel(off->grpc_port())).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  off->Shutdown();
}

}  // namespace
}  // namespace audioproc
