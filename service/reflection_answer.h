// The answers of gRPC server reflection, both grpc.reflection.v1 and v1alpha (what grpcurl,
// buf curl and Postman ask for), from the generated descriptor pool: the services this server
// lists, and the files that define a symbol with their dependencies, each dependency once per
// stream. The two versions' messages have the same shape; each gets an overload.
//
//   SentFiles sent;                          // one per stream
//   AnswerReflection(services, request, &sent, &response);
//
// Errors are answered in band (error_response with a gRPC code), as the protocol asks; the
// stream goes on.
// Thread safety: stateless functions (the generated pool is thread-safe); a SentFiles belongs
// to one stream.
#ifndef AUDIOPROC_SERVICE_REFLECTION_ANSWER_H_
#define AUDIOPROC_SERVICE_REFLECTION_ANSWER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "grpc/reflection/v1/reflection.pb.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"

namespace audioproc {

// The names of both reflection services, which a server with reflection lists besides its own.
std::vector<std::string> ReflectionServiceNames();

// Files already sent on one stream, by name: a client keeps what it was given.
using SentFiles = absl::flat_hash_set<std::string>;

// Fills `response` for `request`: `services` for list_services; a requested file, always, with
// each of its dependencies not yet in `sent` (which it updates); extension numbers; or an
// error_response (NOT_FOUND for an unknown name, INVALID_ARGUMENT for an empty request).
// Allocates.
void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1::ServerReflectionRequest& request, SentFiles* sent,
                      grpc::reflection::v1::ServerReflectionResponse* response);
void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1alpha::ServerReflectionRequest& request,
                      SentFiles* sent,
                      grpc::reflection::v1alpha::ServerReflectionResponse* response);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_REFLECTION_ANSWER_H_
