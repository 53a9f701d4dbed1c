// TlsCredentials' reloads, called directly: a checked change is served, a broken one is refused
// and counted once, files rewritten with the same content change nothing. (What gRPC then
// serves is tested against the real binary in tls_reload_test.cc.)
#include "service/tls_credentials.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using testing::Certificates;
using ::testing::HasSubstr;
using testing::ReadFile;
using testing::StatusIs;
using Reload = TlsCredentials::Reload;

// Long enough that the watcher thread never checks during a test: the test's own calls are
// the only reloads.
constexpr unsigned int kNoWatcherReload = 3600;

class TlsCredentialsTest : public testing::TwoCertificateSetsTest {
 protected:
  void SetUp() override {
    cert_ = *dir_ + "/live.pem";
    key_ = *dir_ + "/live-key.pem";
    ca_ = *dir_ + "/live-ca.pem";
    Install(ReadFile(a_->server_cert), cert_);
    Install(ReadFile(a_->server_key), key_);
    Install(ReadFile(a_->ca_cert), ca_);
  }

  // Replaces `path` with `text` the way Kubernetes updates a Secret's files: a new file
  // renamed over the old.
  static void Install(const std::string& text, const std::string& path) {
    const std::string next = path + ".next";
    std::ofstream(next, std::ios::trunc) << text;
    ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
  }

  prometheus::Counter& NewCounter() {
    return prometheus::BuildCounter().Name("reload_errors").Register(registry_).Add({});
  }

  std::string cert_, key_, ca_;
  prometheus::Registry registry_;
};

TEST_F(TlsCredentialsTest, StartRefusesAKeyThatDoesNotMatchItsCertificate) {
  Install(ReadFile(b_->server_key), key_);
  prometheus::Counter& errors = NewCounter();
  EXPECT_THAT(TlsCredentials::Start({cert_, key_, ""}, kNoWatcherReload, errors),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_key=" + key_ + " does not match")));
  EXPECT_EQ(errors.Value(), 0);  // a startup error, not a reload's
}

TEST_F(TlsCredentialsTest, AReloadServesACheckedChangeAndRefusesABrokenOneOnce) {
  prometheus::Counter& errors = NewCounter();
  auto tls = TlsCredentials::Start({cert_, key_, ca_}, kNoWatcherReload, errors);
  ASSERT_TRUE(tls.ok()) << tls.status();
  ASSERT_NE((*tls)->server_credentials(), nullptr);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kUnchanged);

  // A's certificate with B's key: refused, counted once however often it is checked again.
  Install(ReadFile(b_->server_key), key_);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kRefused);
  EXPECT_EQ(errors.Value(), 1);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kUnchanged);
  EXPECT_EQ(errors.Value(), 1);

  // B's certificate joins it: a good pair.
  Install(ReadFile(b_->server_cert), cert_);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kServed);
  // Rewritten with the same content (a Secret re-synced): nothing to serve.
  Install(ReadFile(b_->server_cert), cert_);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kUnchanged);

  // Caught half-written, then gone, then a client CA that does not parse: each refused.
  const std::string text = ReadFile(b_->server_cert);
  Install(text.substr(0, text.size() / 2), cert_);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kRefused);
  ASSERT_EQ(unlink(cert_.c_str()), 0);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kRefused);
  Install(ReadFile(b_->server_cert), cert_);
  Install("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n", ca_);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kRefused);
  EXPECT_EQ(errors.Value(), 4);

  // Whole again: back to A, with B's CA for clients.
  Install(ReadFile(a_->server_cert), cert_);
  Install(ReadFile(a_->server_key), key_);
  Install(ReadFile(b_->ca_cert), ca_);
  EXPECT_EQ((*tls)->ReloadIfChanged(), Reload::kServed);
  EXPECT_EQ(errors.Value(), 4);
}

}  // namespace
}  // namespace audioproc
