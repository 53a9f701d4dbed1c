// audioproc-loadgen: opens many concurrent Process streams of a DESIGN.md section 8 workload
// to an audioproc server and reports throughput, added latency per chunk, errors and whether
// every chunk was answered, as one JSON object (bench/run_bench.py reads it) and a summary on
// stderr.
//
//   audioproc-loadgen --addr=127.0.0.1:50051 --workload=voice --streams=200
//       --duration_s=20 --server_pid=$(pidof audioproc-server)      (one line)
//
// Exits 0 when the run took place (failed streams are in the report), 1 if it could not.
#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "bench/load_generator.h"
#include "bench/workload.h"
#include "common/command_line.h"

ABSL_FLAG(std::string, addr, "localhost:50051", "Server address, host:port.");
ABSL_FLAG(std::string, workload, "voice",
          "null (16 kHz mono s16, empty chain), light (16 kHz mono s16: highpass, gain, "
          "limiter), voice (16 kHz mono s16: highpass, denoise, compressor, loudness, "
          "limiter) or music (48 kHz stereo f32: eq, compressor, "
          "limiter, resample to 44.1 kHz).");
ABSL_FLAG(std::string, chain, "",
          "Replaces the workload's chain (one-line or JSON form, as audioproc-client takes).");
ABSL_FLAG(int, streams, 1, "Concurrent Process streams.");
ABSL_FLAG(bool, paced, true,
          "Send chunk i of a stream at its start + i x chunk duration, as a live source does; "
          "--nopaced sends each chunk as soon as the previous write completes.");
ABSL_FLAG(int, max_in_flight, 16,
          "Unpaced: chunks a stream may have sent and not yet answered (0 = no limit).");
ABSL_FLAG(uint32_t, chunk_ms, 20, "Milliseconds of audio per chunk.");
ABSL_FLAG(double, duration_s, 10, "Seconds of load after the ramp, warmup included.");
ABSL_FLAG(double, warmup_s, 2, "Seconds after the ramp that are not measured.");
ABSL_FLAG(double, ramp_s, 1, "Stream starts are spread over this many seconds.");
ABSL_FLAG(int, threads, 2, "Polling threads, one gRPC completion queue each.");
ABSL_FLAG(int, connections, 4, "HTTP/2 connections the streams are spread over.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the streams' phases and audio offsets.");
ABSL_FLAG(double, drain_timeout_s, 30,
          "Calls still running this long after the load stops end DEADLINE_EXCEEDED.");
ABSL_FLAG(int, server_pid, 0,
          "The server's process id (same machine): its CPU time and resident memory over the "
          "measurement window go into the report.");
ABSL_FLAG(std::string, json_out, "", "Write the JSON report here instead of stdout.");

namespace audioproc::bench {
namespace {

std::string Ms(double micros) { return absl::StrFormat("%.3f", micros / 1000.0); }

std::string HistogramJson(const LatencyHistogram& h) {
  return absl::StrCat("{\"count\":", h.count(), ",\"mean\":", Ms(h.mean()),
                      ",\"p50\":", Ms(h.Quantile(0.5)), ",\"p90\":", Ms(h.Quantile(0.9)),
                      ",\"p99\":", Ms(h.Quantile(0.99)), ",\"p999\":", Ms(h.Quantile(0.999)),
                      ",\"max\":", Ms(static_cast<double>(h.max())), "}");
}

std::string UsageJson(const WindowUsage& usage, double window_seconds) {
  return absl::StrFormat(
      "{\"cpu_seconds\":%.3f,\"cpu_cores\":%.4f,\"rss_kib_start\":%d,\"rss_kib_end\":%d,"
      "\"rss_kib_max\":%d}",
      usage.cpu_seconds, usage.cpu_seconds / window_seconds, usage.rss_kib_start, usage.rss_kib_end,
      usage.rss_kib_max);
}

// A JSON string literal; the texts quoted here are status messages and names.
std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string ReportJson(const LoadOptions& options, const Workload& workload,
                       const LoadReport& report) {
  const double chunks_per_s = static_cast<double>(report.window_responses) / report.window_seconds;
  std::string errors = "{";
  for (const auto& [code, count] : report.errors) {
    absl::StrAppend(&errors, errors.size() > 1 ? "," : "", Quote(code), ":", count);
  }
  errors += "}";
  std::string json = absl::StrCat(
      "{\"workload\":", Quote(workload.name), ",\"address\":", Quote(options.address),
      ",\"streams\":", options.streams, ",\"paced\":", options.paced ? "true" : "false",
      ",\"chunk_ms\":", workload.chunk_seconds * 1000, ",\"chunk_bytes\":", workload.chunk_bytes,
      ",\"threads\":", options.threads,
      ",\"max_in_flight\":", options.paced ? 0 : options.max_in_flight,
      ",\"connections\":", options.connections, ",\"ramp_s\":", absl::ToDoubleSeconds(options.ramp),
      ",\"warmup_s\":", absl::ToDoubleSeconds(options.warmup),
      ",\"duration_s\":", absl::ToDoubleSeconds(options.duration),
      ",\"window_s\":", report.window_seconds, ",\"streams_ok\":", report.streams_ok,
      ",\"streams_failed\":", report.streams_failed,
      ",\"streams_refused\":", report.streams_refused, ",\"errors\":", errors,
      ",\"first_error\":", Quote(report.first_error),
      ",\"protocol_errors\":", report.protocol_errors, ",\"chunks_sent\":", report.chunks_sent,
      ",\"chunks_answered\":", report.chunks_answered,
      ",\"all_answered\":", report.all_answered ? "true" : "false");
  absl::StrAppend(
      &json, ",\"chunks_per_s\":", absl::StrFormat("%.1f", chunks_per_s),
      ",\"audio_s_per_s\":", absl::StrFormat("%.2f", chunks_per_s * workload.chunk_seconds),
      ",\"latency_ms\":", HistogramJson(report.latency),
      ",\"send_lag_ms\":", HistogramJson(report.send_lag),
      ",\"server_queue_wait_ms\":", HistogramJson(report.queue_wait),
      ",\"server_process_ms\":", HistogramJson(report.process),
      ",\"ready_ms\":", HistogramJson(report.ready));
  if (report.server) {
    absl::StrAppend(&json, ",\"server\":", UsageJson(*report.server, report.window_seconds));
  }
  absl::StrAppend(&json, ",\"loadgen\":", UsageJson(report.loadgen, report.window_seconds));
  // What the rest of the machine (other builds and tests) took while we measured.
  const double others = report.machine_busy_seconds - report.loadgen.cpu_seconds -
                        (report.server ? report.server->cpu_seconds : 0);
  absl::StrAppend(&json, ",\"machine\":",
                  absl::StrFormat("{\"busy_cores\":%.3f,\"other_cores\":%.3f}",
                                  report.machine_busy_seconds / report.window_seconds,
                                  std::max(0.0, others) / report.window_seconds),
                  "}");
  return json;
}

int Main() {
  absl::StatusOr<Workload> workload = MakeWorkload(
      absl::GetFlag(FLAGS_workload), absl::GetFlag(FLAGS_chunk_ms), absl::GetFlag(FLAGS_chain));
  if (!workload.ok()) {
    std::fprintf(stderr, "audioproc-loadgen: %s\n", workload.status().ToString().c_str());
    return 1;
  }
  LoadOptions options;
  options.address = absl::GetFlag(FLAGS_addr);
  options.streams = absl::GetFlag(FLAGS_streams);
  options.paced = absl::GetFlag(FLAGS_paced);
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_s));
  options.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_s));
  options.ramp = absl::Seconds(absl::GetFlag(FLAGS_ramp_s));
  options.threads = absl::GetFlag(FLAGS_threads);
  options.connections = absl::GetFlag(FLAGS_connections);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.drain_timeout = absl::Seconds(absl::GetFlag(FLAGS_drain_timeout_s));
  options.server_pid = absl::GetFlag(FLAGS_server_pid);
  absl::StatusOr<LoadReport> report = RunLoad(options, *workload);
  if (!report.ok()) {
    std::fprintf(stderr, "audioproc-loadgen: %s\n", report.status().ToString().c_str());
    return 1;
  }
  const std::string json = ReportJson(options, *workload, *report);
  const std::string path = absl::GetFlag(FLAGS_json_out);
  if (path.empty()) {
    std::printf("%s\n", json.c_str());
  } else if (std::FILE* out = std::fopen(path.c_str(), "w"); out != nullptr) {
    std::fprintf(out, "%s\n", json.c_str());
    std::fclose(out);
  } else {
    std::fprintf(stderr, "audioproc-loadgen: cannot write %s\n", path.c_str());
    return 1;
  }
  std::fprintf(
      stderr,
      "%s x%d %s: %.1f chunks/s (%.1f x real time), latency p50 %s p99 %s p99.9 %s "
      "ms, %d ok, %d failed%s%s\n",
      workload->name.c_str(), options.streams, options.paced ? "paced" : "unpaced",
      static_cast<double>(report->window_responses) / report->window_seconds,
      static_cast<double>(report->window_responses) / report->window_seconds *
          workload->chunk_seconds,
      Ms(report->latency.Quantile(0.5)).c_str(), Ms(report->latency.Quantile(0.99)).c_str(),
      Ms(report->latency.Quantile(0.999)).c_str(), report->streams_ok, report->streams_failed,
      report->first_error.empty() ? "" : ": ", report->first_error.c_str());
  return 0;
}

}  // namespace
}  // namespace audioproc::bench

int main(int argc, char** argv) {
  // As the server does: Abseil's deadlock detection (on in Debian's build) costs CPU the
  // measurement would otherwise have.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  audioproc::SetUpCommandLine(
      "audioproc-loadgen",
      "Load generator for audioproc-server: concurrent Process streams of a workload, "
      "paced or unpaced; prints a JSON report.");
  absl::ParseCommandLine(argc, argv);
  return audioproc::bench::Main();
}
