// ServerState: what every call object of one server shares: options, the processor registry,
// the executors (streams', configurations' and files'), metrics, the resource budget,
// admission (--max_streams), the ProcessFile calls in flight, and the drain switch; and the
// server's side of what each stream's StreamSession uses (session_deps()), so that a session
// sees only that.
// Thread safety: thread-safe; counters are guarded by mu_ or atomic. Lock order: mu_ before
// any call object's own lock (AbortAll holds it while it reaches each call), and before the
// budget's.
#ifndef AUDIOPROC_SERVICE_SERVER_STATE_H_
#define AUDIOPROC_SERVICE_SERVER_STATE_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "chain/registry.h"
#include "service/auth_tokens.h"
#include "service/executor.h"
#include "service/metrics.h"
#include "service/resource_budget.h"
#include "service/resume_keys.h"
#include "service/server_options.h"
#include "service/session_services.h"
#include "service/stream_session.h"
#include "service/transport_quota.h"
#include "service/watch_places.h"

namespace audioproc {

// The part of a live stream (or ProcessFile call) the server may need to reach from outside
// its call object.
class StreamHandle {
 public:
  virtual ~StreamHandle() = default;
  // Ends the stream with `status` once the chunks it has accepted are answered.
  virtual void Abort(const absl::Status& status) = 0;
  // The server starts draining: a resumable stream sends a checkpoint after the chunk in
  // hand and ends UNAVAILABLE (its client resumes elsewhere at once); others go on.
  virtual void CheckpointAndLeave() {}
  // What Admin.ListStreams says of it (Process streams; a file says nothing). Called under
  // the state's lock, from any thread.
  virtual void Describe(v1::StreamInfo* /*info*/) const {}
};

class ServerState {
 public:
  // The executors and the budget must outlive the state.
  struct Pools {
    Executor& streams;
    Executor& configs;
    Executor& files;
  };
  ServerState(const ServerOptions& options, const ProcessorRegistry& registry, Pools pools,
              ResourceBudget& budget, TransportQuota& transport, Metrics& metrics,
              v1::AudioProcessor::AsyncService& service)
      : options_(options),
        registry_(registry),
        executor_(pools.streams),
        config_executor_(pools.configs),
        file_executor_(pools.files),
        budget_(budget),
        transport_(transport),
        metrics_(metrics),
        service_(service),
        session_limits_(SessionLimitsFromOptions(options)),
        session_metrics_(metrics),
        admission_(budget, transport, metrics) {}

  const ServerOptions& options() const { return options_; }
  const ProcessorRegistry& registry() const { return registry_; }
  Executor& executor() { return executor_; }
  // Where streams' configurations are built (impulse decoding, FFT planning, soxr set-up),
  // so that a heavy config never holds a worker that running streams need.
  Executor& config_executor() { return config_executor_; }
  // ProcessFile's pool (--file_workers), so that long files never take a stream's worker.
  Executor& file_executor() { return file_executor_; }
  // Memory and CPU for clients (--memory_budget_bytes, --cpu_budget).
  ResourceBudget& budget() { return budget_; }
  // gRPC's transport quota, grown by each admitted stream's largest message.
  TransportQuota& transport() { return transport_; }
  Metrics& metrics() { return metrics_; }
  v1::AudioProcessor::AsyncService& service() { return service_; }
  // What each Process stream's session uses of the server.
  StreamSession::Deps session_deps();
  const SessionLimits& session_limits() const { return session_limits_; }

  // Admits a new stream unless --max_streams are open; registers it for Abort. The check
  // and the increment are one step, so a burst cannot overshoot the limit.
  bool TryAdmit(StreamHandle* stream);
  // A stream admitted by TryAdmit has ended.
  void Release(StreamHandle* stream);
  int active_streams() const;

  // A ProcessFile call accepted for processing (queued or running) and its end. Not limited
  // by --max_streams; registered so that a drain waits for it and AbortAll reaches it. The
  // file pool commits a core of the CPU budget for each worker that files keep busy; a file
  // that would need one more than the budget has is RESOURCE_EXHAUSTED (and not added).
  absl::Status AddFile(StreamHandle* file);
  void RemoveFile(StreamHandle* file);
  int active_files() const;

  // Call objects alive (admitted or not, excluding those still waiting for a call). The
  // server shuts gRPC down only once none is left.
  void CallStarted();
  void CallEnded();
  int live_calls() const;

  // Bearer tokens every call but health must carry; null: none needed. Set before Start.
  void set_auth_tokens(const AuthTokens* tokens) { auth_tokens_ = tokens; }
  // OK when no tokens are configured or the call's `authorization` metadata carries a known
  // bearer token; UNAUTHENTICATED otherwise (counted as a rejection). Call objects call this
  // before any work.
  absl::Status Authenticate(const grpc::ServerContext& context);
  // What a new Process or ProcessFile call passes before any work: Authenticate, then a
  // server that is not draining (UNAVAILABLE otherwise, counted as a "draining" rejection).
  absl::Status AcceptNewWork(const grpc::ServerContext& context);

  bool draining() const { return draining_.load(std::memory_order_acquire); }
  void set_draining() { draining_.store(true, std::memory_order_release); }

  // Waits until no stream is open or `deadline`; true if none is open.
  bool AwaitNoStreams(absl::Time deadline);
  // Waits until no stream is open and no file is in flight, or `deadline`; true if so.
  bool AwaitNoWork(absl::Time deadline);
  // Waits until no call object is alive or `deadline`.
  bool AwaitNoCalls(absl::Time deadline);
  // Aborts every open stream and every file in flight with `status`.
  void AbortAll(const absl::Status& status);
  // StreamHandle::CheckpointAndLeave for every open stream (the start of a drain).
  void CheckpointAll();

  // A fresh id for a stream whose config leaves stream_id empty.
  std::string NewStreamId();
  // StreamInfo.serial for a newly admitted stream: 1, 2, ...
  uint64_t NextSerial() { return next_serial_.fetch_add(1, std::memory_order_relaxed); }
  // Every open Process stream, as each describes itself, and the files in flight.
  v1::ListStreamsResponse ListStreams() const;

  // A WatchStreams call takes one of `max` places (false when all are taken) and gives it
  // back.
  bool TryStartWatch(int max) { return watchers_.TryTake(max); }
  void EndWatch() { watchers_.GiveBack(); }

  // The keys of resume tokens (--resume_key_file); null: none. Set before Start.
  void set_resume_keys(const ResumeKeys* keys) { resume_keys_ = keys; }
  // Who a call is, for binding resume tokens: "bearer:<token>" when it carries a bearer token,
  // else "x509:<identity>" for a client certificate, else "" (anyone: a server without
  // authentication). Never logged or sent: tokens carry only an HMAC of it.
  static std::string Principal(const grpc::ServerContext& context);

  // Bearer tokens for the Admin service (--admin_tokens_file); null: the same as the others.
  void set_admin_tokens(const AuthTokens* tokens) { admin_tokens_ = tokens; }
  // Authenticate, for Admin calls: against the admin tokens when there are any.
  absl::Status AuthenticateAdmin(const grpc::ServerContext& context);

 private:
  absl::Status AuthenticateWith(const AuthTokens* tokens, const grpc::ServerContext& context);

  const ServerOptions& options_;
  const ProcessorRegistry& registry_;
  Executor& executor_;
  Executor& config_executor_;
  Executor& file_executor_;
  ResourceBudget& budget_;
  TransportQuota& transport_;
  Metrics& metrics_;
  v1::AudioProcessor::AsyncService& service_;
  const SessionLimits session_limits_;
  PrometheusSessionMetrics session_metrics_;
  BudgetAdmission admission_;
  const AuthTokens* auth_tokens_ = nullptr;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> next_stream_{1};
  std::atomic<uint64_t> next_serial_{1};
  WatchPlaces watchers_;
  const AuthTokens* admin_tokens_ = nullptr;
  const ResumeKeys* resume_keys_ = nullptr;
  const uint64_t id_prefix_ = absl::ToUnixMicros(absl::Now());

  // Call objects name it in their lock-order annotations.
  friend class ProcessCall;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<StreamHandle*> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<StreamHandle*> files_ ABSL_GUARDED_BY(mu_);
  // One core per file worker in use: min(files in flight, --file_workers).
  std::vector<ResourceBudget::Reservation> file_cores_ ABSL_GUARDED_BY(mu_);
  int live_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_SERVER_STATE_H_
