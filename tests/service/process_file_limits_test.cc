// ProcessFile's refusals (DESIGN §6), its drain, its own worker pool and its metric.
#include <sndfile.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/file_exchange.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/signals.h"
#include "tests/testing/sound_files.h"

namespace audioproc {
namespace {

using testing::CallProcessFile;
using testing::ChunkRequest;
using testing::ConfigRequest;
using testing::Exchange;
using testing::FileRequest;
using testing::FileResult;
using ::testing::HasSubstr;
using testing::MakeConfig;
using testing::MakeSoundFile;

class ProcessFileLimitsTest : public testing::InProcessServerTest {
 protected:
  ProcessFileLimitsTest() {
    options_.max_file_bytes = 64 * 1024;
    options_.max_file_seconds = 2;
  }
};

// `seconds` of a quiet tone at 8 kHz mono: 16 000 bytes of samples a second.
std::string Wav(double seconds, int sf_format = SF_FORMAT_WAV | SF_FORMAT_PCM_16) {
  const size_t frames = static_cast<size_t>(8000 * seconds);
  return MakeSoundFile(
      sf_format, 8000, 1,
      testing::FromS16Bytes(testing::ToS16Bytes(testing::Sine(300, 8000, frames, 0.2))));
}

TEST_F(ProcessFileLimitsTest, AFileLargerThanMaxFileBytesIsResourceExhausted) {
  const std::string wav = Wav(4.5);  // 72 000 bytes
  ASSERT_GT(wav.size(), 64u * 1024);
  const FileResult result = CallProcessFile(*stub_, FileRequest(wav));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(result.status.error_message(), HasSubstr("--max_file_bytes=65536"));
}

TEST_F(ProcessFileLimitsTest, AFileLongerThanMaxFileSecondsByItsHeaderIsOutOfRange) {
  const FileResult result = CallProcessFile(*stub_, FileRequest(Wav(3)));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("--max_file_seconds=2"));
  EXPECT_THAT(result.status.error_message(), HasSubstr("by its header"));
}

// A FLAC stream may leave its length unsaid (STREAMINFO total samples = 0): the limit is then
// enforced while decoding.
TEST_F(ProcessFileLimitsTest, AFileWhoseHeaderDoesNotSayItsLengthIsStoppedWhileDecoding) {
  std::string flac = Wav(3, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  ASSERT_EQ(flac.substr(0, 4), "fLaC");
  ASSERT_EQ(flac[4] & 0x7F, 0);  // the first metadata block is STREAMINFO
  // Its 36-bit total sample count ends the 8 bytes at offset 18 of the stream.
  flac[21] = static_cast<char>(flac[21] & 0xF0);
  for (int i = 22; i < 26; ++i) flac[i] = 0;
  const FileResult result = CallProcessFile(*stub_, FileRequest(flac));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("--max_file_seconds=2"));
  EXPECT_THAT(result.status.error_message(), HasSubstr("while being decoded"));
  // Within the limit, the same kind of file is processed whole.
  std::string short_flac = Wav(1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  short_flac[21] = static_cast<char>(short_flac[21] & 0xF0);
  for (int i = 22; i < 26; ++i) short_flac[i] = 0;
  const FileResult ok = CallProcessFile(*stub_, FileRequest(short_flac));
  ASSERT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_EQ(ok.response.summary().frames_in(), 8000u);
}

TEST_F(ProcessFileLimitsTest, BytesLibsndfileCannotReadAreInvalidArgumentWithItsReason) {
  for (const std::string& garbage : {std::string("this is not audio, just some words"),
                                     std::string(), std::string(1000, '\x7f')}) {
    const std::string reason = testing::SoundFileOpenError(garbage);
    ASSERT_FALSE(reason.empty());
    const FileResult result = CallProcessFile(*stub_, FileRequest(garbage));
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(result.status.error_message(), HasSubstr("libsndfile"));
    EXPECT_THAT(result.status.error_message(), HasSubstr(reason));
  }
}

TEST_F(ProcessFileLimitsTest, ABadChainIsInvalidArgumentNamingTheField) {
  const std::string wav = Wav(0.5);
  struct Case {
    const char* request;
    const char* says;
  };
  for (const Case& c :
       {Case{R"({"chain":[{"highpass":{"cutoffHz":5000}}]})", "chain[0].highpass.cutoff_hz"},
        Case{R"({"chain":[{"gain":{}},{"gain":{"gainDb":99}}]})", "chain[1].gain.gain_db"},
        Case{R"({"chain":[{}]})", "chain[0]"}}) {
    SCOPED_TRACE(c.request);
    const FileResult result = CallProcessFile(*stub_, FileRequest(wav, c.request));
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(result.status.error_message(), HasSubstr(c.says));
  }
}

TEST_F(ProcessFileLimitsTest, NewFilesAreUnavailableWhileTheServerDrains) {
  server_->state().set_draining();
  const FileResult result = CallProcessFile(*stub_, FileRequest(Wav(0.5)));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(result.status.error_message(), HasSubstr("draining"));
}

// Structural, not timed: files have their own executor, and a file's work is a task there
// while the streams' executor runs only stream tasks.
TEST_F(ProcessFileLimitsTest, FilesRunOnTheirOwnPoolApartFromTheStreamWorkers) {
  ASSERT_NE(&server_->file_executor(), &server_->executor());
  EXPECT_EQ(server_->file_executor().workers(), options_.file_workers);
  const uint64_t file_tasks = server_->file_executor().tasks_run();
  const uint64_t stream_tasks = server_->executor().tasks_run();
  ASSERT_TRUE(CallProcessFile(*stub_, FileRequest(Wav(0.5))).status.ok());
  EXPECT_EQ(server_->file_executor().tasks_run(), file_tasks + 1);
  EXPECT_EQ(server_->executor().tasks_run(), stream_tasks);
  // And a stream's chunks do not run on the file pool.
  ASSERT_TRUE(Exchange(*stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1)),
                                ChunkRequest(std::string(640, '\0'))})
                  .status.ok());
  EXPECT_EQ(server_->file_executor().tasks_run(), file_tasks + 1);
  EXPECT_GT(server_->executor().tasks_run(), stream_tasks);
}

TEST_F(ProcessFileLimitsTest, FilesAreCountedByCode) {
  CallProcessFile(*stub_, FileRequest(Wav(0.5)));
  CallProcessFile(*stub_, FileRequest("garbage"));
  // A file is counted when its call object goes away, just after the client has its answer.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  Metrics& metrics = server_->metrics();
  while ((metrics.FilesTotal(grpc::StatusCode::OK).Value() < 1 ||
          metrics.FilesTotal(grpc::StatusCode::INVALID_ARGUMENT).Value() < 1) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(metrics.FilesTotal(grpc::StatusCode::OK).Value(), 1);
  EXPECT_EQ(metrics.FilesTotal(grpc::StatusCode::INVALID_ARGUMENT).Value(), 1);
}

}  // namespace
}  // namespace audioproc
