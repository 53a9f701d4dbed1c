#include "service/process_file_call.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/logging.h"
#include "service/metrics.h"
#include "service/status_util.h"

namespace audioproc {

void ProcessFileCall::Listen(ServerState* state, grpc::ServerCompletionQueue* cq) {
  auto* call = new ProcessFileCall(state, cq);
  call->context_.AsyncNotifyWhenDone(&call->done_tag_);
  state->service().RequestProcessFile(&call->context_, &call->request_, &call->responder_, cq, cq,
                                      &call->request_tag_);
}

void ProcessFileCall::OnCompletion(int op, bool ok) {
  if (op == kRequest) {
    OnRequest(ok);
    return;
  }
  bool done;
  {
    absl::MutexLock lock(&mu_);
    if (op == kFinish) {
      finish_pending_ = false;
    } else {  // kDone
      done_ = true;
      cancelled_ = context_.IsCancelled();
    }
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessFileCall::OnRequest(bool ok) {
  if (!ok) {
    // The server is shutting down. gRPC delivers no done notification for a call that never
    // started (grpc/grpc#10136), so nothing else can reach this object.
    delete this;
    return;
  }
  Listen(state_, cq_);  // the next caller gets a fresh call object
  state_->CallStarted();
  state_->metrics().GrpcStarted(kProcessFileMethod);
  received_ = Clock::now();
  bytes_in_ = request_.file().size();
  const ServerOptions& options = state_->options();
  if (absl::Status accepted = state_->AcceptNewWork(context_); !accepted.ok()) {
    Respond(accepted);
    return;
  }
  if (static_cast<int64_t>(request_.file().size()) > options.max_file_bytes) {
    state_->metrics().Rejections("max_file_bytes").Increment();
    Respond(absl::ResourceExhaustedError(
        absl::StrCat("file is ", request_.file().size(),
                     " bytes, more than --max_file_bytes=", options.max_file_bytes)));
    return;
  }
  const FileJobLimits limits{options.max_file_seconds, options.max_chain_length,
                             static_cast<size_t>(options.max_file_output_bytes)};
  absl::StatusOr<std::unique_ptr<FileJob>> job =
      FileJob::Plan(request_, state_->registry(), limits, &report_);
  if (!job.ok()) {
    if (job.status().code() == absl::StatusCode::kResourceExhausted) {
      state_->metrics().Rejections("max_file_output_bytes").Increment();
    }
    Respond(job.status());
    return;
  }
  job_ = *std::move(job);
  std::string exhausted;
  absl::StatusOr<ResourceBudget::Reservation> held = state_->budget().Reserve(
      {.memory_bytes = static_cast<int64_t>(request_.ByteSizeLong()) + job_->memory_bytes(),
       .cpu_cores = 0},
      "the file", &exhausted);
  if (!held.ok()) {
    state_->metrics().Rejections(exhausted).Increment();
    Respond(held.status());
    return;
  }
  held_ = *std::move(held);
  // Registered before it is queued, so that a drain starting now waits for it.
  if (absl::Status added = state_->AddFile(this); !added.ok()) {
    Respond(added);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    registered_ = true;
    task_pending_ = true;
  }
  if (!state_->file_executor().Submit(this)) {
    state_->metrics().Rejections("file_queue").Increment();
    Respond(absl::ResourceExhaustedError(
        absl::StrCat("too many files are waiting for the --file_workers=", options.file_workers,
                     " pool; retry later or on another instance")));
  }
}

void ProcessFileCall::Run() {
  const absl::Status status = job_->Run(
      received_, [this] { return Interrupted(); }, &response_, &report_);
  Metrics& metrics = state_->metrics();
  metrics.bytes_in().Increment(static_cast<double>(bytes_in_));
  // The job reads the request's copy of the file until it ends; not needed to send the answer.
  job_.reset();
  std::string().swap(*request_.mutable_file());
  if (status.ok()) {
    bytes_out_ = response_.file().size();
    metrics.bytes_out().Increment(static_cast<double>(bytes_out_));
    metrics.audio_seconds().Increment(report_.audio_seconds);
  }
  Respond(status);
}

absl::Status ProcessFileCall::Interrupted() {
  absl::MutexLock lock(&mu_);
  if (abort_status_) return *abort_status_;
  // Before the answer is sent, done means the call was cancelled (or the client left).
  if (done_) return absl::CancelledError("the call was cancelled");
  return absl::OkStatus();
}

void ProcessFileCall::Abort(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (!abort_status_) abort_status_ = status;
}

void ProcessFileCall::Respond(const absl::Status& status) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    task_pending_ = false;
    outcome_ = ToGrpcStatus(status);
    // After done, nothing can be sent: the call was cancelled.
    if (!done_) {
      finish_pending_ = true;
      if (status.ok()) {
        responder_.Finish(response_, grpc::Status::OK, &finish_tag_);
      } else {
        responder_.FinishWithError(outcome_, &finish_tag_);
      }
    }
    done = DoneLocked();
  }
  if (done) Destroy();
}

bool ProcessFileCall::DoneLocked() const { return done_ && !finish_pending_ && !task_pending_; }

void ProcessFileCall::Destroy() {
  grpc::Status outcome;
  bool registered;
  {
    absl::MutexLock lock(&mu_);
    outcome = cancelled_ ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled") : outcome_;
    registered = registered_;
  }
  // Outside mu_: ServerState::AbortAll holds the state's lock while it takes ours.
  if (registered) state_->RemoveFile(this);
  state_->metrics().FilesTotal(outcome.error_code()).Increment();
  state_->metrics().GrpcHandled(kProcessFileMethod, outcome.error_code());
  const bool expected = outcome.ok() || outcome.error_code() == grpc::StatusCode::CANCELLED;
  LogLine(expected ? LogLevel::kInfo : LogLevel::kWarning, "file_end")
      .Add("peer", context_.peer())
      .Add("input", report_.input)
      .Add("output", report_.output)
      .Add("chain", report_.chain)
      .Add("outcome", StatusCodeName(outcome.error_code()))
      .Add("message", outcome.error_message())
      .Add("bytes_in", static_cast<uint64_t>(bytes_in_))
      .Add("bytes_out", static_cast<uint64_t>(bytes_out_))
      .Add("audio_seconds", report_.audio_seconds)
      .Add("duration_seconds", std::chrono::duration<double>(Clock::now() - received_).count());
  state_->CallEnded();
  delete this;
}

}  // namespace audioproc
