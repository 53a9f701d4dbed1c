#include "service/resume_token.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <optional>

#include "absl/strings/str_cat.h"
#include "dsp/state_codec.h"

namespace audioproc {
namespace {

constexpr StateTag kTokenTag = MakeStateTag("arsm");
constexpr uint16_t kTokenVersion = 1;
constexpr size_t kMacBytes = 32;
// The MAC's trailer as StateWriter::PutBytes writes it: a u64 size, then the bytes.
constexpr size_t kTrailerBytes = 8 + kMacBytes;
// What a principal's binding is computed over besides the principal (domain separation from
// the token's own MAC).
constexpr absl::string_view kPrincipalContext = "audioproc resume principal\n";
// The most a token's config may be (a chain of 32 processors with an impulse blob is far
// under it; a larger token would fail the size bound first).
constexpr size_t kMaxConfigBytes = size_t{64} << 20;

using Mac = std::array<uint8_t, kMacBytes>;

// HMAC-SHA256 of the concatenated `parts` (OpenSSL's, fetched once); nullopt if OpenSSL
// fails, which then verifies and signs nothing.
std::optional<Mac> Hmac(absl::string_view key,
                        std::initializer_list<std::span<const uint8_t>> parts) {
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  char digest[] = OSSL_DIGEST_NAME_SHA2_256;
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  Mac mac{};
  EVP_MAC_CTX* context = EVP_MAC_CTX_new(hmac);
  size_t length = 0;
  bool ok = context != nullptr &&
            EVP_MAC_init(context, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                         params) == 1;
  for (std::span<const uint8_t> part : parts) {
    ok = ok && EVP_MAC_update(context, part.data(), part.size()) == 1;
  }
  ok = ok && EVP_MAC_final(context, mac.data(), &length, mac.size()) == 1;
  EVP_MAC_CTX_free(context);
  if (!ok || length != mac.size()) return std::nullopt;
  return mac;
}

std::span<const uint8_t> Bytes(absl::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::optional<Mac> PrincipalBinding(absl::string_view key, absl::string_view principal) {
  return Hmac(key, {Bytes(kPrincipalContext), Bytes(principal)});
}

bool SameMac(const std::optional<Mac>& a, std::span<const uint8_t> b) {
  return a.has_value() && a->size() == b.size() &&
         CRYPTO_memcmp(a->data(), b.data(), b.size()) == 0;
}

absl::Status NoMac() { return absl::InternalError("resume token: OpenSSL's HMAC-SHA256 failed"); }

int64_t UnixMillis(absl::Time time) { return absl::ToUnixMillis(time); }

}  // namespace

absl::StatusOr<std::string> SealResumeToken(absl::string_view key, absl::string_view principal,
                                            absl::Time now, absl::Duration ttl,
                                            const ResumePoint& point,
                                            const v1::StreamConfig& config,
                                            const StreamPipeline& pipeline, size_t max_bytes) {
  if (max_bytes < kTrailerBytes) {
    return absl::ResourceExhaustedError("resume token: no room for the signature");
  }
  StateWriter writer(max_bytes - kTrailerBytes);
  writer.PutTag(kTokenTag, kTokenVersion);
  writer.PutI64(UnixMillis(now));
  writer.PutI64(UnixMillis(now + ttl));
  const std::optional<Mac> binding = PrincipalBinding(key, principal);
  if (!binding) return NoMac();
  writer.PutBytes(*binding);
  writer.PutU64(point.sequence);
  writer.PutU64(point.next_sequence);
  writer.PutU64(point.chunks);
  writer.PutString(config.SerializeAsString());
  if (!writer.ok()) return writer.status();
  if (absl::Status status = pipeline.SaveState(writer); !status.ok()) return status;
  const std::span<const uint8_t> body = writer.bytes();
  const std::optional<Mac> mac = Hmac(key, {body});
  if (!mac) return NoMac();
  std::string token;
  token.reserve(body.size() + kTrailerBytes);
  token.append(reinterpret_cast<const char*>(body.data()), body.size());
  uint8_t size[8] = {kMacBytes, 0, 0, 0, 0, 0, 0, 0};
  token.append(reinterpret_cast<const char*>(size), sizeof(size));
  token.append(reinterpret_cast<const char*>(mac->data()), mac->size());
  return token;
}

absl::StatusOr<OpenedResumeToken> OpenResumeToken(absl::string_view token,
                                                  const std::vector<std::string>& keys,
                                                  absl::string_view principal, absl::Time now) {
  if (token.size() < kTrailerBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("resume.token is ", token.size(), " bytes: too short to be a resume token"));
  }
  const std::span<const uint8_t> all = Bytes(token);
  const std::span<const uint8_t> body = all.first(all.size() - kTrailerBytes);
  StateReader trailer(all.subspan(body.size()));
  const std::span<const uint8_t> mac = trailer.GetBytes(kMacBytes);
  if (!trailer.ok() || mac.size() != kMacBytes) {
    return absl::UnauthenticatedError("resume.token does not end with a signature");
  }
  const std::string* signer = nullptr;
  for (const std::string& key : keys) {
    if (SameMac(Hmac(key, {body}), mac)) {
      signer = &key;
      break;
    }
  }
  if (signer == nullptr) {
    return absl::UnauthenticatedError(
        "resume.token's signature does not verify with this server's resume keys: it was "
        "altered, or signed with a key this deployment no longer holds");
  }
  // Signed by us: what follows was written by SealResumeToken, but is still read with bounds.
  StateReader reader(body);
  reader.ExpectTag(kTokenTag, kTokenVersion);
  if (!reader.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("resume.token is of another format version (this server reads version ",
                     kTokenVersion, "): ", reader.status().message()));
  }
  const int64_t issued_ms = reader.GetI64();
  const int64_t expires_ms = reader.GetI64();
  const std::span<const uint8_t> binding = reader.GetBytes(kMacBytes);
  OpenedResumeToken opened;
  opened.point.sequence = reader.GetU64();
  opened.point.next_sequence = reader.GetU64();
  opened.point.chunks = reader.GetU64();
  const std::string_view config = reader.GetString(kMaxConfigBytes);
  if (!reader.ok() ||
      !opened.config.ParseFromArray(config.data(), static_cast<int>(config.size()))) {
    return absl::InvalidArgumentError("resume.token is malformed (signed, but not readable)");
  }
  opened.expires = absl::FromUnixMillis(expires_ms);
  if (now >= opened.expires) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resume.token expired at ", absl::FormatTime(opened.expires, absl::UTCTimeZone()),
        " (issued ", absl::FormatTime(absl::FromUnixMillis(issued_ms), absl::UTCTimeZone()),
        ", --resume_token_ttl_seconds); start a new stream"));
  }
  if (!SameMac(PrincipalBinding(*signer, principal), binding)) {
    return absl::PermissionDeniedError(
        "resume.token belongs to another principal: a stream resumes only with the bearer token "
        "or client certificate that started it");
  }
  opened.state = body.subspan(body.size() - reader.remaining());
  return opened;
}

}  // namespace audioproc
