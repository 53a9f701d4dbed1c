// Throwaway certificates for TLS tests, made with the openssl command at test time: a CA, a
// server certificate for localhost and 127.0.0.1, and a client certificate, all signed by
// the CA, as PEM files in a directory.
#ifndef AUDIOPROC_TESTS_TESTING_CERTIFICATES_H_
#define AUDIOPROC_TESTS_TESTING_CERTIFICATES_H_

#include <string>

#include "absl/status/statusor.h"

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

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_CERTIFICATES_H_
