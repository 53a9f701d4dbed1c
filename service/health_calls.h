// HealthCheckCall and HealthWatchCall: grpc.health.v1.Health on the server's own completion
// queues (see health_status.h for why not gRPC's default service). Unauthenticated, as
// kubelet's probes are, and not counted in the grpc_server_* metrics.
//
// Watch answers the current status at once and then each change; it looks for a change
// every kWatchPoll (a watcher learns of a drain within that), and at most kMaxWatchers are
// open at once (RESOURCE_EXHAUSTED past that), so watchers cost a bounded number of timers.
// Thread safety: each call is driven by one completion queue.
#ifndef AUDIOPROC_SERVICE_HEALTH_CALLS_H_
#define AUDIOPROC_SERVICE_HEALTH_CALLS_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>

#include "grpc/health/v1/health.grpc.pb.h"
#include "service/call.h"
#include "service/health_status.h"

namespace audioproc {

using HealthService = grpc::health::v1::Health::AsyncService;

class HealthCheckCall final : public Call {
 public:
  // Creates a call object waiting for the next Check on `cq`. It owns itself.
  static void Listen(HealthStatus* status, HealthService* service, grpc::ServerCompletionQueue* cq);
  void OnCompletion(int op, bool ok) override;

 private:
  enum Op { kRequest, kFinish };
  HealthCheckCall(HealthStatus* status, HealthService* service, grpc::ServerCompletionQueue* cq)
      : status_(status), service_(service), cq_(cq), responder_(&context_) {}

  HealthStatus* const status_;
  HealthService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  grpc::health::v1::HealthCheckRequest request_;
  grpc::health::v1::HealthCheckResponse response_;
  grpc::ServerAsyncResponseWriter<grpc::health::v1::HealthCheckResponse> responder_;
  CallTag request_tag_{this, kRequest};
  CallTag finish_tag_{this, kFinish};
};

class HealthWatchCall final : public Call {
 public:
  static constexpr int kMaxWatchers = 64;

  // Creates a call object waiting for the next Watch on `cq`. It owns itself.
  static void Listen(HealthStatus* status, HealthService* service, grpc::ServerCompletionQueue* cq);
  void OnCompletion(int op, bool ok) override;

 private:
  enum Op { kRequest, kWrite, kPoll, kFinish, kDone };
  HealthWatchCall(HealthStatus* status, HealthService* service, grpc::ServerCompletionQueue* cq)
      : status_(status), service_(service), cq_(cq), writer_(&context_) {}

  void OnRequest();
  // Writes the status when it changed since the last one written (or none was).
  void Look();
  void ArmPoll();
  void MaybeDestroy();

  HealthStatus* const status_;
  HealthService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  grpc::health::v1::HealthCheckRequest request_;
  grpc::health::v1::HealthCheckResponse response_;
  grpc::ServerAsyncWriter<grpc::health::v1::HealthCheckResponse> writer_;
  grpc::Alarm poll_;
  CallTag request_tag_{this, kRequest};
  CallTag write_tag_{this, kWrite};
  CallTag poll_tag_{this, kPoll};
  CallTag finish_tag_{this, kFinish};
  CallTag done_tag_{this, kDone};
  bool watching_ = false;  // counted in the status's watchers
  bool writing_ = false;
  bool polling_ = false;
  bool finishing_ = false;
  bool done_ = false;
  bool written_ = false;  // a status was written
  HealthStatus::ServingStatus last_written_ = grpc::health::v1::HealthCheckResponse::UNKNOWN;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_HEALTH_CALLS_H_
