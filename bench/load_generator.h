// RunLoad: the engine of audioproc-loadgen. Opens `streams` concurrent Process calls of one
// workload to a server, over `connections` HTTP/2 connections, driven by `threads` polling
// threads (one gRPC CompletionQueue each, gRPC's asynchronous client API), so that hundreds of
// streams cost a few threads and little CPU beside the server on the same machine.
//
// Timeline: streams start spread evenly over `ramp` (each with a seeded random phase within
// one chunk); the measurement window runs from ramp + warmup to ramp + duration; then every
// stream half-closes and its call is read to the end.
//
//   LoadOptions options;
//   options.address = "127.0.0.1:50051";
//   options.streams = 200;
//   ASSIGN_OR_RETURN(Workload voice, MakeWorkload("voice", 20));
//   ASSIGN_OR_RETURN(LoadReport report, RunLoad(options, voice));
//
// Thread safety: RunLoad may be called from any thread; it blocks for the whole run.
#ifndef AUDIOPROC_BENCH_LOAD_GENERATOR_H_
#define AUDIOPROC_BENCH_LOAD_GENERATOR_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/latency_histogram.h"
#include "bench/workload.h"
#include "procfs/proc_stats.h"

namespace audioproc::bench {

struct LoadOptions {
  std::string address = "localhost:50051";
  int streams = 1;
  // Paced: chunk i of a stream is due at its start + i x chunk duration, as from a live
  // source. Unpaced: each chunk goes as soon as the previous write completes.
  bool paced = true;
  absl::Duration ramp = absl::Seconds(1);
  absl::Duration warmup = absl::Seconds(2);     // after the ramp, not measured
  absl::Duration duration = absl::Seconds(10);  // after the ramp, warmup included
  int threads = 2;
  int connections = 4;
  uint64_t seed = 1;
  // Unpaced: chunks a stream may have unanswered (0: no limit, which queues seconds of audio
  // in HTTP/2 buffers since gRPC completes writes once the transport has them).
  int max_in_flight = 16;
  // Paced chunks may go out this early; absorbs gRPC's millisecond poll timeouts.
  absl::Duration early = absl::Milliseconds(1);
  // Calls still running this long after the stop end DEADLINE_EXCEEDED.
  absl::Duration drain_timeout = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(10);
  // Non-zero: the server's process, whose CPU time and resident memory are sampled over the
  // measurement window (it must run on this machine).
  pid_t server_pid = 0;
};

// Usage of a process over the measurement window.
struct WindowUsage {
  double cpu_seconds = 0;  // user + system spent in the window
  int64_t rss_kib_start = 0;
  int64_t rss_kib_end = 0;
  int64_t rss_kib_max = 0;  // of samples once a second
};

struct LoadReport {
  int streams_ok = 0;      // status OK, every chunk answered, messages in order
  int streams_failed = 0;  // any other outcome
  // Of the failed: refused RESOURCE_EXHAUSTED before `ready` (the server's budgets were full).
  int streams_refused = 0;
  std::map<std::string, int> errors;  // status code name -> streams ending with it (not OK)
  std::string first_error;            // one failure, for people to read
  int protocol_errors = 0;            // streams whose messages broke DESIGN.md section 3
  uint64_t chunks_sent = 0;
  uint64_t chunks_answered = 0;
  // Every stream OK and every chunk sent answered.
  bool all_answered = false;

  double window_seconds = 0;
  uint64_t window_responses = 0;  // chunk responses received inside the window

  LatencyHistogram latency;     // added latency per chunk in the window, us
  LatencyHistogram send_lag;    // paced: how late chunks went out, us
  LatencyHistogram queue_wait;  // server-reported executor queue wait, us
  LatencyHistogram process;     // server-reported DSP time per chunk, us
  LatencyHistogram ready;       // call start to StreamReady, us

  std::optional<WindowUsage> server;  // when LoadOptions::server_pid is set
  WindowUsage loadgen;
  // CPU seconds the whole machine was busy in the window (all processes, all cores).
  double machine_busy_seconds = 0;
};

// Runs the load. INVALID_ARGUMENT for unusable options; UNAVAILABLE if a connection cannot be
// made in connect_timeout. Failed streams do not fail the run: they are in the report. Starts
// `threads` threads and blocks until every call has ended.
absl::StatusOr<LoadReport> RunLoad(const LoadOptions& options, const Workload& workload);

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_LOAD_GENERATOR_H_
