// Admission by bytes and by cost (issue 8): `ready` tells a stream its limits and costs, the
// budgets admit what fits and refuse the rest at once naming what was needed and what was
// left, a stream's share comes back when it ends (and within a slice when it is cancelled
// mid-chunk), and ListProcessors reports every processor's cost.
#include <grpcpp/grpcpp.h>
#include <sndfile.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/recorded_stream.h"
#include "tests/testing/sound_files.h"

namespace audioproc {
namespace {

using ::testing::AllOf;
using testing::ChunkRequest;
using testing::ConfigRequest;
using testing::Exchange;
using testing::ExchangeResult;
using ::testing::HasSubstr;
using testing::MakeConfig;

constexpr char kVoiceChain[] = R"([{"highpass":{"cutoffHz":80}},{"denoise":{}},{"compressor":{}},)"
                               R"({"loudness":{"targetLufs":-16}},{"limiter":{"ceilingDb":-1}}])";

// A stream held open after its `ready`.
struct OpenStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProcessRequest, v1::ProcessResponse>> stream;
  v1::ProcessResponse first;
  grpc::Status status;

  bool Open(v1::AudioProcessor::Stub& stub, const v1::StreamConfig& config) {
    stream = stub.Process(&context);
    if (!stream->Write(ConfigRequest(config)) || !stream->Read(&first) || !first.has_ready()) {
      stream->WritesDone();
      status = stream->Finish();
      return false;
    }
    return true;
  }
  void Close() {
    stream->WritesDone();
    v1::ProcessResponse response;
    while (stream->Read(&response)) {
    }
    status = stream->Finish();
  }
};

class AdmissionTest : public testing::InProcessServerTest {
 protected:
  ResourceAmount Committed() { return server_->state().budget().committed(); }
  int64_t TransportBase() const { return server_->options().resource_quota_bytes; }

  // Waits until what is committed is back to the transport's base alone (a call object goes
  // away just after its client has the status).
  bool AwaitNothingCommitted(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      const ResourceAmount committed = Committed();
      if (committed.memory_bytes == TransportBase() && committed.cpu_cores == 0) return true;
      absl::SleepFor(absl::Milliseconds(1));  // the budget has no push to wait on
    }
    return false;
  }
};

TEST_F(AdmissionTest, ReadyTellsTheStreamItsLimitsAndWhatItHolds) {
  v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1, kVoiceChain);
  config.set_max_chunk_bytes(640);
  OpenStream open;
  ASSERT_TRUE(open.Open(*stub_, config)) << open.status.error_message();
  const v1::StreamReady& ready = open.first.ready();
  EXPECT_EQ(ready.max_chunk_bytes(), 640u);
  EXPECT_GT(ready.cost().cpu_cores(), 0);
  EXPECT_LT(ready.cost().cpu_cores(), 0.05);
  EXPECT_GT(ready.cost().memory_bytes(), 100000u);
  ASSERT_EQ(ready.processor_costs_size(), 5);
  double stages = 0;
  for (const v1::ResourceCost& cost : ready.processor_costs()) stages += cost.cpu_cores();
  EXPECT_LT(stages, ready.cost().cpu_cores());  // the engine's share comes on top
  // What the server holds is exactly what `ready` says, until the stream ends.
  EXPECT_EQ(Committed().memory_bytes,
            TransportBase() + static_cast<int64_t>(ready.cost().memory_bytes()));
  EXPECT_NEAR(Committed().cpu_cores, ready.cost().cpu_cores(), 1e-9);
  open.Close();
  EXPECT_TRUE(open.status.ok()) << open.status.error_message();
  EXPECT_TRUE(AwaitNothingCommitted(absl::Seconds(5)));
}

TEST_F(AdmissionTest, ReadyEchoesSettingsButNotImpulseBlobs) {
  const std::vector<std::string> taps(1000, "0.001");
  const v1::StreamConfig config = MakeConfig(
      v1::PCM_S16LE, 16000, 1,
      absl::StrCat(R"([{"convolve":{"impulse":[)", absl::StrJoin(taps, ","), R"(],"wet":0.5}}])"));
  const ExchangeResult result = Exchange(*stub_, {ConfigRequest(config)});
  ASSERT_TRUE(result.has_ready()) << result.status.error_message();
  const v1::ProcessorSpec& echoed = result.ready().chain(0);
  ASSERT_TRUE(echoed.has_convolve());
  EXPECT_EQ(echoed.convolve().impulse_size(), 0);
  EXPECT_FLOAT_EQ(echoed.convolve().wet(), 0.5f);
  EXPECT_LT(result.ready().ByteSizeLong(), 1024u);
}

TEST_F(AdmissionTest, ListProcessorsReportsEveryProcessorsCost) {
  grpc::ClientContext context;
  v1::ListProcessorsResponse response;
  ASSERT_TRUE(stub_->ListProcessors(&context, {}, &response).ok());
  ASSERT_GE(response.processors_size(), 20);
  for (const v1::ProcessorInfo& info : response.processors()) {
    ASSERT_EQ(info.costs_size(), 2) << info.name();
    EXPECT_EQ(info.costs(0).sample_rate_hz(), 16000u);
    // aec's signal needs its reference beside it.
    EXPECT_EQ(info.costs(0).channels(), info.name() == "aec" ? 2u : 1u);
    EXPECT_EQ(info.costs(1).sample_rate_hz(), 48000u);
    EXPECT_EQ(info.costs(1).channels(), 2u);
    EXPECT_GT(info.costs(0).cost().cpu_cores(), 0) << info.name();
    // The same processor costs more on three times the samples.
    EXPECT_GT(info.costs(1).cost().cpu_cores(), info.costs(0).cost().cpu_cores()) << info.name();
  }
}

class CpuBudgetTest : public AdmissionTest {
 protected:
  CpuBudgetTest() { options_.cpu_budget = 0.02; }
};

TEST_F(CpuBudgetTest, StreamsAreAdmittedUpToTheBudgetAndTheRestRefusedAtOnce) {
  v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1, kVoiceChain);
  config.set_max_chunk_bytes(640);
  std::vector<std::unique_ptr<OpenStream>> open;
  double committed = 0;
  for (;;) {
    auto stream = std::make_unique<OpenStream>();
    if (!stream->Open(*stub_, config)) {
      EXPECT_EQ(stream->status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_THAT(stream->status.error_message(),
                  AllOf(HasSubstr("the stream needs"), HasSubstr("cores of CPU"),
                        HasSubstr("(--cpu_budget)"), HasSubstr("retry")));
      break;
    }
    committed += stream->first.ready().cost().cpu_cores();
    open.push_back(std::move(stream));
    ASSERT_LT(open.size(), 100u);
  }
  // As many as fit: one more would have passed the budget.
  ASSERT_GE(open.size(), 1u);
  EXPECT_LE(committed, 0.02 + 1e-9);
  EXPECT_GT(committed + open.front()->first.ready().cost().cpu_cores(), 0.02);
  // One ends, and a new one is admitted in its place.
  open.back()->Close();
  open.pop_back();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  bool admitted = false;
  while (!admitted && absl::Now() < deadline) {
    auto stream = std::make_unique<OpenStream>();
    admitted = stream->Open(*stub_, config);
    if (admitted) open.push_back(std::move(stream));
  }
  EXPECT_TRUE(admitted);
  for (auto& stream : open) stream->Close();
}

TEST_F(CpuBudgetTest, FileNeedsAWholeCoreAndIsRefusedWhenTheBudgetHasNone) {
  v1::ProcessFileRequest request;
  request.set_file(testing::MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1,
                                          std::vector<int16_t>(16000, 100)));
  grpc::ClientContext context;
  v1::ProcessFileResponse response;
  const grpc::Status status = stub_->ProcessFile(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("the file"), HasSubstr("1 cores of CPU"), HasSubstr("--cpu_budget")));
}

class MemoryBudgetTest : public AdmissionTest {
 protected:
  MemoryBudgetTest() {
    // 24 MiB for streams and files beside the transport's 72 MiB.
    options_.memory_budget_bytes = int64_t{96} << 20;
    options_.resource_quota_bytes = int64_t{72} << 20;
  }
};

TEST_F(MemoryBudgetTest, StreamsThatDoNotFitAreRefusedAtOnceAndDeclaredChunksFitMore) {
  // Streams that leave max_chunk_bytes unset hold room for the server's largest chunk.
  const v1::StreamConfig large = MakeConfig(v1::PCM_S16LE, 16000, 1, "[]");
  std::vector<std::unique_ptr<OpenStream>> open;
  grpc::Status refused;
  while (open.size() < 100) {
    auto stream = std::make_unique<OpenStream>();
    if (!stream->Open(*stub_, large)) {
      refused = stream->status;
      break;
    }
    open.push_back(std::move(stream));
  }
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), AllOf(HasSubstr("the stream needs"), HasSubstr("of memory"),
                                             HasSubstr("(--memory_budget_bytes)")));
  const size_t large_streams = open.size();
  EXPECT_GE(large_streams, 3u);
  EXPECT_LE(Committed().memory_bytes, options_.memory_budget_bytes);
  for (auto& stream : open) stream->Close();
  open.clear();
  ASSERT_TRUE(AwaitNothingCommitted(absl::Seconds(5)));

  // The same streams, saying their chunks are 20 ms: many more fit.
  v1::StreamConfig small = large;
  small.set_max_chunk_bytes(640);
  while (open.size() < 40 * large_streams) {
    auto stream = std::make_unique<OpenStream>();
    if (!stream->Open(*stub_, small)) break;
    open.push_back(std::move(stream));
  }
  EXPECT_GE(open.size(), 10 * large_streams);
  for (auto& stream : open) stream->Close();
}

TEST_F(MemoryBudgetTest, FileThatDoesNotFitIsRefusedAtOnce) {
  // One minute of 48 kHz stereo, asked for as 32-bit float WAV: 23 MB of output, held twice.
  v1::ProcessFileRequest request;
  request.set_file(testing::MakeSoundFile(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2,
                                          std::vector<int16_t>(60 * 48000 * 2, 0)));
  request.mutable_output()->set_container(v1::WAV);
  request.mutable_output()->set_encoding(v1::PCM_F32LE);
  grpc::ClientContext context;
  v1::ProcessFileResponse response;
  const grpc::Status status = stub_->ProcessFile(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("the file needs"), HasSubstr("(--memory_budget_bytes)")));
  EXPECT_TRUE(AwaitNothingCommitted(absl::Seconds(5)));
}

class EventLimitTest : public AdmissionTest {
 protected:
  EventLimitTest() { options_.max_events_per_response = 64; }
};

TEST_F(EventLimitTest, ChainThatCouldReportMoreEventsThanAResponseHoldsIsRefusedAtConfig) {
  std::vector<std::string> stages(32, R"({"analyze":{"intervalMs":10}})");
  const ExchangeResult result = Exchange(
      *stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 8000, 1,
                                        absl::StrCat("[", absl::StrJoin(stages, ","), "]")))});
  EXPECT_FALSE(result.has_ready());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("--max_events_per_response=64"));
}

class SliceTest : public AdmissionTest {
 protected:
  SliceTest() {
    options_.max_stream_cost = 8;
    options_.max_chain_length = 48;
  }
};

// A chunk that takes many slices to process is worked on a slice at a time; cancelled, the
// stream stops within a slice and gives its share back, without finishing the chunk. 48 denoise
// stages over 31 s of audio (past the default --max_chain_length): 24 took 0.34 s on a faster
// machine than this test was written on, under the 0.4 s it needs to cancel mid-way.
TEST_F(SliceTest, CancelledStreamGivesItsShareBackWithinASlice) {
  std::vector<std::string> stages(48, R"({"denoise":{}})");
  const v1::StreamConfig config =
      MakeConfig(v1::PCM_S16LE, 16000, 1, absl::StrCat("[", absl::StrJoin(stages, ","), "]"));
  const std::string chunk = testing::RandomS16(500000, /*seed=*/3);  // 31 s of audio

  // How long the chunk takes to process, by the server's own account.
  const ExchangeResult whole = Exchange(*stub_, {ConfigRequest(config), ChunkRequest(chunk)});
  ASSERT_TRUE(whole.status.ok()) << whole.status.error_message();
  const absl::Duration processing =
      absl::Microseconds(whole.chunks().front()->metrics().process_us());
  ASSERT_TRUE(AwaitNothingCommitted(absl::Seconds(5)));
  ASSERT_GT(processing, absl::Milliseconds(400)) << "too short a chunk to cancel mid-way";

  OpenStream open;
  ASSERT_TRUE(open.Open(*stub_, config));
  ASSERT_TRUE(open.stream->Write(ChunkRequest(chunk)));
  absl::SleepFor(processing / 4);  // well inside the chunk's processing
  const absl::Time cancelled = absl::Now();
  open.context.TryCancel();
  ASSERT_TRUE(AwaitNothingCommitted(processing / 2));
  const absl::Duration freed = absl::Now() - cancelled;
  std::printf("[ measured ] chunk processing %s; share given back %s after the cancel\n",
              absl::FormatDuration(processing).c_str(), absl::FormatDuration(freed).c_str());
  EXPECT_LT(freed, processing / 4);
  open.Close();
  EXPECT_EQ(open.status.error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace audioproc
