#include "service/tls_material.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/status_macros.h"

namespace audioproc {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A PEM file is small; the bound keeps a flag pointed at a device or a huge file from
// reading forever. (The system CA bundle is about 200 KiB.)
constexpr size_t kMaxPemFileBytes = 4 << 20;

// Empties this thread's OpenSSL error queue when it goes out of scope, so that no error of
// ours is later mistaken for gRPC's own on the same thread.
struct ClearOpenSslErrors {
  ~ClearOpenSslErrors() { ERR_clear_error(); }
};

// The reason of OpenSSL's most recent error, e.g. "bad end line" or "key values mismatch".
std::string OpenSslReason() {
  const unsigned long error = ERR_peek_last_error();
  const char* reason = error == 0 ? nullptr : ERR_reason_error_string(error);
  return reason == nullptr ? "unknown OpenSSL error" : reason;
}

bool OnlyNoStartLineError() {
  const unsigned long error = ERR_peek_last_error();
  return error == 0 ||
         (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE);
}

// "--flag=path"
std::string Named(const char* flag, const std::string& path) {
  return absl::StrCat("--", flag, "=", path);
}

absl::StatusOr<std::string> ReadPemFile(const char* flag, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(fopen(path.c_str(), "rb"), &fclose);
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(Named(flag, path), " cannot be read: ", std::strerror(errno)));
  }
  std::string text;
  char buffer[16384];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    text.append(buffer, n);
    if (text.size() > kMaxPemFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          Named(flag, path), " is larger than ", kMaxPemFileBytes >> 20, " MiB: not a PEM file"));
    }
  }
  if (ferror(file.get())) {
    return absl::NotFoundError(
        absl::StrCat(Named(flag, path), " cannot be read: ", std::strerror(errno)));
  }
  return text;
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate in `text`, in order; at least one. PEM blocks of other kinds are skipped,
// as gRPC's own reader skips them.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(const char* flag, const std::string& path,
                                                       const std::string& text) {
  ERR_clear_error();  // OpenSslReason reports the last error: it must be this parse's
  BioPtr bio = MemoryBio(text);
  std::vector<X509Ptr> certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  // Reading stops at the end of the text ("no start line"), or at a block that is broken.
  if (!OnlyNoStartLineError()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Named(flag, path), " holds a PEM certificate that does not parse: ", OpenSslReason()));
  }
  if (certificates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Named(flag, path), " holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
  }
  return certificates;
}

absl::StatusOr<PkeyPtr> ParsePrivateKey(const std::string& path, const std::string& text) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(text);
  // No passphrase: a server restarted unattended could not type one (and gRPC offers none).
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return -1; };
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (key != nullptr) return key;
  if (absl::StrContains(text, "ENCRYPTED")) {
    return absl::InvalidArgumentError(absl::StrCat(
        Named("tls_key", path), " is an encrypted private key; give the key unencrypted"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      Named("tls_key", path), " holds no PEM private key that parses: ", OpenSslReason()));
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError(absl::StrCat("cannot encode the private key: ", OpenSslReason()));
  }
  char* data;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

absl::StatusOr<std::string> ToPem(const std::vector<X509Ptr>& certificates) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  for (const X509Ptr& certificate : certificates) {
    if (PEM_write_bio_X509(bio.get(), certificate.get()) != 1) {
      return absl::InternalError(absl::StrCat("cannot encode a certificate: ", OpenSslReason()));
    }
  }
  char* data;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string Subject(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  char* data;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string NotAfter(X509* certificate) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &tm) != 1) return "unknown";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromTimeT(timegm(&tm)), absl::UTCTimeZone());
}

std::string Sha256(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &size) != 1) return "unknown";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) absl::StrAppendFormat(&hex, "%02x", digest[i]);
  return hex;
}

}  // namespace

absl::StatusOr<TlsMaterial> ReadTlsMaterial(const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls_cert and --tls_key (and --tls_client_ca for mutual TLS)");
  }
  ClearOpenSslErrors clear_errors;

  ASSIGN_OR_RETURN(const std::string chain_text, ReadPemFile("tls_cert", files.cert));
  ASSIGN_OR_RETURN(std::vector<X509Ptr> chain,
                   ParseCertificates("tls_cert", files.cert, chain_text));
  ASSIGN_OR_RETURN(const std::string key_text, ReadPemFile("tls_key", files.key));
  ASSIGN_OR_RETURN(PkeyPtr key, ParsePrivateKey(files.key, key_text));
  ERR_clear_error();
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(Named("tls_key", files.key), " does not match the certificate in ",
                     Named("tls_cert", files.cert), " (", OpenSslReason(),
                     "); the key must be the one of the chain's first certificate"));
  }

  TlsMaterial material;
  ASSIGN_OR_RETURN(material.private_key_pem, ToPem(key.get()));
  ASSIGN_OR_RETURN(material.certificate_chain_pem, ToPem(chain));
  if (!files.client_ca.empty()) {
    ASSIGN_OR_RETURN(const std::string ca_text, ReadPemFile("tls_client_ca", files.client_ca));
    ASSIGN_OR_RETURN(std::vector<X509Ptr> authorities,
                     ParseCertificates("tls_client_ca", files.client_ca, ca_text));
    ASSIGN_OR_RETURN(material.client_ca_pem, ToPem(authorities));
  }
  material.subject = Subject(chain.front().get());
  material.not_after = NotAfter(chain.front().get());
  material.sha256 = Sha256(chain.front().get());
  return material;
}

}  // namespace audioproc
