#include "service/list_processors_call.h"

#include "service/spec_translation.h"
#include "service/status_util.h"

namespace audioproc {

void ListProcessorsCall::Listen(ServerState* state, grpc::ServerCompletionQueue* cq) {
  auto* call = new ListProcessorsCall(state, cq);
  state->service().RequestListProcessors(&call->context_, &call->request_, &call->responder_, cq,
                                         cq, &call->request_tag_);
}

void ListProcessorsCall::OnCompletion(int op, bool ok) {
  if (op == kFinish || !ok) {
    delete this;  // answered, or the server is shutting down
    return;
  }
  Listen(state_, cq_);
  if (absl::Status auth = state_->Authenticate(context_); !auth.ok()) {
    responder_.FinishWithError(ToGrpcStatus(auth), &finish_tag_);
    return;
  }
  response_ = DescribeProcessors(state_->registry());
  responder_.Finish(response_, grpc::Status::OK, &finish_tag_);
}

}  // namespace audioproc
