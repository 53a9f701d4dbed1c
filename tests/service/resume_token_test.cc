// Resume tokens and their keys (service/resume_token.h, service/resume_keys.h): a sealed
// token opens to the same point, config and state with its key or the one rotated in after
// it; every byte altered, a truncation, another key, an expiry or another principal is
// refused with its own status; the size bound holds; a key file rotates and keeps the
// previous key, and refuses short keys.
#include "service/resume_token.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "chain/registry.h"
#include "gtest/gtest.h"
#include "service/resume_keys.h"
#include "tests/testing/process_exchange.h"

namespace audioproc {
namespace {

const std::string kKey(48, 'a');
const std::string kOtherKey(48, 'b');
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::unique_ptr<StreamPipeline> Pipeline() {
  PipelineConfig config;
  config.input = {SampleEncoding::kS16, 16000, 1};
  config.output = config.input;
  config.stream_id = "token-test";
  ProcessorConfig gain{"gain", {}};
  gain.params.Set("gain_db", 6.0);
  ProcessorConfig highpass{"highpass", {}};
  highpass.params.Set("cutoff_hz", 100.0);
  config.chain = {highpass, gain, {"limiter", {}}};
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  std::string out;
  (*pipeline)->ProcessChunk(std::string(3202, '\x11'), &out);  // state, and a partial frame
  return *std::move(pipeline);
}

class ResumeTokenTest : public ::testing::Test {
 protected:
  std::string Seal(absl::string_view key = kKey, absl::string_view principal = "bearer:alice") {
    absl::StatusOr<std::string> token = SealResumeToken(
        key, principal, kNow, absl::Seconds(300),
        {.sequence = 41, .next_sequence = 42, .chunks = 41}, config_, *pipeline_, size_t{1} << 20);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  const std::unique_ptr<StreamPipeline> pipeline_ = Pipeline();
  const v1::StreamConfig config_ =
      testing::MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":6}}])");
};

TEST_F(ResumeTokenTest, OpensToWhatWasSealedAndTheStateRestoresIntoAFreshPipeline) {
  const std::string token = Seal();
  absl::StatusOr<OpenedResumeToken> opened = OpenResumeToken(token, {kKey}, "bearer:alice", kNow);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->point.sequence, 41u);
  EXPECT_EQ(opened->point.next_sequence, 42u);
  EXPECT_EQ(opened->point.chunks, 41u);
  EXPECT_EQ(opened->config.SerializeAsString(), config_.SerializeAsString());
  EXPECT_EQ(opened->expires, kNow + absl::Seconds(300));
  // The state is the pipeline's: a fresh one restored from it goes on byte for byte.
  std::unique_ptr<StreamPipeline> restored =
      StreamPipeline::Create(ProcessorRegistry::Default(), pipeline_->config()).value();
  StateReader reader(opened->state);
  ASSERT_TRUE(restored->RestoreState(reader).ok());
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.status();
  std::string a, b;
  pipeline_->ProcessChunk(std::string(999, '\x42'), &a);
  restored->ProcessChunk(std::string(999, '\x42'), &b);
  EXPECT_EQ(a, b);
}

TEST_F(ResumeTokenTest, EveryAlteredByteIsUnauthenticated) {
  const std::string token = Seal();
  for (size_t at = 0; at < token.size(); at += std::max<size_t>(1, token.size() / 97)) {
    std::string altered = token;
    altered[at] = static_cast<char>(altered[at] ^ 1);
    EXPECT_EQ(OpenResumeToken(altered, {kKey}, "bearer:alice", kNow).status().code(),
              absl::StatusCode::kUnauthenticated)
        << "byte " << at;
  }
  EXPECT_EQ(OpenResumeToken(token.substr(0, token.size() - 1), {kKey}, "bearer:alice", kNow)
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenResumeToken(token.substr(0, 39), {kKey}, "bearer:alice", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenResumeToken("", {kKey}, "bearer:alice", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ResumeTokenTest, AnotherKeyAnExpiryOrAnotherPrincipalIsRefusedPrecisely) {
  const std::string token = Seal();
  EXPECT_EQ(OpenResumeToken(token, {kOtherKey}, "bearer:alice", kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenResumeToken(token, {}, "bearer:alice", kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Rotation: the new key first, the one that signed it second.
  EXPECT_TRUE(OpenResumeToken(token, {kOtherKey, kKey}, "bearer:alice", kNow).ok());
  EXPECT_TRUE(OpenResumeToken(token, {kKey}, "bearer:alice", kNow + absl::Seconds(299)).ok());
  const absl::Status expired =
      OpenResumeToken(token, {kKey}, "bearer:alice", kNow + absl::Seconds(300)).status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired;
  EXPECT_EQ(OpenResumeToken(token, {kKey}, "bearer:bob", kNow).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenResumeToken(token, {kKey}, "", kNow).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(ResumeTokenTest, NeverHoldsThePrincipalAndIsBoundedInSize) {
  const std::string token = Seal(kKey, "bearer:a-secret-bearer-token");
  EXPECT_EQ(token.find("a-secret-bearer-token"), std::string::npos);
  EXPECT_EQ(token.find(kKey), std::string::npos);
  const size_t size = token.size();
  EXPECT_EQ(SealResumeToken(kKey, "", kNow, absl::Seconds(1), {}, config_, *pipeline_, size - 1)
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      SealResumeToken(kKey, "", kNow, absl::Seconds(1), {}, config_, *pipeline_, size).ok());
}

TEST(ResumeKeysTest, RotationKeepsThePreviousKeyAndShortOrMissingFilesAreRefused) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/rotation.key");
  std::ofstream(path) << "  " << kKey << "\n";
  absl::StatusOr<std::unique_ptr<ResumeKeys>> keys = ResumeKeys::Load(path);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ((*keys)->Current()->keys, std::vector<std::string>{kKey});
  EXPECT_EQ((*keys)->ReloadIfChanged(), ResumeKeys::Reload::kUnchanged);

  std::ofstream(path) << kOtherKey << "-and-more";
  EXPECT_EQ((*keys)->ReloadIfChanged(), ResumeKeys::Reload::kRotated);
  EXPECT_EQ((*keys)->Current()->keys, (std::vector<std::string>{kOtherKey + "-and-more", kKey}));
  // Too short: the keys in force stay.
  std::ofstream(path) << "short";
  EXPECT_EQ((*keys)->ReloadIfChanged(), ResumeKeys::Reload::kKept);
  EXPECT_EQ((*keys)->Current()->keys.size(), 2u);

  std::ofstream(path) << "short";
  EXPECT_EQ(ResumeKeys::Load(path).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResumeKeys::Load(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace audioproc
