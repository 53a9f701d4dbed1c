// ReflectionService: gRPC server reflection, both grpc.reflection.v1 and v1alpha (what grpcurl,
// buf curl and Postman ask for), served here rather than by gRPC's plugin so that a call must
// carry a bearer token like every service but health: the plugin has no hook for that, and
// gRPC 1.51's speaks only v1alpha. Answers come from the generated descriptor pool: the
// services this server registers, and the files that define a symbol with their
// dependencies, each dependency once per stream.
//
// Synchronous: reflection calls are few and short, and run on gRPC's sync-server threads,
// never on the completion-queue threads or the DSP executor.
// Thread safety: any number of calls at once; the services keep no per-call state.
#ifndef AUDIOPROC_SERVICE_REFLECTION_SERVICE_H_
#define AUDIOPROC_SERVICE_REFLECTION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "service/server_state.h"

namespace audioproc {

// The names of every service a server with reflection lists besides its own.
std::vector<std::string> ReflectionServiceNames();

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // `state` authenticates calls; `services` is what list_services answers.
  ReflectionV1Service(ServerState* state, std::vector<std::string> services)
      : state_(state), services_(std::move(services)) {}
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  ServerState* const state_;
  const std::vector<std::string> services_;
};

class ReflectionV1AlphaService final
    : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  ReflectionV1AlphaService(ServerState* state, std::vector<std::string> services)
      : state_(state), services_(std::move(services)) {}
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1alpha::ServerReflectionResponse,
                               grpc::reflection::v1alpha::ServerReflectionRequest>* stream)
      override;

 private:
  ServerState* const state_;
  const std::vector<std::string> services_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_REFLECTION_SERVICE_H_
