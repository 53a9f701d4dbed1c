// Server transport credentials from the TLS flags: plaintext when no certificate is given,
// TLS from PEM files otherwise, and mutual TLS when a client CA is given. The files are
// watched (grpc::experimental::FileWatcherCertificateProvider) and new certificates are used
// for new connections without a restart, as cert-manager rotates them.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_SERVICE_TLS_CREDENTIALS_H_
#define AUDIOPROC_SERVICE_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace audioproc {

struct TlsFiles {
  std::string cert;       // --tls_cert: PEM certificate chain
  std::string key;        // --tls_key: PEM private key
  std::string client_ca;  // --tls_client_ca: PEM CA bundle; set = clients must present a cert
  bool enabled() const { return !cert.empty() || !key.empty() || !client_ca.empty(); }
};

// Plaintext for empty `files`; otherwise TLS (and mutual TLS with client_ca), re-reading the
// files every `refresh_seconds`. INVALID_ARGUMENT names the flag that is missing (a cert
// without a key, a client CA without a cert); NOT_FOUND names a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, unsigned int refresh_seconds = 10);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_TLS_CREDENTIALS_H_
