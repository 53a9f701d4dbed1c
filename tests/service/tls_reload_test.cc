// TLS files checked at start and on reload, against the real server binary with throwaway
// certificates made by openssl: a key that does not match its certificate is a startup error
// in the JSON log; while running, a broken pair is never served (the old one is, the reload
// is logged and counted in audioproc_tls_reload_errors_total) and a good one is, to new
// connections, without a restart, with mutual TLS on throughout.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using testing::Certificates;
using ::testing::HasSubstr;
using testing::ReadFile;
using testing::ServerProcess;
using testing::TlsChannel;

constexpr char kReloadErrors[] = "audioproc_tls_reload_errors_total";
// The server checks its TLS files every 10 s (ServerOptions::tls_refresh_seconds, which no
// flag changes) and gRPC picks a checked pair up within a second more.
constexpr absl::Duration kReloadTimeout = absl::Seconds(30);

// One health check over `channel`: its status and the certificate the server presented.
struct Handshake {
  grpc::Status status;
  std::string server_certificate;  // PEM; empty when no TLS session was made
};

Handshake Check(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  Handshake result;
  result.status = stub->Check(&context, {}, &response);
  if (std::shared_ptr<const grpc::AuthContext> auth = context.auth_context()) {
    for (const grpc::string_ref& pem : auth->FindPropertyValues("x509_pem_cert")) {
      result.server_certificate.assign(pem.data(), pem.size());
    }
  }
  return result;
}

// Checks over fresh channels (new connections) until one succeeds or `timeout` passes.
Handshake CheckUntilOk(const std::function<std::shared_ptr<grpc::Channel>()>& channel,
                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Handshake result = Check(channel());
  while (!result.status.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));  // the server polls its files; nothing to wait on
    result = Check(channel());
  }
  return result;
}

// The log's JSON lines whose "event" is `event`.
std::vector<google::protobuf::Struct> Events(const std::string& log, const std::string& event) {
  std::vector<google::protobuf::Struct> lines;
  for (absl::string_view text : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    google::protobuf::Struct line;
    if (!google::protobuf::util::JsonStringToMessage(std::string(text), &line).ok()) continue;
    const auto it = line.fields().find("event");
    if (it != line.fields().end() && it->second.string_value() == event) lines.push_back(line);
  }
  return lines;
}

std::string Field(const google::protobuf::Struct& line, const std::string& key) {
  const auto it = line.fields().find(key);
  return it == line.fields().end() ? "" : it->second.string_value();
}

class TlsReloadTest : public testing::TwoCertificateSetsTest {
 protected:
  // Replaces `path` with a copy of `source` the way Kubernetes updates a Secret's files: a
  // new file renamed over the old.
  static void Install(const std::string& source, const std::string& path) {
    const std::string next = path + ".next";
    std::ofstream(next, std::ios::trunc) << ReadFile(source);
    ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
  }

  // Whether `log` holds any base64 line of either server key.
  static bool HoldsKeyMaterial(const std::string& log) {
    for (const std::string* key : {&a_->server_key, &b_->server_key}) {
      for (absl::string_view line : absl::StrSplit(ReadFile(*key), '\n', absl::SkipEmpty())) {
        if (!absl::StartsWith(line, "-----") && absl::StrContains(log, line)) return true;
      }
    }
    return false;
  }
};

TEST_F(TlsReloadTest, AKeyThatDoesNotMatchItsCertificateIsAStartupErrorInTheJsonLog) {
  absl::StatusOr<ServerProcess::Exit> exit = ServerProcess::ExpectStartupFailure(
      testing::ServerBinaryPath(),
      {"--tls_cert=" + a_->server_cert, "--tls_key=" + b_->server_key, "--log_format=json"});
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 1);
  const std::vector<google::protobuf::Struct> errors = Events(exit->log, "server_error");
  ASSERT_EQ(errors.size(), 1u) << exit->log;
  EXPECT_THAT(Field(errors[0], "message"),
              HasSubstr("--tls_key=" + b_->server_key + " does not match the certificate in " +
                        "--tls_cert=" + a_->server_cert));
  EXPECT_FALSE(HoldsKeyMaterial(exit->log));
}

TEST_F(TlsReloadTest, AnUnreadableClientCaIsAStartupErrorNamingIt) {
  const std::string garbage = *dir_ + "/garbage-ca.pem";
  std::ofstream(garbage) << "not a certificate\n";
  absl::StatusOr<ServerProcess::Exit> exit = ServerProcess::ExpectStartupFailure(
      testing::ServerBinaryPath(), {"--tls_cert=" + a_->server_cert, "--tls_key=" + a_->server_key,
                                    "--tls_client_ca=" + garbage});
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 1);
  const std::vector<google::protobuf::Struct> errors = Events(exit->log, "server_error");
  ASSERT_EQ(errors.size(), 1u) << exit->log;
  EXPECT_THAT(Field(errors[0], "message"),
              HasSubstr("--tls_client_ca=" + garbage + " holds no PEM certificate"));
}

TEST_F(TlsReloadTest, ABrokenPairIsNeverServedAndAGoodOneIsWithoutARestart) {
  const std::string cert = *dir_ + "/live.pem", key = *dir_ + "/live-key.pem",
                    client_ca = *dir_ + "/live-ca.pem";
  Install(a_->server_cert, cert);
  Install(a_->server_key, key);
  Install(a_->ca_cert, client_ca);
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(
      testing::ServerBinaryPath(), {"--tls_cert=" + cert, "--tls_key=" + key,
                                    "--tls_client_ca=" + client_ca, "--log_format=json"});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = server->grpc_port();
  // Clients present A's client certificate, which the client CA (A's CA, never changed)
  // signed; they trust the CA of the server certificate they expect.
  const auto trusting_a = [&] {
    return TlsChannel(port, a_->ca_cert, a_->client_cert, a_->client_key);
  };
  const auto trusting_b = [&] {
    return TlsChannel(port, b_->ca_cert, a_->client_cert, a_->client_key);
  };

  Handshake first = Check(trusting_a());
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(first.server_certificate, ReadFile(a_->server_cert));
  EXPECT_EQ(Check(TlsChannel(port, a_->ca_cert)).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);  // no client certificate

  // A's certificate with B's key: refused at the next check, counted, and A still served.
  Install(b_->server_key, key);
  const std::optional<double> errors = testing::WaitForMetric(
      server->metrics_port(), kReloadErrors, [](double v) { return v >= 1; }, kReloadTimeout);
  ASSERT_EQ(errors, std::optional<double>(1));
  Handshake during = Check(trusting_a());
  EXPECT_TRUE(during.status.ok()) << during.status.error_message();
  EXPECT_EQ(during.server_certificate, ReadFile(a_->server_cert));

  // B's certificate joins B's key: a good pair, served to new connections.
  Install(b_->server_cert, cert);
  Handshake after = CheckUntilOk(trusting_b, kReloadTimeout);
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.server_certificate, ReadFile(b_->server_cert));
  EXPECT_EQ(Check(trusting_a()).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // Mutual TLS holds through the reloads.
  EXPECT_EQ(Check(TlsChannel(port, b_->ca_cert)).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  const std::string metrics = testing::ScrapeMetrics(server->metrics_port());
  EXPECT_EQ(testing::MetricValue(metrics, kReloadErrors), std::optional<double>(1));
  EXPECT_THAT(metrics, HasSubstr("# HELP audioproc_tls_reload_errors_total "));

  const std::string log = ReadFile(server->log_path());
  const std::vector<google::protobuf::Struct> refused = Events(log, "tls_reload_refused");
  ASSERT_EQ(refused.size(), 1u) << log;
  EXPECT_EQ(Field(refused[0], "level"), "warning");
  EXPECT_THAT(Field(refused[0], "message"), HasSubstr("--tls_key=" + key + " does not match"));
  const std::vector<google::protobuf::Struct> reloaded = Events(log, "tls_reloaded");
  ASSERT_EQ(reloaded.size(), 1u) << log;
  EXPECT_EQ(Field(reloaded[0], "subject"), "CN=localhost");
  EXPECT_FALSE(HoldsKeyMaterial(log));
}

}  // namespace
}  // namespace audioproc
