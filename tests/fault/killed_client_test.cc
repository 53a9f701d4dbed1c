// Clients that vanish mid-stream (DESIGN §6: "client cancels or disconnects: resources freed
// at once, counted in metrics"): audioproc-client processes SIGKILLed while streaming in real
// time, and calls cancelled with ClientContext::TryCancel. Each ends CANCELLED in
// audioproc_streams_total, audioproc_streams_active returns to 0, and hundreds of them leave
// the server's resident memory where a warm-up left it.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/process_memory.h"
#include "tests/testing/recorded_stream.h"
#include "tests/testing/server_process.h"

extern char** environ;

namespace audioproc {
namespace {

using testing::MetricValue;
using testing::MiB;
using testing::ResidentBytes;
using testing::RunStream;
using testing::ScrapeMetrics;
using testing::ServerProcess;
using testing::StreamPlan;
using testing::StreamRecord;
using testing::WaitForMetric;

constexpr char kSpeechFile[] = AUDIOPROC_SOURCE_DIR "/clients/demo/speech_16k.wav";
constexpr char kActive[] = "audioproc_streams_active";
constexpr char kCancelled[] = "audioproc_streams_total{code=\"CANCELLED\"}";
constexpr char kChunks[] = "audioproc_chunks_total";
constexpr absl::Duration kWait = absl::Seconds(20);
constexpr int kPerBatch = 10;

// The outcome and chunk count the server logged for `stream_id`'s stream_end line.
struct LoggedEnd {
  std::string outcome;
  int chunks = -1;
};
std::optional<LoggedEnd> FindStreamEnd(const std::string& log, const std::string& stream_id) {
  const std::string id_field = absl::StrCat("\"stream_id\":\"", stream_id, "\"");
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StrContains(line, "\"event\":\"stream_end\"") ||
        !absl::StrContains(line, id_field)) {
      continue;
    }
    LoggedEnd end;
    const size_t outcome = line.find("\"outcome\":\"");
    if (outcome != absl::string_view::npos) {
      const size_t begin = outcome + 11;
      end.outcome = std::string(line.substr(begin, line.find('"', begin) - begin));
    }
    const size_t chunks = line.find("\"chunks\":");
    if (chunks != absl::string_view::npos) end.chunks = std::atoi(line.data() + chunks + 9);
    return end;
  }
  return std::nullopt;
}

class KilledClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
    stub_ = v1::AudioProcessor::NewStub(testing::LoopbackChannel(server_->grpc_port()));
  }

  double Metric(const char* series) const {
    return MetricValue(ScrapeMetrics(server_->metrics_port()), series).value_or(-1);
  }

  // Starts audioproc-client streaming the demo speech (5.4 s) in real time as `stream_id`.
  pid_t SpawnClient(const std::string& stream_id) const {
    std::vector<std::string> args = {AUDIOPROC_CLIENT_PATH,
                                     absl::StrCat("--addr=127.0.0.1:", server_->grpc_port()),
                                     absl::StrCat("--input=", kSpeechFile),
                                     "--realtime",
                                     "--timeout_s=60",
                                     absl::StrCat("--stream_id=", stream_id)};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(error, 0) << "posix_spawn " << argv[0];
    return error == 0 ? pid : -1;
  }

  // kPerBatch client processes, SIGKILLed once all of their streams are open and chunks flow.
  void KillClients(const std::string& tag) {
    const double active = Metric(kActive);
    const double chunks = Metric(kChunks);
    std::vector<pid_t> clients;
    for (int i = 0; i < kPerBatch; ++i) clients.push_back(SpawnClient(absl::StrCat(tag, "-", i)));
    EXPECT_EQ(WaitForMetric(
                  server_->metrics_port(), kActive,
                  [&](double v) { return v >= active + kPerBatch; }, kWait),
              active + kPerBatch);
    // 25 chunks a client on average (half a second of each at real-time pace): mid-stream.
    WaitForMetric(
        server_->metrics_port(), kChunks, [&](double v) { return v >= chunks + 25 * kPerBatch; },
        kWait);
    for (pid_t pid : clients) {
      if (pid <= 0) continue;
      kill(pid, SIGKILL);
      int status;
      waitpid(pid, &status, 0);
      EXPECT_TRUE(WIFSIGNALED(status)) << "client " << pid << " ended before it was killed";
    }
  }

  // kPerBatch paced streams, each cancelled by its client once five chunks are answered.
  void CancelStreams() {
    std::vector<std::thread> threads;
    std::vector<StreamRecord> records(kPerBatch);
    for (int i = 0; i < kPerBatch; ++i) {
      threads.emplace_back([this, &records, i] {
        StreamPlan plan;
        plan.config = testing::MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":-3}}])");
        plan.chunks = testing::SplitBytes(testing::RandomS16(16000 * 5, i), 640);
        plan.interval = absl::Milliseconds(20);
        plan.on_answer = [](uint64_t answered, grpc::ClientContext& context) {
          if (answered == 5) context.TryCancel();
        };
        records[i] = RunStream(*stub_, plan);
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const StreamRecord& record : records) {
      EXPECT_EQ(record.status.error_code(), grpc::StatusCode::CANCELLED)
          << record.status.error_message();
      EXPECT_GE(record.answered.size(), 5u);
      EXPECT_FALSE(record.tail);
    }
  }

  // Waits until no stream is open and `cancelled` streams have been counted CANCELLED.
  void ExpectAllEndedCancelled(double cancelled) {
    EXPECT_EQ(WaitForMetric(
                  server_->metrics_port(), kActive, [](double v) { return v == 0; }, kWait),
              0.0);
    EXPECT_EQ(
        WaitForMetric(
            server_->metrics_port(), kCancelled, [&](double v) { return v >= cancelled; }, kWait),
        cancelled);
  }

  std::optional<ServerProcess> server_;
  std::unique_ptr<v1::AudioProcessor::Stub> stub_;
};

TEST_F(KilledClientTest, KilledClientProcessesEndCancelledAndCloseTheirStreams) {
  KillClients("killed");
  ExpectAllEndedCancelled(kPerBatch);
  const std::string log = testing::ReadFile(server_->log_path());
  for (int i = 0; i < kPerBatch; ++i) {
    const std::string id = absl::StrCat("killed-", i);
    const std::optional<LoggedEnd> end = FindStreamEnd(log, id);
    ASSERT_TRUE(end.has_value()) << "no stream_end for " << id;
    EXPECT_EQ(end->outcome, "CANCELLED") << id;
    EXPECT_GT(end->chunks, 0) << id << " was killed before it streamed";
  }
}

TEST_F(KilledClientTest, CancelledCallsEndCancelledAndCloseTheirStreams) {
  CancelStreams();
  ExpectAllEndedCancelled(kPerBatch);
}

TEST_F(KilledClientTest, TwoHundredKilledOrCancelledStreamsLeaveResidentMemoryFlat) {
  // Warm-up: 20 streams (10 killed, 10 cancelled) bring in the threads, arenas and buffers
  // every later stream reuses.
  KillClients("warm");
  CancelStreams();
  ExpectAllEndedCancelled(2 * kPerBatch);
  const std::optional<int64_t> warm = ResidentBytes(server_->pid());
  ASSERT_TRUE(warm.has_value());

  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    KillClients(absl::StrCat("round", round));
    CancelStreams();
    ExpectAllEndedCancelled(2 * kPerBatch * (round + 2));
    if (HasFailure()) break;
  }
  const std::optional<int64_t> after = ResidentBytes(server_->pid());
  ASSERT_TRUE(after.has_value());
  std::printf(
      "[ measured ] server VmRSS %.1f MiB after 20 killed/cancelled streams, %.1f MiB "
      "after %d more (%+.2f MiB)\n",
      MiB(*warm), MiB(*after), 2 * kPerBatch * kRounds, MiB(*after - *warm));
  // A leaked call object with its pipeline and buffers is tens of KiB: 200 of them would
  // show; allocator noise across rounds is well under this.
  EXPECT_LT(*after - *warm, 4 << 20);
}

}  // namespace
}  // namespace audioproc
