// AudioprocServer: the audioproc gRPC server: AudioProcessor on the asynchronous
// completion-queue API (several queues, one polling thread each), the DSP executor, the
// ProcessFile pool, health, reflection, and the Prometheus exposer.
//
//   AudioprocServer server(options);
//   RETURN_IF_ERROR(server.Start());   // binds; writes --port_file
//   ...                                // SIGTERM:
//   server.Drain();                    // NOT_SERVING, streams finish or end UNAVAILABLE, stop
//
// Thread safety: Start, Drain and Shutdown are called from one controlling thread; Hurry may
// be called from any thread while Drain runs.
#ifndef AUDIOPROC_SERVICE_SERVER_H_
#define AUDIOPROC_SERVICE_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "chain/registry.h"
#include "service/auth_tokens.h"
#include "service/executor.h"
#include "service/health_calls.h"
#include "service/health_status.h"
#include "service/metrics.h"
#include "service/reflection_service.h"
#include "service/resume_keys.h"
#include "service/server_options.h"
#include "service/server_state.h"
#include "service/tls_credentials.h"

namespace audioproc {

class AudioprocServer {
 public:
  explicit AudioprocServer(ServerOptions options,
                           const ProcessorRegistry& registry = ProcessorRegistry::Default());
  // Shuts down at once if still running.
  ~AudioprocServer();
  AudioprocServer(const AudioprocServer&) = delete;
  AudioprocServer& operator=(const AudioprocServer&) = delete;

  // Binds every listener, starts the threads, marks health SERVING and writes --port_file.
  absl::Status Start();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // The plaintext health-only port (0 when off).
  int health_port() const { return health_port_; }
  ServerState& state() { return *state_; }
  // The options in force (after Start: resolved).
  const ServerOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }
  // The streams' DSP pool and ProcessFile's own (--file_workers). Valid while running.
  Executor& executor() { return *executor_; }
  Executor& file_executor() { return *file_executor_; }

  // The drain of DESIGN §5: every health status turns NOT_SERVING and new Process and
  // ProcessFile calls are refused UNAVAILABLE while the listeners stay up; running streams
  // and files go on until they finish or --drain_seconds pass, then the rest end UNAVAILABLE
  // (accepted chunks answered first); then Shutdown. Blocks until done.
  void Drain();
  // Makes a running (or later) Drain stop waiting for streams (a second signal).
  void Hurry() { hurry_ = true; }
  // Stops gRPC, drains the completion queues and joins every thread. Blocks.
  void Shutdown();

 private:
  void PollQueue(grpc::ServerCompletionQueue* cq);
  // The channel arguments every listener shares (keepalive, connection age, reuse-port).
  void ApplyConnectionOptions(grpc::ServerBuilder& builder) const;
  absl::Status StartHealthServer();
  void StopHealthServer();
  void SetServing(bool serving);
  absl::Status WritePortFile() const;

  // As given, then resolved by Start (budgets from the cgroup and the like).
  ServerOptions options_;
  const ProcessorRegistry& registry_;
  Metrics metrics_;
  v1::AudioProcessor::AsyncService service_;
  std::unique_ptr<ResourceBudget> budget_;
  std::unique_ptr<TransportQuota> transport_;
  // Holds the transport quota's base (--resource_quota_bytes) out of the memory budget.
  ResourceBudget::Reservation transport_base_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Executor> config_executor_;
  std::unique_ptr<Executor> file_executor_;
  std::unique_ptr<ServerState> state_;
  // Before server_, so that it outlives gRPC's use of the files it serves.
  std::unique_ptr<TlsCredentials> tls_;
  // Registered with server_ when --reflection; it outlives it.
  std::unique_ptr<ReflectionService> reflection_;
  // grpc.health.v1.Health on both servers; before them, so that it outlives their calls.
  HealthStatus health_status_;
  HealthService health_service_;
  HealthService health_port_service_;
  std::unique_ptr<grpc::Server> server_;
  // Serves only grpc.health.v1.Health, in plaintext, on --health_port: kubelet's gRPC probes
  // carry no client certificate.
  std::unique_ptr<grpc::Server> health_server_;
  std::unique_ptr<grpc::ServerCompletionQueue> health_queue_;
  std::thread health_queue_thread_;
  std::unique_ptr<AuthTokens> auth_tokens_;
  std::unique_ptr<AuthTokens> admin_tokens_;
  std::unique_ptr<ResumeKeys> resume_keys_;
  v1::Admin::AsyncService admin_service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> queue_threads_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int health_port_ = 0;
  std::atomic<bool> hurry_{false};
  bool running_ = false;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_SERVER_H_
