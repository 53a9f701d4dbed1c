#include "bench/load_generator.h"

#include <algorithm>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/load_stream.h"
#include "grpcpp/grpcpp.h"

namespace audioproc::bench {
namespace {

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "UNKNOWN";
}

int64_t Nanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

// Sleeps until NowNs() reaches `when`.
void SleepUntil(int64_t when) {
  const int64_t left = when - NowNs();
  if (left > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(left));
}

// Samples a process's usage over [start, end] (NowNs() times): at both ends and once a second
// in between, for the largest resident size.
class UsageSampler {
 public:
  explicit UsageSampler(pid_t pid) : pid_(pid) {}
  void Sample(bool first) {
    absl::StatusOr<ProcessUsage> usage = ReadProcessUsage(pid_);
    if (!usage.ok()) return;  // the process is gone: its last sample stands
    if (first) {
      cpu_start_ = usage->cpu_seconds;
      window_.rss_kib_start = usage->rss_kib;
    }
    window_.cpu_seconds = usage->cpu_seconds - cpu_start_;
    window_.rss_kib_end = usage->rss_kib;
    window_.rss_kib_max = std::max(window_.rss_kib_max, usage->rss_kib);
  }
  const WindowUsage& window() const { return window_; }

 private:
  pid_t pid_;
  double cpu_start_ = 0;
  WindowUsage window_;
};

absl::Status CheckOptions(const LoadOptions& options) {
  if (options.streams < 1) return absl::InvalidArgumentError("streams must be at least 1");
  if (options.threads < 1) return absl::InvalidArgumentError("threads must be at least 1");
  if (options.connections < 1) return absl::InvalidArgumentError("connections must be at least 1");
  if (options.max_in_flight < 0) return absl::InvalidArgumentError("max_in_flight must be >= 0");
  if (options.ramp < absl::ZeroDuration() || options.warmup < absl::ZeroDuration() ||
      options.early < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ramp, warmup and early must not be negative");
  }
  if (options.duration <= options.warmup) {
    return absl::InvalidArgumentError("duration must be longer than warmup");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoadReport> RunLoad(const LoadOptions& options, const Workload& workload) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;

  // Separate connections: a local subchannel pool and a distinct argument per channel keep
  // gRPC from sharing one connection among channels to the same address.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::AudioProcessor::Stub>> stubs;
  const int64_t connect_by = NowNs() + Nanos(options.connect_timeout);
  for (int i = 0; i < options.connections; ++i) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(-1);
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    arguments.SetInt("audioproc.loadgen.connection", i);
    channels.push_back(
        grpc::CreateCustomChannel(options.address, grpc::InsecureChannelCredentials(), arguments));
    const auto deadline =
        std::chrono::system_clock::now() + std::chrono::nanoseconds(connect_by - NowNs());
    if (!channels.back()->WaitForConnected(deadline)) {
      return absl::UnavailableError(absl::StrCat("could not connect to ", options.address, " in ",
                                                 absl::FormatDuration(options.connect_timeout)));
    }
    stubs.push_back(v1::AudioProcessor::NewStub(channels.back()));
  }

  Schedule schedule;
  schedule.paced = options.paced;
  schedule.chunk_ns = static_cast<int64_t>(workload.chunk_seconds * 1e9);
  schedule.early_ns = Nanos(options.early);
  schedule.max_in_flight = static_cast<size_t>(options.max_in_flight);
  schedule.deadline_ns = Nanos(options.drain_timeout);
  const int64_t t0 = NowNs() + 50'000'000;  // time for the threads to start
  schedule.measure_from = t0 + Nanos(options.ramp + options.warmup);
  schedule.stop = t0 + Nanos(options.ramp + options.duration);

  std::vector<std::unique_ptr<LoadWorker>> workers;
  for (int i = 0; i < options.threads; ++i) workers.push_back(std::make_unique<LoadWorker>());
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<int64_t> phase(0, schedule.chunk_ns - 1);
  const size_t audio_chunks = workload.audio.size() / workload.chunk_bytes;
  std::uniform_int_distribution<size_t> first_chunk(0, audio_chunks - 1);
  std::vector<std::unique_ptr<LoadStream>> streams;
  for (int k = 0; k < options.streams; ++k) {
    const int64_t start = t0 + Nanos(options.ramp) * k / options.streams + phase(rng);
    streams.push_back(std::make_unique<LoadStream>(
        workers[k % options.threads].get(), stubs[k % options.connections].get(), &workload,
        &schedule, start, first_chunk(rng) * workload.chunk_bytes));
  }

  std::vector<std::thread> threads;
  for (auto& worker : workers) threads.emplace_back([w = worker.get()] { w->Run(); });

  std::optional<UsageSampler> server_usage;
  if (options.server_pid != 0) server_usage.emplace(options.server_pid);
  UsageSampler own_usage(0);
  SleepUntil(schedule.measure_from);
  const absl::StatusOr<double> busy_start = ReadMachineBusySeconds();
  for (bool first = true;; first = false) {
    if (server_usage) server_usage->Sample(first);
    own_usage.Sample(first);
    if (NowNs() >= schedule.stop) break;
    SleepUntil(std::min(schedule.stop, NowNs() + 1'000'000'000));
  }
  const absl::StatusOr<double> busy_end = ReadMachineBusySeconds();
  for (std::thread& thread : threads) thread.join();
  for (auto& worker : workers) {
    worker->cq.Shutdown();
    void* tag;
    bool ok;
    while (worker->cq.Next(&tag, &ok)) {
    }
  }

  LoadReport report;
  report.window_seconds = static_cast<double>(schedule.stop - schedule.measure_from) / 1e9;
  for (auto& worker : workers) {
    report.latency.Merge(worker->latency);
    report.send_lag.Merge(worker->send_lag);
    report.queue_wait.Merge(worker->queue_wait);
    report.process.Merge(worker->process);
    report.ready.Merge(worker->ready);
    report.window_responses += worker->window_responses;
  }
  for (const auto& stream : streams) {
    report.chunks_sent += stream->chunks_sent();
    report.chunks_answered += stream->chunks_answered();
    const grpc::Status& status = stream->status();
    if (!stream->protocol_error().empty()) ++report.protocol_errors;
    const bool ok = status.ok() && stream->protocol_error().empty() && stream->complete() &&
                    stream->chunks_answered() == stream->chunks_sent();
    ok ? ++report.streams_ok : ++report.streams_failed;
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && !stream->got_ready()) {
      ++report.streams_refused;
    }
    if (!status.ok()) ++report.errors[CodeName(status.error_code())];
    if (!ok && report.first_error.empty()) {
      report.first_error =
          status.ok() ? stream->protocol_error()
                      : absl::StrCat(CodeName(status.error_code()), ": ", status.error_message());
    }
  }
  report.all_answered = report.streams_failed == 0;
  if (server_usage) report.server = server_usage->window();
  report.loadgen = own_usage.window();
  if (busy_start.ok() && busy_end.ok()) report.machine_busy_seconds = *busy_end - *busy_start;
  return report;
}

}  // namespace audioproc::bench
