// The client's health mode (`audioproc-client --health`): one grpc.health.v1.Health/Check
// call, as a container HEALTHCHECK or a shell script asks whether a server is up.
//
//   StreamClientOptions options;             // address, TLS, token and timeout as for streams
//   options.address = "localhost:8081";      // the gRPC port, or the plaintext --health_port
//   absl::StatusOr<HealthStatus> status = CheckHealth(options, "");
#ifndef AUDIOPROC_CLIENTS_HEALTH_PROBE_H_
#define AUDIOPROC_CLIENTS_HEALTH_PROBE_H_

#include <string>

#include "absl/status/statusor.h"
#include "clients/stream_client.h"
#include "grpc/health/v1/health.pb.h"

namespace audioproc::client {

using HealthStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// Asks the server at options.address for the status of `service` ("" is the server as a whole;
// the server also answers for "audioproc.v1.AudioProcessor"), sending options' bearer token and
// honouring options.timeout. The call's error (UNAVAILABLE when nothing listens, NOT_FOUND for
// an unknown service) when it fails.
absl::StatusOr<HealthStatus> CheckHealth(const StreamClientOptions& options,
                                         const std::string& service);

// CheckHealth, printed: the status's name (SERVING, NOT_SERVING, ...) on standard output, or the
// error on standard error. The process's exit code: 0 only for SERVING, else 1 (what Docker's
// HEALTHCHECK and Kubernetes' exec probes take as unhealthy).
int RunHealthProbe(const StreamClientOptions& options, const std::string& service);

}  // namespace audioproc::client

#endif  // AUDIOPROC_CLIENTS_HEALTH_PROBE_H_
