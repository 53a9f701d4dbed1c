// RunLoad against the real audioproc-server binary: short runs that check what the report
// counts (streams, chunks, answers, errors, the server's usage), never how fast anything is.
#include "bench/load_generator.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace audioproc::bench {
namespace {

using ::audioproc::testing::ServerBinaryPath;
using ::audioproc::testing::ServerProcess;

class LoadGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<ServerProcess> server = ServerProcess::Start(ServerBinaryPath());
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
  }

  LoadOptions Options(int streams, bool paced) const {
    LoadOptions options;
    options.address = absl::StrCat("127.0.0.1:", server_->grpc_port());
    options.streams = streams;
    options.paced = paced;
    options.ramp = absl::Milliseconds(200);
    options.warmup = absl::Milliseconds(300);
    options.duration = absl::Seconds(1);
    options.connections = 2;
    options.server_pid = server_->pid();
    return options;
  }

  std::optional<ServerProcess> server_;
};

TEST_F(LoadGeneratorTest, PacedVoiceStreamsAreAllAnswered) {
  absl::StatusOr<Workload> voice = MakeWorkload("voice", 20);
  ASSERT_TRUE(voice.ok()) << voice.status();
  absl::StatusOr<LoadReport> report = RunLoad(Options(6, true), *voice);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->streams_ok, 6) << report->first_error;
  EXPECT_EQ(report->streams_failed, 0);
  EXPECT_TRUE(report->all_answered);
  EXPECT_TRUE(report->errors.empty());
  EXPECT_EQ(report->protocol_errors, 0);
  // Paced, each stream sends the chunks due before the stop, ramp + duration = 1.2 s after the
  // run starts; streams start within the 0.2 s ramp plus one chunk: 49 to 60 chunks each.
  EXPECT_GE(report->chunks_sent, 6u * 49);
  EXPECT_LE(report->chunks_sent, 6u * 60);
  EXPECT_EQ(report->chunks_answered, report->chunks_sent);
  EXPECT_GT(report->latency.count(), 0u);
  EXPECT_EQ(report->ready.count(), 6u);
  ASSERT_TRUE(report->server.has_value());
  EXPECT_GT(report->server->rss_kib_max, 0);
}

TEST_F(LoadGeneratorTest, UnpacedStreamsKeepTheirWindowAndAreAllAnswered) {
  absl::StatusOr<Workload> null = MakeWorkload("null", 20);
  ASSERT_TRUE(null.ok()) << null.status();
  LoadOptions options = Options(3, false);
  options.max_in_flight = 4;
  absl::StatusOr<LoadReport> report = RunLoad(options, *null);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->all_answered) << report->first_error;
  EXPECT_EQ(report->chunks_answered, report->chunks_sent);
  EXPECT_GT(report->window_responses, 0u);
  EXPECT_EQ(report->send_lag.count(), 0u);  // only paced chunks are due
}

TEST_F(LoadGeneratorTest, RefusedConfigsAreCountedByStatus) {
  absl::StatusOr<Workload> bad = MakeWorkload("null", 20, "highpass:cutoff_hz=0");
  ASSERT_TRUE(bad.ok()) << bad.status();
  absl::StatusOr<LoadReport> report = RunLoad(Options(4, true), *bad);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->all_answered);
  EXPECT_EQ(report->streams_failed, 4);
  EXPECT_EQ(report->errors["INVALID_ARGUMENT"], 4);
  EXPECT_NE(report->first_error.find("cutoff_hz"), std::string::npos) << report->first_error;
}

TEST(LoadGeneratorOptionsTest, RefusesUnusableOptions) {
  absl::StatusOr<Workload> null = MakeWorkload("null", 20);
  ASSERT_TRUE(null.ok());
  LoadOptions options;
  options.streams = 0;
  EXPECT_EQ(RunLoad(options, *null).status().code(), absl::StatusCode::kInvalidArgument);
  options.streams = 1;
  options.warmup = options.duration;
  EXPECT_EQ(RunLoad(options, *null).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LoadGeneratorOptionsTest, NoServerIsUnavailable) {
  absl::StatusOr<Workload> null = MakeWorkload("null", 20);
  ASSERT_TRUE(null.ok());
  LoadOptions options;
  options.address = "127.0.0.1:1";
  options.connect_timeout = absl::Milliseconds(300);
  EXPECT_EQ(RunLoad(options, *null).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace audioproc::bench
