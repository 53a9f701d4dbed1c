// 500 concurrent streams from one client process to one server (--max_streams=1000): all are
// held open at once (the server reports 500 active), then each sends its audio and
// half-closes; every one completes OK with the whole protocol of DESIGN §3 and its own bytes
// back. The real binary, on loopback.
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/recorded_stream.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using testing::RunStream;
using testing::ServerProcess;
using testing::StreamPlan;
using testing::StreamRecord;
using testing::WaitForMetric;

constexpr int kStreams = 500;
constexpr size_t kChunks = 25;
constexpr size_t kChunkFrames = 320;  // 20 ms at 16 kHz

// The first thing wrong with one stream's record, or "" if it is a complete, exact stream.
std::string Check(const StreamRecord& record, const std::string& audio) {
  if (!record.status.ok()) {
    return absl::StrCat("status ", record.status.error_code(), " ", record.status.error_message());
  }
  if (!record.protocol_error.empty()) return record.protocol_error;
  if (!record.ready) return "no ready";
  if (record.answered.size() != kChunks || !record.AnsweredInOrder()) {
    return absl::StrCat(record.answered.size(), " chunk responses, not 1..", kChunks, " in order");
  }
  if (!record.tail) return "no tail";
  if (!record.summary || record.summary->chunks() != kChunks ||
      record.summary->frames_in() != kChunks * kChunkFrames) {
    return "no summary, or a summary with the wrong counts";
  }
  if (record.output != audio) return "output differs from the input";
  return "";
}

TEST(ManyStreamsTest, FiveHundredConcurrentStreamsEachCompleteInOrderWithTheirOwnBytes) {
  absl::StatusOr<ServerProcess> server =
      ServerProcess::Start(testing::ServerBinaryPath(), {"--max_streams=1000"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::AudioProcessor::NewStub(testing::LoopbackChannel(server->grpc_port()));

  // Each stream waits after its `ready` until all have one, so that all are open at once.
  testing::StreamBarrier barrier;
  std::vector<std::string> audio(kStreams);
  std::vector<StreamRecord> records(kStreams);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kStreams; ++i) {
    audio[i] = testing::RandomS16(kChunks * kChunkFrames, /*seed=*/1000 + i);
    threads.emplace_back([&, i] {
      StreamPlan plan;
      // An empty chain and a 0 dB gain both return s16 input bit-exact (DESIGN §3, Samples).
      plan.config = testing::MakeConfig(v1::PCM_S16LE, 16000, 1,
                                        i % 2 == 0 ? "[]" : R"([{"gain":{"gainDb":0}}])");
      plan.config.set_stream_id(absl::StrCat("many-", i));
      // As a real-time client does: it says how large its chunks are, so the server holds
      // room for those (not for the largest it allows) and 500 fit its memory budget.
      plan.config.set_max_chunk_bytes(kChunkFrames * 2);
      plan.chunks = testing::SplitBytes(audio[i], kChunkFrames * 2);
      plan.deadline = absl::Seconds(50);
      plan.before_chunks = [&barrier] { barrier.Arrive(); };
      records[i] = RunStream(*stub, plan);
    });
  }
  const int arrived = barrier.AwaitArrivals(kStreams, absl::Seconds(40));
  const absl::Duration to_open = absl::Now() - start;
  // All of them open on the server at the same moment.
  const std::optional<double> active = WaitForMetric(
      server->metrics_port(), "audioproc_streams_active", [](double v) { return v == kStreams; },
      absl::Seconds(5));
  barrier.Release();
  for (std::thread& thread : threads) thread.join();
  const absl::Duration total = absl::Now() - start;
  std::printf("[ measured ] %d streams open at once after %s; all done after %s\n", arrived,
              absl::FormatDuration(to_open).c_str(), absl::FormatDuration(total).c_str());
  EXPECT_EQ(arrived, kStreams);
  EXPECT_EQ(active, std::optional<double>(kStreams));

  int failed = 0;
  for (int i = 0; i < kStreams; ++i) {
    const std::string problem = Check(records[i], audio[i]);
    if (problem.empty()) continue;
    if (++failed <= 5) ADD_FAILURE() << "stream " << i << ": " << problem;
  }
  EXPECT_EQ(failed, 0) << "streams that did not complete exactly";

  EXPECT_EQ(WaitForMetric(
                server->metrics_port(), "audioproc_streams_total{code=\"OK\"}",
                [](double v) { return v >= kStreams; }, absl::Seconds(10)),
            std::optional<double>(kStreams));
  EXPECT_EQ(WaitForMetric(
                server->metrics_port(), "audioproc_streams_active", [](double v) { return v == 0; },
                absl::Seconds(10)),
            std::optional<double>(0));
}

}  // namespace
}  // namespace audioproc
