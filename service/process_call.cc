#include "service/process_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "protos/wire_formats.h"
#include "service/logging.h"
#include "service/status_util.h"

namespace audioproc {
namespace {

// How long a task works on one chunk before it lets the other streams' tasks queued behind
// it run: a bystander's chunk waits at most this per heavy stream ahead of it.
constexpr auto kSlice = std::chrono::milliseconds(2);
// How far a stream's audio may run ahead of the wall clock (a client catching up after a
// network stall, a first chunk of buffered audio) and still count as real time.
constexpr auto kAheadOfRealTime = std::chrono::seconds(2);
// The most a chunk may cost, by the stream's cost model, to be processed on the
// completion-queue thread that read it (ScheduleLocked): that thread's other streams wait
// for it, so only chunks that take a small fraction of a chunk's duration run there.
constexpr auto kRunHereBudget = std::chrono::microseconds(500);

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// What a response holds in memory: its serialized size, and room its audio buffer was given
// beyond what it filled.
uint64_t HeldBytes(const v1::ProcessResponse& response) {
  uint64_t bytes = response.ByteSizeLong();
  if (response.has_chunk())
    bytes += response.chunk().data().capacity() - response.chunk().data().size();
  return bytes;
}

}  // namespace

void ProcessCall::Listen(ServerState* state, grpc::ServerCompletionQueue* cq) {
  auto* call = new ProcessCall(state, cq);
  call->context_.AsyncNotifyWhenDone(&call->done_tag_);
  state->service().RequestProcess(&call->context_, &call->stream_, cq, cq, &call->request_tag_);
}

ProcessCall::ProcessCall(ServerState* state, grpc::ServerCompletionQueue* cq)
    : state_(state),
      cq_(cq),
      stream_(&context_),
      queue_chunks_(static_cast<size_t>(state->options().stream_queue_chunks)),
      session_(state->session_deps()) {}

ProcessCall::~ProcessCall() = default;

void ProcessCall::OnCompletion(int op, bool ok) {
  switch (op) {
    case kRequest:
      OnRequest(ok);
      return;
    case kRead:
      OnRead(ok);
      return;
    case kWrite:
      OnWrite(ok);
      return;
    case kIdleAlarm:
      OnIdleAlarm(ok);
      return;
    case kDone:
      OnDone();
      return;
    default:
      break;
  }
  bool done;
  {
    absl::MutexLock lock(&mu_);
    in_flight_ &= ~kFinishPosted;
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::OnDone() {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    if (in_flight_ & kAlarmSet) idle_alarm_.Cancel();
    if (context_.IsCancelled()) BreakLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::Destroy() {
  grpc::Status outcome;
  bool admitted;
  {
    absl::MutexLock lock(&mu_);
    outcome = phase_ == Phase::kBroken || !final_status_
                  ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                  : *final_status_;
    admitted = admitted_;
    config_held_.Release();
  }
  LogEnd(outcome);
  // Release after the last use of mu_ by us, and before delete: ServerState::AbortAll may be
  // waiting on mu_ while holding the state's lock, which Release needs.
  if (admitted) state_->Release(this);
  state_->CallEnded();
  delete this;
}

void ProcessCall::OnRequest(bool ok) {
  if (!ok) {
    // The server is shutting down. gRPC delivers no done notification for a call that never
    // started (grpc/grpc#10136), so nothing else can reach this object.
    delete this;
    return;
  }
  Listen(state_, cq_);  // the next caller gets a fresh call object
  state_->CallStarted();
  state_->metrics().GrpcStarted(kProcessMethod);
  started_ = Clock::now();
  peer_ = context_.peer();
  session_.set_principal(ServerState::Principal(context_));
  // Admission happens outside mu_: ServerState::AbortAll locks the state, then each stream.
  std::optional<absl::Status> rejection;
  if (absl::Status accepted = state_->AcceptNewWork(context_); !accepted.ok()) {
    rejection = accepted;
  } else if (!state_->TryAdmit(this)) {
    state_->metrics().Rejections("max_streams").Increment();
    rejection = absl::ResourceExhaustedError(
        absl::StrCat("the server is at --max_streams=", state_->options().max_streams,
                     " concurrent streams; retry later or on another instance"));
  }
  absl::MutexLock lock(&mu_);
  if (rejection) {
    EndLocked(ToGrpcStatus(*rejection));
    MaybeFinishLocked();
    return;
  }
  admitted_ = true;
  info_.set_serial(state_->NextSerial());
  info_.set_peer(peer_);
  if (phase_ != Phase::kListening) {
    // Aborted (a drain's deadline) between admission and now: its failure is queued.
    ScheduleLocked();
    return;
  }
  phase_ = Phase::kAwaitingConfig;
  StartReadLocked();
  ArmIdleAlarmLocked(read_posted_at_ + IdleTimeout());
}

ProcessCall::Clock::duration ProcessCall::IdleTimeout() const {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(state_->options().idle_timeout_seconds));
}

void ProcessCall::ArmIdleAlarmLocked(Clock::time_point deadline) {
  in_flight_ |= kAlarmSet;
  idle_alarm_.Set(cq_, absl::ToChronoTime(absl::Now() + absl::FromChrono(deadline - Clock::now())),
                  &idle_tag_);
}

void ProcessCall::OnIdleAlarm(bool ok) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    in_flight_ &= ~kAlarmSet;
    if (ok && !Over() && !done_) {
      const bool reading = in_flight_ & kReading;
      if (reading && Clock::now() - read_posted_at_ >= IdleTimeout()) {
        state_->metrics().Rejections("idle_timeout").Increment();
        FailLocked(absl::DeadlineExceededError(absl::StrCat(
            "no chunk for --idle_timeout_seconds=", state_->options().idle_timeout_seconds,
            " while the server waited for one")));
        ScheduleLocked();
      } else {
        ArmIdleAlarmLocked((reading ? read_posted_at_ : Clock::now()) + IdleTimeout());
      }
    }
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::OnRead(bool ok) {
  bool done;
  bool run_here;
  {
    absl::MutexLock lock(&mu_);
    in_flight_ &= ~kReading;
    inbox_bytes_ -= read_reserved_;
    read_reserved_ = 0;
    HandleReadLocked(ok);
    run_here = ScheduleLocked(/*may_run_here=*/true);
    done = DoneLocked();
  }
  RunHereOrDestroy(run_here, done);
}

void ProcessCall::HandleReadLocked(bool ok) {
  if (!Reading()) {
    read_message_.Clear();  // the stream is over (or broken): what arrived is not accepted
    return;
  }
  if (!ok) {
    // The client half-closed (or went away; the done notification will say).
    phase_ = Phase::kInputClosed;
    inbox_.push_back({InboxItem::Kind::kEnd, {}, {}, Clock::now(), 0});
    return;
  }
  const uint64_t bytes = read_message_.ByteSizeLong();
  InboxItem item{InboxItem::Kind::kMessage, std::move(read_message_), {}, Clock::now(), bytes};
  read_message_.Clear();
  if (absl::Status refused = CheckMessageLocked(item.request, bytes); !refused.ok()) {
    FailLocked(refused);
    return;
  }
  if (phase_ == Phase::kAwaitingConfig) {
    // The config is held until it is built; no read until then (its grant sizes them).
    std::string exhausted;
    absl::StatusOr<ResourceBudget::Reservation> held = state_->budget().Reserve(
        {.memory_bytes = static_cast<int64_t>(bytes), .cpu_cores = 0}, "the config", &exhausted);
    if (!held.ok()) {
      state_->metrics().Rejections(exhausted).Increment();
      FailLocked(held.status());
      return;
    }
    config_held_ = *std::move(held);
    phase_ = Phase::kConfiguring;
    // Held by config_held_, not by the inbox's count (which Run takes each item's bytes
    // from): counted there too, a resume's token of tens of KB wrapped the count below zero
    // and no read was posted again.
    item.bytes = 0;
  } else {
    inbox_bytes_ += bytes;
  }
  if (item.request.has_chunk()) {
    state_->metrics().bytes_in().Increment(static_cast<double>(item.request.chunk().data().size()));
  }
  inbox_.push_back(std::move(item));
  StartReadLocked();
}

absl::Status ProcessCall::CheckMessageLocked(const v1::ProcessRequest& request, uint64_t bytes) {
  absl::Status status =
      StreamSession::CheckRequest(request, bytes, phase_ == Phase::kAwaitingConfig,
                                  {.max_chunk_bytes = capacity_.max_chunk_bytes,
                                   .max_message_bytes = capacity_.max_message_bytes},
                                  state_->session_limits());
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    state_->metrics().Rejections("max_chunk_bytes").Increment();
  }
  return status;
}

void ProcessCall::OnWrite(bool ok) {
  bool done;
  bool run_here;
  {
    absl::MutexLock lock(&mu_);
    in_flight_ &= ~kWriting;
    outbox_bytes_ -= writing_bytes_;
    writing_bytes_ = 0;
    if (!ok) BreakLocked();  // the client is gone; gRPC's done notification follows
    StartWriteLocked();
    run_here = ScheduleLocked(/*may_run_here=*/true);
    MaybeFinishLocked();
    done = DoneLocked();
  }
  RunHereOrDestroy(run_here, done);
}

void ProcessCall::RunHereOrDestroy(bool run_here, bool done) {
  if (run_here) {
    // The task holds the call (kTaskQueued): Run ends it if this was its last work.
    state_->executor().RunHere(this);
  } else if (done) {
    Destroy();
  }
}

void ProcessCall::Abort(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (Over()) return;
  // After what was read; an end of input or a failure already queued comes first.
  FailLocked(status);
  ScheduleLocked();
}

void ProcessCall::CheckpointAndLeave() {
  absl::MutexLock lock(&mu_);
  if (phase_ != Phase::kStreaming || !resumable_) return;
  // What was read and not processed is dropped: the client sends it again after the
  // checkpoint, to the replica it resumes on. Nothing more is read.
  ClearInboxLocked();
  phase_ = Phase::kInputClosed;
  inbox_.push_back({InboxItem::Kind::kLeave, {}, {}, Clock::now(), 0});
  ScheduleLocked();
}

void ProcessCall::Run() {
  bool done = false;
  {
    absl::MutexLock lock(&mu_);
    if (phase_ == Phase::kBroken || (!resuming_ && inbox_.empty())) {
      // The call broke after this task was queued: nothing is left to process, and this task
      // may be the last thing that keeps the call object alive.
      in_flight_ &= ~kTaskQueued;
      resuming_ = false;
      current_.reset();
      done = DoneLocked();
    } else if (!resuming_) {
      current_ = std::move(inbox_.front());
      inbox_.pop_front();
      StartReadLocked();
    }
  }
  if (!current_) {
    if (done) Destroy();
    return;
  }
  std::vector<StreamSession::Response> out;
  std::optional<grpc::Status> final;
  const bool finished = Handle(&out, &final);
  audio_micros_.store(static_cast<int64_t>(session_.audio_seconds() * 1e6),
                      std::memory_order_relaxed);
  {
    absl::MutexLock lock(&mu_);
    if (!finished && phase_ != Phase::kBroken) {
      // Stopped between slices of a long chunk: to the back of the queue, to go on.
      resuming_ = true;
      SubmitLocked(state_->executor(), PriorityLocked(0));
      return;
    }
    in_flight_ &= ~kTaskQueued;
    resuming_ = false;
    inbox_bytes_ -= current_->bytes;
    const bool was_config = current_->kind == InboxItem::Kind::kMessage &&
                            (current_->request.has_config() || current_->request.has_resume());
    current_.reset();
    if (was_config) {
      config_held_.Release();
      if (session_.configured()) {
        const StreamGrant& grant = session_.grant();
        capacity_ = {grant.max_chunk_bytes,
                     grant.max_message_bytes,
                     grant.inbox_bytes,
                     grant.outbox_bytes,
                     grant.max_response_bytes,
                     static_cast<double>(grant.in_frame_bytes) * grant.input_rate_hz,
                     grant.cost.cpu_cores};
        ready_at_ = Clock::now();
        resumable_ = session_.resumable();
        ready_audio_micros_ = audio_micros_.load(std::memory_order_relaxed);
        info_.set_stream_id(session_.stream_id());
        info_.set_chain(session_.chain_text());
        const PipelineConfig& config = session_.pipeline_config();
        for (const auto& [format, to] : {std::pair{&config.input, info_.mutable_input()},
                                         std::pair{&config.output, info_.mutable_output()}}) {
          to->set_encoding(ToProtoEncoding(format->encoding));
          to->set_sample_rate_hz(format->sample_rate_hz);
          to->set_channels(format->channels);
        }
        info_.mutable_cost()->set_cpu_cores(grant.cost.cpu_cores);
        info_.mutable_cost()->set_memory_bytes(static_cast<uint64_t>(grant.cost.memory_bytes));
        // Unless a failure was queued meanwhile (the idle clock, a drain's deadline).
        if (phase_ == Phase::kConfiguring) phase_ = Phase::kStreaming;
      }
    }
    if (phase_ != Phase::kBroken) {
      for (StreamSession::Response& response : out) {
        const uint64_t bytes = HeldBytes(response.response);
        outbox_bytes_ += bytes;
        outbox_.push_back({std::move(response), bytes});
      }
    }
    if (final && !Over()) EndLocked(*final);
    StartReadLocked();
    StartWriteLocked();
    ScheduleLocked();
    MaybeFinishLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::StartReadLocked() {
  if (!CanReadLocked()) return;
  in_flight_ |= kReading;
  if (phase_ == Phase::kStreaming) {
    // Room for the largest message the stream may send is held until it arrives.
    read_reserved_ = capacity_.max_message_bytes;
    inbox_bytes_ += read_reserved_;
  }
  read_posted_at_ = Clock::now();
  stream_.Read(&read_message_, &read_tag_);
}

bool ProcessCall::CanReadLocked() const {
  if (!Reading() || (in_flight_ & kReading) || done_ || inbox_.size() >= queue_chunks_) {
    return false;
  }
  return phase_ == Phase::kAwaitingConfig ||
         inbox_bytes_ + capacity_.max_message_bytes <= capacity_.inbox_bytes;
}

void ProcessCall::StartWriteLocked() {
  if ((in_flight_ & kWriting) || outbox_.empty() || phase_ == Phase::kBroken || done_) return;
  OutboxItem item = std::move(outbox_.front());
  outbox_.pop_front();
  if (item.response.received) {
    const double latency = Seconds(Clock::now() - *item.response.received);
    state_->metrics().chunk_latency().Observe(latency);
    latency_.Record(latency);
    ++chunks_answered_;
  }
  writing_bytes_ = item.bytes;
  in_flight_ |= kWriting;
  // Write serializes the message into gRPC's own buffer at once (CallOpSendMessage), so the
  // message itself goes when this returns rather than lasting as long as the write.
  stream_.Write(item.response.response, &write_tag_);
}

bool ProcessCall::OutboxHasRoomLocked() const {
  if (outbox_.size() >= queue_chunks_) return false;
  // Before the config is built the only response is `ready`, which is small.
  return phase_ <= Phase::kConfiguring ||
         outbox_bytes_ + capacity_.max_response_bytes <= capacity_.outbox_bytes;
}

bool ProcessCall::ScheduleLocked(bool may_run_here) {
  if ((in_flight_ & kTaskQueued) || inbox_.empty() || Over() || phase_ == Phase::kBroken ||
      !OutboxHasRoomLocked()) {
    return false;
  }
  const InboxItem& next = inbox_.front();
  if (next.kind == InboxItem::Kind::kMessage &&
      (next.request.has_config() || next.request.has_resume())) {
    SubmitLocked(state_->config_executor(), Executor::Priority::kRealTime);
    return false;
  }
  const uint64_t chunk_bytes = next.request.has_chunk() ? next.request.chunk().data().size() : 0;
  const Executor::Priority priority = PriorityLocked(chunk_bytes);
  if (may_run_here && priority == Executor::Priority::kRealTime && CheapLocked(chunk_bytes) &&
      state_->executor().IdleForRunHere()) {
    in_flight_ |= kTaskQueued;
    return true;
  }
  SubmitLocked(state_->executor(), priority);
  return false;
}

bool ProcessCall::CheapLocked(uint64_t chunk_bytes) const {
  if (capacity_.input_bytes_per_second <= 0) return true;  // the end, or a failure: no DSP
  const double seconds =
      capacity_.cpu_cores * static_cast<double>(chunk_bytes) / capacity_.input_bytes_per_second;
  return seconds <= std::chrono::duration<double>(kRunHereBudget).count();
}

Executor::Priority ProcessCall::PriorityLocked(uint64_t next_chunk_bytes) const {
  if (capacity_.input_bytes_per_second <= 0) return Executor::Priority::kRealTime;
  const auto played = Clock::now() - ready_at_;
  const auto audio = std::chrono::microseconds(
      audio_micros_.load(std::memory_order_relaxed) - ready_audio_micros_ +
      static_cast<int64_t>(1e6 * static_cast<double>(next_chunk_bytes) /
                           capacity_.input_bytes_per_second));
  return audio - played > kAheadOfRealTime ? Executor::Priority::kBulk
                                           : Executor::Priority::kRealTime;
}

void ProcessCall::SubmitLocked(Executor& executor, Executor::Priority priority) {
  in_flight_ |= kTaskQueued;
  if (!executor.Submit(this, priority)) {
    // Only when the executor is stopping: the queue holds at most one task per stream.
    in_flight_ &= ~kTaskQueued;
    resuming_ = false;
    EndLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
}

void ProcessCall::MaybeFinishLocked() {
  if (phase_ != Phase::kEnding || (in_flight_ & (kWriting | kTaskQueued)) || !outbox_.empty() ||
      done_) {
    return;
  }
  phase_ = Phase::kFinishing;
  in_flight_ |= kFinishPosted;
  if (in_flight_ & kAlarmSet) idle_alarm_.Cancel();
  stream_.Finish(*final_status_, &finish_tag_);
}

void ProcessCall::FailLocked(const absl::Status& status) {
  phase_ = Phase::kInputClosed;
  inbox_.push_back({InboxItem::Kind::kFail, {}, status, Clock::now(), 0});
}

void ProcessCall::EndLocked(const grpc::Status& status) {
  final_status_ = status;
  phase_ = Phase::kEnding;
  ClearInboxLocked();
}

void ProcessCall::BreakLocked() {
  phase_ = Phase::kBroken;
  cancelled_.store(true, std::memory_order_relaxed);
  ClearInboxLocked();
  outbox_.clear();
  outbox_bytes_ = writing_bytes_;
}

void ProcessCall::ClearInboxLocked() {
  for (const InboxItem& item : inbox_) inbox_bytes_ -= item.bytes;
  inbox_.clear();
}

bool ProcessCall::Handle(std::vector<StreamSession::Response>* out,
                         std::optional<grpc::Status>* final) {
  InboxItem& item = *current_;
  absl::Status status;
  switch (item.kind) {
    case InboxItem::Kind::kFail:
      status = item.status;
      break;
    case InboxItem::Kind::kLeave:
      session_.Checkpoint(out);
      *final = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the server is draining: resume from the checkpoint just sent on "
                            "another instance");
      return true;
    case InboxItem::Kind::kEnd:
      status = session_.Finish(out);
      if (status.ok()) {
        *final = grpc::Status::OK;
        return true;
      }
      break;
    case InboxItem::Kind::kMessage: {
      const Clock::time_point slice_end = Clock::now() + kSlice;
      absl::StatusOr<bool> handled = session_.Handle(
          item.request, peer_, item.received,
          [&] { return cancelled_.load(std::memory_order_relaxed) || Clock::now() >= slice_end; },
          out);
      if (handled.ok() && !*handled) return false;
      status = handled.status();
      break;
    }
  }
  if (!status.ok()) *final = ToGrpcStatus(status);
  return true;
}

void ProcessCall::Describe(v1::StreamInfo* info) const {
  absl::MutexLock lock(&mu_);
  *info = info_;
  info->set_age_seconds(Seconds(Clock::now() - started_));
  info->set_chunks(chunks_answered_);
  info->set_audio_seconds(static_cast<double>(audio_micros_.load(std::memory_order_relaxed)) / 1e6);
  info->set_latency_p50_seconds(latency_.Quantile(0.5));
  info->set_latency_p99_seconds(latency_.Quantile(0.99));
  info->set_buffered_bytes(inbox_bytes_ + outbox_bytes_);
}

void ProcessCall::LogEnd(const grpc::Status& status) {
  state_->metrics().StreamsTotal(status.error_code()).Increment();
  state_->metrics().GrpcHandled(kProcessMethod, status.error_code());
  LogLine(status.ok() || status.error_code() == grpc::StatusCode::CANCELLED ? LogLevel::kInfo
                                                                            : LogLevel::kWarning,
          "stream_end")
      .Add("stream_id", session_.stream_id())
      .Add("peer", peer_)
      .Add("chain", session_.chain_text())
      .Add("outcome", StatusCodeName(status.error_code()))
      .Add("message", status.error_message())
      .Add("duration_seconds", Seconds(Clock::now() - started_))
      .Add("chunks", session_.chunks());
}

}  // namespace audioproc
