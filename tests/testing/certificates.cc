#include "tests/testing/certificates.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace audioproc::testing {

std::string ProcessTempDir(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/", name, "-", getpid());
}

absl::StatusOr<Certificates> MakeCertificates(const std::string& dir, const std::string& name) {
  Certificates c;
  c.dir = dir;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  const std::string p = absl::StrCat(dir, "/", name, "-");
  c.ca_cert = p + "ca.pem";
  c.server_cert = p + "server.pem";
  c.server_key = p + "server-key.pem";
  c.client_cert = p + "client.pem";
  c.client_key = p + "client-key.pem";
  // EC keys keep generation fast; -days 2 is plenty for a test.
  const std::string script = absl::StrCat(
      "set -e; mkdir -p '", dir, "'; cd '", dir, "'; n='", name, "'\n",
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "  -subj \"/CN=$n test CA\" -keyout $n-ca-key.pem -out $n-ca.pem\n",
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > $n-server.ext\n",
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost "
      "  -keyout $n-server-key.pem -out $n-server.csr\n",
      "openssl x509 -req -in $n-server.csr -CA $n-ca.pem -CAkey $n-ca-key.pem -CAcreateserial "
      "  -days 2 -extfile $n-server.ext -out $n-server.pem\n",
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=client "
      "  -keyout $n-client-key.pem -out $n-client.csr\n",
      "openssl x509 -req -in $n-client.csr -CA $n-ca.pem -CAkey $n-ca-key.pem -CAcreateserial "
      "  -days 2 -out $n-client.pem\n");
  const std::string script_path = p + "make.sh";
  if (FILE* f = fopen(script_path.c_str(), "w")) {
    fputs(script.c_str(), f);
    fclose(f);
  } else {
    return absl::InternalError(absl::StrCat("cannot write ", script_path));
  }
  const std::string run = absl::StrCat("bash '", script_path, "' > '", p, "openssl.log' 2>&1");
  if (std::system(run.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("openssl failed; see ", p, "openssl.log"));
  }
  return c;
}

std::shared_ptr<grpc::Channel> TlsChannel(int port, const std::string& ca,
                                          const std::string& client_cert,
                                          const std::string& client_key) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(ca);
  if (!client_cert.empty()) {
    ssl.pem_cert_chain = ReadFile(client_cert);
    ssl.pem_private_key = ReadFile(client_key);
  }
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("localhost:", port), grpc::SslCredentials(ssl),
                                   arguments);
}

std::string* TwoCertificateSetsTest::dir_ = nullptr;
Certificates* TwoCertificateSetsTest::a_ = nullptr;
Certificates* TwoCertificateSetsTest::b_ = nullptr;

void TwoCertificateSetsTest::SetUpTestSuite() {
  dir_ = new std::string(
      ProcessTempDir(::testing::UnitTest::GetInstance()->current_test_suite()->name()));
  absl::StatusOr<Certificates> a = MakeCertificates(*dir_, "a");
  absl::StatusOr<Certificates> b = MakeCertificates(*dir_, "b");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  a_ = new Certificates(*a);
  b_ = new Certificates(*b);
}

void TwoCertificateSetsTest::TearDownTestSuite() {
  delete a_;
  delete b_;
  std::filesystem::remove_all(*dir_);
  delete dir_;
  a_ = b_ = nullptr;
  dir_ = nullptr;
}

}  // namespace audioproc::testing
