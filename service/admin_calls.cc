#include "service/admin_calls.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/status_util.h"

namespace audioproc {

void ListStreamsCall::Listen(ServerState* state, v1::Admin::AsyncService* service,
                             grpc::ServerCompletionQueue* cq) {
  auto* call = new ListStreamsCall(state, service, cq);
  service->RequestListStreams(&call->context_, &call->request_, &call->responder_, cq, cq,
                              &call->request_tag_);
}

void ListStreamsCall::OnCompletion(int op, bool ok) {
  if (op == kFinish || !ok) {
    if (op == kFinish) state_->metrics().GrpcHandled(kListStreamsMethod, status_code_);
    delete this;  // answered, or the server is shutting down
    return;
  }
  Listen(state_, service_, cq_);
  state_->metrics().GrpcStarted(kListStreamsMethod);
  if (absl::Status auth = state_->AuthenticateAdmin(context_); !auth.ok()) {
    status_code_ = static_cast<grpc::StatusCode>(auth.code());
    responder_.FinishWithError(ToGrpcStatus(auth), &finish_tag_);
    return;
  }
  responder_.Finish(state_->ListStreams(), grpc::Status::OK, &finish_tag_);
}

void WatchStreamsCall::Listen(ServerState* state, v1::Admin::AsyncService* service,
                              grpc::ServerCompletionQueue* cq) {
  auto* call = new WatchStreamsCall(state, service, cq);
  // Before the request: the only way to learn that the client went away between messages.
  call->context_.AsyncNotifyWhenDone(&call->done_tag_);
  service->RequestWatchStreams(&call->context_, &call->request_, &call->writer_, cq, cq,
                               &call->request_tag_);
}

void WatchStreamsCall::OnCompletion(int op, bool ok) {
  switch (op) {
    case kRequest:
      if (!ok) {
        // The server is shutting down; no done notification comes for a call that never
        // started (grpc/grpc#10136).
        delete this;
        return;
      }
      OnRequest();
      return;
    case kWrite:
      writing_ = false;
      if (!ok) {
        // The client is gone: the done notification follows.
        if (ticking_) tick_.Cancel();
      }
      break;
    case kTick:
      ticking_ = false;
      if (ok && !done_ && !finishing_) {
        Look();
        ArmTick();
      }
      break;
    case kFinish:
      finishing_ = false;
      break;
    case kDone:
      done_ = true;
      if (context_.IsCancelled()) status_code_ = grpc::StatusCode::CANCELLED;
      if (ticking_) tick_.Cancel();
      break;
    default:
      break;
  }
  MaybeDestroy();
}

void WatchStreamsCall::OnRequest() {
  Listen(state_, service_, cq_);
  started_ = true;
  state_->metrics().GrpcStarted(kWatchStreamsMethod);
  if (absl::Status auth = state_->AuthenticateAdmin(context_); !auth.ok()) {
    Finish(ToGrpcStatus(auth));
    return;
  }
  const double seconds = request_.interval_seconds();
  if (!std::isfinite(seconds) || seconds < 0) {
    Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("interval_seconds must be 0 (1 s) or at least ",
                                     absl::ToDoubleSeconds(kMinWatchInterval), ", got ", seconds)));
    return;
  }
  interval_ = seconds == 0
                  ? absl::Seconds(1)
                  : std::clamp(absl::Seconds(seconds), kMinWatchInterval, kMaxWatchInterval);
  if (!state_->TryStartWatch(kMaxWatchers)) {
    Finish(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("the server has ", kMaxWatchers, " WatchStreams calls open; retry later")));
    return;
  }
  watching_ = true;
  Look();
  ArmTick();
}

void WatchStreamsCall::Look() {
  if (writing_) return;  // the next look reports what changed since the last message sent
  const v1::ListStreamsResponse streams = state_->ListStreams();
  response_.Clear();
  for (v1::StreamChange& change : tracker_.Update(streams)) {
    *response_.add_changes() = std::move(change);
  }
  response_.set_active_streams(static_cast<uint32_t>(streams.streams_size()));
  writing_ = true;
  writer_.Write(response_, &write_tag_);
}

void WatchStreamsCall::ArmTick() {
  ticking_ = true;
  tick_.Set(cq_, absl::ToChronoTime(absl::Now() + interval_), &tick_tag_);
}

void WatchStreamsCall::Finish(const grpc::Status& status) {
  status_code_ = status.error_code();
  finishing_ = true;
  writer_.Finish(status, &finish_tag_);
}

void WatchStreamsCall::MaybeDestroy() {
  if (!done_ || writing_ || ticking_ || finishing_) return;
  if (watching_) state_->EndWatch();
  if (started_) state_->metrics().GrpcHandled(kWatchStreamsMethod, status_code_);
  delete this;
}

}  // namespace audioproc
