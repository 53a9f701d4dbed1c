#include "service/health_status.h"

#include <algorithm>
#include <utility>

namespace audioproc {

HealthStatus::HealthStatus(std::vector<std::string> services) : services_(std::move(services)) {}

void HealthStatus::SetServing(bool serving) { serving_.store(serving, std::memory_order_release); }

std::optional<HealthStatus::ServingStatus> HealthStatus::Get(absl::string_view service) const {
  if (!service.empty() && std::find(services_.begin(), services_.end(), service) == services_.end())
    return std::nullopt;
  return serving_.load(std::memory_order_acquire)
             ? grpc::health::v1::HealthCheckResponse::SERVING
             : grpc::health::v1::HealthCheckResponse::NOT_SERVING;
}

}  // namespace audioproc
