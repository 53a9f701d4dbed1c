// ListProcessorsCall: the unary ListProcessors RPC, answered from the processor registry.
// Thread safety: driven by one completion queue; no shared mutable state.
#ifndef AUDIOPROC_SERVICE_LIST_PROCESSORS_CALL_H_
#define AUDIOPROC_SERVICE_LIST_PROCESSORS_CALL_H_

#include <grpcpp/grpcpp.h>

#include "audioproc/v1/audioproc.grpc.pb.h"
#include "service/call.h"
#include "service/server_state.h"

namespace audioproc {

class ListProcessorsCall final : public Call {
 public:
  // Creates a call object waiting for the next ListProcessors call on `cq`. It owns itself.
  static void Listen(ServerState* state, grpc::ServerCompletionQueue* cq);
  void OnCompletion(int op, bool ok) override;

 private:
  enum Op { kRequest, kFinish };
  ListProcessorsCall(ServerState* state, grpc::ServerCompletionQueue* cq)
      : state_(state), cq_(cq), responder_(&context_) {}

  ServerState* const state_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  v1::ListProcessorsRequest request_;
  v1::ListProcessorsResponse response_;
  grpc::ServerAsyncResponseWriter<v1::ListProcessorsResponse> responder_;
  grpc::StatusCode status_code_ = grpc::StatusCode::OK;
  CallTag request_tag_{this, kRequest};
  CallTag finish_tag_{this, kFinish};
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_LIST_PROCESSORS_CALL_H_
