#include "service/process_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/logging.h"
#include "service/status_util.h"

namespace audioproc {
namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

const char* RequestKind(const v1::ProcessRequest& request) {
  switch (request.request_case()) {
    case v1::ProcessRequest::kConfig:
      return "config";
    case v1::ProcessRequest::kChunk:
      return "chunk";
    case v1::ProcessRequest::kUpdate:
      return "update";
    default:
      return "an empty request";
  }
}

}  // namespace

void ProcessCall::Listen(ServerState* state, grpc::ServerCompletionQueue* cq) {
  auto* call = new ProcessCall(state, cq);
  call->context_.AsyncNotifyWhenDone(&call->done_tag_);
  state->service().RequestProcess(&call->context_, &call->stream_, cq, cq, &call->request_tag_);
}

ProcessCall::ProcessCall(ServerState* state, grpc::ServerCompletionQueue* cq)
    : state_(state),
      cq_(cq),
      stream_(&context_),
      queue_chunks_(static_cast<size_t>(state->options().stream_queue_chunks)),
      session_(state) {}

ProcessCall::~ProcessCall() = default;

void ProcessCall::OnCompletion(int op, bool ok) {
  switch (op) {
    case kRequest:
      OnRequest(ok);
      return;
    case kRead:
      OnRead(ok);
      return;
    case kWrite:
      OnWrite(ok);
      return;
    case kIdleAlarm:
      OnIdleAlarm(ok);
      return;
    default:
      break;
  }
  bool done;
  {
    absl::MutexLock lock(&mu_);
    if (op == kFinish) {
      finish_pending_ = false;
    } else {  // kDone
      done_ = true;
      if (alarm_pending_) idle_alarm_.Cancel();
      if (context_.IsCancelled()) {
        broken_ = true;
        inbox_.clear();
        outbox_.clear();
      }
    }
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::Destroy() {
  grpc::Status outcome;
  bool admitted;
  {
    absl::MutexLock lock(&mu_);
    outcome = broken_ || !final_status_ ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                                        : *final_status_;
    admitted = admitted_;
  }
  LogEnd(outcome);
  // Release after the last use of mu_ by us, and before delete: ServerState::AbortAll may be
  // waiting on mu_ while holding the state's lock, which Release needs.
  if (admitted) state_->Release(this);
  state_->CallEnded();
  delete this;
}

void ProcessCall::OnRequest(bool ok) {
  if (!ok) {
    // The server is shutting down. gRPC delivers no done notification for a call that never
    // started (grpc/grpc#10136), so nothing else can reach this object.
    delete this;
    return;
  }
  Listen(state_, cq_);  // the next caller gets a fresh call object
  state_->CallStarted();
  started_ = Clock::now();
  // Admission happens outside mu_: ServerState::AbortAll locks the state, then each stream.
  std::optional<absl::Status> rejection;
  if (absl::Status accepted = state_->AcceptNewWork(context_); !accepted.ok()) {
    rejection = accepted;
  } else if (!state_->TryAdmit(this)) {
    state_->metrics().Rejections("max_streams").Increment();
    rejection = absl::ResourceExhaustedError(
        absl::StrCat("the server is at --max_streams=", state_->options().max_streams,
                     " concurrent streams; retry later or on another instance"));
  }
  absl::MutexLock lock(&mu_);
  if (rejection) {
    final_status_ = ToGrpcStatus(*rejection);
    MaybeFinishLocked();
    return;
  }
  admitted_ = true;
  StartReadLocked();
  ArmIdleAlarmLocked(read_posted_at_ + IdleTimeout());
}

ProcessCall::Clock::duration ProcessCall::IdleTimeout() const {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(state_->options().idle_timeout_seconds));
}

void ProcessCall::ArmIdleAlarmLocked(Clock::time_point deadline) {
  alarm_pending_ = true;
  idle_alarm_.Set(cq_, absl::ToChronoTime(absl::Now() + absl::FromChrono(deadline - Clock::now())),
                  &idle_tag_);
}

void ProcessCall::OnIdleAlarm(bool ok) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    alarm_pending_ = false;
    const bool over = final_status_ || broken_ || done_;
    if (ok && !over) {
      if (read_pending_ && Clock::now() - read_posted_at_ >= IdleTimeout()) {
        state_->metrics().Rejections("idle_timeout").Increment();
        FailLocked(absl::DeadlineExceededError(absl::StrCat(
            "no chunk for --idle_timeout_seconds=", state_->options().idle_timeout_seconds,
            " while the server waited for one")));
        ScheduleLocked();
      } else {
        ArmIdleAlarmLocked((read_pending_ ? read_posted_at_ : Clock::now()) + IdleTimeout());
      }
    }
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::OnRead(bool ok) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    HandleReadLocked(ok);
    ScheduleLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::HandleReadLocked(bool ok) {
  if (final_status_ || broken_) {
    // The stream is over; whatever arrived is not accepted.
  } else if (!ok) {
    input_closed_ = true;  // the client half-closed (or went away; kDone will say)
    inbox_.push_back({InboxItem::Kind::kEnd, {}, {}, Clock::now()});
  } else {
    InboxItem item{InboxItem::Kind::kMessage, std::move(read_message_), {}, Clock::now()};
    read_message_.Clear();
    const v1::ProcessRequest& request = item.request;
    const int64_t max_chunk = state_->options().max_chunk_bytes;
    if (!config_seen_ && !request.has_config()) {
      FailLocked(absl::InvalidArgumentError(absl::StrCat(
          "the first message must be a config (StreamConfig), got ", RequestKind(request))));
    } else if (config_seen_ && request.has_config()) {
      FailLocked(absl::InvalidArgumentError(
          "config may be sent only once, as the first message; got a second config"));
    } else if (request.request_case() == v1::ProcessRequest::REQUEST_NOT_SET) {
      FailLocked(absl::InvalidArgumentError("request is empty: set config, chunk or update"));
    } else if (request.has_chunk() &&
               static_cast<int64_t>(request.chunk().data().size()) > max_chunk) {
      state_->metrics().Rejections("max_chunk_bytes").Increment();
      FailLocked(absl::ResourceExhaustedError(
          absl::StrCat("chunk.data is ", request.chunk().data().size(),
                       " bytes, more than --max_chunk_bytes=", max_chunk)));
    } else {
      config_seen_ = true;
      if (request.has_chunk())
        state_->metrics().bytes_in().Increment(request.chunk().data().size());
      inbox_.push_back(std::move(item));
      StartReadLocked();
    }
  }
}

void ProcessCall::OnWrite(bool ok) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    if (!ok) {
      // The client is gone; gRPC's done notification follows.
      broken_ = true;
      inbox_.clear();
      outbox_.clear();
    }
    StartWriteLocked();
    ScheduleLocked();
    MaybeFinishLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::Abort(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (final_status_ || broken_) return;
  FailLocked(status);
  ScheduleLocked();
}

void ProcessCall::Run() {
  InboxItem item;
  bool cleared = false;
  bool done = false;
  {
    absl::MutexLock lock(&mu_);
    if (inbox_.empty()) {
      // The call broke (cancelled, or a write failed) after this task was queued, and that
      // emptied the inbox: nothing is left to process, and this task may be the last thing
      // that keeps the call object alive.
      cleared = true;
      task_scheduled_ = false;
      done = DoneLocked();
    } else {
      item = std::move(inbox_.front());
      inbox_.pop_front();
      StartReadLocked();
    }
  }
  if (cleared) {
    if (done) Destroy();
    return;
  }
  std::vector<OutboxItem> out;
  std::optional<grpc::Status> final;
  Handle(item, &out, &final);
  {
    absl::MutexLock lock(&mu_);
    task_scheduled_ = false;
    if (!broken_) {
      for (OutboxItem& response : out) outbox_.push_back(std::move(response));
    }
    if (final && !final_status_) {
      final_status_ = *final;
      inbox_.clear();
      input_closed_ = true;
    }
    StartWriteLocked();
    ScheduleLocked();
    MaybeFinishLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::StartReadLocked() {
  if (!CanReadLocked()) return;
  read_pending_ = true;
  read_posted_at_ = Clock::now();
  stream_.Read(&read_message_, &read_tag_);
}

bool ProcessCall::CanReadLocked() const {
  return admitted_ && !input_closed_ && !read_pending_ && !broken_ && !done_ && !final_status_ &&
         inbox_.size() < queue_chunks_;
}

void ProcessCall::StartWriteLocked() {
  if (write_pending_ || outbox_.empty() || broken_ || done_) return;
  OutboxItem item = std::move(outbox_.front());
  outbox_.pop_front();
  if (item.received) {
    state_->metrics().chunk_latency().Observe(Seconds(Clock::now() - *item.received));
  }
  write_message_ = std::move(item.response);
  write_pending_ = true;
  stream_.Write(write_message_, &write_tag_);
}

void ProcessCall::ScheduleLocked() {
  if (task_scheduled_ || inbox_.empty() || outbox_.size() >= queue_chunks_ || broken_ ||
      final_status_) {
    return;
  }
  task_scheduled_ = true;
  if (!state_->executor().Submit(this)) {
    // Only when the executor is stopping: the queue holds at most one task per stream.
    task_scheduled_ = false;
    inbox_.clear();
    final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
  }
}

void ProcessCall::MaybeFinishLocked() {
  if (!final_status_ || finish_pending_ || write_pending_ || !outbox_.empty() || task_scheduled_ ||
      broken_ || done_ || finish_started_) {
    return;
  }
  finish_started_ = true;
  finish_pending_ = true;
  if (alarm_pending_) idle_alarm_.Cancel();
  stream_.Finish(*final_status_, &finish_tag_);
}

void ProcessCall::FailLocked(const absl::Status& status) {
  input_closed_ = true;
  inbox_.push_back({InboxItem::Kind::kFail, {}, status, Clock::now()});
}

bool ProcessCall::DoneLocked() const {
  return done_ && !read_pending_ && !write_pending_ && !finish_pending_ && !task_scheduled_ &&
         !alarm_pending_;
}

void ProcessCall::Handle(InboxItem& item, std::vector<OutboxItem>* out,
                         std::optional<grpc::Status>* final) {
  absl::Status status;
  switch (item.kind) {
    case InboxItem::Kind::kFail:
      status = item.status;
      break;
    case InboxItem::Kind::kEnd:
      if (!session_.configured()) {
        status = absl::InvalidArgumentError(
            "the stream ended before its first message, which must be a config (StreamConfig)");
      } else {
        session_.Finish(out);
        *final = grpc::Status::OK;
        return;
      }
      break;
    case InboxItem::Kind::kMessage:
      switch (item.request.request_case()) {
        case v1::ProcessRequest::kConfig:
          status = session_.Configure(item.request.config(), context_.peer(), out);
          if (!status.ok()) state_->metrics().Rejections("invalid_config").Increment();
          break;
        case v1::ProcessRequest::kChunk:
          status = session_.ProcessChunk(item.request.chunk(), item.received, out);
          break;
        case v1::ProcessRequest::kUpdate:
          session_.ApplyUpdate(item.request.update());
          break;
        default:
          break;
      }
      break;
  }
  if (!status.ok()) *final = ToGrpcStatus(status);
}

void ProcessCall::LogEnd(const grpc::Status& status) {
  state_->metrics().StreamsTotal(status.error_code()).Increment();
  LogLine(status.ok() || status.error_code() == grpc::StatusCode::CANCELLED ? LogLevel::kInfo
                                                                            : LogLevel::kWarning,
          "stream_end")
      .Add("stream_id", session_.stream_id())
      .Add("peer", context_.peer())
      .Add("chain", session_.chain_text())
      .Add("outcome", StatusCodeName(status.error_code()))
      .Add("message", status.error_message())
      .Add("duration_seconds", Seconds(Clock::now() - started_))
      .Add("chunks", session_.chunks());
}

}  // namespace audioproc
