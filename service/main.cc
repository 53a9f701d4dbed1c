// audioproc-server: real-time audio processing over gRPC. See README.md and DESIGN.md.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/command_line.h"
#include "service/flags.h"
#include "service/logging.h"
#include "service/server.h"

namespace {

int Fail(const absl::Status& status, int code) {
  audioproc::LogLine(audioproc::LogLevel::kError, "server_error").Add("message", status.ToString());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so by default every absl::Mutex acquisition also
  // maintains a process-wide lock-order graph (deadlock detection) under a global lock: a
  // measurable share of the server's CPU under load. Tests keep the detection on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  audioproc::SetUpCommandLine(
      "audioproc-server",
      "Real-time audio processing over gRPC. Every flag is also an environment variable "
      "AUDIOPROC_<FLAG> (the command line wins).");
  if (absl::Status status = audioproc::ApplyEnvironmentToFlags(); !status.ok()) {
    std::fprintf(stderr, "audioproc-server: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<audioproc::LogOptions> log_options = audioproc::LogOptionsFromFlags();
  if (!log_options.ok()) {
    std::fprintf(stderr, "audioproc-server: %s\n",
                 std::string(log_options.status().message()).c_str());
    return 2;
  }
  audioproc::InitLogging(*log_options);
  absl::StatusOr<audioproc::ServerOptions> options = audioproc::ServerOptionsFromFlags();
  if (!options.ok()) return Fail(options.status(), 2);

  // Signals are taken by sigwait on this thread only: block them before any thread starts so
  // that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  audioproc::AudioprocServer server(*options);
  if (absl::Status status = server.Start(); !status.ok()) return Fail(status, 1);
  audioproc::LogLine(audioproc::LogLevel::kInfo, "server_start")
      .Add("grpc_port", server.grpc_port())
      .Add("metrics_port", server.metrics_port())
      .Add("workers", options->workers)
      .Add("cq_threads", options->cq_threads)
      .Add("max_streams", options->max_streams);

  std::atomic<bool> drained{false};
  std::thread drainer;
  const timespec poll{0, 200 * 1000 * 1000};
  while (!drained) {
    const int signal = sigtimedwait(&signals, nullptr, &poll);
    if (signal < 0) continue;  // timeout or EINTR
    if (!drainer.joinable()) {
      audioproc::LogLine(audioproc::LogLevel::kInfo, "signal")
          .Add("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT")
          .Add("action", "drain");
      drainer = std::thread([&] {
        server.Drain();
        drained = true;
      });
    } else {
      audioproc::LogLine(audioproc::LogLevel::kInfo, "signal")
          .Add("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT")
          .Add("action", "stop now");
      server.Hurry();
    }
  }
  drainer.join();
  // A LogLine writes its line when it is destroyed: a temporary is the whole statement.
  audioproc::LogLine(audioproc::LogLevel::kInfo, "server_stop");  // NOLINT(bugprone-unused-raii)
  return 0;
}
