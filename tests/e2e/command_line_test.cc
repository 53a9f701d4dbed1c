// The audioproc-client command line against the real server binary, as a shell user runs it:
// headerless PCM through a pipe (`--input=- --output=-`, a live source's path) and mutual TLS
// with a client certificate.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/audio_file.h"
#include "clients/chain_parser.h"
#include "clients/stream_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using ::testing::HasSubstr;
using testing::ServerProcess;

constexpr char kSpeechFile[] = AUDIOPROC_SOURCE_DIR "/clients/demo/speech_16k.wav";
constexpr char kChain[] = "highpass:cutoff_hz=80,compressor,limiter:ceiling_db=-1";

// Runs `arguments` through the shell; returns the exit code (-1 if it did not exit).
int Shell(const std::string& arguments) {
  const int status = std::system(arguments.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(CommandLineTest, StandardInputToStandardOutputGivesTheLibrarysOutput) {
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<client::PcmAudio> speech = client::ReadAudioFile(kSpeechFile);
  ASSERT_TRUE(speech.ok()) << speech.status();
  ASSERT_EQ(speech->format.encoding(), v1::PCM_S16LE);
  const std::string dir = testing::ProcessTempDir("audioproc-cli-pipe");
  ASSERT_EQ(Shell("mkdir -p " + dir), 0);
  WriteBytes(dir + "/in.raw", speech->data);

  // The audio leaves on standard output; the report on standard error.
  ASSERT_EQ(
      Shell(absl::StrCat("cat ", dir, "/in.raw | ", AUDIOPROC_CLIENT_PATH,
                         " --addr=127.0.0.1:", server->grpc_port(),
                         " --input=- --format=s16le:16000:1 --output=- --chunk_ms=20 --chain='",
                         kChain, "' > ", dir, "/out.raw 2> ", dir, "/report.txt")),
      0)
      << testing::ReadFile(dir + "/report.txt");
  EXPECT_THAT(
      testing::ReadFile(dir + "/report.txt"),
      HasSubstr(absl::StrCat("frames in/out: ", speech->frames(), " / ", speech->frames())));

  client::StreamClientOptions options;
  options.address = absl::StrCat("127.0.0.1:", server->grpc_port());
  absl::StatusOr<std::unique_ptr<client::StreamClient>> library =
      client::StreamClient::Connect(options);
  ASSERT_TRUE(library.ok());
  absl::StatusOr<v1::StreamConfig> config = client::ParseStreamConfig(kChain);
  ASSERT_TRUE(config.ok()) << config.status();
  *config->mutable_input() = speech->format;
  const client::StreamResult expected = (*library)->Process(*config, speech->data);
  ASSERT_TRUE(expected.status.ok()) << expected.status.error_message();
  const std::string piped = testing::ReadFile(dir + "/out.raw");
  EXPECT_EQ(piped.size(), expected.output.size());
  EXPECT_TRUE(piped == expected.output) << "the pipe's output differs from the library's";
}

TEST(CommandLineTest, StandardInputNeedsItsFormat) {
  const std::string dir = testing::ProcessTempDir("audioproc-cli-format");
  ASSERT_EQ(Shell("mkdir -p " + dir), 0);
  EXPECT_EQ(Shell(absl::StrCat("echo | ", AUDIOPROC_CLIENT_PATH,
                               " --addr=127.0.0.1:1 --input=- 2> ", dir, "/err.txt")),
            1);
  EXPECT_THAT(testing::ReadFile(dir + "/err.txt"), HasSubstr("--input=- needs --format"));
  EXPECT_EQ(Shell(absl::StrCat("echo | ", AUDIOPROC_CLIENT_PATH,
                               " --addr=127.0.0.1:1 --input=- --format=s16le:16k:1 2> ", dir,
                               "/err.txt")),
            1);
  EXPECT_THAT(testing::ReadFile(dir + "/err.txt"), HasSubstr("ENCODING:RATE:CHANNELS"));
}

TEST(CommandLineTest, ClientCertificateOpensAMutualTlsServer) {
  const std::string dir = testing::ProcessTempDir("audioproc-cli-mtls");
  absl::StatusOr<testing::Certificates> certs = testing::MakeCertificates(dir, "cli");
  ASSERT_TRUE(certs.ok()) << certs.status();
  absl::StatusOr<ServerProcess> server =
      ServerProcess::Start(testing::ServerBinaryPath(),
                           {"--tls_cert=" + certs->server_cert, "--tls_key=" + certs->server_key,
                            "--tls_client_ca=" + certs->ca_cert});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base =
      absl::StrCat(AUDIOPROC_CLIENT_PATH, " --addr=localhost:", server->grpc_port(),
                   " --tls_ca=", certs->ca_cert, " --input=", kSpeechFile, " --chain=gain");
  EXPECT_EQ(Shell(absl::StrCat(base, " --tls_cert=", certs->client_cert,
                               " --tls_key=", certs->client_key, " > ", dir, "/ok.txt 2>&1")),
            0)
      << testing::ReadFile(dir + "/ok.txt");
  EXPECT_EQ(Shell(absl::StrCat(base, " > ", dir, "/refused.txt 2>&1")), 1)
      << "no client certificate: the handshake must fail";
  EXPECT_THAT(testing::ReadFile(dir + "/refused.txt"), HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(
      Shell(absl::StrCat(base, " --tls_cert=", certs->client_cert, " > ", dir, "/half.txt 2>&1")),
      1);
  EXPECT_THAT(testing::ReadFile(dir + "/half.txt"), HasSubstr("needs its key"));
}

TEST(CommandLineTest, GeneratedSignalStreamsAndPassesTheCheckUnderPlaintextTlsAndMutualTls) {
  const std::string dir = testing::ProcessTempDir("audioproc-cli-generate");
  absl::StatusOr<testing::Certificates> certs = testing::MakeCertificates(dir, "gen");
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string stream = absl::StrCat(
      " --generate_seconds=1 --check --chain='highpass:cutoff_hz=80,limiter:ceiling_db=-1'");

  absl::StatusOr<ServerProcess> plain = ServerProcess::Start(testing::ServerBinaryPath());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(Shell(absl::StrCat(AUDIOPROC_CLIENT_PATH, " --addr=127.0.0.1:", plain->grpc_port(),
                               stream, " --output_rate=48000 > ", dir, "/plain.txt 2>&1")),
            0)
      << testing::ReadFile(dir + "/plain.txt");
  EXPECT_THAT(testing::ReadFile(dir + "/plain.txt"), HasSubstr("frames in/out: 16000 / 48000"));
  EXPECT_EQ(Shell(absl::StrCat(AUDIOPROC_CLIENT_PATH, " --addr=127.0.0.1:", plain->grpc_port(),
                               stream, " --input=", kSpeechFile, " > ", dir, "/both.txt 2>&1")),
            1);
  EXPECT_THAT(testing::ReadFile(dir + "/both.txt"), HasSubstr("one of --input and"));
  // Standard input's length is not known up front: nothing to check the summary against.
  EXPECT_EQ(
      Shell(absl::StrCat("echo | ", AUDIOPROC_CLIENT_PATH, " --addr=127.0.0.1:", plain->grpc_port(),
                         " --input=- --format=s16le:16000:1 --check 2> ", dir, "/stdin.txt")),
      1);
  EXPECT_THAT(testing::ReadFile(dir + "/stdin.txt"), HasSubstr("--check needs a file --input"));

  absl::StatusOr<ServerProcess> mutual =
      ServerProcess::Start(testing::ServerBinaryPath(),
                           {"--tls_cert=" + certs->server_cert, "--tls_key=" + certs->server_key,
                            "--tls_client_ca=" + certs->ca_cert});
  ASSERT_TRUE(mutual.ok()) << mutual.status();
  // The certificate names localhost: a server name override makes another address pass, and
  // a name the certificate lacks fail.
  const std::string base =
      absl::StrCat(AUDIOPROC_CLIENT_PATH, stream, " --tls_ca=", certs->ca_cert,
                   " --tls_cert=", certs->client_cert, " --tls_key=", certs->client_key);
  const std::string addr = absl::StrCat(" --addr=127.0.0.1:", mutual->grpc_port());
  EXPECT_EQ(
      Shell(absl::StrCat(base, addr, " --tls_server_name=localhost > ", dir, "/mutual.txt 2>&1")),
      0)
      << testing::ReadFile(dir + "/mutual.txt");
  EXPECT_THAT(testing::ReadFile(dir + "/mutual.txt"), HasSubstr("frames in/out: 16000 / 16000"));
  EXPECT_EQ(Shell(absl::StrCat(base, addr, " --tls_server_name=other.example > ", dir,
                               "/wrong_name.txt 2>&1")),
            1);
  EXPECT_THAT(testing::ReadFile(dir + "/wrong_name.txt"), HasSubstr("UNAVAILABLE"));

  absl::StatusOr<ServerProcess> tls =
      ServerProcess::Start(testing::ServerBinaryPath(),
                           {"--tls_cert=" + certs->server_cert, "--tls_key=" + certs->server_key});
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(Shell(absl::StrCat(AUDIOPROC_CLIENT_PATH, " --addr=localhost:", tls->grpc_port(),
                               stream, " --tls_ca=", certs->ca_cert, " > ", dir, "/tls.txt 2>&1")),
            0)
      << testing::ReadFile(dir + "/tls.txt");
}

TEST(CommandLineTest, HelpListsEachBinarysFlagsWithTheirDefaults) {
  const std::string dir = testing::ProcessTempDir("audioproc-cli-help");
  ASSERT_EQ(Shell("mkdir -p " + dir), 0);
  // Abseil's --help exits 1 after printing.
  Shell(absl::StrCat(testing::ServerBinaryPath(), " --help > ", dir, "/server.txt 2>&1"));
  const std::string server = testing::ReadFile(dir + "/server.txt");
  EXPECT_THAT(server, HasSubstr("AUDIOPROC_<FLAG>"));
  EXPECT_THAT(server, HasSubstr("--port (gRPC port"));
  EXPECT_THAT(server, HasSubstr("default: 50051"));
  EXPECT_THAT(server, HasSubstr("--max_streams"));
  EXPECT_THAT(server, HasSubstr("--drain_seconds"));
  EXPECT_THAT(server, ::testing::Not(HasSubstr("No flags matched")));
  Shell(absl::StrCat(AUDIOPROC_CLIENT_PATH, " --help > ", dir, "/client.txt 2>&1"));
  const std::string client = testing::ReadFile(dir + "/client.txt");
  EXPECT_THAT(client, HasSubstr("--chunk_ms"));
  EXPECT_THAT(client, HasSubstr("default: 20"));
  EXPECT_THAT(client, HasSubstr("--tls_cert"));
  EXPECT_THAT(client, HasSubstr("--format"));
}

TEST(CommandLineTest, VersionPrintsTheVersionAndTheCommit) {
  const std::string dir = testing::ProcessTempDir("audioproc-cli-version");
  ASSERT_EQ(Shell("mkdir -p " + dir), 0);
  for (const std::string& binary :
       {testing::ServerBinaryPath(), std::string(AUDIOPROC_CLIENT_PATH)}) {
    ASSERT_EQ(Shell(absl::StrCat(binary, " --version > ", dir, "/version.txt 2>&1")), 0) << binary;
    EXPECT_THAT(testing::ReadFile(dir + "/version.txt"),
                ::testing::MatchesRegex("audioproc-(server|client) [0-9]+\\.[0-9]+\\.[0-9]+ "
                                        "\\(commit ([0-9a-f]+(-dirty)?|unknown)\\)\n"))
        << binary;
  }
}

}  // namespace
}  // namespace audioproc
