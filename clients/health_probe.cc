#include "clients/health_probe.h"

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace audioproc::client {

absl::StatusOr<HealthStatus> CheckHealth(const StreamClientOptions& options,
                                         const std::string& service) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<grpc::health::v1::Health::Stub> stub =
      grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;
  if (!options.bearer_token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options.bearer_token));
  }
  if (options.timeout > absl::ZeroDuration() && options.timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  }
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response.status();
}

int RunHealthProbe(const StreamClientOptions& options, const std::string& service) {
  absl::StatusOr<HealthStatus> status = CheckHealth(options, service);
  if (!status.ok()) {
    absl::FPrintF(stderr, "audioproc-client: health of %s at %s: %s: %s\n",
                  service.empty() ? "the server" : service, options.address,
                  absl::StatusCodeToString(status.status().code()), status.status().message());
    return 1;
  }
  absl::PrintF("%s\n", grpc::health::v1::HealthCheckResponse::ServingStatus_Name(*status));
  return *status == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace audioproc::client
