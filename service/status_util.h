// The one place an absl::Status becomes a grpc::Status (Abseil's codes match gRPC's one to
// one, as Triton's GrpcStatusUtil relies on).
#ifndef AUDIOPROC_SERVICE_STATUS_UTIL_H_
#define AUDIOPROC_SERVICE_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace audioproc {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STATUS_UTIL_H_
