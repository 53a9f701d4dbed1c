// ProcessCall: one Process bidi stream, from the request to the last completion.
//
// Flow: the completion-queue thread reads messages into a bounded inbox; a task of this
// stream (one at a time, on the Executor) turns each inbox item into responses in a bounded
// outbox; the write side sends them one at a time. The config is built on the server's
// configuration pool, never on a stream worker, and the grant it yields (StreamGrant) sizes
// everything after it: the largest chunk accepted, and the inbox and outbox in bytes, not
// only in items. Backpressure: the next read is posted only while the inbox has room for the
// largest message, and the stream is processed only while the outbox has room for the
// largest response, so HTTP/2 flow control pushes back on a client that sends faster than it
// is served or reads slower, and the stream never holds more than its share. Nothing is
// dropped. A long chunk is processed a slice at a time: after each slice (a decode block)
// past a couple of milliseconds the task goes to the back of the executor's queue, so one
// heavy stream cannot stall its neighbours, and a cancelled stream stops within a block.
//
// Errors found when a message arrives (a chunk over the stream's max_chunk_bytes, a second
// config) go into the inbox as a failure, so every chunk accepted before it is still
// answered; then the call finishes with that status. A bad config finishes the call before
// `ready`.
//
// Phases (phase_), in order; each moves only forward:
//   kListening --call arrives, admitted--> kAwaitingConfig --config read--> kConfiguring
//   --built (ready queued)--> kStreaming --half-close, or a failure queued--> kInputClosed
//   --the final status decided--> kEnding --outbox empty--> kFinishing (Finish posted).
// A refusal jumps from kListening to kEnding; a cancelled call or a failed write jumps to
// kBroken from anywhere. gRPC operations and the task in flight are bits of in_flight_; the
// object is deleted once gRPC's done notification has arrived and nothing is in flight.
// Thread safety: the state shared by the completion-queue thread and the task is guarded by
// mu_; the session and the item being processed are touched only by the (single) running
// task. Lock order: ServerState's lock (AbortAll reaches every stream under it), then mu_,
// then the budget's.
#ifndef AUDIOPROC_SERVICE_PROCESS_CALL_H_
#define AUDIOPROC_SERVICE_PROCESS_CALL_H_

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "service/call.h"
#include "service/executor.h"
#include "service/latency_summary.h"
#include "service/resource_budget.h"
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
  void CheckpointAndLeave() override;
  void Describe(v1::StreamInfo* info) const override;

 private:
  enum Op { kRequest, kRead, kWrite, kFinish, kDone, kIdleAlarm };
  using Clock = std::chrono::steady_clock;

  enum class Phase {
    kListening,       // waiting for a call
    kAwaitingConfig,  // admitted; the first message is being read
    kConfiguring,     // the config was read and is being built: no read until its grant
    kStreaming,       // reading chunks and updates, processing them, writing
    kInputClosed,     // nothing more is read: what was is processed, up to a final status
    kEnding,          // the final status is decided: the outbox drains, then Finish
    kFinishing,       // Finish is posted
    kBroken,          // cancelled, or a write failed: nothing more is sent
  };

  // What is in flight: gRPC operations (at most one of each) and the stream's task.
  enum InFlight : uint8_t {
    kReading = 1 << 0,
    kWriting = 1 << 1,
    kFinishPosted = 1 << 2,
    kAlarmSet = 1 << 3,
    kTaskQueued = 1 << 4,  // queued or running on an executor
  };

  struct InboxItem {
    // kLeave: the server drains; a checkpoint, then UNAVAILABLE.
    enum class Kind { kMessage, kEnd, kFail, kLeave };
    Kind kind = Kind::kMessage;
    v1::ProcessRequest request;
    absl::Status status;
    Clock::time_point received;
    uint64_t bytes = 0;  // what it holds, as the inbox counts it
  };
  struct OutboxItem {
    StreamSession::Response response;
    uint64_t bytes = 0;
  };
  // The grant's figures the completion-queue side needs (set once the config is built).
  struct Capacity {
    uint32_t max_chunk_bytes = 0;
    uint32_t max_message_bytes = 0;
    uint64_t inbox_bytes = 0;
    uint64_t outbox_bytes = 0;
    uint64_t max_response_bytes = 0;
    double input_bytes_per_second = 0;
    double cpu_cores = 0;  // the stream's cost, by the cost model
  };

  ProcessCall(ServerState* state, grpc::ServerCompletionQueue* cq);
  ~ProcessCall() override;

  // Completion handlers (completion-queue thread).
  void OnRequest(bool ok);
  void OnRead(bool ok);
  void HandleReadLocked(bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Refuses a message that arrived: every item before it is still processed.
  absl::Status CheckMessageLocked(const v1::ProcessRequest& request, uint64_t bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWrite(bool ok);
  void OnDone();
  void OnIdleAlarm(bool ok);
  // The idle clock: one alarm per stream, re-armed only when it fires, that ends the stream
  // DEADLINE_EXCEEDED when a posted read has waited --idle_timeout_seconds. It runs only
  // while a read is posted, so a stream held back by backpressure is never idle.
  void ArmIdleAlarmLocked(Clock::time_point deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Clock::duration IdleTimeout() const;

  // Task side: works on current_; false when it stopped between slices of a chunk and must be
  // run again to go on. Appends responses to `out`; sets `*final` when the item ends the
  // stream.
  bool Handle(std::vector<StreamSession::Response>* out, std::optional<grpc::Status>* final);

  // The next step each side can take; all called with mu_ held.
  void StartReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the stream's task when it has work and room for its response. With
  // `may_run_here` (a completion handler, on a completion-queue thread), a cheap real-time
  // chunk is instead claimed to run on the calling thread when no real-time task is queued:
  // returns true, and the caller runs it (Executor::RunHere) after unlocking.
  bool ScheduleLocked(bool may_run_here = false) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a completion handler unlocks: runs the task it claimed, or deletes the call when
  // nothing can reach it any more.
  void RunHereOrDestroy(bool run_here, bool done);
  // Whether a chunk of `chunk_bytes` costs at most kRunHereBudget by the cost model.
  bool CheapLocked(uint64_t chunk_bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SubmitLocked(Executor& executor, Executor::Priority priority)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Real time while the stream's audio, with the chunk about to be processed, keeps pace with
  // the wall clock since `ready` (within kAheadOfRealTime); bulk once the client sends audio
  // faster than it plays.
  Executor::Priority PriorityLocked(uint64_t next_chunk_bytes) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a failure after what was read, and reads no more.
  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decides the final status: nothing more is read or processed.
  void EndLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The client is gone: drops what was read and made.
  void BreakLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearInboxLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CanReadLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool OutboxHasRoomLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Reading() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return phase_ == Phase::kAwaitingConfig || phase_ == Phase::kStreaming;
  }
  bool Over() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return phase_ >= Phase::kEnding; }
  // True once nothing can reach this object any more; the caller deletes it after unlocking.
  bool DoneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ && in_flight_ == 0; }

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
  // Set when the call breaks, read by the task between slices without the lock.
  std::atomic<bool> cancelled_{false};
  // Audio processed so far, in microseconds (the task writes it; scheduling reads it).
  std::atomic<int64_t> audio_micros_{0};

  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(state_->mu_);
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kListening;
  uint8_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // gRPC's done notification arrived
  bool admitted_ ABSL_GUARDED_BY(mu_) = false;
  // The audio a resumed stream had before it was ready here (0 for a new one): real time is
  // counted from `ready` on.
  int64_t ready_audio_micros_ ABSL_GUARDED_BY(mu_) = 0;
  // The stream sends checkpoints (set once it is ready).
  bool resumable_ ABSL_GUARDED_BY(mu_) = false;
  // The task stopped between slices of a chunk and is queued to go on.
  bool resuming_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> final_status_ ABSL_GUARDED_BY(mu_);
  v1::ProcessRequest read_message_ ABSL_GUARDED_BY(mu_);
  std::deque<InboxItem> inbox_ ABSL_GUARDED_BY(mu_);
  std::deque<OutboxItem> outbox_ ABSL_GUARDED_BY(mu_);
  Capacity capacity_ ABSL_GUARDED_BY(mu_);
  // Bytes held by the inbox (items waiting, the one being processed, and room for the read
  // in flight) and by the outbox (responses waiting, and the one gRPC is writing, as the
  // copy it serialized).
  uint64_t inbox_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t outbox_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t read_reserved_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t writing_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // The config message, charged to the budget from its arrival until it is built.
  ResourceBudget::Reservation config_held_ ABSL_GUARDED_BY(mu_);
  Clock::time_point read_posted_at_ ABSL_GUARDED_BY(mu_);
  Clock::time_point ready_at_ ABSL_GUARDED_BY(mu_);
  // What Admin.ListStreams reports: the stream's identity once it is ready, the chunks
  // answered and their latencies.
  v1::StreamInfo info_ ABSL_GUARDED_BY(mu_);
  uint64_t chunks_answered_ ABSL_GUARDED_BY(mu_) = 0;
  LatencySummary latency_ ABSL_GUARDED_BY(mu_);

  // The client's address, read once when the call arrives (gRPC builds a new string at each
  // ask), before any task runs.
  std::string peer_;
  // Touched only by the running task (one at a time; mu_ orders consecutive tasks).
  std::optional<InboxItem> current_;
  StreamSession session_;
  Clock::time_point started_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_PROCESS_CALL_H_
