#include "service/server.h"

#include <grpc/impl/codegen/grpc_types.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "service/list_processors_call.h"
#include "service/logging.h"
#include "service/process_call.h"
#include "service/process_file_call.h"

namespace audioproc {
namespace {

constexpr char kServiceName[] = "audioproc.v1.AudioProcessor";
// Calls waiting on each completion queue, so a burst of new streams is accepted without
// waiting for each replacement to be posted.
constexpr int kListenersPerQueue = 4;

}  // namespace

AudioprocServer::AudioprocServer(ServerOptions options, const ProcessorRegistry& registry)
    : options_(std::move(options)), registry_(registry) {}

AudioprocServer::~AudioprocServer() {
  if (running_) {
    hurry_ = true;
    Shutdown();
  }
}

absl::Status AudioprocServer::Start() {
  // Reflection describes health only if health.proto's descriptor is in the generated pool;
  // naming it here keeps the linker from dropping it.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  if (options_.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(options_.host, ":", options_.port),
                           grpc::InsecureServerCredentials(), &grpc_port_);
  builder.RegisterService(&service_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  // A processed file may be larger than the one sent (FLAC in, WAV out): the only bound on
  // a ProcessFile answer is protobuf's 2 GiB (kMaxFileResponseBytes refuses larger first).
  builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  // Reflection is a synchronous service; its threads poll with this timeout, and Shutdown
  // waits for them to notice (the default, 1 s, would be added to every shutdown).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC, 50);
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a port already in use
  // and silently share its traffic; an occupied port must be a startup error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (int i = 0; i < options_.cq_threads; ++i) queues_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("could not listen on ", options_.host, ":", options_.port));
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

  // One task per stream at most is queued, so this bound is never what refuses work.
  executor_ = std::make_unique<Executor>(options_.workers,
                                         static_cast<size_t>(options_.max_streams) + 64);
  Metrics* metrics = &metrics_;
  executor_->set_depth_observer(
      [metrics](size_t depth) { metrics->executor_queue_depth().Set(static_cast<double>(depth)); });
  file_executor_ = std::make_unique<Executor>(
      options_.file_workers, static_cast<size_t>(options_.file_workers) * kFilesQueuedPerWorker);
  state_ = std::make_unique<ServerState>(options_, registry_, *executor_, *file_executor_,
                                         metrics_, service_);
  for (auto& cq : queues_) {
    for (int i = 0; i < kListenersPerQueue; ++i) ProcessCall::Listen(state_.get(), cq.get());
    ListProcessorsCall::Listen(state_.get(), cq.get());
    ProcessFileCall::Listen(state_.get(), cq.get());
  }
  for (auto& cq : queues_) queue_threads_.emplace_back([this, q = cq.get()] { PollQueue(q); });
  running_ = true;
  SetServing(true);
  return WritePortFile();
}

void AudioprocServer::PollQueue(grpc::ServerCompletionQueue* cq) {
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) static_cast<CallTag*>(tag)->Complete(ok);
}

void AudioprocServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);  // "" (overall) and every service
  health->SetServingStatus(kServiceName, serving);
}

absl::Status AudioprocServer::WritePortFile() const {
  if (options_.port_file.empty()) return absl::OkStatus();
  // Written whole to a temporary name and renamed, so a reader never sees half a file.
  const std::string temporary = options_.port_file + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "{\"grpc\":" << grpc_port_ << ",\"metrics\":" << metrics_port_
        << ",\"health\":" << options_.health_port << "}\n";
    if (!out) return absl::UnavailableError(absl::StrCat("could not write --port_file=", temporary));
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
  executor_.reset();
}

}  // namespace audioproc
