// Resumable streams against the real binary (issue 14): servers that share --resume_key_file
// send checkpoints; a drained server sends every resumable stream one and ends it UNAVAILABLE;
// another server resumes the stream from the token, and the output of the first server up to
// the checkpoint followed by the second's after it is byte-identical to the same stream
// through one undisturbed server. Tokens that were altered, expired, signed with another key,
// or belong to another principal are refused with a precise status, and the server goes on.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/recorded_stream.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using testing::ServerProcess;

constexpr size_t kChunkBytes = 640;  // 20 ms of 16 kHz mono s16
constexpr char kVoiceChain[] = R"([{"highpass":{"cutoffHz":80}},{"denoise":{}},{"compressor":{}},)"
                               R"({"loudness":{"targetLufs":-16}},{"limiter":{"ceilingDb":-1}}])";

std::string WriteKey(const std::string& name, const std::string& key) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream(path) << key << "\n";
  return path;
}

// 6 s of a voice-like signal: every processor of the voice chain has state to carry.
std::string VoiceAudio() { return testing::VoiceLikeS16(6 * 16000, 3); }

v1::StreamConfig VoiceConfig(uint32_t checkpoint_interval_ms) {
  v1::StreamConfig config = testing::MakeConfig(v1::PCM_S16LE, 16000, 1, kVoiceChain);
  config.set_stream_id("resume-voice");
  config.set_checkpoint_interval_ms(checkpoint_interval_ms);
  // A client that says how large its chunks are: the inbox is then sized for 640-byte chunks,
  // and a resume's token (tens of KB) must not count against it.
  config.set_max_chunk_bytes(kChunkBytes);
  return config;
}

// One call: `first` (a config or a resume), then chunks[from..] numbered from `from + 1`,
// `interval` apart, then a half-close; reads until the call ends. `on_answer(sequence)` runs
// after each chunk's answer.
struct Leg {
  v1::StreamReady ready;
  std::string output;  // every chunk's data, the tail included
  // The last checkpoint, and how much output had arrived when it did.
  std::optional<v1::Checkpoint> checkpoint;
  size_t output_at_checkpoint = 0;
  int checkpoints = 0;
  bool summary = false;
  grpc::Status status;
};

Leg RunLeg(v1::AudioProcessor::Stub& stub, const v1::ProcessRequest& first,
           const std::vector<std::string>& chunks, size_t from, absl::Duration interval,
           const std::function<void(uint64_t)>& on_answer = nullptr,
           const std::string& bearer = "") {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  if (!bearer.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", bearer));
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProcessRequest, v1::ProcessResponse>> call =
      stub.Process(&context);
  Leg leg;
  std::thread writer([&] {
    if (!call->Write(first)) return;
    for (size_t i = from; i < chunks.size(); ++i) {
      if (!call->Write(testing::ChunkRequest(chunks[i], i + 1))) return;
      absl::SleepFor(interval);
    }
    call->WritesDone();
  });
  v1::ProcessResponse response;
  while (call->Read(&response)) {
    if (response.has_ready()) {
      leg.ready = response.ready();
    } else if (response.has_chunk()) {
      leg.output += response.chunk().data();
      if (!response.chunk().tail() && on_answer) on_answer(response.chunk().metrics().sequence());
    } else if (response.has_checkpoint()) {
      leg.checkpoint = response.checkpoint();
      leg.output_at_checkpoint = leg.output.size();
      ++leg.checkpoints;
    } else if (response.has_summary()) {
      leg.summary = true;
    }
  }
  writer.join();
  leg.status = call->Finish();
  return leg;
}

v1::ProcessRequest ResumeRequest(const std::string& token) {
  v1::ProcessRequest request;
  request.mutable_resume()->set_token(token);
  return request;
}

class ResumeTest : public ::testing::Test {
 protected:
  static absl::StatusOr<ServerProcess> Server(const std::string& key_file,
                                              std::vector<std::string> flags = {}) {
    if (!key_file.empty()) flags.push_back(absl::StrCat("--resume_key_file=", key_file));
    return ServerProcess::Start(testing::ServerBinaryPath(), flags);
  }

  const std::string audio_ = VoiceAudio();
  const std::vector<std::string> chunks_ = testing::SplitBytes(audio_, kChunkBytes);
};

// The voice stream, and the same stream delivered at 48 kHz stereo (the pipeline appends a
// mix and a resample, whose state travels in the token too).
class DrainResumeTest : public ResumeTest, public ::testing::WithParamInterface<bool> {};

TEST_P(DrainResumeTest, ADrainedStreamResumesOnAnotherServerWithByteIdenticalOutput) {
  const bool converted = GetParam();
  v1::StreamConfig config = VoiceConfig(500);
  if (converted) {
    config.mutable_output()->set_encoding(v1::PCM_S16LE);
    config.mutable_output()->set_sample_rate_hz(48000);
    config.mutable_output()->set_channels(2);
  }
  const std::string key = WriteKey("shared.key", std::string(64, 'k'));
  absl::StatusOr<ServerProcess> first = Server(key, {"--drain_seconds=20"});
  absl::StatusOr<ServerProcess> second = Server(key);
  absl::StatusOr<ServerProcess> undisturbed = Server(key);
  ASSERT_TRUE(first.ok() && second.ok() && undisturbed.ok());

  // The reference: the whole stream through one server that nobody disturbs.
  auto reference_stub =
      v1::AudioProcessor::NewStub(testing::LoopbackChannel(undisturbed->grpc_port()));
  const Leg reference =
      RunLeg(*reference_stub, testing::ConfigRequest(config), chunks_, 0, absl::ZeroDuration());
  ASSERT_TRUE(reference.status.ok()) << reference.status.error_message();
  ASSERT_TRUE(reference.ready.resumable());
  EXPECT_EQ(reference.checkpoints, static_cast<int>(audio_.size() / 2 / 8000));  // every 0.5 s

  // The same stream, paced, on `first`, which drains once a third of it is answered.
  auto first_stub = v1::AudioProcessor::NewStub(testing::LoopbackChannel(first->grpc_port()));
  std::atomic<bool> signalled{false};
  const absl::Time start = absl::Now();
  const Leg before = RunLeg(*first_stub, testing::ConfigRequest(config), chunks_, 0,
                            absl::Milliseconds(5), [&](uint64_t sequence) {
                              if (sequence == chunks_.size() / 3 && !signalled.exchange(true)) {
                                first->Signal(SIGTERM);
                              }
                            });
  ASSERT_TRUE(signalled.load());
  EXPECT_EQ(before.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << before.status.error_message();
  ASSERT_TRUE(before.checkpoint.has_value());
  // The drain's checkpoint came at once, not after --drain_seconds.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  const uint64_t sequence = before.checkpoint->sequence();
  EXPECT_GE(sequence, chunks_.size() / 3);
  EXPECT_LT(sequence, chunks_.size());
  EXPECT_EQ(before.output_at_checkpoint, before.output.size())
      << "the drain's checkpoint is the stream's last message";

  // The rest on `second`, from the chunk after the checkpoint.
  auto second_stub = v1::AudioProcessor::NewStub(testing::LoopbackChannel(second->grpc_port()));
  const Leg after = RunLeg(*second_stub, ResumeRequest(before.checkpoint->token()), chunks_,
                           sequence, absl::ZeroDuration());
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.ready.resumed_after_sequence(), sequence);
  EXPECT_EQ(after.ready.stream_id(), "resume-voice");
  EXPECT_TRUE(after.ready.resumable());
  EXPECT_TRUE(after.summary);

  const std::string joined = before.output.substr(0, before.output_at_checkpoint) + after.output;
  ASSERT_EQ(joined.size(), reference.output.size());
  EXPECT_TRUE(joined == reference.output) << "the resumed output differs from the undisturbed";
  EXPECT_GE(testing::MetricValue(testing::ScrapeMetrics(second->metrics_port()),
                                 "audioproc_resumes_total{code=\"OK\"}")
                .value_or(0),
            1);
}

INSTANTIATE_TEST_SUITE_P(Formats, DrainResumeTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ConvertedTo48kStereo" : "AsSent";
                         });

TEST_F(ResumeTest, BadTokensAreRefusedPreciselyAndTheServerGoesOn) {
  const std::string key = WriteKey("precise.key", std::string(40, 'p'));
  const std::string other_key = WriteKey("other.key", std::string(40, 'o'));
  const std::string tokens = WriteKey("bearers.txt", "alice-token\nbob-token");
  absl::StatusOr<ServerProcess> server =
      Server(key, {absl::StrCat("--auth_tokens_file=", tokens), "--resume_token_ttl_seconds=2"});
  absl::StatusOr<ServerProcess> stranger =
      Server(other_key, {absl::StrCat("--auth_tokens_file=", tokens)});
  absl::StatusOr<ServerProcess> keyless = Server("", {absl::StrCat("--auth_tokens_file=", tokens)});
  ASSERT_TRUE(server.ok() && stranger.ok() && keyless.ok());
  auto stub = v1::AudioProcessor::NewStub(testing::LoopbackChannel(server->grpc_port()));
  const std::vector<std::string> few(chunks_.begin(), chunks_.begin() + 30);

  const Leg alice = RunLeg(*stub, testing::ConfigRequest(VoiceConfig(100)), few, 0,
                           absl::ZeroDuration(), nullptr, "alice-token");
  ASSERT_TRUE(alice.status.ok()) << alice.status.error_message();
  ASSERT_TRUE(alice.checkpoint.has_value());
  const std::string token = alice.checkpoint->token();
  EXPECT_LE(token.size(), size_t{1} << 20);
  const std::vector<std::string> none;
  auto refused = [&](v1::AudioProcessor::Stub& on, const std::string& candidate,
                     const std::string& bearer) {
    return RunLeg(on, ResumeRequest(candidate), none, 0, absl::ZeroDuration(), nullptr, bearer)
        .status.error_code();
  };

  // Bob may not go on with Alice's stream.
  EXPECT_EQ(refused(*stub, token, "bob-token"), grpc::StatusCode::PERMISSION_DENIED);
  // Any byte altered: the signature fails.
  for (size_t at : {size_t{0}, token.size() / 2, token.size() - 1}) {
    std::string altered = token;
    altered[at] = static_cast<char>(altered[at] ^ 0x20);
    EXPECT_EQ(refused(*stub, altered, "alice-token"), grpc::StatusCode::UNAUTHENTICATED) << at;
  }
  EXPECT_EQ(refused(*stub, token.substr(0, 20), "alice-token"), grpc::StatusCode::INVALID_ARGUMENT);
  // Another deployment's key, and a server with none.
  auto stranger_stub = v1::AudioProcessor::NewStub(testing::LoopbackChannel(stranger->grpc_port()));
  EXPECT_EQ(refused(*stranger_stub, token, "alice-token"), grpc::StatusCode::UNAUTHENTICATED);
  auto keyless_stub = v1::AudioProcessor::NewStub(testing::LoopbackChannel(keyless->grpc_port()));
  EXPECT_EQ(refused(*keyless_stub, token, "alice-token"), grpc::StatusCode::FAILED_PRECONDITION);
  // A resume is a first message only.
  {
    std::vector<std::string> one(chunks_.begin(), chunks_.begin() + 1);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer alice-token");
    auto call = stub->Process(&context);
    call->Write(testing::ConfigRequest(VoiceConfig(0)));
    call->Write(ResumeRequest(token));
    call->WritesDone();
    v1::ProcessResponse response;
    while (call->Read(&response)) {
    }
    EXPECT_EQ(call->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Alice's own token resumes, until it expires.
  const Leg resumed =
      RunLeg(*stub, ResumeRequest(token), none, 0, absl::ZeroDuration(), nullptr, "alice-token");
  EXPECT_TRUE(resumed.status.ok()) << resumed.status.error_message();
  absl::SleepFor(absl::Seconds(2.2));
  EXPECT_EQ(refused(*stub, token, "alice-token"), grpc::StatusCode::FAILED_PRECONDITION);

  // The server is unaffected: a fresh stream is served, and every refusal was counted.
  const Leg after = RunLeg(*stub, testing::ConfigRequest(VoiceConfig(0)), few, 0,
                           absl::ZeroDuration(), nullptr, "bob-token");
  EXPECT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_FALSE(after.ready.resumable()) << "no checkpoints asked for";
  const std::string metrics = testing::ScrapeMetrics(server->metrics_port());
  EXPECT_EQ(testing::MetricValue(metrics, "audioproc_resumes_total{code=\"PERMISSION_DENIED\"}"),
            1);
  EXPECT_EQ(testing::MetricValue(metrics, "audioproc_resumes_total{code=\"UNAUTHENTICATED\"}"), 3);
  EXPECT_GE(testing::MetricValue(metrics, "audioproc_checkpoints_total").value_or(0), 5);
}

TEST_F(ResumeTest, AChainWhoseStateDoesNotFitTheTokenIsNotResumable) {
  const std::string key = WriteKey("small.key", std::string(32, 'r'));
  // The voice chain's state is tens of KB; a server that allows 1 KiB tokens cannot carry it.
  absl::StatusOr<ServerProcess> server = Server(key, {"--max_resume_token_bytes=1024"});
  ASSERT_TRUE(server.ok());
  auto stub = v1::AudioProcessor::NewStub(testing::LoopbackChannel(server->grpc_port()));
  const std::vector<std::string> few(chunks_.begin(), chunks_.begin() + 20);
  const Leg leg =
      RunLeg(*stub, testing::ConfigRequest(VoiceConfig(100)), few, 0, absl::ZeroDuration());
  EXPECT_TRUE(leg.status.ok()) << leg.status.error_message();
  EXPECT_FALSE(leg.ready.resumable());
  EXPECT_EQ(leg.checkpoints, 0);
}

}  // namespace
}  // namespace audioproc
