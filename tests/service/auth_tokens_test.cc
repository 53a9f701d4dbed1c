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
  const std::string path = absl::StrCat(::testing::TempDir(), "/", getpid(), "-", name);
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

TEST(AuthTokensTest, AMissingOrEmptyFileIsAnErrorNamingTheFlag) {
  EXPECT_THAT(AuthTokens::Load("/nonexistent/tokens"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("--auth_tokens_file")));
  EXPECT_THAT(AuthTokens::Load(WriteFile("tokens-empty", "# none yet\n\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("holds no token")));
}

TEST(AuthTokensTest, ReloadPicksUpAChangedFileAndKeepsTokensWhenItBreaks) {
  const std::string path = WriteFile("tokens-reload", "old\n");
  auto tokens = AuthTokens::Load(path);
  ASSERT_TRUE(tokens.ok());
  // Replace the file the way Kubernetes updates a Secret: a new file renamed over the old.
  WriteFile("tokens-reload.new", "new\n");
  ASSERT_EQ(rename((path + ".new").c_str(), path.c_str()), 0);
  (*tokens)->ReloadIfChanged();
  EXPECT_TRUE((*tokens)->Accepts("Bearer new"));
  EXPECT_FALSE((*tokens)->Accepts("Bearer old"));
  // An emptied file keeps the last good tokens rather than locking everyone out.
  WriteFile("tokens-reload.new", "# rotated out\n");
  ASSERT_EQ(rename((path + ".new").c_str(), path.c_str()), 0);
  (*tokens)->ReloadIfChanged();
  EXPECT_TRUE((*tokens)->Accepts("Bearer new"));
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
