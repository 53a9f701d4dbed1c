// TlsMaterial: what the TLS flags name, read from PEM files and checked with OpenSSL before
// gRPC sees any of it: a certificate chain, the private key that belongs to the chain's first
// certificate, and, for mutual TLS, the CA bundle that client certificates must chain to.
//
//   ASSIGN_OR_RETURN(TlsMaterial material, ReadTlsMaterial(files));
//
// gRPC itself parses these files only when it builds a handshaker, and a key that does not
// match its certificate (or a half-written file) then fails every new handshake; checking
// here turns that into a startup error, or a refused reload, that names the file and why.
// The material is re-encoded from what OpenSSL parsed, so what is served is exactly what was
// checked. Error messages name flags, paths and OpenSSL's reason, never key material.
// Thread safety: stateless functions; safe from any thread (OpenSSL's error queue is per
// thread, and is left empty).
#ifndef AUDIOPROC_SERVICE_TLS_MATERIAL_H_
#define AUDIOPROC_SERVICE_TLS_MATERIAL_H_

#include <string>

#include "absl/status/statusor.h"

namespace audioproc {

// The TLS flags: paths of PEM files.
struct TlsFiles {
  std::string cert;       // --tls_cert: PEM certificate chain, the server's certificate first
  std::string key;        // --tls_key: PEM private key of that certificate (not encrypted)
  std::string client_ca;  // --tls_client_ca: PEM CA bundle; set = clients must present a cert
  bool enabled() const { return !cert.empty() || !key.empty() || !client_ca.empty(); }
};

struct TlsMaterial {
  std::string private_key_pem;        // PKCS#8, unencrypted
  std::string certificate_chain_pem;  // the server's certificate first, as in --tls_cert
  std::string client_ca_pem;          // empty when --tls_client_ca is not set
  // For logs (public facts about the server's certificate, never the key): its subject
  // (RFC 2253), expiry (RFC 3339, UTC) and SHA-256 fingerprint (hex).
  std::string subject;
  std::string not_after;
  std::string sha256;

  bool operator==(const TlsMaterial& other) const = default;
};

// Reads and checks `files` (which must be enabled()): every certificate of the chain and of
// the client CA bundle parses, the key parses, and the key is the one of the chain's first
// certificate. INVALID_ARGUMENT names the flag that is missing (a cert without a key, a
// client CA without a cert), or the file and the reason it was refused; NOT_FOUND names a
// file that cannot be read. Reads files; allocates.
absl::StatusOr<TlsMaterial> ReadTlsMaterial(const TlsFiles& files);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_TLS_MATERIAL_H_
