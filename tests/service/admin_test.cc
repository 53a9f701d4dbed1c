// The Admin service and ValidateConfig against an in-process server.
// - ListStreams describes each open stream: id, peer, chain, formats, chunks answered, their
//   latency quantiles, cost, a unique serial; a stream that ends leaves the list.
// - WatchStreams sends every open stream as started, then what changed once per interval,
//   then the end; bad intervals and a watcher past the limit are refused.
// - Admin takes --admin_tokens_file's tokens when set (and not the others), the server's
//   tokens otherwise.
// - ValidateConfig answers what Process's ready says for the same config (latency as an upper
//   bound, exact here), refuses what Process refuses with the same status and message, and
//   reports whether the budgets have room now; it holds nothing.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "service/admin_calls.h"
#include "tests/testing/certificates.h"
#include "tests/testing/in_process_server.h"

namespace audioproc {
namespace {

using testing::ChunkRequest;
using testing::ConfigRequest;
using ::testing::HasSubstr;
using testing::MakeConfig;

using Stream = grpc::ClientReaderWriter<v1::ProcessRequest, v1::ProcessResponse>;

// An open Process stream that has answered `chunks` chunks of 20 ms of 16 kHz mono.
struct OpenStream {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;

  OpenStream(v1::AudioProcessor::Stub& stub, const std::string& id, int chunks) {
    stream = stub.Process(&context);
    v1::StreamConfig config =
        MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"highpass":{"cutoffHz":80}},{"limiter":{}}])");
    config.set_stream_id(id);
    EXPECT_TRUE(stream->Write(ConfigRequest(config)));
    v1::ProcessResponse response;
    EXPECT_TRUE(stream->Read(&response) && response.has_ready());
    for (int i = 0; i < chunks; ++i) {
      EXPECT_TRUE(stream->Write(ChunkRequest(std::string(640, '\1'))));
      EXPECT_TRUE(stream->Read(&response) && response.has_chunk());
    }
  }
  grpc::Status Close() {
    stream->WritesDone();
    v1::ProcessResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  }
};

class AdminTest : public testing::InProcessServerTest {
 protected:
  void SetUp() override {
    InProcessServerTest::SetUp();
    admin_ = v1::Admin::NewStub(channel_);
  }
  v1::ListStreamsResponse List(const std::string& token = "") {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::ListStreamsResponse response;
    last_status_ = admin_->ListStreams(&context, {}, &response);
    return response;
  }
  std::unique_ptr<v1::Admin::Stub> admin_;
  grpc::Status last_status_;
};

TEST_F(AdminTest, ListStreamsDescribesEachOpenStream) {
  EXPECT_EQ(List().streams_size(), 0);
  ASSERT_TRUE(last_status_.ok()) << last_status_.error_message();
  OpenStream first(*stub_, "call-1", 5);
  OpenStream second(*stub_, "call-1", 2);  // the same id: told apart by serial
  const v1::ListStreamsResponse list = List();
  ASSERT_EQ(list.streams_size(), 2);
  EXPECT_EQ(list.files_in_flight(), 0u);
  std::vector<const v1::StreamInfo*> streams = {&list.streams(0), &list.streams(1)};
  if (streams[0]->serial() > streams[1]->serial()) std::swap(streams[0], streams[1]);
  EXPECT_NE(streams[0]->serial(), streams[1]->serial());
  for (const v1::StreamInfo* info : streams) {
    EXPECT_EQ(info->stream_id(), "call-1");
    EXPECT_THAT(info->peer(), HasSubstr("127.0.0.1"));
    EXPECT_EQ(info->chain(), "highpass,limiter");
    EXPECT_EQ(info->input().sample_rate_hz(), 16000u);
    EXPECT_EQ(info->input().encoding(), v1::PCM_S16LE);
    EXPECT_EQ(info->output().channels(), 1u);
    EXPECT_GT(info->age_seconds(), 0);
    EXPECT_GT(info->latency_p50_seconds(), 0);
    EXPECT_GE(info->latency_p99_seconds(), info->latency_p50_seconds());
    EXPECT_LT(info->latency_p99_seconds(), 5);
    EXPECT_GT(info->cost().memory_bytes(), 0u);
    EXPECT_GT(info->cost().cpu_cores(), 0);
  }
  EXPECT_EQ(streams[0]->chunks(), 5u);
  EXPECT_DOUBLE_EQ(streams[0]->audio_seconds(), 0.1);
  EXPECT_EQ(streams[1]->chunks(), 2u);
  ASSERT_TRUE(first.Close().ok());
  EXPECT_EQ(List().streams_size(), 1);
  ASSERT_TRUE(second.Close().ok());
  EXPECT_EQ(List().streams_size(), 0);
}

TEST_F(AdminTest, WatchStreamsSendsStartedUpdatedAndEnded) {
  grpc::ClientContext context;
  v1::WatchStreamsRequest request;
  request.set_interval_seconds(0.1);
  auto watch = admin_->WatchStreams(&context, request);
  v1::WatchStreamsResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.changes_size(), 0);  // nothing open yet
  EXPECT_EQ(response.active_streams(), 0u);

  auto stream = std::make_unique<OpenStream>(*stub_, "watched", 1);
  // Reads until a change of `kind` for the stream arrives (or 5 s pass).
  auto await = [&](v1::StreamChangeKind kind) -> const v1::StreamInfo* {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline && watch->Read(&response)) {
      for (const v1::StreamChange& change : response.changes()) {
        if (change.kind() == kind) return &change.stream();
      }
    }
    return nullptr;
  };
  const v1::StreamInfo* started = await(v1::STREAM_CHANGE_KIND_STARTED);
  ASSERT_NE(started, nullptr);
  EXPECT_EQ(started->stream_id(), "watched");
  EXPECT_EQ(response.active_streams(), 1u);
  const uint64_t serial = started->serial();
  // More chunks: an update.
  v1::ProcessResponse processed;
  ASSERT_TRUE(stream->stream->Write(ChunkRequest(std::string(640, '\2'))));
  ASSERT_TRUE(stream->stream->Read(&processed));
  const v1::StreamInfo* updated = await(v1::STREAM_CHANGE_KIND_UPDATED);
  ASSERT_NE(updated, nullptr);
  EXPECT_EQ(updated->serial(), serial);
  EXPECT_EQ(updated->chunks(), 2u);
  ASSERT_TRUE(stream->Close().ok());
  const v1::StreamInfo* ended = await(v1::STREAM_CHANGE_KIND_ENDED);
  ASSERT_NE(ended, nullptr);
  EXPECT_EQ(ended->serial(), serial);
  EXPECT_EQ(response.active_streams(), 0u);
  context.TryCancel();
  while (watch->Read(&response)) {
  }
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(AdminTest, WatchStreamsRefusesBadIntervalsAndTooManyWatchers) {
  for (double interval : {-1.0, std::nan("")}) {
    grpc::ClientContext context;
    v1::WatchStreamsRequest request;
    request.set_interval_seconds(interval);
    auto watch = admin_->WatchStreams(&context, request);
    v1::WatchStreamsResponse response;
    EXPECT_FALSE(watch->Read(&response));
    EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT) << interval;
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchStreamsResponse>>> watchers;
  for (int i = 0; i < kMaxWatchers; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    watchers.push_back(admin_->WatchStreams(contexts.back().get(), {}));
    v1::WatchStreamsResponse response;
    ASSERT_TRUE(watchers.back()->Read(&response)) << i;
  }
  grpc::ClientContext context;
  auto refused = admin_->WatchStreams(&context, {});
  v1::WatchStreamsResponse response;
  EXPECT_FALSE(refused->Read(&response));
  const grpc::Status status = refused->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A place given back is taken again.
  contexts.front()->TryCancel();
  while (watchers.front()->Read(&response)) {
  }
  watchers.front()->Finish();
  watchers.erase(watchers.begin());
  contexts.erase(contexts.begin());
  bool admitted = false;
  for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
    grpc::ClientContext again;
    auto watch = admin_->WatchStreams(&again, {});
    admitted = watch->Read(&response);
    again.TryCancel();
    while (watch->Read(&response)) {
    }
    watch->Finish();
    if (!admitted) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(admitted);
  for (auto& c : contexts) c->TryCancel();
  for (auto& w : watchers) {
    while (w->Read(&response)) {
    }
    w->Finish();
  }
}

class AdminTokensTest : public AdminTest {
 protected:
  AdminTokensTest() {
    const std::string prefix = testing::ProcessTempDir("audioproc-admin-tokens");
    options_.auth_tokens_file = prefix + ".tokens";
    options_.admin_tokens_file = prefix + ".admin";
    std::ofstream(options_.auth_tokens_file) << "client-token\n";
    std::ofstream(options_.admin_tokens_file) << "# operators\nadmin-token\n";
  }
};

TEST_F(AdminTokensTest, AdminTakesOnlyItsOwnTokens) {
  List("admin-token");
  EXPECT_TRUE(last_status_.ok()) << last_status_.error_message();
  List("client-token");
  EXPECT_EQ(last_status_.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  List();
  EXPECT_EQ(last_status_.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // And the other services only the clients' tokens.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer admin-token");
  v1::ListProcessorsResponse processors;
  EXPECT_EQ(stub_->ListProcessors(&context, {}, &processors).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

class ServerTokensTest : public AdminTest {
 protected:
  ServerTokensTest() {
    options_.auth_tokens_file = testing::ProcessTempDir("audioproc-server-tokens") + ".tokens";
    std::ofstream(options_.auth_tokens_file) << "client-token\n";
  }
};

TEST_F(ServerTokensTest, WithoutAdminTokensAdminTakesTheServersTokens) {
  List("client-token");
  EXPECT_TRUE(last_status_.ok()) << last_status_.error_message();
  List("other");
  EXPECT_EQ(last_status_.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

class ValidateConfigTest : public testing::InProcessServerTest {
 protected:
  grpc::Status Validate(const v1::StreamConfig& config, v1::ValidateConfigResponse* response) {
    grpc::ClientContext context;
    v1::ValidateConfigRequest request;
    *request.mutable_config() = config;
    return stub_->ValidateConfig(&context, request, response);
  }
};

TEST_F(ValidateConfigTest, AnswersWhatProcessWouldSayInReady) {
  const std::vector<v1::StreamConfig> configs = [] {
    std::vector<v1::StreamConfig> out = {
        MakeConfig(v1::PCM_S16LE, 16000, 1,
                   R"([{"highpass":{"cutoffHz":80}},{"denoise":{}},{"loudness":{}}])"),
        MakeConfig(v1::PCM_F32LE, 48000, 2, R"([{"compressor":{}},{"limiter":{"lookaheadMs":2}}])"),
        MakeConfig(
            v1::MULAW, 8000, 1,
            R"([{"vad":{}},{"eq":{"bands":[{"type":"PEAKING","freqHz":1000,"gainDb":3}]}}])"),
    };
    out[1].set_stream_id("music-7");
    out[2].set_max_chunk_bytes(160);
    return out;
  }();
  for (const v1::StreamConfig& config : configs) {
    v1::ValidateConfigResponse validated;
    const grpc::Status status = Validate(config, &validated);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(validated.fits_now());
    const testing::ExchangeResult process = testing::Exchange(*stub_, {ConfigRequest(config)});
    ASSERT_TRUE(process.status.ok()) << process.status.error_message();
    v1::StreamReady ready = process.ready();
    if (config.stream_id().empty()) ready.clear_stream_id();  // the server assigned one
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(validated.ready(), ready))
        << "validated: " << validated.ready().DebugString() << "\nready: " << ready.DebugString();
  }
}

TEST_F(ValidateConfigTest, RefusesWhatProcessRefusesWithTheSameMessage) {
  std::vector<v1::StreamConfig> bad = {
      MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"highpass":{"cutoffHz":9000}}])"),
      MakeConfig(v1::ENCODING_UNSPECIFIED, 16000, 1),
      MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"resample":{}}])"),
  };
  bad.push_back(MakeConfig(v1::PCM_S16LE, 16000, 1));
  bad.back().set_stream_id("no spaces allowed");
  for (const v1::StreamConfig& config : bad) {
    v1::ValidateConfigResponse validated;
    const grpc::Status status = Validate(config, &validated);
    const testing::ExchangeResult process = testing::Exchange(*stub_, {ConfigRequest(config)});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(status.error_code(), process.status.error_code());
    EXPECT_EQ(status.error_message(), process.status.error_message());
  }
}

class ValidateConfigBudgetTest : public ValidateConfigTest {
 protected:
  ValidateConfigBudgetTest() { options_.max_streams = 1; }
};

TEST_F(ValidateConfigBudgetTest, SaysWhetherItFitsNowAndHoldsNothing) {
  const v1::StreamConfig config =
      MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"highpass":{"cutoffHz":80}}])");
  v1::ValidateConfigResponse validated;
  ASSERT_TRUE(Validate(config, &validated).ok());
  EXPECT_TRUE(validated.fits_now());
  const ResourceAmount before = server_->state().budget().committed();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Validate(config, &validated).ok());
  EXPECT_EQ(server_->state().budget().committed().memory_bytes, before.memory_bytes);
  {
    OpenStream open(*stub_, "only", 0);  // --max_streams=1 is now taken
    ASSERT_TRUE(Validate(config, &validated).ok());
    EXPECT_FALSE(validated.fits_now());
    ASSERT_TRUE(open.Close().ok());
  }
  ASSERT_TRUE(Validate(config, &validated).ok());
  EXPECT_TRUE(validated.fits_now());
}

}  // namespace
}  // namespace audioproc
