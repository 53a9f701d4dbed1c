// Loudness normalization end to end (issue 3's bar, DESIGN §4): quiet speech sent to the real
// server, as a FLAC file through ProcessFile and as a stream through Process, comes back
// within +-1 LU of -23 LUFS from 3 s on, measured by tests/testing/loudness_meter (a
// BS.1770-4 meter written independently of the processor).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/file_exchange.h"
#include "tests/testing/loudness_meter.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/server_process.h"
#include "tests/testing/signals.h"
#include "tests/testing/sound_files.h"
#include "tests/testing/wav.h"

namespace audioproc {
namespace {

using testing::ServerProcess;

constexpr double kTarget = -23;
constexpr double kSettleSeconds = 3;

// The demo speech looped to 12 s, scaled to about -38 LUFS: the processor must raise it.
std::vector<float> QuietSpeech() {
  absl::StatusOr<testing::WavAudio> speech =
      testing::ReadWavS16(testing::SourcePath("clients/demo/speech_16k.wav"));
  EXPECT_TRUE(speech.ok()) << speech.status();
  std::vector<float> out;
  while (out.size() < 12 * 16000) {
    out.insert(out.end(), speech->samples.begin(), speech->samples.end());
  }
  out.resize(12 * 16000);
  const double lufs = testing::IntegratedLufs({out}, 16000);
  const float scale = static_cast<float>(std::pow(10.0, (-38 - lufs) / 20));
  for (float& x : out) x *= scale;
  return out;
}

class LoudnessEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::make_unique<ServerProcess>(*std::move(server));
    stub_ = v1::AudioProcessor::NewStub(testing::LoopbackChannel(server_->grpc_port()));
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AudioProcessor::Stub> stub_;
};

TEST_F(LoudnessEndToEndTest, FlacThroughProcessFileComesBackWithinOneLuOfTheTarget) {
  const std::vector<float> speech = QuietSpeech();
  ASSERT_NEAR(testing::IntegratedLufs({speech}, 16000), -38, 0.1);
  const std::string flac =
      testing::MakeSoundFile(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, speech);
  const testing::FileResult result = testing::CallProcessFile(
      *stub_, testing::FileRequest(flac, R"({"chain":[{"loudness":{"targetLufs":-23}}]})"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.response.input().container(), v1::FLAC);
  const testing::SoundFile out = testing::ReadSoundFile(result.response.file());
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.info.format & SF_FORMAT_TYPEMASK, SF_FORMAT_FLAC);
  ASSERT_EQ(out.f32.size(), speech.size());
  const double lufs = testing::IntegratedLufs({out.f32}, 16000, kSettleSeconds);
  EXPECT_NEAR(lufs, kTarget, 1.0) << "output loudness from 3 s on";
  ASSERT_TRUE(result.response.summary().has_integrated_lufs());
}

TEST_F(LoudnessEndToEndTest, StreamThroughProcessIsWithinOneLuOfTheTargetAfterThreeSeconds) {
  const std::vector<float> speech = QuietSpeech();
  std::vector<v1::ProcessRequest> requests = {testing::ConfigRequest(
      testing::MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"loudness":{"targetLufs":-23}}])"))};
  for (auto& chunk : testing::ChunkRequests(testing::ToS16Bytes(speech), 640)) {
    requests.push_back(std::move(chunk));
  }
  const testing::ExchangeResult result = testing::Exchange(*stub_, requests);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  std::vector<float> out;
  for (int16_t x : testing::FromS16Bytes(result.audio())) out.push_back(x / 32768.0f);
  ASSERT_EQ(out.size(), speech.size());
  EXPECT_NEAR(testing::IntegratedLufs({out}, 16000, kSettleSeconds), kTarget, 1.0);
  // The stream reports its readings as events along the way.
  int readings = 0;
  for (const auto* chunk : result.chunks()) {
    for (const auto& event : chunk->events()) readings += event.has_loudness();
  }
  EXPECT_GT(readings, 50);
}

}  // namespace
}  // namespace audioproc
