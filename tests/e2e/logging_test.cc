// The server's log (DESIGN §5, §7): every line is one JSON object, gRPC's own lines included;
// each stream has a start and an end line with its id, peer, chain, outcome, duration and
// chunks; the server logs its start, drain and stop; and no token, key or audio byte ever
// appears in it.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <signal.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using google::protobuf::Struct;
using testing::ServerProcess;

constexpr char kToken[] = "tok-9f3a7c21e8";
constexpr char kWrongToken[] = "wrong-5b2e1d44";
// Audio whose bytes are easy to find in a log, raw or base64.
const std::string kAudioMarker = "AUDIO-MARKER-bytes-0123456789";

std::vector<Struct> ParseLines(const std::string& log, std::vector<std::string>* bad) {
  std::vector<Struct> lines;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    Struct parsed;
    if (google::protobuf::util::JsonStringToMessage(std::string(line), &parsed).ok()) {
      lines.push_back(parsed);
    } else {
      bad->emplace_back(line);
    }
  }
  return lines;
}

std::string Field(const Struct& line, const std::string& key) {
  const auto it = line.fields().find(key);
  if (it == line.fields().end()) return "";
  if (it->second.has_string_value()) return it->second.string_value();
  if (it->second.has_number_value()) return absl::StrCat(it->second.number_value());
  return "present";
}

TEST(LoggingTest, EveryLineIsJsonWithStreamRecordsAndNoSecretsOrAudio) {
  const std::string dir = testing::ProcessTempDir("audioproc-logging");
  absl::StatusOr<testing::Certificates> certs = testing::MakeCertificates(dir, "log");
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string tokens = dir + "/tokens";
  std::ofstream(tokens) << "# the only token\n" << kToken << "\n";
  absl::StatusOr<ServerProcess> server =
      ServerProcess::Start(testing::ServerBinaryPath(),
                           {"--auth_tokens_file=" + tokens, "--tls_cert=" + certs->server_cert,
                            "--tls_key=" + certs->server_key, "--log_format=json"});
  ASSERT_TRUE(server.ok()) << server.status();

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = testing::ReadFile(certs->ca_cert);
  auto channel = grpc::CreateChannel(absl::StrCat("localhost:", server->grpc_port()),
                                     grpc::SslCredentials(ssl));
  auto stub = v1::AudioProcessor::NewStub(channel);
  for (const char* token : {"", kWrongToken, kToken}) {
    grpc::ClientContext context;
    if (*token != '\0') context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    grpc::ClientContext* c = &context;
    auto stream = stub->Process(c);
    v1::StreamConfig config = testing::MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{}}])");
    config.set_stream_id("logged-stream");
    stream->Write(testing::ConfigRequest(config));
    stream->Write(testing::ChunkRequest(kAudioMarker + kAudioMarker));
    stream->WritesDone();
    v1::ProcessResponse response;
    while (stream->Read(&response)) {
    }
    const grpc::Status status = stream->Finish();
    EXPECT_EQ(status.ok(), std::string(token) == kToken) << token << ": " << status.error_message();
  }
  // A plaintext client on the TLS port makes gRPC itself log a handshake error.
  testing::Exchange(*v1::AudioProcessor::NewStub(testing::LoopbackChannel(server->grpc_port())),
                    {});
  server->Signal(SIGTERM);
  ASSERT_EQ(server->Wait(absl::Seconds(30)), std::optional<int>(0));
  const std::string log = testing::ReadFile(server->log_path());

  std::vector<std::string> bad;
  const std::vector<Struct> lines = ParseLines(log, &bad);
  EXPECT_THAT(bad, ::testing::IsEmpty()) << "lines that are not JSON";
  std::map<std::string, int> events;
  for (const Struct& line : lines) {
    ++events[Field(line, "event")];
    EXPECT_FALSE(Field(line, "time").empty());
    EXPECT_FALSE(Field(line, "level").empty());
    if (Field(line, "event") == "stream_end" && Field(line, "stream_id") == "logged-stream") {
      for (const char* key : {"peer", "chain", "outcome", "duration_seconds", "chunks"}) {
        EXPECT_FALSE(Field(line, key).empty()) << "stream_end lacks " << key;
      }
      EXPECT_EQ(Field(line, "outcome"), "OK");
      EXPECT_EQ(Field(line, "chain"), "gain");
      EXPECT_EQ(Field(line, "chunks"), "1");
    }
  }
  for (const char* event : {"server_start", "stream_start", "stream_end", "drain_start",
                            "drain_end", "server_stop", "grpc"}) {
    EXPECT_GT(events[event], 0) << "no " << event << " line in:\n" << log;
  }
  // Two refused streams and one served: three ends (the plaintext attempt fails its TLS
  // handshake and never becomes a call).
  EXPECT_EQ(events["stream_end"], 3) << log;
  for (const std::string& secret : {std::string(kToken), std::string(kWrongToken), kAudioMarker,
                                    absl::Base64Escape(kAudioMarker + kAudioMarker)}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log contains '" << secret << "'";
  }
}

}  // namespace
}  // namespace audioproc
