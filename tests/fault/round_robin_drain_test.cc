// Three servers behind one client channel with round_robin (the client-side load balancing
// DESIGN §9 recommends): while one server drains (--drain_seconds=2, SIGTERM) streams keep
// flowing; each completes OK or fails UNAVAILABLE, which the client may retry on a new call;
// none hangs and no OK stream lacks a chunk; once the drained server is gone new streams
// succeed on the other two. The real binaries, on loopback.
//
// No retryPolicy for Process, on purpose. Found with this test (gRPC 1.51.1, Debian 12): when
// a draining server refuses an attempt (UNAVAILABLE, trailers only) after the client has begun
// writing, a channel with a retry policy retries the call on another server, but the client's
// Write() calls report false although the messages are replayed, and messages written while
// the attempt is retried can be lost: a client that stops writing on a failed Write then gets
// OK for a stream missing chunks, or waits for its deadline. Without the policy the refusal
// surfaces as UNAVAILABLE and the application opens a new stream (deploy/SCALING.md says so).
#include <signal.h>

#include <cstdio>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/recorded_stream.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using testing::MetricValue;
using testing::RunStream;
using testing::ScrapeMetrics;
using testing::ServerProcess;
using testing::StreamPlan;
using testing::StreamRecord;
using testing::WaitForMetric;

constexpr char kServiceConfig[] = R"({"loadBalancingConfig": [{"round_robin": {}}]})";
constexpr size_t kChunkFrames = 320;  // 20 ms at 16 kHz, sent every 20 ms
constexpr absl::Duration kDeadline = absl::Seconds(15);
constexpr int kWorkers = 12;
constexpr char kOk[] = "audioproc_streams_total{code=\"OK\"}";

struct Outcome {
  std::string id;
  StreamRecord record;
  std::string audio;
};

// One paced stream through `stub`: 0.5 s of audio, or 4 s for every third one (`n`), which
// outlives the drain if it runs on the draining server.
Outcome PacedStream(v1::AudioProcessor::Stub& stub, const std::string& id, int n) {
  Outcome outcome;
  outcome.id = id;
  const size_t chunks = n % 3 == 2 ? 200 : 25;
  outcome.audio = testing::RandomS16(chunks * kChunkFrames, static_cast<uint32_t>(n));
  StreamPlan plan;
  plan.config = testing::MakeConfig(v1::PCM_S16LE, 16000, 1);
  plan.config.set_stream_id(id);
  plan.chunks = testing::SplitBytes(outcome.audio, kChunkFrames * 2);
  plan.interval = absl::Milliseconds(20);
  plan.deadline = kDeadline;
  outcome.record = RunStream(stub, plan);
  return outcome;
}

// When the draining server's log says its drain ended and gRPC's Shutdown began
// (absl::InfiniteFuture() if it never says so).
absl::Time ShutdownBegan(const std::string& log) {
  constexpr absl::string_view kTime = "\"time\":\"";
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    const size_t at = line.find(kTime);
    if (!absl::StrContains(line, "\"event\":\"drain_end\"") || at == line.npos) continue;
    const absl::string_view rest = line.substr(at + kTime.size());
    absl::Time time;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, rest.substr(0, rest.find('"')), &time, &error)) {
      return time;
    }
  }
  return absl::InfiniteFuture();
}

// The first thing wrong with a stream that must complete OK or fail UNAVAILABLE, or "". One
// exception: a call that reaches a server just as gRPC's Shutdown begins (the drain has ended,
// the client has not yet seen the GOAWAY) is cancelled by gRPC itself and ends CANCELLED before
// any answer; nothing was processed, and clients retry it as a refusal (deploy/SCALING.md).
std::string Check(const Outcome& outcome, absl::Time shutdown_began) {
  const StreamRecord& r = outcome.record;
  // Every call has a deadline; none may come near it.
  if (r.ended - r.started > kDeadline / 2) {
    return absl::StrCat("took ", absl::FormatDuration(r.ended - r.started));
  }
  if (!r.protocol_error.empty()) return r.protocol_error;
  if (!r.AnsweredInOrder() || r.answered.size() > r.chunks_written()) {
    return "answers out of order, with a gap, or for chunks never sent";
  }
  if (r.output != outcome.audio.substr(0, r.output.size())) return "output is not the input";
  if (r.status.ok()) {
    if (r.answered.size() != outcome.audio.size() / (kChunkFrames * 2) || !r.tail || !r.summary) {
      return "OK without every chunk answered, the tail and the summary";
    }
    return "";
  }
  if (r.status.error_code() == grpc::StatusCode::CANCELLED && !r.ready && r.answered.empty() &&
      r.ended >= shutdown_began) {
    return "";
  }
  if (r.status.error_code() != grpc::StatusCode::UNAVAILABLE) {
    return absl::StrCat("status ", r.status.error_code(), " ", r.status.error_message());
  }
  if (r.tail || r.summary) return "UNAVAILABLE after a tail or summary";
  return "";
}

// Every server's log lines that mention `id`, one per line, for a failure's message.
std::string LogLinesOf(const std::vector<ServerProcess>& servers, const std::string& id) {
  std::string lines;
  for (size_t i = 0; i < servers.size(); ++i) {
    for (absl::string_view line : absl::StrSplit(testing::ReadFile(servers[i].log_path()), '\n')) {
      if (absl::StrContains(line, absl::StrCat("\"", id, "\""))) {
        absl::StrAppend(&lines, "\n  server ", i, ": ", line);
      }
    }
  }
  return lines.empty() ? " nothing" : lines;
}

TEST(RoundRobinDrainTest, StreamsSurviveOneOfThreeServersDrainingAndThenUseTheOtherTwo) {
  std::vector<ServerProcess> servers;
  servers.reserve(3);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<ServerProcess> server =
        ServerProcess::Start(testing::ServerBinaryPath(), {"--drain_seconds=2"});
    ASSERT_TRUE(server.ok()) << server.status();
    servers.push_back(*std::move(server));
  }
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(kServiceConfig);
  auto channel = grpc::CreateCustomChannel(
      absl::StrCat("ipv4:127.0.0.1:", servers[0].grpc_port(), ",127.0.0.1:", servers[1].grpc_port(),
                   ",127.0.0.1:", servers[2].grpc_port()),
      grpc::InsecureChannelCredentials(), args);
  auto stub = v1::AudioProcessor::NewStub(channel);
  ServerProcess& draining = servers[0];

  // Phase 1: streams back to back on kWorkers threads, across the drain of servers[0].
  absl::Mutex mu;
  bool stop = false;
  std::vector<Outcome> outcomes;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int n = w;; n += kWorkers) {
        {
          absl::MutexLock lock(&mu);
          if (stop) return;
        }
        Outcome outcome = PacedStream(*stub, absl::StrCat("rr-", n), n);
        absl::MutexLock lock(&mu);
        outcomes.push_back(std::move(outcome));
      }
    });
  }
  // Some streams are running on the server about to drain.
  EXPECT_GE(WaitForMetric(
                draining.metrics_port(), "audioproc_streams_active",
                [](double v) { return v >= 3; }, absl::Seconds(20))
                .value_or(0),
            3);
  const absl::Time sigterm_at = absl::Now();
  draining.Signal(SIGTERM);
  EXPECT_EQ(draining.Wait(absl::Seconds(30)), std::optional<int>(0));
  const absl::Duration drained_in = absl::Now() - sigterm_at;
  {
    absl::MutexLock lock(&mu);
    stop = true;
  }
  for (std::thread& worker : workers) worker.join();

  // What the draining server saw: streams it ran to the end, and calls it refused.
  const std::string log = testing::ReadFile(draining.log_path());
  const absl::Time shutdown_began = ShutdownBegan(log);
  int ok = 0;
  int aborted = 0;    // admitted on the draining server and ended at its deadline
  int refused = 0;    // refused by the draining server: UNAVAILABLE before ready
  int cancelled = 0;  // arrived as its gRPC shut down: CANCELLED before ready
  for (const Outcome& outcome : outcomes) {
    const StreamRecord& r = outcome.record;
    EXPECT_EQ(Check(outcome, shutdown_began), "")
        << "stream " << outcome.id << ": status " << r.status.error_code() << " '"
        << r.status.error_message() << "', " << r.chunks_written() << " of "
        << outcome.audio.size() / (kChunkFrames * 2) << " chunks written, " << r.answered.size()
        << " answered, started " << absl::FormatDuration(r.started - sigterm_at) << " and ended "
        << absl::FormatDuration(r.ended - sigterm_at)
        << " after SIGTERM; what the servers logged of it:" << LogLinesOf(servers, outcome.id);
    if (outcome.record.status.ok()) {
      ++ok;
    } else if (outcome.record.status.error_code() == grpc::StatusCode::CANCELLED) {
      ++cancelled;
    } else if (absl::StrContains(outcome.record.status.error_message(), "drain deadline")) {
      ++aborted;
    } else {
      ++refused;
    }
  }
  int ran = 0;
  int refusals = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StrContains(line, "\"event\":\"stream_end\"")) continue;
    if (absl::StrContains(line, "draining")) {
      ++refusals;
    } else {
      ++ran;
    }
  }
  std::printf(
      "[ measured ] phase 1: %zu streams, %d OK, %d UNAVAILABLE at the drain deadline, "
      "%d UNAVAILABLE refused, %d CANCELLED as the drained server shut down; the draining "
      "server ran %d streams, refused %d calls, ended its drain %s and exited %s after "
      "SIGTERM\n",
      outcomes.size(), ok, aborted, refused, cancelled, ran, refusals,
      absl::FormatDuration(shutdown_began - sigterm_at).c_str(),
      absl::FormatDuration(drained_in).c_str());
  EXPECT_GT(ok, 0);
  EXPECT_GE(ran, 3);

  // Phase 2: with servers[0] gone, new streams all succeed, spread over the other two.
  const double ok_before[] = {
      MetricValue(ScrapeMetrics(servers[1].metrics_port()), kOk).value_or(-1),
      MetricValue(ScrapeMetrics(servers[2].metrics_port()), kOk).value_or(-1)};
  constexpr int kAfter = 30;
  std::vector<Outcome> after(kAfter);
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      for (int n = t; n < kAfter; n += 10) {
        after[n] = PacedStream(*stub, absl::StrCat("after-", n), 3 * n);  // 0.5 s each
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Outcome& outcome : after) {
    EXPECT_TRUE(outcome.record.status.ok())
        << outcome.record.status.error_code() << " " << outcome.record.status.error_message();
    EXPECT_EQ(Check(outcome, absl::InfiniteFuture()), "");
  }
  // Counted when each call object goes away, just after its client has the status: wait.
  double served[2];
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    for (int i = 0; i < 2; ++i) {
      served[i] = MetricValue(ScrapeMetrics(servers[i + 1].metrics_port()), kOk).value_or(-1) -
                  ok_before[i];
    }
  } while (served[0] + served[1] < kAfter && absl::Now() < deadline);
  std::printf(
      "[ measured ] phase 2: %d new streams, %.0f and %.0f completed on the two "
      "remaining servers\n",
      kAfter, served[0], served[1]);
  EXPECT_EQ(served[0] + served[1], kAfter);
  EXPECT_GT(served[0], 0);
  EXPECT_GT(served[1], 0);
}

}  // namespace
}  // namespace audioproc
