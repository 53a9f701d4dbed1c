// Throwaway certificates for TLS tests, made with the openssl command at test time: a CA, a
// server certificate for localhost and 127.0.0.1, and a client certificate, all signed by
// the CA, as PEM files in a directory.
#ifndef AUDIOPROC_TESTS_TESTING_CERTIFICATES_H_
#define AUDIOPROC_TESTS_TESTING_CERTIFICATES_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace audioproc::testing {

struct Certificates {
  std::string dir;
  std::string ca_cert, server_cert, server_key, client_cert, client_key;  // paths
};

// ::testing::TempDir()/<name>-<pid>. ctest runs every test in a process of its own, in
// parallel, so a fixed directory would have tests overwrite each other's certificates.
std::string ProcessTempDir(const std::string& name);

// Makes a fresh set in `dir` (created if missing); `name` tells sets apart (their CAs differ).
absl::StatusOr<Certificates> MakeCertificates(const std::string& dir, const std::string& name);

// A TLS channel to localhost:`port` that trusts the CA in the PEM file `ca` and, when
// `client_cert` is given, presents it (mutual TLS) with `client_key`. The channel makes a
// connection of its own (its own subchannel pool), so it sees the certificate the server
// serves now, not one an earlier channel's connection was made with.
std::shared_ptr<grpc::Channel> TlsChannel(int port, const std::string& ca,
                                          const std::string& client_cert = "",
                                          const std::string& client_key = "");

// A fixture whose suite shares two certificate sets, a and b (each from its own CA), made once
// for the suite in a directory of its own (named after the suite) and removed after it.
class TwoCertificateSetsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  static std::string* dir_;
  static Certificates* a_;
  static Certificates* b_;
};

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_CERTIFICATES_H_
