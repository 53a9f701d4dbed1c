#include "service/reflection_call.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/status_util.h"

namespace audioproc {

template <typename Version>
void ReflectionCall<Version>::Listen(ServerState* state, typename Version::AsyncService* service,
                                     const std::vector<std::string>* services,
                                     grpc::ServerCompletionQueue* cq) {
  auto* call = new ReflectionCall(state, service, services, cq);
  call->context_.AsyncNotifyWhenDone(&call->done_tag_);
  service->RequestServerReflectionInfo(&call->context_, &call->stream_, cq, cq,
                                       &call->request_tag_);
}

template <typename Version>
void ReflectionCall<Version>::OnCompletion(int op, bool ok) {
  if (op == kRequest) {
    if (OnRequest(ok)) delete this;
    return;
  }
  bool over;
  {
    absl::MutexLock lock(&mu_);
    if (op == kDone) {
      done_ = true;
      phase_ = Phase::kOver;
      if (alarm_pending_) idle_alarm_.Cancel();  // its completion follows at once
    } else {
      --outstanding_;
      switch (op) {
        case kRead:
          OnReadLocked(ok);
          break;
        case kWrite:
          OnWriteLocked(ok);
          break;
        case kFinish:
          phase_ = Phase::kOver;
          break;
        case kIdleAlarm:
          OnIdleAlarmLocked(ok);
          break;
        default:
          break;
      }
    }
    over = done_ && outstanding_ == 0;
  }
  if (over) {
    state_->CallEnded();
    delete this;
  }
}

template <typename Version>
bool ReflectionCall<Version>::OnRequest(bool ok) {
  if (!ok) {
    // The server is shutting down. gRPC delivers no done notification for a call that never
    // started (grpc/grpc#10136), so nothing else can reach this object.
    return true;
  }
  Listen(state_, service_, services_, cq_);  // the next client gets a fresh call object
  state_->CallStarted();
  const absl::Status auth = state_->Authenticate(context_);
  absl::MutexLock lock(&mu_);
  if (!auth.ok()) {
    FinishLocked(ToGrpcStatus(auth));
  } else {
    StartReadLocked();
  }
  return false;
}

template <typename Version>
void ReflectionCall<Version>::OnReadLocked(bool ok) {
  // A read still posted when the idle timeout finished the call completes here, unanswered.
  if (phase_ != Phase::kReading) return;
  if (!ok) {
    FinishLocked(grpc::Status::OK);  // the client half-closed (or left: Finish then fails)
    return;
  }
  response_.Clear();
  AnswerReflection(*services_, request_, &sent_, &response_);
  request_.Clear();
  phase_ = Phase::kWriting;
  ++outstanding_;
  stream_.Write(response_, &write_tag_);
}

template <typename Version>
void ReflectionCall<Version>::OnWriteLocked(bool ok) {
  if (phase_ != Phase::kWriting) return;
  if (!ok) {
    phase_ = Phase::kOver;  // the client is gone; gRPC's done notification follows
    return;
  }
  StartReadLocked();
}

template <typename Version>
void ReflectionCall<Version>::OnIdleAlarmLocked(bool ok) {
  alarm_pending_ = false;
  if (!ok || phase_ == Phase::kFinishing || phase_ == Phase::kOver) return;  // cancelled
  if (phase_ == Phase::kReading && Clock::now() - read_posted_at_ >= IdleTimeout()) {
    FinishLocked(grpc::Status(
        grpc::StatusCode::DEADLINE_EXCEEDED,
        absl::StrCat("no reflection request for --idle_timeout_seconds=",
                     state_->options().idle_timeout_seconds, " while the server waited for one")));
    return;
  }
  // The read it was armed for was answered; the clock now runs from the latest read.
  ArmIdleAlarmLocked((phase_ == Phase::kReading ? read_posted_at_ : Clock::now()) + IdleTimeout());
}

template <typename Version>
void ReflectionCall<Version>::StartReadLocked() {
  phase_ = Phase::kReading;
  read_posted_at_ = Clock::now();
  ++outstanding_;
  stream_.Read(&request_, &read_tag_);
  if (!alarm_pending_) ArmIdleAlarmLocked(read_posted_at_ + IdleTimeout());
}

template <typename Version>
void ReflectionCall<Version>::FinishLocked(const grpc::Status& status) {
  phase_ = Phase::kFinishing;
  ++outstanding_;
  stream_.Finish(status, &finish_tag_);
  if (alarm_pending_) idle_alarm_.Cancel();
}

template <typename Version>
void ReflectionCall<Version>::ArmIdleAlarmLocked(Clock::time_point deadline) {
  alarm_pending_ = true;
  ++outstanding_;
  idle_alarm_.Set(cq_, absl::ToChronoTime(absl::Now() + absl::FromChrono(deadline - Clock::now())),
                  &idle_tag_);
}

template <typename Version>
typename ReflectionCall<Version>::Clock::duration ReflectionCall<Version>::IdleTimeout() const {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(state_->options().idle_timeout_seconds));
}

template class ReflectionCall<ReflectionV1>;
template class ReflectionCall<ReflectionV1Alpha>;

}  // namespace audioproc
