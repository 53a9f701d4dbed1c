// Bearer-token revocation against the real server binary: emptying the tokens file revokes
// every token at the next reload (health still answers); a tokens file that disappears
// revokes nothing and is reported once; a file with no token at start denies every call.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using testing::ReadFile;
using testing::ServerProcess;

// The server re-reads its tokens file every second.
constexpr absl::Duration kReloadTimeout = absl::Seconds(15);

grpc::StatusCode ListProcessors(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& token) {
  auto stub = v1::AudioProcessor::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  context.AddMetadata("authorization", "Bearer " + token);
  v1::ListProcessorsResponse response;
  return stub->ListProcessors(&context, {}, &response).error_code();
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, {}, &response).ok() ? response.status()
                                                   : grpc::health::v1::HealthCheckResponse::UNKNOWN;
}

// Calls until `token` gets `code` or `timeout` passes; the last code.
grpc::StatusCode ListProcessorsUntil(const std::shared_ptr<grpc::Channel>& channel,
                                     const std::string& token, grpc::StatusCode code,
                                     absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  grpc::StatusCode got = ListProcessors(channel, token);
  while (got != code && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));  // the server polls the file; nothing to wait on
    got = ListProcessors(channel, token);
  }
  return got;
}

// How many of `log`'s lines are events named `event`.
int CountEvents(const std::string& log, const std::string& event) {
  int count = 0;
  const std::string needle = absl::StrCat("\"event\":\"", event, "\"");
  for (absl::string_view line : absl::StrSplit(log, '\n')) count += absl::StrContains(line, needle);
  return count;
}

// Waits until the log has an `event` line or `timeout` passes; whether it has.
bool WaitForEvent(const ServerProcess& server, const std::string& event, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (CountEvents(ReadFile(server.log_path()), event) == 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));  // polling a file another process writes
  }
  return true;
}

class TokenRevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = testing::ProcessTempDir("audioproc-revocation") + "-tokens";
    Replace("# the service's tokens\nformer-token\nother-token\n");
  }
  void TearDown() override { unlink(tokens_.c_str()); }

  // Replaces the tokens file the way Kubernetes updates a Secret: a new file renamed over it.
  void Replace(const std::string& text) {
    const std::string next = tokens_ + ".next";
    std::ofstream(next, std::ios::trunc) << text;
    ASSERT_EQ(std::rename(next.c_str(), tokens_.c_str()), 0);
  }

  absl::StatusOr<ServerProcess> StartServer() {
    return ServerProcess::Start(testing::ServerBinaryPath(),
                                {"--auth_tokens_file=" + tokens_, "--log_format=json"});
  }

  std::string tokens_;
};

TEST_F(TokenRevocationTest, EmptyingTheTokensFileRevokesEveryTokenAtTheNextReload) {
  absl::StatusOr<ServerProcess> server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = testing::LoopbackChannel(server->grpc_port());
  ASSERT_EQ(ListProcessors(channel, "former-token"), grpc::StatusCode::OK);

  Replace("# every token revoked\n\n");
  EXPECT_EQ(ListProcessorsUntil(channel, "former-token", grpc::StatusCode::UNAUTHENTICATED,
                                kReloadTimeout),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListProcessors(channel, "other-token"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Health(channel), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(CountEvents(ReadFile(server->log_path()), "auth_tokens_reloaded"), 1);

  // A new token, and only it, works again.
  Replace("new-token\n");
  EXPECT_EQ(ListProcessorsUntil(channel, "new-token", grpc::StatusCode::OK, kReloadTimeout),
            grpc::StatusCode::OK);
  EXPECT_EQ(ListProcessors(channel, "former-token"), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TokenRevocationTest, ADeletedTokensFileKeepsTheLastTokensAndIsReportedOnce) {
  absl::StatusOr<ServerProcess> server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = testing::LoopbackChannel(server->grpc_port());
  ASSERT_EQ(ListProcessors(channel, "former-token"), grpc::StatusCode::OK);

  ASSERT_EQ(unlink(tokens_.c_str()), 0);
  ASSERT_TRUE(WaitForEvent(*server, "auth_tokens_file_unreadable", kReloadTimeout))
      << ReadFile(server->log_path());
  EXPECT_EQ(ListProcessors(channel, "former-token"), grpc::StatusCode::OK);
  EXPECT_EQ(ListProcessors(channel, "unknown-token"), grpc::StatusCode::UNAUTHENTICATED);

  // Back with another token: in force, and the disappearance was reported once.
  Replace("returned-token\n");
  EXPECT_EQ(ListProcessorsUntil(channel, "returned-token", grpc::StatusCode::OK, kReloadTimeout),
            grpc::StatusCode::OK);
  EXPECT_EQ(ListProcessors(channel, "former-token"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CountEvents(ReadFile(server->log_path()), "auth_tokens_file_unreadable"), 1);
}

TEST_F(TokenRevocationTest, ATokensFileWithNoTokenAtStartDeniesEveryCallButHealth) {
  Replace("# no tokens issued yet\n");
  absl::StatusOr<ServerProcess> server = StartServer();
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = testing::LoopbackChannel(server->grpc_port());
  EXPECT_EQ(ListProcessors(channel, "former-token"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListProcessors(channel, ""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Health(channel), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(CountEvents(ReadFile(server->log_path()), "auth_tokens_none"), 1);
}

}  // namespace
}  // namespace audioproc
