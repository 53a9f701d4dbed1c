// HealthStatus: what grpc.health.v1.Health answers, shared by the main server and the
// plaintext --health_port server.
//
// The server serves health itself on its completion queues (HealthCheckCall,
// HealthWatchCall) rather than through gRPC's default health service: that one is built on
// the callback API, whose mere presence makes gRPC 1.51 start "nexting" threads that poll
// the same sockets as the completion-queue threads, so a chunk read by one of them reaches
// its stream only after one more thread wake-up.
//
// Known services are "" (the server as a whole) and each name given at construction; any
// other is unknown (Check: NOT_FOUND; Watch: SERVICE_UNKNOWN). All known services turn
// SERVING or NOT_SERVING together. Thread safety: thread-safe.
#ifndef AUDIOPROC_SERVICE_HEALTH_STATUS_H_
#define AUDIOPROC_SERVICE_HEALTH_STATUS_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpc/health/v1/health.pb.h"
#include "service/watch_places.h"

namespace audioproc {

class HealthStatus {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // Starts NOT_SERVING.
  explicit HealthStatus(std::vector<std::string> services);

  void SetServing(bool serving);
  // The status of `service`, or nothing when it is unknown.
  std::optional<ServingStatus> Get(absl::string_view service) const;
  // Bounds the Watch calls open at once (each costs a timer); false when `max` are open.
  bool TryStartWatch(int max) { return watchers_.TryTake(max); }
  void EndWatch() { watchers_.GiveBack(); }

 private:
  const std::vector<std::string> services_;
  std::atomic<bool> serving_{false};
  WatchPlaces watchers_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_HEALTH_STATUS_H_
