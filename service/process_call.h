// ProcessCall: one Process bidi stream, from the request to the last completion.
//
// Flow: the completion-queue thread reads messages into a bounded inbox; a worker (one task
// of this stream at a time on the Executor) turns each inbox item into responses in a bounded
// outbox; the write side sends them one at a time. Backpressure: the next read is posted only
// while the inbox has room and the stream is processed only while the outbox has room, so
// HTTP/2 flow control pushes back on a client that sends faster than it is served or reads
// slower. Nothing is dropped.
//
// Errors found when a message arrives (a chunk over --max_chunk_bytes, a second config) go
// into the inbox as a failure, so every chunk accepted before it is still answered; then the
// call finishes with that status. A bad config finishes the call before `ready`.
// Thread safety: the mutable state shared by the completion-queue thread and the worker is
// guarded by mu_; the stream's pipeline is touched only by the (single) running task.
#ifndef AUDIOPROC_SERVICE_PROCESS_CALL_H_
#define AUDIOPROC_SERVICE_PROCESS_CALL_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "service/call.h"
#include "service/executor.h"
#include "service/server_state.h"
#include "service/stream_session.h"

namespace audioproc {

class ProcessCall final : public Call, public Runnable, public StreamHandle {
 public:
  // Creates a call object waiting for the next Process call on `cq`. It owns itself.
  static void Listen(ServerState* state, grpc::ServerCompletionQueue* cq);

  void OnCompletion(int op, bool ok) override;
  void Run() override;
  void Abort(const absl::Status& status) override;

 private:
  enum Op { kRequest, kRead, kWrite, kFinish, kDone, kIdleAlarm };
  using Clock = std::chrono::steady_clock;

  struct InboxItem {
    enum class Kind { kMessage, kEnd, kFail };
    Kind kind = Kind::kMessage;
    v1::ProcessRequest request;
    absl::Status status;
    Clock::time_point received;
  };
  using OutboxItem = StreamSession::Response;

  ProcessCall(ServerState* state, grpc::ServerCompletionQueue* cq);
  ~ProcessCall() override;

  // Completion handlers (completion-queue thread).
  void OnRequest(bool ok);
  void OnRead(bool ok);
  void HandleReadLocked(bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWrite(bool ok);
  void OnIdleAlarm(bool ok);
  // The idle clock: one alarm per stream, re-armed only when it fires, that ends the stream
  // DEADLINE_EXCEEDED when a posted read has waited --idle_timeout_seconds. It runs only
  // while a read is posted, so a stream held back by backpressure is never idle.
  void ArmIdleAlarmLocked(Clock::time_point deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Clock::duration IdleTimeout() const;

  // Worker side: turns one inbox item into responses appended to `out`; sets `*final` when
  // the item ends the stream.
  void Handle(InboxItem& item, std::vector<OutboxItem>* out, std::optional<grpc::Status>* final);

  // The next step each side can take; all called with mu_ held.
  void StartReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CanReadLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True once nothing can reach this object any more; the caller deletes it after unlocking.
  bool DoneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Logs the end, releases the stream's admission and deletes this object.
  void Destroy();
  void LogEnd(const grpc::Status& status);

  ServerState* const state_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<v1::ProcessResponse, v1::ProcessRequest> stream_;
  CallTag request_tag_{this, kRequest};
  CallTag read_tag_{this, kRead};
  CallTag write_tag_{this, kWrite};
  CallTag finish_tag_{this, kFinish};
  CallTag done_tag_{this, kDone};
  CallTag idle_tag_{this, kIdleAlarm};
  grpc::Alarm idle_alarm_;
  const size_t queue_chunks_;

  absl::Mutex mu_;
  v1::ProcessRequest read_message_ ABSL_GUARDED_BY(mu_);
  v1::ProcessResponse write_message_ ABSL_GUARDED_BY(mu_);
  std::deque<InboxItem> inbox_ ABSL_GUARDED_BY(mu_);
  std::deque<OutboxItem> outbox_ ABSL_GUARDED_BY(mu_);
  bool admitted_ ABSL_GUARDED_BY(mu_) = false;
  bool input_closed_ ABSL_GUARDED_BY(mu_) = false;  // half-close seen, or reading stopped
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_started_ ABSL_GUARDED_BY(mu_) = false;
  bool task_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool alarm_pending_ ABSL_GUARDED_BY(mu_) = false;
  Clock::time_point read_posted_at_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;    // gRPC's done notification arrived
  bool broken_ ABSL_GUARDED_BY(mu_) = false;  // cancelled, or a write failed
  bool config_seen_ ABSL_GUARDED_BY(mu_) = false;
  // Set once the stream's last response is queued (or it was refused); from then on nothing
  // more is read or processed, and Finish follows the last write.
  std::optional<grpc::Status> final_status_ ABSL_GUARDED_BY(mu_);

  // Touched only by the running task (one at a time; mu_ orders consecutive tasks).
  StreamSession session_;
  Clock::time_point started_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_PROCESS_CALL_H_
