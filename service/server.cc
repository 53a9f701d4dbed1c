#include "service/server.h"

#include <grpc/impl/codegen/grpc_types.h>
#include <grpcpp/resource_quota.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "service/admin_calls.h"
#include "service/list_processors_call.h"
#include "service/listen_address.h"
#include "service/logging.h"
#include "service/process_call.h"
#include "service/process_file_call.h"
#include "service/reflection_service.h"
#include "service/thread_name.h"
#include "service/validate_config_call.h"

namespace audioproc {
namespace {

constexpr char kServiceName[] = "audioproc.v1.AudioProcessor";
constexpr char kAdminServiceName[] = "audioproc.v1.Admin";
// Calls waiting on each completion queue, so a burst of new streams is accepted without
// waiting for each replacement to be posted.
constexpr int kListenersPerQueue = 4;

int Milliseconds(double seconds) {
  return static_cast<int>(std::min(seconds * 1000, double{std::numeric_limits<int>::max()}));
}

}  // namespace

AudioprocServer::AudioprocServer(ServerOptions options, const ProcessorRegistry& registry)
    : options_(std::move(options)), registry_(registry), health_status_({kServiceName}) {}

AudioprocServer::~AudioprocServer() {
  if (running_) {
    hurry_ = true;
    Shutdown();
  }
  StopHealthServer();  // a start that failed after the health server came up
}

void AudioprocServer::StopHealthServer() {
  if (health_server_ == nullptr) return;
  health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
  health_queue_->Shutdown();
  if (health_queue_thread_.joinable()) health_queue_thread_.join();
  health_server_.reset();
  void* tag;
  bool ok;
  while (health_queue_->Next(&tag, &ok)) {
  }
  health_queue_.reset();
}

absl::Status AudioprocServer::Start() {
  absl::StatusOr<ServerOptions> resolved = ResolveServerOptions(options_);
  if (!resolved.ok()) return resolved.status();
  options_ = *std::move(resolved);
  // Reflection describes health only if health.proto's descriptor is in the generated pool;
  // naming it here keeps the linker from dropping it.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  // Health is served by our own calls (health_calls.h): gRPC's default service would bring
  // the callback API's polling threads with it.
  grpc::EnableDefaultHealthCheckService(false);

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options_.tls.enabled()) {
    absl::StatusOr<std::unique_ptr<TlsCredentials>> tls = TlsCredentials::Start(
        options_.tls, options_.tls_refresh_seconds, metrics_.tls_reload_errors());
    if (!tls.ok()) return tls.status();
    tls_ = *std::move(tls);
    credentials = tls_->server_credentials();
  }
  if (!options_.auth_tokens_file.empty()) {
    absl::StatusOr<std::unique_ptr<AuthTokens>> tokens =
        AuthTokens::Load(options_.auth_tokens_file);
    if (!tokens.ok()) return tokens.status();
    auth_tokens_ = *std::move(tokens);
    auth_tokens_->WatchEvery(absl::Seconds(1));
  }
  if (!options_.admin_tokens_file.empty()) {
    absl::StatusOr<std::unique_ptr<AuthTokens>> tokens =
        AuthTokens::Load(options_.admin_tokens_file);
    if (!tokens.ok()) return tokens.status();
    admin_tokens_ = *std::move(tokens);
    admin_tokens_->WatchEvery(absl::Seconds(1));
  }

  if (!options_.resume_key_file.empty()) {
    absl::StatusOr<std::unique_ptr<ResumeKeys>> keys = ResumeKeys::Load(options_.resume_key_file);
    if (!keys.ok()) return keys.status();
    resume_keys_ = *std::move(keys);
    resume_keys_->WatchEvery(absl::Seconds(1));
  }

  // First, so that a port it cannot bind fails the start before anything else runs.
  if (absl::Status status = StartHealthServer(); !status.ok()) return status;

  Metrics* metrics = &metrics_;
  metrics_.memory_budget_bytes().Set(static_cast<double>(options_.memory_budget_bytes));
  metrics_.cpu_budget_cores().Set(options_.cpu_budget);
  for (const auto& [flag, value] : {std::pair{"max_streams", double(options_.max_streams)},
                                    std::pair{"workers", double(options_.workers)},
                                    std::pair{"cq_threads", double(options_.cq_threads)},
                                    std::pair{"file_workers", double(options_.file_workers)},
                                    std::pair{"max_chunk_bytes", double(options_.max_chunk_bytes)},
                                    std::pair{"max_stream_cost", options_.max_stream_cost}}) {
    metrics_.Limit(flag).Set(value);
  }
  budget_ = std::make_unique<ResourceBudget>(
      ResourceAmount{options_.memory_budget_bytes, options_.cpu_budget},
      [metrics](const ResourceAmount& committed) {
        metrics->memory_committed_bytes().Set(static_cast<double>(committed.memory_bytes));
        metrics->cpu_committed_cores().Set(committed.cpu_cores);
      });
  transport_base_ = budget_->ReserveUnchecked({options_.resource_quota_bytes, 0});
  transport_ = std::make_unique<TransportQuota>(options_.resource_quota_bytes);
  // One task per stream at most is queued, so this bound is never what refuses work. As many
  // bulk workers as workers, for streams that run ahead of real time.
  executor_ = std::make_unique<Executor>(
      options_.workers, static_cast<size_t>(options_.max_streams) + 64, options_.workers, "stream");
  executor_->set_depth_observer(
      [metrics](size_t depth) { metrics->executor_queue_depth().Set(static_cast<double>(depth)); });
  // Configurations wait here rather than on a stream worker; one per stream at most.
  config_executor_ = std::make_unique<Executor>(
      options_.workers, static_cast<size_t>(options_.max_streams) + 64, 0, "config");
  file_executor_ = std::make_unique<Executor>(
      options_.file_workers, static_cast<size_t>(options_.file_workers) * kFilesQueuedPerWorker, 0,
      "file");
  state_ = std::make_unique<ServerState>(
      options_, registry_, ServerState::Pools{*executor_, *config_executor_, *file_executor_},
      *budget_, *transport_, metrics_, service_);
  state_->set_auth_tokens(auth_tokens_.get());
  state_->set_admin_tokens(admin_tokens_.get());
  state_->set_resume_keys(resume_keys_.get());

  grpc::ServerBuilder builder;
  builder.AddListeningPort(GrpcListenAddress(options_.host, options_.port), credentials,
                           &grpc_port_);
  builder.RegisterService(&service_);
  builder.RegisterService(&admin_service_);
  builder.RegisterService(&health_service_);
  if (options_.reflection) {
    reflection_ = std::make_unique<ReflectionService>(
        std::vector<std::string>{kServiceName, kAdminServiceName, "grpc.health.v1.Health"});
    reflection_->Register(builder);
  }
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  // Every answer is bounded before it is made (a stream's responses by its grant, a file's
  // by --max_file_output_bytes with room for the summary); past that is a bug, and gRPC then
  // fails the write rather than send it.
  builder.SetMaxSendMessageSize(static_cast<int>(std::max(
      options_.max_response_bytes, options_.max_file_output_bytes + kFileResponseRoomBytes)));
  ApplyConnectionOptions(builder);
  builder.SetResourceQuota(transport_->quota());
  for (int i = 0; i < options_.cq_threads; ++i) queues_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("could not listen on ", GrpcListenAddress(options_.host, options_.port)));
  }
  if (options_.metrics_port >= 0) {
    absl::StatusOr<int> port = metrics_.Serve(options_.host, options_.metrics_port);
    if (!port.ok()) {
      server_->Shutdown();
      for (auto& cq : queues_) cq->Shutdown();
      void* tag;
      bool ok;
      for (auto& cq : queues_) {
        while (cq->Next(&tag, &ok)) {
        }
      }
      return port.status();
    }
    metrics_port_ = *port;
  }
  for (auto& cq : queues_) {
    for (int i = 0; i < kListenersPerQueue; ++i) ProcessCall::Listen(state_.get(), cq.get());
    ListProcessorsCall::Listen(state_.get(), cq.get());
    ProcessFileCall::Listen(state_.get(), cq.get());
    ValidateConfigCall::Listen(state_.get(), cq.get());
    ListStreamsCall::Listen(state_.get(), &admin_service_, cq.get());
    WatchStreamsCall::Listen(state_.get(), &admin_service_, cq.get());
    HealthCheckCall::Listen(&health_status_, &health_service_, cq.get());
    HealthWatchCall::Listen(&health_status_, &health_service_, cq.get());
    if (reflection_ != nullptr) reflection_->Listen(state_.get(), cq.get());
  }
  for (auto& cq : queues_) {
    queue_threads_.emplace_back([this, q = cq.get()] { PollQueue(q); });
    NameThread(queue_threads_.back(), "cq");
  }
  running_ = true;
  SetServing(true);
  return WritePortFile();
}

void AudioprocServer::ApplyConnectionOptions(grpc::ServerBuilder& builder) const {
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a port already in use
  // and silently share its traffic; an occupied port must be a startup error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Flow-control windows stay at HTTP/2's 64 KiB per stream, plus the message a posted read
  // waits for: with BDP probing they grow to megabytes per stream, so a client that stops
  // being read parks that much in the transport, the quota runs short, and gRPC's answer to
  // memory pressure (shrinking every window, then resetting a random stream) falls on
  // everyone. Real-time chunks are small; a large message still gets a window its size.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Milliseconds(options_.keepalive_time_seconds));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Milliseconds(options_.keepalive_timeout_seconds));
  // Clients that ping to keep idle streams alive are welcome as often as we ping them.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Milliseconds(std::min(options_.keepalive_time_seconds, 10.0)));
  if (options_.max_connection_age_seconds > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               Milliseconds(options_.max_connection_age_seconds));
    // 0 means unbounded: a running stream is never cut by the connection's age.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               options_.max_connection_age_grace_seconds > 0
                                   ? Milliseconds(options_.max_connection_age_grace_seconds)
                                   : std::numeric_limits<int>::max());
  }
}

absl::Status AudioprocServer::StartHealthServer() {
  if (options_.health_port == 0) return absl::OkStatus();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(GrpcListenAddress(options_.host, options_.health_port),
                           grpc::InsecureServerCredentials(), &health_port_);
  ApplyConnectionOptions(builder);
  builder.RegisterService(&health_port_service_);
  health_queue_ = builder.AddCompletionQueue();
  health_server_ = builder.BuildAndStart();
  if (health_server_ == nullptr || health_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("could not listen on --health_port=", options_.health_port));
  }
  HealthCheckCall::Listen(&health_status_, &health_port_service_, health_queue_.get());
  HealthWatchCall::Listen(&health_status_, &health_port_service_, health_queue_.get());
  health_queue_thread_ = std::thread([this] { PollQueue(health_queue_.get()); });
  NameThread(health_queue_thread_, "health-cq");
  return absl::OkStatus();
}

void AudioprocServer::PollQueue(grpc::ServerCompletionQueue* cq) {
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) static_cast<CallTag*>(tag)->Complete(ok);
}

void AudioprocServer::SetServing(bool serving) { health_status_.SetServing(serving); }

absl::Status AudioprocServer::WritePortFile() const {
  if (options_.port_file.empty()) return absl::OkStatus();
  // Written whole to a temporary name and renamed, so a reader never sees half a file.
  const std::string temporary = options_.port_file + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "{\"grpc\":" << grpc_port_ << ",\"metrics\":" << metrics_port_
        << ",\"health\":" << health_port_ << "}\n";
    if (!out)
      return absl::UnavailableError(absl::StrCat("could not write --port_file=", temporary));
  }
  if (std::rename(temporary.c_str(), options_.port_file.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("could not write --port_file=", options_.port_file));
  }
  return absl::OkStatus();
}

void AudioprocServer::Drain() {
  if (!running_) return;
  const absl::Time deadline = absl::Now() + absl::Seconds(options_.drain_seconds);
  LogLine(LogLevel::kInfo, "drain_start")
      .Add("streams", state_->active_streams())
      .Add("files", state_->active_files())
      .Add("drain_seconds", options_.drain_seconds);
  state_->set_draining();
  SetServing(false);
  // Resumable streams leave at once with a checkpoint; their clients resume elsewhere.
  state_->CheckpointAll();
  // Checked in slices so that Hurry (a second signal) takes effect promptly.
  while (!hurry_ && absl::Now() < deadline &&
         !state_->AwaitNoWork(std::min(deadline, absl::Now() + absl::Milliseconds(100)))) {
  }
  const int streams_left = state_->active_streams();
  const int files_left = state_->active_files();
  if (streams_left + files_left > 0) {
    state_->AbortAll(absl::UnavailableError(
        "the server is shutting down and its drain deadline passed; retry on another instance"));
    state_->AwaitNoWork(absl::Now() + absl::Seconds(5));
  }
  LogLine(LogLevel::kInfo, "drain_end")
      .Add("streams_ended_unavailable", streams_left)
      .Add("files_ended_unavailable", files_left);
  Shutdown();
}

void AudioprocServer::Shutdown() {
  if (!running_) return;
  running_ = false;
  state_->set_draining();
  // Calls still running are cancelled by gRPC at the deadline; wait until their objects are
  // gone, as no operation may be started on a queue after it is shut down.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(hurry_ ? 0 : 1)));
  if (!state_->AwaitNoCalls(absl::Now() + absl::Seconds(5))) {
    LogLine(LogLevel::kError, "shutdown_calls_left").Add("calls", state_->live_calls());
  }
  for (auto& cq : queues_) cq->Shutdown();
  for (std::thread& thread : queue_threads_) thread.join();
  queue_threads_.clear();
  // Every file call has ended (or been cancelled by Shutdown, so a task still queued only
  // deletes its call object): the pool stops last, with the streams'.
  file_executor_.reset();
  config_executor_.reset();
  executor_.reset();
  // Health answers NOT_SERVING until the very end, then goes too.
  StopHealthServer();
}

}  // namespace audioproc
