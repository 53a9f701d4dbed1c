#include "bench/load_stream.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace audioproc::bench {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void LoadWorker::Run() {
  constexpr int64_t kIdlePollNs = 100'000'000;
  while (active > 0) {
    int64_t now = NowNs();
    // Wake in time for the earliest timer; gRPC rounds poll timeouts to milliseconds, which
    // the streams' early_ns allowance absorbs.
    const int64_t wake = timers.empty() ? now + kIdlePollNs : timers.top().due;
    const gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_nanos(std::max<int64_t>(0, wake - now), GPR_TIMESPAN));
    void* tag;
    bool ok;
    const grpc::CompletionQueue::NextStatus status = cq.AsyncNext(&tag, &ok, deadline);
    now = NowNs();
    if (status == grpc::CompletionQueue::GOT_EVENT) {
      LoadStream::OnCompletion(tag, ok, now);
    } else if (status == grpc::CompletionQueue::SHUTDOWN) {
      return;
    }
    while (!timers.empty() && timers.top().due <= now) {
      LoadStream* stream = timers.top().stream;
      timers.pop();
      stream->OnTimer(now);
    }
  }
}

LoadStream::LoadStream(LoadWorker* worker, v1::AudioProcessor::Stub* stub, const Workload* workload,
                       const Schedule* schedule, int64_t start_ns, size_t audio_offset)
    : worker_(worker),
      stub_(stub),
      workload_(workload),
      schedule_(schedule),
      start_ns_(start_ns),
      audio_offset_(audio_offset) {
  worker_->timers.push({start_ns_, this});
  ++worker_->active;
}

void LoadStream::OnCompletion(void* tag, bool ok, int64_t now) {
  Tag* t = static_cast<Tag*>(tag);
  t->stream->OnEvent(t->op, ok, now);
}

void LoadStream::OnTimer(int64_t now) {
  if (started_) {
    timer_armed_ = false;
    TrySend(now);
    return;
  }
  started_ = true;
  const int64_t deadline_in = schedule_->stop + schedule_->deadline_ns - now;
  context_.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(deadline_in));
  call_ = stub_->PrepareAsyncProcess(&context_, &worker_->cq);
  call_->StartCall(&start_tag_);
  // The first chunk of a live source is complete one chunk after the stream starts.
  next_due_ = start_ns_ + schedule_->chunk_ns;
}

void LoadStream::OnEvent(Op op, bool ok, int64_t now) {
  switch (op) {
    case Op::kStart:
      if (!ok) {  // the call could not start; Finish says why
        closed_ = true;
        reads_done_ = true;
        MaybeFinish();
        return;
      }
      *request_.mutable_config() = workload_->config;
      write_pending_ = true;
      call_->Write(request_, &write_tag_);
      PostRead();
      return;
    case Op::kWrite:
      write_pending_ = false;
      if (!ok) {
        closed_ = true;  // the call is over; the read side sees its end
      } else {
        config_sent_ = true;
        TrySend(now);
      }
      MaybeFinish();
      return;
    case Op::kWritesDone:
      write_pending_ = false;
      MaybeFinish();
      return;
    case Op::kRead:
      OnRead(ok, now);
      return;
    case Op::kFinish:
      if (status_.ok()) {
        if (!got_ready_) Violation("no ready");
        if (answered_ != sent_)
          Violation(absl::StrCat(answered_, " answers to ", sent_, " chunks"));
        if (!got_tail_ || !got_summary_) Violation("no tail or summary before OK");
      }
      --worker_->active;
      return;
  }
}

void LoadStream::TrySend(int64_t now) {
  if (write_pending_ || closed_ || !config_sent_) return;
  const bool more = schedule_->paced ? next_due_ < schedule_->stop : now < schedule_->stop;
  if (!more) {
    closed_ = true;
    write_pending_ = true;
    call_->WritesDone(&writes_done_tag_);
    return;
  }
  int64_t reference = now;
  if (!schedule_->paced && schedule_->max_in_flight > 0 &&
      pending_.size() >= schedule_->max_in_flight) {
    return;  // the next answer sends the next chunk
  }
  if (schedule_->paced) {
    if (next_due_ - schedule_->early_ns > now) {
      if (!timer_armed_) {
        timer_armed_ = true;
        worker_->timers.push({next_due_ - schedule_->early_ns, this});
      }
      return;
    }
    const int64_t due = next_due_;
    next_due_ += schedule_->chunk_ns;
    // Early (within early_ns): timed from the send; late: from when the chunk was due.
    reference = std::min(due, now);
    if (due >= schedule_->measure_from)
      worker_->send_lag.Record(std::max<int64_t>(0, now - due) / 1000);
  }
  pending_.push_back({reference, reference >= schedule_->measure_from});
  v1::AudioChunk& chunk = *request_.mutable_chunk();
  chunk.set_data(workload_->audio.data() + audio_offset_, workload_->chunk_bytes);
  chunk.set_sequence(++sent_);
  audio_offset_ += workload_->chunk_bytes;
  if (audio_offset_ >= workload_->audio.size()) audio_offset_ = 0;
  write_pending_ = true;
  call_->Write(request_, &write_tag_);
}

void LoadStream::PostRead() { call_->Read(&response_, &read_tag_); }

void LoadStream::OnRead(bool ok, int64_t now) {
  if (!ok) {
    reads_done_ = true;
    closed_ = true;  // nothing sent from here on would be answered
    MaybeFinish();
    return;
  }
  switch (response_.response_case()) {
    case v1::ProcessResponse::kReady:
      if (got_ready_ || answered_ > 0) Violation("a second ready");
      got_ready_ = true;
      worker_->ready.Record((now - start_ns_) / 1000);
      break;
    case v1::ProcessResponse::kChunk:
      OnChunk(response_.chunk(), now);
      break;
    case v1::ProcessResponse::kSummary:
      if (!got_tail_ || got_summary_) Violation("a summary out of place");
      got_summary_ = true;
      break;
    default:
      Violation("an empty response");
      break;
  }
  PostRead();
}

void LoadStream::OnChunk(const v1::ProcessedChunk& chunk, int64_t now) {
  if (!got_ready_) Violation("a chunk before ready");
  if (chunk.tail()) {
    if (got_tail_) Violation("a second tail");
    got_tail_ = true;
    return;
  }
  if (pending_.empty()) {
    Violation("an answer to a chunk never sent");
    return;
  }
  ++answered_;
  if (chunk.metrics().sequence() != answered_) {
    Violation(absl::StrCat("sequence ", chunk.metrics().sequence(), " for chunk ", answered_));
  }
  const Pending sent = pending_.front();
  pending_.pop_front();
  if (!schedule_->paced) TrySend(now);
  if (now >= schedule_->measure_from && now < schedule_->stop) ++worker_->window_responses;
  if (!sent.measured) return;
  worker_->latency.Record((now - sent.reference) / 1000);
  worker_->queue_wait.Record(chunk.metrics().queue_wait_us());
  worker_->process.Record(chunk.metrics().process_us());
}

void LoadStream::MaybeFinish() {
  if (!reads_done_ || write_pending_ || finish_started_) return;
  finish_started_ = true;
  call_->Finish(&status_, &finish_tag_);
}

void LoadStream::Violation(const std::string& what) {
  if (protocol_error_.empty()) protocol_error_ = absl::StrCat("the server sent ", what);
}

}  // namespace audioproc::bench
