// ReflectionService: gRPC server reflection, grpc.reflection.v1 and v1alpha (what grpcurl,
// buf curl and Postman ask for), served here rather than by gRPC's plugin so that a call must
// carry a bearer token like every service but health: the plugin has no hook for that, and
// gRPC 1.51's speaks only v1alpha.
//
//   ReflectionService reflection({"audioproc.v1.AudioProcessor", "grpc.health.v1.Health"});
//   reflection.Register(builder);              // before BuildAndStart
//   for (cq : queues) reflection.Listen(state, cq);   // after it
//
// Asynchronous, like the rest of the engine: each stream is a ReflectionCall driven by the
// server's completion queues, so open streams hold no thread and end DEADLINE_EXCEEDED after
// --idle_timeout_seconds without a request.
// Thread safety: Register and Listen are called while the server starts, from one thread; the
// call objects then run on the completion-queue threads.
#ifndef AUDIOPROC_SERVICE_REFLECTION_SERVICE_H_
#define AUDIOPROC_SERVICE_REFLECTION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "service/reflection_call.h"
#include "service/server_state.h"

namespace audioproc {

class ReflectionService {
 public:
  // `services`: the services list_services names besides the two reflection services.
  explicit ReflectionService(std::vector<std::string> services);

  // Registers both versions with `builder`. This object must outlive the server built.
  void Register(grpc::ServerBuilder& builder);
  // Posts a call object of each version waiting for a stream on `cq`; after BuildAndStart.
  void Listen(ServerState* state, grpc::ServerCompletionQueue* cq);

  // What list_services answers.
  const std::vector<std::string>& services() const { return services_; }

 private:
  const std::vector<std::string> services_;
  ReflectionV1::AsyncService v1_;
  ReflectionV1Alpha::AsyncService v1alpha_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_REFLECTION_SERVICE_H_
