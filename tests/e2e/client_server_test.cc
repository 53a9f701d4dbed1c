// End to end: the real audioproc-server binary on a loopback port, driven by the C++ client
// library and the audioproc-client command line, as a user would run them.
#include <google/protobuf/util/json_util.h>
#include <signal.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "clients/audio_file.h"
#include "clients/stream_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using client::PcmAudio;
using client::StreamClient;
using client::StreamClientOptions;
using client::StreamResult;
using testing::ServerProcess;

constexpr char kSpeechFile[] = AUDIOPROC_SOURCE_DIR "/clients/demo/speech_16k.wav";

class ClientServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = new ServerProcess(*std::move(server));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static std::unique_ptr<StreamClient> Client(uint32_t chunk_frames, uint32_t chunk_ms = 20) {
    StreamClientOptions options;
    options.address = absl::StrCat("127.0.0.1:", server_->grpc_port());
    options.chunk_frames = chunk_frames;
    options.chunk_ms = chunk_ms;
    options.timeout = absl::Seconds(120);
    absl::StatusOr<std::unique_ptr<StreamClient>> client = StreamClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  static v1::StreamConfig Config(const PcmAudio& audio, const char* chain_json) {
    v1::StreamConfig config;
    *config.mutable_input() = audio.format;
    std::vector<v1::ProcessorSpec> chain;
    v1::StreamConfig parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                    absl::StrCat("{\"chain\":", chain_json, "}"), &parsed)
                    .ok());
    *config.mutable_chain() = parsed.chain();
    return config;
  }

  static ServerProcess* server_;
};

ServerProcess* ClientServerTest::server_ = nullptr;

constexpr char kVoiceChain[] =
    R"([{"highpass":{"cutoffHz":80}},{"gain":{"gainDb":12}},{"limiter":{"ceilingDb":-1}}])";

TEST_F(ClientServerTest, SpeechThroughHighpassGainLimiterKeepsLengthAlignmentAndCeiling) {
  absl::StatusOr<PcmAudio> speech = client::ReadAudioFile(kSpeechFile);
  ASSERT_TRUE(speech.ok()) << speech.status();
  ASSERT_EQ(speech->format.sample_rate_hz(), 16000u);
  ASSERT_EQ(speech->format.encoding(), v1::PCM_S16LE);
  const StreamResult result = Client(0, 20)->Process(Config(*speech, kVoiceChain), speech->data);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.protocol_error, "");
  ASSERT_EQ(result.output.size(), speech->data.size()) << "same length";

  const std::vector<int16_t> in = testing::FromS16Bytes(speech->data);
  const std::vector<int16_t> out = testing::FromS16Bytes(result.output);
  const int ceiling = static_cast<int>(std::lround(std::pow(10.0, -1.0 / 20) * 32768));
  int peak = 0;
  for (int16_t x : out) peak = std::max(peak, std::abs(int{x}));
  EXPECT_LE(peak, ceiling) << "no sample above -1 dBFS";
  EXPECT_GT(peak, ceiling - 400) << "the +12 dB gain drives the limiter";

  // Aligned: the output correlates best with the input at lag 0.
  auto correlation = [&](int lag) {
    double sum = 0;
    for (size_t i = 200; i + 200 < in.size(); ++i) sum += static_cast<double>(in[i]) * out[i + lag];
    return sum;
  };
  const double at_zero = correlation(0);
  for (int lag : {-80, -40, -8, -2, -1, 1, 2, 8, 40, 80}) {
    EXPECT_GT(at_zero, correlation(lag)) << "lag " << lag;
  }
}

TEST_F(ClientServerTest, AnyChunkingGivesByteIdenticalOutput) {
  absl::StatusOr<PcmAudio> speech = client::ReadAudioFile(kSpeechFile);
  ASSERT_TRUE(speech.ok());
  // Two seconds keep the one-frame run short.
  speech->data.resize(std::min<size_t>(speech->data.size(), 64000));
  const v1::StreamConfig config = Config(*speech, kVoiceChain);
  const StreamResult whole =
      Client(static_cast<uint32_t>(speech->frames()))->Process(config, speech->data);
  ASSERT_TRUE(whole.status.ok()) << whole.status.error_message();
  EXPECT_EQ(whole.chunks_sent, 1u);
  for (uint32_t frames : {1u, 7u, 320u}) {
    const StreamResult result = Client(frames)->Process(config, speech->data);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.chunks_sent, (speech->frames() + frames - 1) / frames);
    EXPECT_TRUE(result.output == whole.output) << "chunks of " << frames << " frames differ";
  }
}

TEST_F(ClientServerTest, LimiterThatNeverActsReturnsItsInputSampleForSample) {
  absl::StatusOr<PcmAudio> speech = client::ReadAudioFile(kSpeechFile);
  ASSERT_TRUE(speech.ok());
  // s16 never exceeds 32767/32768 < 0 dBFS, so a 0 dBFS ceiling is never reached.
  const StreamResult result = Client(0, 20)->Process(
      Config(*speech, R"([{"limiter":{"ceilingDb":0,"lookaheadMs":10}}])"), speech->data);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_TRUE(result.ready.has_value());
  EXPECT_EQ(result.ready->latency_frames(), 160u);
  EXPECT_TRUE(result.output == speech->data);
}

TEST_F(ClientServerTest, CommandLineClientProcessesAFile) {
  const std::string output = absl::StrCat(::testing::TempDir(), "/client-out.wav");
  const std::string command = absl::StrCat(
      AUDIOPROC_CLIENT_PATH, " --addr=127.0.0.1:", server_->grpc_port(), " --input=", kSpeechFile,
      " --output=", output, " --chunk_ms=20 --chain='highpass:cutoff_hz=80,gain:gain_db=12,",
      "limiter:ceiling_db=-1' > ", ::testing::TempDir(), "/client.log 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0)
      << testing::ReadFile(::testing::TempDir() + "/client.log");
  absl::StatusOr<PcmAudio> in = client::ReadAudioFile(kSpeechFile);
  absl::StatusOr<PcmAudio> out = client::ReadAudioFile(output);
  ASSERT_TRUE(in.ok() && out.ok());
  EXPECT_EQ(out->frames(), in->frames());
  EXPECT_EQ(out->format.sample_rate_hz(), 16000u);
}

TEST(ServerProcessTest, SigtermStopsTheServerCleanlyWithExitCodeZero) {
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
  ASSERT_TRUE(server.ok()) << server.status();
  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(absl::Seconds(20)), std::optional<int>(0))
      << testing::ReadFile(server->log_path());
}

TEST(ServerProcessTest, SigintStopsTheServerCleanlyWithExitCodeZero) {
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
  ASSERT_TRUE(server.ok()) << server.status();
  server->Signal(SIGINT);
  EXPECT_EQ(server->Wait(absl::Seconds(20)), std::optional<int>(0));
}

TEST(ServerProcessTest, AnOccupiedPortIsAReportedStartupError) {
  absl::StatusOr<ServerProcess> first = ServerProcess::Start(testing::ServerBinaryPath());
  ASSERT_TRUE(first.ok());
  absl::StatusOr<ServerProcess> second = ServerProcess::Start(
      testing::ServerBinaryPath(), {absl::StrCat("--port=", first->grpc_port())});
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace audioproc
