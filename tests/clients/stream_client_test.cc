// StreamClient against a scripted in-process AudioProcessor (the real server is tested in
// tests/service and tests/e2e): the order and content of what it sends, what it collects,
// options, pacing, and how it reports server errors and protocol violations.
#include "clients/stream_client.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc::client {
namespace {

using ::audioproc::testing::IsOk;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Echoes each chunk back as its own response; scripted to fail or misbehave.
class FakeProcessor final : public v1::AudioProcessor::Service {
 public:
  // Ends the call with RESOURCE_EXHAUSTED after answering this many chunks.
  uint64_t fail_after_chunks = UINT64_MAX;
  // Answers every chunk with this sequence number instead of the one it came with.
  uint64_t wrong_sequence = 0;

  grpc::Status Process(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ProcessResponse, v1::ProcessRequest>* stream) override {
    v1::ProcessRequest request;
    if (!stream->Read(&request) || !request.has_config()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "first message is not a config");
    }
    const v1::StreamConfig config = request.config();
    {
      absl::MutexLock lock(&mu_);
      config_ = config;
      auto token = context->client_metadata().find("authorization");
      if (token != context->client_metadata().end()) {
        authorization_ = std::string(token->second.data(), token->second.size());
      }
    }
    if (config.chain_size() > 0 && config.chain(0).gain().gain_db() > 60) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "gain.gain_db must be <= 60");
    }
    v1::ProcessResponse response;
    *response.mutable_ready()->mutable_chain() = config.chain();
    *response.mutable_ready()->mutable_output() = config.input();
    response.mutable_ready()->set_stream_id(config.stream_id().empty() ? "assigned"
                                                                       : config.stream_id());
    stream->Write(response);
    uint64_t answered = 0, bytes_in = 0;
    while (stream->Read(&request)) {
      if (answered == fail_after_chunks) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "chunk too large");
      }
      {
        absl::MutexLock lock(&mu_);
        chunk_bytes_.push_back(request.chunk().data().size());
        sequences_.push_back(request.chunk().sequence());
        received_at_.push_back(Clock::now());
      }
      bytes_in += request.chunk().data().size();
      response.Clear();
      response.mutable_chunk()->set_data(request.chunk().data());
      response.mutable_chunk()->mutable_metrics()->set_sequence(
          wrong_sequence != 0 ? wrong_sequence : request.chunk().sequence());
      stream->Write(response);
      ++answered;
    }
    response.Clear();
    response.mutable_chunk()->set_tail(true);
    stream->Write(response);
    response.Clear();
    response.mutable_summary()->set_chunks(answered);
    response.mutable_summary()->set_frames_in(bytes_in / 2);
    stream->Write(response);
    return grpc::Status::OK;
  }

  grpc::Status ListProcessors(grpc::ServerContext*, const v1::ListProcessorsRequest*,
                              v1::ListProcessorsResponse* response) override {
    response->add_processors()->set_name("gain");
    return grpc::Status::OK;
  }

  v1::StreamConfig config() const {
    absl::MutexLock lock(&mu_);
    return config_;
  }
  std::string authorization() const {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  std::vector<size_t> chunk_bytes() const {
    absl::MutexLock lock(&mu_);
    return chunk_bytes_;
  }
  std::vector<uint64_t> sequences() const {
    absl::MutexLock lock(&mu_);
    return sequences_;
  }
  std::vector<Clock::time_point> received_at() const {
    absl::MutexLock lock(&mu_);
    return received_at_;
  }

 private:
  mutable absl::Mutex mu_;
  v1::StreamConfig config_ ABSL_GUARDED_BY(mu_);
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> chunk_bytes_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> sequences_ ABSL_GUARDED_BY(mu_);
  std::vector<Clock::time_point> received_at_ ABSL_GUARDED_BY(mu_);
};

class StreamClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    options_.address = "127.0.0.1:" + std::to_string(port);
    options_.timeout = absl::Seconds(30);  // A hang fails the test instead of blocking it.
  }

  void TearDown() override { server_->Shutdown(std::chrono::system_clock::now()); }

  StreamResult Run(const std::string& audio, v1::StreamConfig config = S16Mono16k()) {
    absl::StatusOr<std::unique_ptr<StreamClient>> client = StreamClient::Connect(options_);
    EXPECT_THAT(client, IsOk());
    if (!client.ok()) return {};
    return (*client)->Process(std::move(config), audio);
  }

  static v1::StreamConfig S16Mono16k() {
    v1::StreamConfig config;
    config.mutable_input()->set_encoding(v1::PCM_S16LE);
    config.mutable_input()->set_sample_rate_hz(16000);
    config.mutable_input()->set_channels(1);
    return config;
  }

  FakeProcessor service_;
  std::unique_ptr<grpc::Server> server_;
  StreamClientOptions options_;
};

std::string Audio(size_t frames) {
  std::string audio;
  for (size_t i = 0; i < frames * 2; ++i) audio.push_back(static_cast<char>(i * 7));
  return audio;
}

TEST_F(StreamClientTest, SendsNumberedChunksAndCollectsEveryResponse) {
  options_.chunk_frames = 7;
  const std::string audio = Audio(1000);
  StreamResult result = Run(audio);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.protocol_error, "");
  ASSERT_TRUE(result.ready.has_value());
  EXPECT_EQ(result.ready->stream_id(), "assigned");
  EXPECT_TRUE(result.output == audio);
  EXPECT_EQ(result.chunks_sent, 143u);    // ceil(1000 / 7)
  EXPECT_EQ(result.chunks.size(), 144u);  // and the tail
  EXPECT_EQ(result.chunk_latency.size(), 143u);
  EXPECT_TRUE(result.got_tail);
  ASSERT_TRUE(result.summary.has_value());
  EXPECT_EQ(result.summary->chunks(), 143u);
  const std::vector<size_t> sizes = service_.chunk_bytes();
  ASSERT_EQ(sizes.size(), 143u);
  EXPECT_EQ(sizes.front(), 14u);
  EXPECT_EQ(sizes.back(), 12u);  // The 6 frames left over.
  const std::vector<uint64_t> sequences = service_.sequences();
  for (size_t i = 0; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], i + 1);
}

TEST_F(StreamClientTest, ChunkMsSetsFramesPerChunkFromTheInputRate) {
  options_.chunk_ms = 20;
  StreamResult result = Run(Audio(16000));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.chunks_sent, 50u);
  EXPECT_EQ(service_.chunk_bytes().front(), 640u);  // 320 frames of s16.
}

TEST_F(StreamClientTest, AppliesOverridesAndSendsTheBearerToken) {
  options_.stream_id = "call-42";
  options_.output.set_sample_rate_hz(8000);
  options_.output.set_encoding(v1::MULAW);
  options_.dither = true;
  options_.bearer_token = "s3cret";
  v1::StreamConfig config = S16Mono16k();
  config.add_chain()->mutable_gain()->set_gain_db(6);
  config.mutable_output()->set_channels(2);
  StreamResult result = Run(Audio(10), config);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const v1::StreamConfig sent = service_.config();
  EXPECT_EQ(sent.stream_id(), "call-42");
  EXPECT_EQ(sent.output().sample_rate_hz(), 8000u);
  EXPECT_EQ(sent.output().encoding(), v1::MULAW);
  EXPECT_EQ(sent.output().channels(), 2u);  // Kept: the option leaves it unset.
  EXPECT_EQ(sent.dither(), v1::DITHER_TPDF);
  EXPECT_EQ(sent.chain(0).gain().gain_db(), 6.0f);
  EXPECT_EQ(service_.authorization(), "Bearer s3cret");
  EXPECT_EQ(result.ready->stream_id(), "call-42");
}

TEST_F(StreamClientTest, ReportsAServerErrorMidStreamAfterTheAnsweredChunks) {
  service_.fail_after_chunks = 3;
  options_.chunk_frames = 10;
  StreamResult result = Run(Audio(1000));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(result.status.error_message(), "chunk too large");
  EXPECT_TRUE(result.ready.has_value());
  EXPECT_EQ(result.chunks.size(), 3u);
  EXPECT_FALSE(result.got_tail);
  EXPECT_FALSE(result.summary.has_value());
  EXPECT_EQ(result.protocol_error, "");
}

TEST_F(StreamClientTest, ReportsARefusedConfig) {
  v1::StreamConfig config = S16Mono16k();
  config.add_chain()->mutable_gain()->set_gain_db(100);
  StreamResult result = Run(Audio(100), config);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("gain.gain_db"));
  EXPECT_FALSE(result.ready.has_value());
  EXPECT_TRUE(result.chunks.empty());
}

TEST_F(StreamClientTest, NoticesResponsesOutOfProtocol) {
  service_.wrong_sequence = 99;
  StreamResult result = Run(Audio(100));
  EXPECT_TRUE(result.status.ok());
  EXPECT_EQ(result.protocol_error, "the server sent chunk response 1 has sequence 99");
}

TEST_F(StreamClientTest, RefusesAnIncompleteInputFormatWithoutACall) {
  v1::StreamConfig config = S16Mono16k();
  config.mutable_input()->clear_channels();
  StreamResult result = Run(Audio(10), config);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(service_.sequences().empty());
}

// Pacing has a lower bound only (sleep_until never wakes early), so this holds on any machine.
TEST_F(StreamClientTest, RealtimePacingSendsChunkIAtIChunkDurations) {
  options_.realtime = true;
  options_.chunk_frames = 160;  // 10 ms at 16 kHz.
  const Clock::time_point start = Clock::now();
  StreamResult result = Run(Audio(800));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(service_.received_at().size(), 5u);
  // Chunk 4 may not leave before start + 40 ms, and a sleep never ends early, so this bound
  // holds on any machine. (Receipt times at the server are not asserted: the first chunk can
  // wait behind connection setup, which bunches the receipts.)
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(40));
}

TEST_F(StreamClientTest, ListsProcessors) {
  absl::StatusOr<std::unique_ptr<StreamClient>> client = StreamClient::Connect(options_);
  ASSERT_THAT(client, IsOk());
  absl::StatusOr<v1::ListProcessorsResponse> list = (*client)->ListProcessors();
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->processors_size(), 1);
  EXPECT_EQ(list->processors(0).name(), "gain");
}

TEST(StreamClientConnectTest, MissingTlsRootsAreNotFound) {
  StreamClientOptions options;
  options.tls_root_cert_path = "/nonexistent/ca.pem";
  EXPECT_THAT(StreamClient::Connect(options),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/ca.pem")));
}

TEST(ToAbslStatusTest, KeepsCodeAndMessage) {
  EXPECT_THAT(ToAbslStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining")),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::Eq("draining")));
  EXPECT_THAT(ToAbslStatus(grpc::Status::OK), IsOk());
}

}  // namespace
}  // namespace audioproc::client
