// ProcessFileCall: one unary ProcessFile call, from the request to the last completion.
//
// The completion-queue thread takes the request, refuses at once what needs no work (the
// server is draining: UNAVAILABLE; a file over --max_file_bytes: RESOURCE_EXHAUSTED), plans
// the job from the file's header (FileJob::Plan: the output's size, the chain's cost) and
// reserves what it will hold, the request included, from the memory budget and a file
// worker's core from the CPU budget, refusing RESOURCE_EXHAUSTED what does not fit. The work
// runs as one task on the server's file pool (--file_workers threads, apart from the streams'
// executor, so files never take a stream's worker), which decodes, processes and encodes the
// file and sends the answer. A file accepted for processing is registered with the
// ServerState, so a drain waits for it, and AbortAll ends it at the drain deadline; a client
// that cancels ends the work at the next block.
// Thread safety: the state shared by the completion-queue thread, the file worker and
// AbortAll is guarded by mu_; the request, response and report are touched by one thread at
// a time (the CQ thread until the task is queued, then the task).
#ifndef AUDIOPROC_SERVICE_PROCESS_FILE_CALL_H_
#define AUDIOPROC_SERVICE_PROCESS_FILE_CALL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "service/call.h"
#include "service/executor.h"
#include "service/file_job.h"
#include "service/server_state.h"

namespace audioproc {

// Room beside the file in a ProcessFile answer (summary, input format, framing): the server's
// send limit is --max_file_output_bytes plus this.
inline constexpr int64_t kFileResponseRoomBytes = 1 << 20;

// Files that may wait for each file worker; more are RESOURCE_EXHAUSTED. Each waiting file
// holds its request (up to --max_file_bytes) in memory.
inline constexpr int kFilesQueuedPerWorker = 16;

class ProcessFileCall final : public Call, public Runnable, public StreamHandle {
 public:
  // Creates a call object waiting for the next ProcessFile call on `cq`. It owns itself.
  static void Listen(ServerState* state, grpc::ServerCompletionQueue* cq);

  void OnCompletion(int op, bool ok) override;
  // The file's work, on a file worker.
  void Run() override;
  // Stops the work at the next block; the call ends with `status`.
  void Abort(const absl::Status& status) override;

 private:
  enum Op { kRequest, kFinish, kDone };
  using Clock = std::chrono::steady_clock;

  ProcessFileCall(ServerState* state, grpc::ServerCompletionQueue* cq)
      : state_(state), cq_(cq), responder_(&context_) {}

  void OnRequest(bool ok);
  // Sends the answer (response_ when `status` is OK) unless the call is already over; ends
  // the task's claim on this object. Deletes this object when nothing else can reach it.
  void Respond(const absl::Status& status);
  // Why the work should stop now, if it should: an Abort's status, or the client left.
  absl::Status Interrupted();
  bool DoneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Logs and counts the outcome, leaves the server's books and deletes this object.
  void Destroy();

  ServerState* const state_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  v1::ProcessFileRequest request_;
  v1::ProcessFileResponse response_;
  grpc::ServerAsyncResponseWriter<v1::ProcessFileResponse> responder_;
  CallTag request_tag_{this, kRequest};
  CallTag finish_tag_{this, kFinish};
  CallTag done_tag_{this, kDone};
  Clock::time_point received_;
  std::unique_ptr<FileJob> job_;
  // What the file holds of the memory budget, from its arrival to its end.
  ResourceBudget::Reservation held_;
  FileJobReport report_;
  size_t bytes_in_ = 0;
  size_t bytes_out_ = 0;

  absl::Mutex mu_;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;    // in the ServerState's files
  bool task_pending_ ABSL_GUARDED_BY(mu_) = false;  // queued or running on the file pool
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // gRPC's done notification arrived
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> abort_status_ ABSL_GUARDED_BY(mu_);
  grpc::Status outcome_ ABSL_GUARDED_BY(mu_);
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_PROCESS_FILE_CALL_H_
