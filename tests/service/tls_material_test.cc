// The TLS files checked with OpenSSL before gRPC serves them: a matching pair is read and
// re-encoded; every kind of broken file is refused with a message that names the flag, the
// file and the reason, and never carries key material. Throwaway certificates made by openssl.
#include "service/tls_material.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::AllOf;
using testing::Certificates;
using ::testing::HasSubstr;
using testing::ReadFile;
using ::testing::StartsWith;
using testing::StatusIs;

class TlsMaterialTest : public testing::TwoCertificateSetsTest {
 protected:
  // A file in the suite's directory holding `text`; its path.
  static std::string Write(const std::string& name, const std::string& text) {
    std::string path = *dir_ + "/" + name;
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

  // The base64 lines of the PEM private keys: what must never appear in a message.
  static std::vector<std::string> KeyLines() {
    std::vector<std::string> lines;
    for (const std::string* key : {&a_->server_key, &b_->server_key}) {
      for (absl::string_view line : absl::StrSplit(ReadFile(*key), '\n', absl::SkipEmpty())) {
        if (!absl::StartsWith(line, "-----")) lines.emplace_back(line);
      }
    }
    return lines;
  }
};

TEST_F(TlsMaterialTest, AMatchingPairIsReadAndReencodedWithTheClientCa) {
  absl::StatusOr<TlsMaterial> material =
      ReadTlsMaterial({a_->server_cert, a_->server_key, a_->ca_cert});
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_THAT(material->private_key_pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  // openssl writes certificates as OpenSSL re-encodes them: the same text.
  EXPECT_EQ(material->certificate_chain_pem, ReadFile(a_->server_cert));
  EXPECT_EQ(material->client_ca_pem, ReadFile(a_->ca_cert));
  EXPECT_EQ(material->subject, "CN=localhost");
  EXPECT_EQ(material->sha256.size(), 64u);
  EXPECT_THAT(material->not_after, ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z"));

  absl::StatusOr<TlsMaterial> without_ca = ReadTlsMaterial({a_->server_cert, a_->server_key, ""});
  ASSERT_TRUE(without_ca.ok()) << without_ca.status();
  EXPECT_EQ(without_ca->client_ca_pem, "");
  EXPECT_NE(without_ca->sha256, ReadTlsMaterial({b_->server_cert, b_->server_key, ""})->sha256);
}

TEST_F(TlsMaterialTest, AChainIsKeptWholeAndItsFirstCertificateMustMatchTheKey) {
  // The server's certificate, then its CA: a chain as cert-manager writes tls.crt.
  const std::string chain = Write("chain.pem", ReadFile(a_->server_cert) + ReadFile(a_->ca_cert));
  absl::StatusOr<TlsMaterial> material = ReadTlsMaterial({chain, a_->server_key, ""});
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_EQ(material->certificate_chain_pem, ReadFile(chain));
  // The same certificates in the other order: the key is not the first one's.
  const std::string reversed =
      Write("reversed.pem", ReadFile(a_->ca_cert) + ReadFile(a_->server_cert));
  EXPECT_THAT(ReadTlsMaterial({reversed, a_->server_key, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not match")));
}

TEST_F(TlsMaterialTest, AKeyOfAnotherCertificateIsRefusedNamingBothFiles) {
  EXPECT_THAT(ReadTlsMaterial({a_->server_cert, b_->server_key, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key=" + b_->server_key),
                             HasSubstr("does not match the certificate in --tls_cert=" +
                                       a_->server_cert))));
}

TEST_F(TlsMaterialTest, EveryBrokenFileIsRefusedNamingTheFlagTheFileAndTheReason) {
  const std::string cert_text = ReadFile(a_->server_cert);
  const std::string key_text = ReadFile(a_->server_key);
  const std::string garbage = Write("garbage.pem", "not a certificate at all\n");
  const std::string empty = Write("empty.pem", "");
  const std::string half_cert = Write("half-cert.pem", cert_text.substr(0, cert_text.size() / 2));
  const std::string half_key = Write("half-key.pem", key_text.substr(0, key_text.size() / 2));
  const std::string encrypted = *dir_ + "/encrypted-key.pem";
  ASSERT_EQ(
      std::system(absl::StrCat("openssl pkey -in '", a_->server_key,
                               "' -aes256 -passout pass:secret -out '", encrypted, "' 2>/dev/null")
                      .c_str()),
      0);
  const std::string missing = *dir_ + "/no-such-file.pem";
  struct Case {
    TlsFiles files;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{a_->server_cert, "", ""}, absl::StatusCode::kInvalidArgument, "needs both --tls_cert"},
      {{"", "", a_->ca_cert}, absl::StatusCode::kInvalidArgument, "needs both --tls_cert"},
      {{missing, a_->server_key, ""},
       absl::StatusCode::kNotFound,
       "--tls_cert=" + missing + " cannot be read: No such file or directory"},
      {{a_->server_cert, missing, ""},
       absl::StatusCode::kNotFound,
       "--tls_key=" + missing + " cannot be read"},
      {{a_->server_cert, a_->server_key, missing},
       absl::StatusCode::kNotFound,
       "--tls_client_ca=" + missing + " cannot be read"},
      {{garbage, a_->server_key, ""},
       absl::StatusCode::kInvalidArgument,
       "--tls_cert=" + garbage + " holds no PEM certificate"},
      {{empty, a_->server_key, ""},
       absl::StatusCode::kInvalidArgument,
       "--tls_cert=" + empty + " holds no PEM certificate"},
      {{half_cert, a_->server_key, ""},
       absl::StatusCode::kInvalidArgument,
       "--tls_cert=" + half_cert + " holds a PEM certificate that does not parse"},
      {{a_->server_cert, empty, ""},
       absl::StatusCode::kInvalidArgument,
       "--tls_key=" + empty + " holds no PEM private key that parses"},
      {{a_->server_cert, half_key, ""},
       absl::StatusCode::kInvalidArgument,
       "--tls_key=" + half_key + " holds no PEM private key that parses"},
      {{a_->server_cert, a_->server_cert, ""},
       absl::StatusCode::kInvalidArgument,
       "--tls_key=" + a_->server_cert + " holds no PEM private key that parses"},
      {{a_->server_cert, encrypted, ""},
       absl::StatusCode::kInvalidArgument,
       "--tls_key=" + encrypted + " is an encrypted private key"},
      {{a_->server_cert, a_->server_key, garbage},
       absl::StatusCode::kInvalidArgument,
       "--tls_client_ca=" + garbage + " holds no PEM certificate"},
      {{a_->server_cert, a_->server_key, half_cert},
       absl::StatusCode::kInvalidArgument,
       "--tls_client_ca=" + half_cert + " holds a PEM certificate that does not parse"},
  };
  const std::vector<std::string> key_lines = KeyLines();
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.files.cert, " | ", c.files.key, " | ", c.files.client_ca));
    absl::StatusOr<TlsMaterial> material = ReadTlsMaterial(c.files);
    EXPECT_THAT(material, StatusIs(c.code, HasSubstr(c.message)));
    for (const std::string& line : key_lines) {
      EXPECT_FALSE(absl::StrContains(material.status().message(), line));
    }
  }
}

}  // namespace
}  // namespace audioproc
