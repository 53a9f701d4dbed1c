// The Admin service's calls: ListStreamsCall (unary) and WatchStreamsCall (server streaming),
// both answered from ServerState::ListStreams. Admin calls authenticate with
// ServerState::AuthenticateAdmin (--admin_tokens_file, or the server's tokens).
//
// A watcher costs a timer and one response at a time (at most --max_streams StreamInfos, a
// few hundred bytes each); at most kMaxWatchers are open at once (RESOURCE_EXHAUSTED past
// that), each looks at most every kMinWatchInterval, and a look while the previous message
// is still being sent is skipped (the next one carries what changed since the last one
// sent), so a watcher that stops reading holds one message, not a queue.
// Thread safety: every event of a call arrives on its completion queue's one thread, so a
// call's own state needs no lock.
#ifndef AUDIOPROC_SERVICE_ADMIN_CALLS_H_
#define AUDIOPROC_SERVICE_ADMIN_CALLS_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "service/call.h"
#include "service/server_state.h"
#include "service/stream_changes.h"

namespace audioproc {

inline constexpr int kMaxWatchers = 16;
inline constexpr absl::Duration kMinWatchInterval = absl::Milliseconds(100);
inline constexpr absl::Duration kMaxWatchInterval = absl::Hours(1);

class ListStreamsCall final : public Call {
 public:
  // Creates a call object waiting for the next ListStreams call on `cq`. It owns itself.
  static void Listen(ServerState* state, v1::Admin::AsyncService* service,
                     grpc::ServerCompletionQueue* cq);
  void OnCompletion(int op, bool ok) override;

 private:
  enum Op { kRequest, kFinish };
  ListStreamsCall(ServerState* state, v1::Admin::AsyncService* service,
                  grpc::ServerCompletionQueue* cq)
      : state_(state), service_(service), cq_(cq), responder_(&context_) {}

  ServerState* const state_;
  v1::Admin::AsyncService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  v1::ListStreamsRequest request_;
  grpc::ServerAsyncResponseWriter<v1::ListStreamsResponse> responder_;
  grpc::StatusCode status_code_ = grpc::StatusCode::OK;
  CallTag request_tag_{this, kRequest};
  CallTag finish_tag_{this, kFinish};
};

class WatchStreamsCall final : public Call {
 public:
  // Creates a call object waiting for the next WatchStreams call on `cq`. It owns itself.
  static void Listen(ServerState* state, v1::Admin::AsyncService* service,
                     grpc::ServerCompletionQueue* cq);
  void OnCompletion(int op, bool ok) override;

 private:
  enum Op { kRequest, kWrite, kTick, kFinish, kDone };
  WatchStreamsCall(ServerState* state, v1::Admin::AsyncService* service,
                   grpc::ServerCompletionQueue* cq)
      : state_(state), service_(service), cq_(cq), writer_(&context_) {}

  void OnRequest();
  // Sends what changed since the last message, unless one is still being sent.
  void Look();
  void ArmTick();
  // Ends the call with `status` (once).
  void Finish(const grpc::Status& status);
  // Deletes this object once gRPC's done notification has arrived and nothing is pending.
  void MaybeDestroy();

  ServerState* const state_;
  v1::Admin::AsyncService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  v1::WatchStreamsRequest request_;
  v1::WatchStreamsResponse response_;
  grpc::ServerAsyncWriter<v1::WatchStreamsResponse> writer_;
  grpc::Alarm tick_;
  StreamChangeTracker tracker_;
  absl::Duration interval_;
  bool started_ = false;   // the request arrived (and was counted)
  bool watching_ = false;  // holds one of the kMaxWatchers places
  bool writing_ = false;
  bool ticking_ = false;
  bool finishing_ = false;
  bool done_ = false;
  grpc::StatusCode status_code_ = grpc::StatusCode::OK;
  CallTag request_tag_{this, kRequest};
  CallTag write_tag_{this, kWrite};
  CallTag tick_tag_{this, kTick};
  CallTag finish_tag_{this, kFinish};
  CallTag done_tag_{this, kDone};
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_ADMIN_CALLS_H_
