#include "service/validate_config_call.h"

#include <utility>

#include "service/status_util.h"
#include "service/stream_plan.h"

namespace audioproc {

void ValidateConfigCall::Listen(ServerState* state, grpc::ServerCompletionQueue* cq) {
  auto* call = new ValidateConfigCall(state, cq);
  state->service().RequestValidateConfig(&call->context_, &call->request_, &call->responder_, cq,
                                         cq, &call->request_tag_);
}

void ValidateConfigCall::OnCompletion(int op, bool ok) {
  if (op == kFinish || !ok) {
    if (ok) state_->metrics().GrpcHandled(kValidateConfigMethod, status_code_);
    delete this;  // answered, or the server is shutting down
    return;
  }
  Listen(state_, cq_);
  state_->metrics().GrpcStarted(kValidateConfigMethod);
  const grpc::Status status = Validate();
  status_code_ = status.error_code();
  if (status.ok()) {
    responder_.Finish(response_, status, &finish_tag_);
  } else {
    responder_.FinishWithError(status, &finish_tag_);
  }
}

grpc::Status ValidateConfigCall::Validate() {
  if (absl::Status auth = state_->Authenticate(context_); !auth.ok()) return ToGrpcStatus(auth);
  const v1::StreamConfig& config = request_.config();
  // The same checks as a Process config, with the same messages (not counted as rejections:
  // nothing was refused). An id is drawn as Process would, so that the cost counts its bytes,
  // and left out of the answer: no stream will have it.
  absl::StatusOr<StreamPlan> plan =
      PlanStream(state_->registry(), state_->session_limits(), config,
                 config.stream_id().empty() ? state_->NewStreamId() : config.stream_id());
  if (!plan.ok()) return ToGrpcStatus(plan.status());
  *response_.mutable_ready() = PlannedReady(*plan);
  if (config.stream_id().empty()) response_.mutable_ready()->clear_stream_id();
  const ResourceAmount committed = state_->budget().committed();
  const ResourceAmount& total = state_->budget().total();
  const ResourceAmount& cost = plan->grant.cost;
  response_.set_fits_now(state_->active_streams() < state_->options().max_streams &&
                         committed.memory_bytes + cost.memory_bytes <= total.memory_bytes &&
                         committed.cpu_cores + cost.cpu_cores <= total.cpu_cores);
  return grpc::Status::OK;
}

}  // namespace audioproc
