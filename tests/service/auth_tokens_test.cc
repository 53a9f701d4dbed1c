// Bearer tokens from a file: parsing, checking, and reloading when the file changes.
#include "service/auth_tokens.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::StatusIs;

std::string WriteFile(const std::string& name, const std::string& text) {
  // Per process: ctest runs these tests in parallel processes.
  std::string path = absl::StrCat(::testing::TempDir(), "/", getpid(), "-", name);
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

TEST(AuthTokensTest, ParsesOneTokenPerLineSkippingBlankLinesAndComments) {
  EXPECT_THAT(ParseTokens("# service tokens\nalpha\n\n  beta  \n#gamma\r\ndelta\r\n"),
              ElementsAre("alpha", "beta", "delta"));
}

TEST(AuthTokensTest, AcceptsOnlyBearerWithAKnownToken) {
  auto tokens = AuthTokens::Load(WriteFile("tokens1", "s3cret-one\ns3cret-two\n"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_TRUE((*tokens)->Accepts("Bearer s3cret-one"));
  EXPECT_TRUE((*tokens)->Accepts("bearer s3cret-two"));  // the scheme is case-insensitive
  EXPECT_FALSE((*tokens)->Accepts("Bearer s3cret-on"));
  EXPECT_FALSE((*tokens)->Accepts("Bearer s3cret-one-more"));
  EXPECT_FALSE((*tokens)->Accepts("Bearer S3CRET-ONE"));  // the token is not
  EXPECT_FALSE((*tokens)->Accepts("Basic s3cret-one"));
  EXPECT_FALSE((*tokens)->Accepts("s3cret-one"));
  EXPECT_FALSE((*tokens)->Accepts("Bearer "));
  EXPECT_FALSE((*tokens)->Accepts(""));
}

TEST(AuthTokensTest, AMissingFileAtStartIsNotFoundNamingTheFlag) {
  EXPECT_THAT(AuthTokens::Load("/nonexistent/tokens"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("--auth_tokens_file=/nonexistent/tokens cannot be read")));
  // A directory would read as a file with no token, which denies everything: refused.
  EXPECT_THAT(AuthTokens::Load(::testing::TempDir()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not a regular file")));
}

TEST(AuthTokensTest, AFileWithNoTokenLoadsAndAcceptsNothing) {
  // Empty, and only comments and blank lines: how an operator revokes every token.
  for (const char* text : {"", "# every token revoked\n\n   \n#another comment\n"}) {
    auto tokens = AuthTokens::Load(WriteFile("tokens-none", text));
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    EXPECT_EQ((*tokens)->size(), 0u);
    EXPECT_FALSE((*tokens)->Accepts("Bearer "));
    EXPECT_FALSE((*tokens)->Accepts("Bearer #"));
    EXPECT_FALSE((*tokens)->Accepts("Bearer every"));
  }
}

// Replaces the file the way Kubernetes updates a Secret: a new file renamed over the old.
void ReplaceFile(const std::string& path, const std::string& text) {
  const std::string next = path + ".next";
  std::ofstream(next, std::ios::trunc) << text;
  ASSERT_EQ(rename(next.c_str(), path.c_str()), 0);
}

TEST(AuthTokensTest, ReloadPutsAChangedFileInForce) {
  const std::string path = WriteFile("tokens-reload", "old\n");
  auto tokens = AuthTokens::Load(path);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kUnchanged);
  ReplaceFile(path, "new\nnewer\n");
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kReloaded);
  EXPECT_TRUE((*tokens)->Accepts("Bearer new"));
  EXPECT_TRUE((*tokens)->Accepts("Bearer newer"));
  EXPECT_FALSE((*tokens)->Accepts("Bearer old"));
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kUnchanged);
}

TEST(AuthTokensTest, EmptyingTheFileRevokesEveryTokenAtTheNextReload) {
  const std::string path = WriteFile("tokens-revoke", "alpha\nbeta\n");
  auto tokens = AuthTokens::Load(path);
  ASSERT_TRUE(tokens.ok());
  ASSERT_TRUE((*tokens)->Accepts("Bearer alpha"));
  ReplaceFile(path, "# all revoked\n");
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kReloaded);
  EXPECT_EQ((*tokens)->size(), 0u);
  EXPECT_FALSE((*tokens)->Accepts("Bearer alpha"));
  EXPECT_FALSE((*tokens)->Accepts("Bearer beta"));
  // Truncated in place rather than replaced: the same.
  ReplaceFile(path, "gamma\n");
  ASSERT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kReloaded);
  ASSERT_TRUE((*tokens)->Accepts("Bearer gamma"));
  std::ofstream(path, std::ios::trunc).flush();
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kReloaded);
  EXPECT_FALSE((*tokens)->Accepts("Bearer gamma"));
}

TEST(AuthTokensTest, AMissingFileKeepsTheLastTokensAndIsReportedOncePerDisappearance) {
  const std::string path = WriteFile("tokens-missing", "kept\n");
  auto tokens = AuthTokens::Load(path);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(unlink(path.c_str()), 0);
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kKept);
  // Still missing at the next reloads (one a second in a server): nothing new to report.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kUnchanged) << i;
  }
  EXPECT_TRUE((*tokens)->Accepts("Bearer kept"));
  // Back, with other tokens: in force.
  WriteFile("tokens-missing", "returned\n");
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kReloaded);
  EXPECT_TRUE((*tokens)->Accepts("Bearer returned"));
  EXPECT_FALSE((*tokens)->Accepts("Bearer kept"));
  // A second disappearance is reported again.
  ASSERT_EQ(unlink(path.c_str()), 0);
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kKept);
  EXPECT_EQ((*tokens)->ReloadIfChanged(), AuthTokens::Reload::kUnchanged);
  EXPECT_TRUE((*tokens)->Accepts("Bearer returned"));
}

TEST(AuthTokensTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0", 2), "a"));
}

}  // namespace
}  // namespace audioproc
