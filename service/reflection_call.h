// ReflectionCall: one server-reflection stream (grpc.reflection.v1 or v1alpha) on the
// asynchronous completion-queue API, so that an open reflection stream, idle or not, holds no
// thread: grpcurl, buf curl and IDEs keep reflection streams open, and a synchronous service
// spends a thread on each.
//
// Flow, one operation at a time (a reflection client waits for each answer):
//
//   kListening --request--> (bearer token?) --no--> kFinishing (UNAUTHENTICATED)
//                                  |
//                                  +--> kReading --request--> kWriting --written--> kReading
//                                          |--half-close--> kFinishing (OK)
//                                          +--idle--> kFinishing (DEADLINE_EXCEEDED)
//   kFinishing --finished--> kOver
//
// A read that waits --idle_timeout_seconds ends the stream DEADLINE_EXCEEDED, as a Process
// stream's does. A client that goes away (a failed write, gRPC's done notification) ends it
// too. The object is counted as a live call (ServerState::CallStarted/CallEnded) from its
// request until it deletes itself, once gRPC's done notification has arrived and none of its
// operations (read, write, finish, idle alarm) is outstanding.
// Thread safety: completions may arrive on any thread polling the call's completion queue;
// the call's state is guarded by mu_.
#ifndef AUDIOPROC_SERVICE_REFLECTION_CALL_H_
#define AUDIOPROC_SERVICE_REFLECTION_CALL_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "service/call.h"
#include "service/reflection_answer.h"
#include "service/server_state.h"

namespace audioproc {

// The two protocol versions, as ReflectionCall's parameter.
struct ReflectionV1 {
  using AsyncService = grpc::reflection::v1::ServerReflection::AsyncService;
  using Request = grpc::reflection::v1::ServerReflectionRequest;
  using Response = grpc::reflection::v1::ServerReflectionResponse;
};
struct ReflectionV1Alpha {
  using AsyncService = grpc::reflection::v1alpha::ServerReflection::AsyncService;
  using Request = grpc::reflection::v1alpha::ServerReflectionRequest;
  using Response = grpc::reflection::v1alpha::ServerReflectionResponse;
};

template <typename Version>
class ReflectionCall final : public Call {
 public:
  // Creates a call object waiting for the next stream of `service` on `cq`; it owns itself.
  // `services` (what list_services answers) and `service` must outlive the server.
  static void Listen(ServerState* state, typename Version::AsyncService* service,
                     const std::vector<std::string>* services, grpc::ServerCompletionQueue* cq);

  void OnCompletion(int op, bool ok) override;

 private:
  enum Op { kRequest, kRead, kWrite, kFinish, kDone, kIdleAlarm };
  enum class Phase {
    kListening,  // waiting for a client
    kReading,    // a read is posted; the idle clock runs
    kWriting,    // an answer is being written
    kFinishing,  // the status is being sent
    kOver,       // finished, or the client went away; only completions are left to collect
  };
  using Clock = std::chrono::steady_clock;

  ReflectionCall(ServerState* state, typename Version::AsyncService* service,
                 const std::vector<std::string>* services, grpc::ServerCompletionQueue* cq)
      : state_(state), service_(service), services_(services), cq_(cq), stream_(&context_) {}

  // Each returns whether this object is to be deleted (after mu_ is released).
  bool OnRequest(bool ok);
  void OnReadLocked(bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWriteLocked(bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnIdleAlarmLocked(bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The idle clock: one alarm, re-armed only when it fires, as ProcessCall's.
  void ArmIdleAlarmLocked(Clock::time_point deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Clock::duration IdleTimeout() const;

  ServerState* const state_;
  typename Version::AsyncService* const service_;
  const std::vector<std::string>* const services_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<typename Version::Response, typename Version::Request> stream_;
  CallTag request_tag_{this, kRequest};
  CallTag read_tag_{this, kRead};
  CallTag write_tag_{this, kWrite};
  CallTag finish_tag_{this, kFinish};
  CallTag done_tag_{this, kDone};
  CallTag idle_tag_{this, kIdleAlarm};
  grpc::Alarm idle_alarm_;

  absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kListening;
  // Reads, writes, finishes and alarms posted and not yet completed.
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  bool alarm_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // gRPC's done notification arrived
  Clock::time_point read_posted_at_ ABSL_GUARDED_BY(mu_);
  typename Version::Request request_ ABSL_GUARDED_BY(mu_);
  typename Version::Response response_ ABSL_GUARDED_BY(mu_);
  SentFiles sent_ ABSL_GUARDED_BY(mu_);
};

extern template class ReflectionCall<ReflectionV1>;
extern template class ReflectionCall<ReflectionV1Alpha>;

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_REFLECTION_CALL_H_
