// ValidateConfigCall: the unary AudioProcessor.ValidateConfig RPC, a dry run of a
// StreamConfig. It plans the stream exactly as Process does (service/stream_plan.h) and
// answers with the `ready` the plan promises and whether the budgets have room now; it builds
// nothing and holds nothing. Planning allocates only small values (resolved parameters and a
// convolve impulse's header), so it runs on the completion-queue thread, like the checks
// every Process message gets as it arrives.
// Thread safety: driven by one completion queue; reads the budget and admission counts,
// which are thread-safe.
#ifndef AUDIOPROC_SERVICE_VALIDATE_CONFIG_CALL_H_
#define AUDIOPROC_SERVICE_VALIDATE_CONFIG_CALL_H_

#include <grpcpp/grpcpp.h>

#include "audioproc/v1/audioproc.grpc.pb.h"
#include "service/call.h"
#include "service/server_state.h"

namespace audioproc {

class ValidateConfigCall final : public Call {
 public:
  // Creates a call object waiting for the next ValidateConfig call on `cq`. It owns itself.
  static void Listen(ServerState* state, grpc::ServerCompletionQueue* cq);
  void OnCompletion(int op, bool ok) override;

 private:
  enum Op { kRequest, kFinish };
  ValidateConfigCall(ServerState* state, grpc::ServerCompletionQueue* cq)
      : state_(state), cq_(cq), responder_(&context_) {}

  // The answer, or the status Process would end the stream with.
  grpc::Status Validate();

  ServerState* const state_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  v1::ValidateConfigRequest request_;
  v1::ValidateConfigResponse response_;
  grpc::ServerAsyncResponseWriter<v1::ValidateConfigResponse> responder_;
  grpc::StatusCode status_code_ = grpc::StatusCode::OK;
  CallTag request_tag_{this, kRequest};
  CallTag finish_tag_{this, kFinish};
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_VALIDATE_CONFIG_CALL_H_
