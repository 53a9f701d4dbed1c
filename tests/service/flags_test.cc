// Every server flag is also AUDIOPROC_<NAME>; the command line wins.
#include "service/flags.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/cgroup_limits.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;

class FlagsTest : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;  // restores every flag after each test
  void TearDown() override {
    unsetenv("AUDIOPROC_MAX_STREAMS");
    unsetenv("AUDIOPROC_PORT");
    unsetenv("AUDIOPROC_REFLECTION");
    unsetenv("AUDIOPROC_FILE_WORKERS");
    unsetenv("AUDIOPROC_MAX_FILE_SECONDS");
  }
};

TEST_F(FlagsTest, DefaultsAreTheContracts) {
  // No cgroup limits (a root with no cgroup files): the budgets' own defaults.
  std::string error;
  ASSERT_TRUE(absl::FindCommandLineFlag("cgroup_root")->ParseFrom("/nonexistent-cgroup", &error));
  absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->port, 50051);
  EXPECT_EQ(options->metrics_port, 9090);
  EXPECT_EQ(options->health_port, 0);
  EXPECT_EQ(options->max_streams, 1000);
  EXPECT_EQ(options->max_chain_length, 32);
  EXPECT_EQ(options->max_chunk_bytes, 1048576);
  EXPECT_EQ(options->max_message_bytes, 34603008);
  EXPECT_EQ(options->max_file_bytes, 33554432);
  EXPECT_EQ(options->max_file_seconds, 3600);
  EXPECT_EQ(options->file_workers, 1);
  EXPECT_EQ(options->stream_queue_chunks, 8);
  EXPECT_EQ(options->max_stream_seconds, 14400);
  EXPECT_EQ(options->idle_timeout_seconds, 60);
  EXPECT_EQ(options->drain_seconds, 30);
  EXPECT_TRUE(options->reflection);
  EXPECT_EQ(options->tls.cert, "");
  EXPECT_EQ(options->tls.key, "");
  EXPECT_EQ(options->tls.client_ca, "");
  EXPECT_EQ(options->auth_tokens_file, "");
  EXPECT_EQ(options->keepalive_time_seconds, 60);
  EXPECT_EQ(options->keepalive_timeout_seconds, 20);
  EXPECT_EQ(options->max_connection_age_seconds, 0);
  EXPECT_EQ(options->max_connection_age_grace_seconds, 0);
  EXPECT_EQ(options->memory_budget_bytes, int64_t{1} << 30);
  // An eighth of the budget, and room for two of the largest messages.
  EXPECT_EQ(options->resource_quota_bytes, (int64_t{1} << 30) / 8);
  EXPECT_DOUBLE_EQ(options->cpu_budget, 0.85 * AvailableCpus());
  EXPECT_EQ(options->max_stream_cost, 0.5);
  EXPECT_EQ(options->max_response_bytes, 4194304);
  EXPECT_EQ(options->max_events_per_response, 1024);
  EXPECT_EQ(options->max_file_output_bytes, options->max_message_bytes);
  EXPECT_GE(options->workers, 1);
  EXPECT_GE(options->cq_threads, 1);
}

TEST_F(FlagsTest, EnvironmentVariablesSetFlags) {
  setenv("AUDIOPROC_MAX_STREAMS", "7", 1);
  setenv("AUDIOPROC_REFLECTION", "false", 1);
  ASSERT_TRUE(ApplyEnvironmentToFlags().ok());
  absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->max_streams, 7);
  EXPECT_FALSE(options->reflection);
}

TEST_F(FlagsTest, FileFlagsComeFromTheEnvironmentToo) {
  setenv("AUDIOPROC_FILE_WORKERS", "3", 1);
  setenv("AUDIOPROC_MAX_FILE_SECONDS", "60.5", 1);
  ASSERT_TRUE(ApplyEnvironmentToFlags().ok());
  absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->file_workers, 3);
  EXPECT_EQ(options->max_file_seconds, 60.5);
}

TEST_F(FlagsTest, CommandLineWinsOverEnvironment) {
  setenv("AUDIOPROC_PORT", "6000", 1);
  ASSERT_TRUE(ApplyEnvironmentToFlags().ok());
  const char* argv[] = {"audioproc-server", "--port=7000"};
  absl::ParseCommandLine(2, const_cast<char**>(argv));
  absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->port, 7000);
}

TEST_F(FlagsTest, MalformedEnvironmentValueNamesTheVariable) {
  setenv("AUDIOPROC_MAX_STREAMS", "many", 1);
  EXPECT_THAT(ApplyEnvironmentToFlags(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("AUDIOPROC_MAX_STREAMS")));
}

TEST_F(FlagsTest, OutOfRangeFlagsAreRefusedByName) {
  std::string error;
  ASSERT_TRUE(absl::FindCommandLineFlag("max_streams")->ParseFrom("0", &error));
  EXPECT_THAT(ServerOptionsFromFlags(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_streams")));
}

TEST_F(FlagsTest, OutOfRangeFileFlagsAreRefusedByName) {
  struct Case {
    const char* flag;
    const char* value;
    const char* message;
  };
  for (const Case& c : {Case{"file_workers", "0", "--file_workers"},
                        Case{"max_file_seconds", "0", "--max_file_seconds"},
                        Case{"max_file_bytes", "0", "--max_file_bytes"},
                        Case{"max_file_bytes", "34603009", "--max_message_bytes"}}) {
    absl::FlagSaver saver;
    std::string error;
    ASSERT_TRUE(absl::FindCommandLineFlag(c.flag)->ParseFrom(c.value, &error)) << error;
    EXPECT_THAT(ServerOptionsFromFlags(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.flag << "=" << c.value;
  }
}

TEST_F(FlagsTest, BudgetFlagsThatCannotWorkAreRefusedByName) {
  struct Case {
    std::vector<std::pair<const char*, const char*>> flags;
    const char* message;
  };
  const Case cases[] = {
      // A response of 2 GiB or more cannot be serialized: gRPC would abort the process.
      {{{"max_response_bytes", "2147483647"}}, "--max_response_bytes"},
      {{{"max_file_output_bytes", "3000000000"}}, "--max_file_output_bytes"},
      {{{"max_message_bytes", "2147483000"}, {"max_file_bytes", "1"}}, "--max_message_bytes"},
      {{{"max_response_bytes", "1000"}}, "--max_response_bytes must be at least"},
      // The transport's quota comes out of the budget, and streams need some of it too.
      {{{"memory_budget_bytes", "268435456"}, {"resource_quota_bytes", "268435456"}},
       "--resource_quota_bytes"},
      {{{"max_stream_cost", "0"}}, "--max_stream_cost"},
      {{{"max_events_per_response", "10"}}, "--max_events_per_response"},
      {{{"cpu_budget", "-1"}}, "--cpu_budget"},
  };
  for (const Case& c : cases) {
    absl::FlagSaver saver;
    for (const auto& [flag, value] : c.flags) {
      std::string error;
      ASSERT_TRUE(absl::FindCommandLineFlag(flag)->ParseFrom(value, &error)) << error;
    }
    EXPECT_THAT(ServerOptionsFromFlags(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.message;
  }
}

TEST_F(FlagsTest, BudgetsAreTakenFromTheCgroup) {
  const std::string root = ::testing::TempDir() + "/flags_cgroup";
  std::filesystem::create_directories(root);
  std::ofstream(root + "/memory.max") << "1073741824\n";  // a 1 GiB pod
  std::ofstream(root + "/cpu.max") << "150000 100000\n";  // 1.5 cores
  std::string error;
  ASSERT_TRUE(absl::FindCommandLineFlag("cgroup_root")->ParseFrom(root, &error));
  absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->memory_budget_bytes, 805306368);  // 75%
  EXPECT_EQ(options->resource_quota_bytes, 805306368 / 8);
  EXPECT_DOUBLE_EQ(options->cpu_budget, 0.85 * std::min(1.5, double(AvailableCpus())));
  // A flag given wins over the cgroup.
  ASSERT_TRUE(absl::FindCommandLineFlag("memory_budget_bytes")->ParseFrom("268435456", &error));
  options = ServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->memory_budget_bytes, 268435456);
  EXPECT_EQ(options->resource_quota_bytes, 2 * 34603008);  // two ProcessFile requests
}

TEST_F(FlagsTest, WorkersAndCompletionQueuesFollowTheCgroupsCpuQuota) {
  const std::string root = ::testing::TempDir() + "/flags_cgroup_cpu";
  std::filesystem::create_directories(root);
  std::string error;
  ASSERT_TRUE(absl::FindCommandLineFlag("cgroup_root")->ParseFrom(root, &error));
  // A pod limited to 1.5 cores gets 2 threads of each kind (or fewer usable CPUs); one
  // limited to half a core gets 1; without a quota, every usable CPU.
  for (const auto& [quota, want] :
       {std::pair{"150000 100000", std::min(2, AvailableCpus())}, std::pair{"50000 100000", 1},
        std::pair{"max 100000", AvailableCpus()}}) {
    std::ofstream(root + "/cpu.max", std::ios::trunc) << quota << "\n";
    absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->workers, want) << quota;
    EXPECT_EQ(options->cq_threads, want) << quota;
  }
  // Flags given win.
  ASSERT_TRUE(absl::FindCommandLineFlag("workers")->ParseFrom("3", &error));
  ASSERT_TRUE(absl::FindCommandLineFlag("cq_threads")->ParseFrom("5", &error));
  absl::StatusOr<ServerOptions> options = ServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->workers, 3);
  EXPECT_EQ(options->cq_threads, 5);
}

}  // namespace
}  // namespace audioproc
