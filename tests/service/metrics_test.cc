// /metrics serves every metric of DESIGN §7 with help text, and counts what streams did.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/metrics_scrape.h"

namespace audioproc {
namespace {

using testing::ChunkRequest;
using testing::ConfigRequest;
using testing::Exchange;
using ::testing::HasSubstr;
using testing::MakeConfig;
using testing::ScrapeMetrics;

class MetricsTest : public testing::InProcessServerTest {
 protected:
  MetricsTest() { options_.metrics_port = 0; }
};

TEST_F(MetricsTest, ExposesEveryMetricWithHelpAndCountsStreamsChunksAndRejections) {
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":-3}}])"))};
  for (int i = 0; i < 5; ++i) requests.push_back(ChunkRequest(std::string(640, '\x10')));
  ASSERT_TRUE(Exchange(*stub_, requests).status.ok());
  Exchange(*stub_, {ChunkRequest("x")});  // INVALID_ARGUMENT: not a config
  Exchange(*stub_,
           {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":99}}])"))});

  // A stream is counted as ended when its call object goes away, just after the client has
  // its status: wait for all of them (with a deadline) rather than assume it. A stream refused at
  // its config is never active, so the active gauge's 0 does not say it has been counted (a
  // sanitizer build scraped between the two).
  std::string text;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  const auto counted = [&text] {
    for (const char* ended :
         {"audioproc_streams_active 0", "audioproc_streams_total{code=\"OK\"} 1",
          "audioproc_streams_total{code=\"INVALID_ARGUMENT\"} 2",
          "grpc_server_handled_total{grpc_code=\"INVALID_ARGUMENT\",grpc_method=\"Process\","
          "grpc_service=\"audioproc.v1.AudioProcessor\",grpc_type=\"bidi_stream\"} 2"}) {
      if (text.find(ended) == std::string::npos) return false;
    }
    return true;
  };
  do {
    text = ScrapeMetrics(server_->metrics_port());
  } while (!counted() && absl::Now() < deadline);
  ASSERT_THAT(text, HasSubstr("200 OK"));
  for (const char* name :
       {"audioproc_streams_active", "audioproc_streams_total", "audioproc_chunks_total",
        "audioproc_audio_seconds_total", "audioproc_bytes_total", "audioproc_processor_seconds",
        "audioproc_queue_wait_seconds", "audioproc_chunk_latency_seconds",
        "audioproc_executor_queue_depth", "audioproc_rejections_total"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("# HELP ", name, " "))) << name;
  }
  EXPECT_THAT(text, HasSubstr("audioproc_chunks_total 5"));
  EXPECT_THAT(text, HasSubstr("audioproc_audio_seconds_total 0.1"));
  EXPECT_THAT(text, HasSubstr("audioproc_bytes_total{direction=\"in\"} 3200"));
  EXPECT_THAT(text, HasSubstr("audioproc_streams_total{code=\"OK\"} 1"));
  EXPECT_THAT(text, HasSubstr("audioproc_streams_total{code=\"INVALID_ARGUMENT\"} 2"));
  EXPECT_THAT(text, HasSubstr("audioproc_rejections_total{reason=\"invalid_config\"} 1"));
  EXPECT_THAT(text, HasSubstr("audioproc_processor_seconds_count{processor=\"gain\"} 5"));
  EXPECT_THAT(text, HasSubstr("audioproc_streams_active 0"));
  // Series exist before their first event, so rate() sees the first one.
  EXPECT_THAT(text, HasSubstr("audioproc_streams_total{code=\"DATA_LOSS\"} 0"));
  EXPECT_THAT(text, HasSubstr("audioproc_files_total{code=\"OK\"} 0"));
  EXPECT_THAT(text, HasSubstr("audioproc_rejections_total{reason=\"max_streams\"} 0"));
  // The build, the limits the alerts divide by, and a bucket at the 20 ms objective.
  EXPECT_THAT(text,
              ::testing::ContainsRegex("audioproc_build_info\\{.*version=\"[0-9.]+\".*\\} 1"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("audioproc_limit{flag=\"max_streams\"} ",
                                           options_.max_streams)));
  EXPECT_THAT(text, HasSubstr("audioproc_limit{flag=\"workers\"} "));
  EXPECT_THAT(text, HasSubstr("audioproc_chunk_latency_seconds_bucket{le=\"0.02\"}"));
  // gRPC's per-method counters as go-grpc-prometheus names them: three Process calls, one OK
  // and two INVALID_ARGUMENT.
  EXPECT_THAT(text,
              ::testing::ContainsRegex(
                  "grpc_server_started_total\\{grpc_method=\"Process\",grpc_service=\"audioproc."
                  "v1.AudioProcessor\",grpc_type=\"bidi_stream\"\\} 3"));
  EXPECT_THAT(text, ::testing::ContainsRegex(
                        "grpc_server_handled_total\\{grpc_code=\"INVALID_ARGUMENT\",grpc_method=\""
                        "Process\",grpc_service=\"audioproc.v1.AudioProcessor\",grpc_type=\"bidi_"
                        "stream\"\\} 2"));
}

// Prometheus' standard process metrics, read from /proc at the scrape: this process's.
TEST_F(MetricsTest, ExposesTheProcessMetrics) {
  const std::string text = ScrapeMetrics(server_->metrics_port());
  for (const char* name : {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                           "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                           "process_threads", "process_start_time_seconds"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("# HELP ", name, " "))) << name;
  }
  const std::optional<double> resident =
      testing::MetricValue(text, "process_resident_memory_bytes");
  ASSERT_TRUE(resident.has_value());
  EXPECT_GT(*resident, 1 << 20);
  const std::optional<double> fds = testing::MetricValue(text, "process_open_fds");
  ASSERT_TRUE(fds.has_value());
  EXPECT_GE(*fds, 3);  // stdin, stdout, stderr at least, and the server's sockets
  const std::optional<double> started = testing::MetricValue(text, "process_start_time_seconds");
  ASSERT_TRUE(started.has_value());
  // This test process started within the last hour (and not in the future).
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_LE(*started, now + 1);
  EXPECT_GT(*started, now - 3600);
  const std::optional<double> threads = testing::MetricValue(text, "process_threads");
  ASSERT_TRUE(threads.has_value());
  EXPECT_GE(*threads, options_.workers + options_.cq_threads);
}

}  // namespace
}  // namespace audioproc
