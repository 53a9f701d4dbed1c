// A client that stops reading while it goes on writing at full speed (DESIGN §5): the server's
// bounded inbox and outbox, then HTTP/2 flow control, stop the client's writer; the server's
// memory stays bounded; and once the client reads again every chunk is answered, in order,
// with the same bytes as a run that never paused. The real binary, on loopback.
#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/process_memory.h"
#include "tests/testing/recorded_stream.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using testing::MiB;
using testing::ResidentBytes;
using testing::RunStream;
using testing::ServerProcess;
using testing::StreamPlan;
using testing::StreamRecord;

// 16384 frames of 16 kHz mono s16 (about 1 s of audio) per chunk, so that the writer pushes
// tens of MiB in a few seconds if nothing stops it.
constexpr size_t kChunkBytes = 32 * 1024;
// 64 MiB in all: four times the in-flight bound, so an unbounded server cannot pass by
// running out of input before the writer is stopped.
constexpr size_t kChunks = 2048;
constexpr uint64_t kAnsweredBeforePause = 8;
// What may lie between a writer and a reader that has stopped: the server's inbox and outbox
// (--stream_queue_chunks=8 each, 16 x 32 KiB = 512 KiB) with one chunk in each of read,
// process and write, the HTTP/2 stream and connection windows both ways (gRPC's BDP probe
// grows them to a few MiB at most) and the loopback sockets' buffers (a few MiB each way).
constexpr int64_t kMaxInFlightBytes = 16 << 20;
// The server holds the inbox, outbox and its own transport buffers of the above.
constexpr int64_t kMaxResidentGrowth = 64 << 20;
// The writer counts as stopped when no Write has returned for this long. Under a stall no
// write returns at all, so this only decides how long the pause lasts.
constexpr absl::Duration kStalledFor = absl::Seconds(2);
constexpr char kChain[] = R"([{"highpass":{"cutoffHz":80}},{"gain":{"gainDb":-6}}])";

class SlowReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A short idle timeout: a stream held back by its own reader waits for no read, so it must
    // never be ended DEADLINE_EXCEEDED however long the reader pauses.
    absl::StatusOr<ServerProcess> server =
        ServerProcess::Start(testing::ServerBinaryPath(), {"--idle_timeout_seconds=1"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
    stub_ = v1::AudioProcessor::NewStub(testing::LoopbackChannel(server_->grpc_port()));
  }

  StreamPlan Plan(const std::string& audio) const {
    StreamPlan plan;
    plan.config = testing::MakeConfig(v1::PCM_S16LE, 16000, 1, kChain);
    plan.chunks = testing::SplitBytes(audio, kChunkBytes);
    plan.deadline = absl::Seconds(50);
    return plan;
  }

  std::optional<ServerProcess> server_;
  std::unique_ptr<v1::AudioProcessor::Stub> stub_;
};

TEST_F(SlowReaderTest, StoppedReaderStopsTheWriterBoundsServerMemoryAndLosesNothing) {
  const std::string audio = testing::RandomS16(kChunks * kChunkBytes / 2, /*seed=*/41);

  // Warm-up, so the baseline includes the threads, arenas and connection a stream needs.
  StreamPlan warm_up = Plan(audio.substr(0, 16 * kChunkBytes));
  ASSERT_TRUE(RunStream(*stub_, warm_up).status.ok());
  const std::optional<int64_t> baseline = ResidentBytes(server_->pid());
  ASSERT_TRUE(baseline.has_value());

  std::atomic<uint64_t> written{0};
  bool stalled = false;
  uint64_t written_at_stall = 0;
  int64_t resident_at_stall = 0;
  absl::Duration paused;
  StreamPlan plan = Plan(audio);
  plan.written = &written;
  plan.on_answer = [&](uint64_t answered, grpc::ClientContext&) {
    if (answered != kAnsweredBeforePause) return;
    // Stop reading until the writer has been stuck for kStalledFor, or has sent everything
    // (no backpressure at all), or a deadline passes.
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + absl::Seconds(30);
    uint64_t last = written.load();
    absl::Time last_progress = start;
    while (absl::Now() < deadline && last < kChunks) {
      absl::SleepFor(absl::Milliseconds(50));  // sampling the writer's progress
      const uint64_t now_written = written.load();
      if (now_written != last) {
        last = now_written;
        last_progress = absl::Now();
      } else if (absl::Now() - last_progress >= kStalledFor) {
        stalled = true;
        break;
      }
    }
    written_at_stall = last;
    resident_at_stall = ResidentBytes(server_->pid()).value_or(-1);
    paused = absl::Now() - start;
  };
  const StreamRecord record = RunStream(*stub_, plan);

  const int64_t in_flight = static_cast<int64_t>(written_at_stall - kAnsweredBeforePause) *
                            static_cast<int64_t>(kChunkBytes);
  const int64_t growth = resident_at_stall - *baseline;
  std::printf(
      "[ measured ] paused %s; writer %s after %llu of %zu chunks: %.2f MiB written and not "
      "read; server VmRSS %.1f MiB at baseline, %.1f MiB at the stall (%+.1f MiB)\n",
      absl::FormatDuration(paused).c_str(), stalled ? "stopped" : "did NOT stop",
      static_cast<unsigned long long>(written_at_stall), kChunks, MiB(in_flight), MiB(*baseline),
      MiB(resident_at_stall), MiB(growth));
  EXPECT_TRUE(stalled) << "the writer was never held back";
  EXPECT_LT(in_flight, kMaxInFlightBytes);
  EXPECT_LT(growth, kMaxResidentGrowth);

  // Resumed: nothing dropped, nothing reordered, the whole protocol to the end.
  ASSERT_TRUE(record.status.ok()) << record.status.error_code() << " "
                                  << record.status.error_message();
  EXPECT_EQ(record.protocol_error, "");
  EXPECT_EQ(record.chunks_written(), kChunks);
  EXPECT_EQ(record.answered.size(), kChunks);
  EXPECT_TRUE(record.AnsweredInOrder());
  EXPECT_TRUE(record.tail);
  ASSERT_TRUE(record.summary.has_value());
  EXPECT_EQ(record.summary->chunks(), kChunks);

  // The same stream read without a pause, on the same server: byte-identical output.
  const StreamRecord reference = RunStream(*stub_, Plan(audio));
  ASSERT_TRUE(reference.status.ok()) << reference.status.error_message();
  ASSERT_EQ(reference.output.size(), audio.size());
  EXPECT_TRUE(record.output == reference.output) << "the paused stream's output differs";
}

}  // namespace
}  // namespace audioproc
