#include "service/reflection_service.h"

#include <utility>

#include "service/reflection_answer.h"

namespace audioproc {
namespace {

std::vector<std::string> WithReflection(std::vector<std::string> services) {
  for (std::string& name : ReflectionServiceNames()) services.push_back(std::move(name));
  return services;
}

}  // namespace

ReflectionService::ReflectionService(std::vector<std::string> services)
    : services_(WithReflection(std::move(services))) {}

void ReflectionService::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(&v1_);
  builder.RegisterService(&v1alpha_);
}

void ReflectionService::Listen(ServerState* state, grpc::ServerCompletionQueue* cq) {
  ReflectionCall<ReflectionV1>::Listen(state, &v1_, &services_, cq);
  ReflectionCall<ReflectionV1Alpha>::Listen(state, &v1alpha_, &services_, cq);
}

}  // namespace audioproc
