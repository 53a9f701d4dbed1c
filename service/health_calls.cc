#include "service/health_calls.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace audioproc {
namespace {

constexpr absl::Duration kWatchPoll = absl::Milliseconds(100);

}  // namespace

void HealthCheckCall::Listen(HealthStatus* status, HealthService* service,
                             grpc::ServerCompletionQueue* cq) {
  auto* call = new HealthCheckCall(status, service, cq);
  service->RequestCheck(&call->context_, &call->request_, &call->responder_, cq, cq,
                        &call->request_tag_);
}

void HealthCheckCall::OnCompletion(int op, bool ok) {
  if (op == kFinish || !ok) {
    delete this;  // answered, or the server is shutting down
    return;
  }
  Listen(status_, service_, cq_);
  const std::optional<HealthStatus::ServingStatus> status = status_->Get(request_.service());
  if (!status) {
    responder_.FinishWithError(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"),
                               &finish_tag_);
    return;
  }
  response_.set_status(*status);
  responder_.Finish(response_, grpc::Status::OK, &finish_tag_);
}

void HealthWatchCall::Listen(HealthStatus* status, HealthService* service,
                             grpc::ServerCompletionQueue* cq) {
  auto* call = new HealthWatchCall(status, service, cq);
  // Before the request: the only way to learn that the client went away between messages.
  call->context_.AsyncNotifyWhenDone(&call->done_tag_);
  service->RequestWatch(&call->context_, &call->request_, &call->writer_, cq, cq,
                        &call->request_tag_);
}

void HealthWatchCall::OnCompletion(int op, bool ok) {
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
      if (!ok && polling_) poll_.Cancel();  // the client is gone: the done notification follows
      break;
    case kPoll:
      polling_ = false;
      if (ok && !done_ && !finishing_) {
        Look();
        ArmPoll();
      }
      break;
    case kFinish:
      finishing_ = false;
      break;
    case kDone:
      done_ = true;
      if (polling_) poll_.Cancel();
      break;
    default:
      break;
  }
  MaybeDestroy();
}

void HealthWatchCall::OnRequest() {
  Listen(status_, service_, cq_);
  if (!status_->TryStartWatch(kMaxWatchers)) {
    finishing_ = true;
    writer_.Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                absl::StrCat("the server has ", kMaxWatchers,
                                             " health Watch calls open; retry later")),
                   &finish_tag_);
    return;
  }
  watching_ = true;
  Look();
  ArmPoll();
}

void HealthWatchCall::Look() {
  if (writing_) return;  // the next poll writes what changed meanwhile
  const HealthStatus::ServingStatus status =
      status_->Get(request_.service())
          .value_or(grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN);
  if (written_ && status == last_written_) return;
  written_ = true;
  last_written_ = status;
  response_.set_status(status);
  writing_ = true;
  writer_.Write(response_, &write_tag_);
}

void HealthWatchCall::ArmPoll() {
  polling_ = true;
  poll_.Set(cq_, absl::ToChronoTime(absl::Now() + kWatchPoll), &poll_tag_);
}

void HealthWatchCall::MaybeDestroy() {
  if (!done_ || writing_ || polling_ || finishing_) return;
  if (watching_) status_->EndWatch();
  delete this;
}

}  // namespace audioproc
