// Issue 15 from the command line: a conferencing bridge's 2-channel recording (microphone, the
// far end it played) through `aec,denoise` with audioproc-client against the real server gives
// the microphone alone with the echo removed, and the same bytes as the library.
#include <sys/wait.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/audio_file.h"
#include "clients/chain_parser.h"
#include "clients/stream_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/echo_material.h"
#include "tests/testing/server_process.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using testing::ServerProcess;

constexpr char kChain[] = "aec,denoise";
// The echo removed end to end; issue 15's bars are aec_echo_test's, on more material.
constexpr double kMinErleDb = 15.0;

int Shell(const std::string& arguments) {
  const int status = std::system(arguments.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(EchoCancellationCommandLineTest, TwoChannelFileGivesTheMicrophoneWithTheEchoRemoved) {
  testing::EchoSceneSpec spec;
  spec.far_voice = 4;
  spec.delay_ms = 80;
  spec.echo_level_db = -6;
  absl::StatusOr<testing::EchoScene> scene = testing::MakeEchoScene(spec);
  ASSERT_TRUE(scene.ok()) << scene.status();
  client::PcmAudio input;
  input.format.set_encoding(v1::PCM_F32LE);
  input.format.set_sample_rate_hz(16000);
  input.format.set_channels(2);
  input.data = testing::ToF32Bytes(testing::Interleave({scene->mic, scene->reference}));
  const std::string dir = testing::ProcessTempDir("audioproc-cli-aec");
  ASSERT_EQ(Shell("mkdir -p " + dir), 0);
  ASSERT_TRUE(client::WriteAudioFile(dir + "/in.wav", input).ok());

  absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_EQ(Shell(absl::StrCat(AUDIOPROC_CLIENT_PATH, " --addr=127.0.0.1:", server->grpc_port(),
                               " --input=", dir, "/in.wav --output=", dir,
                               "/out.wav --chunk_ms=20 --chain=", kChain, " > ", dir,
                               "/report.txt 2>&1")),
            0)
      << testing::ReadFile(dir + "/report.txt");
  absl::StatusOr<client::PcmAudio> written = client::ReadAudioFile(dir + "/out.wav");
  ASSERT_TRUE(written.ok()) << written.status();
  // The reference is not program audio: the output is the microphone's one channel.
  EXPECT_EQ(written->format.channels(), 1u);
  EXPECT_EQ(written->format.encoding(), v1::PCM_F32LE);
  ASSERT_EQ(written->frames(), scene->mic.size());
  const std::vector<float> out = testing::FromF32Bytes(written->data);
  EXPECT_GT(testing::Erle(*scene, out, 2 * 16000, out.size()), kMinErleDb);

  client::StreamClientOptions options;
  options.address = absl::StrCat("127.0.0.1:", server->grpc_port());
  absl::StatusOr<std::unique_ptr<client::StreamClient>> library =
      client::StreamClient::Connect(options);
  ASSERT_TRUE(library.ok());
  absl::StatusOr<v1::StreamConfig> config = client::ParseStreamConfig(kChain);
  ASSERT_TRUE(config.ok()) << config.status();
  *config->mutable_input() = input.format;
  const client::StreamResult expected = (*library)->Process(*config, input.data);
  ASSERT_TRUE(expected.status.ok()) << expected.status.error_message();
  EXPECT_TRUE(written->data == expected.output) << "the command line's output differs";
  // The canceller's last word on the delay: the direct path or the room's strongest early
  // reflection, up to 10 ms later.
  std::optional<float> delay_ms;
  for (const v1::Event& event : expected.events) {
    if (event.has_echo_delay()) delay_ms = event.echo_delay().delay_ms();
  }
  ASSERT_TRUE(delay_ms.has_value()) << "no echo_delay event";
  EXPECT_GE(*delay_ms, 80.0 - 0.5);
  EXPECT_LE(*delay_ms, 80.0 + 10.0);
}

}  // namespace
}  // namespace audioproc
