#include "service/process_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/logging.h"
#include "service/spec_translation.h"
#include "service/status_util.h"
#include "service/stream_config.h"

namespace audioproc {
namespace {

uint32_t Micros(std::chrono::steady_clock::duration d) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

const char* RequestKind(const v1::ProcessRequest& request) {
  switch (request.request_case()) {
    case v1::ProcessRequest::kConfig:
      return "config";
    case v1::ProcessRequest::kChunk:
      return "chunk";
    case v1::ProcessRequest::kUpdate:
      return "update";
    default:
      return "an empty request";
  }
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
      queue_chunks_(static_cast<size_t>(state->options().stream_queue_chunks)) {}

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
    default:
      break;
  }
  bool done;
  {
    absl::MutexLock lock(&mu_);
    if (op == kFinish) {
      finish_pending_ = false;
    } else {  // kDone
      done_ = true;
      if (alarm_pending_) idle_alarm_.Cancel();
      if (context_.IsCancelled()) {
        broken_ = true;
        inbox_.clear();
        outbox_.clear();
      }
    }
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::Destroy() {
  grpc::Status outcome;
  bool admitted;
  {
    absl::MutexLock lock(&mu_);
    outcome = broken_ || !final_status_ ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                                        : *final_status_;
    admitted = admitted_;
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
  started_ = Clock::now();
  // Admission happens outside mu_: ServerState::AbortAll locks the state, then each stream.
  std::optional<absl::Status> rejection;
  if (state_->draining()) {
    state_->metrics().Rejections("draining").Increment();
    rejection = absl::UnavailableError("the server is draining; retry on another instance");
  } else if (!state_->TryAdmit(this)) {
    state_->metrics().Rejections("max_streams").Increment();
    rejection = absl::ResourceExhaustedError(absl::StrCat(
        "the server is at --max_streams=", state_->options().max_streams,
        " concurrent streams; retry later or on another instance"));
  }
  absl::MutexLock lock(&mu_);
  if (rejection) {
    final_status_ = ToGrpcStatus(*rejection);
    MaybeFinishLocked();
    return;
  }
  admitted_ = true;
  StartReadLocked();
  ArmIdleAlarmLocked(read_posted_at_ + IdleTimeout());
}

ProcessCall::Clock::duration ProcessCall::IdleTimeout() const {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(state_->options().idle_timeout_seconds));
}

void ProcessCall::ArmIdleAlarmLocked(Clock::time_point deadline) {
  alarm_pending_ = true;
  idle_alarm_.Set(cq_, absl::ToChronoTime(absl::Now() + absl::FromChrono(deadline - Clock::now())),
                  &idle_tag_);
}

void ProcessCall::OnIdleAlarm(bool ok) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    alarm_pending_ = false;
    const bool over = final_status_ || broken_ || done_;
    if (ok && !over) {
      if (read_pending_ && Clock::now() - read_posted_at_ >= IdleTimeout()) {
        state_->metrics().Rejections("idle_timeout").Increment();
        FailLocked(absl::DeadlineExceededError(absl::StrCat(
            "no chunk for --idle_timeout_seconds=", state_->options().idle_timeout_seconds,
            " while the server waited for one")));
        ScheduleLocked();
      } else {
        ArmIdleAlarmLocked((read_pending_ ? read_posted_at_ : Clock::now()) + IdleTimeout());
      }
    }
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::OnRead(bool ok) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    HandleReadLocked(ok);
    ScheduleLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::HandleReadLocked(bool ok) {
  if (final_status_ || broken_) {
    // The stream is over; whatever arrived is not accepted.
  } else if (!ok) {
    input_closed_ = true;  // the client half-closed (or went away; kDone will say)
    inbox_.push_back({InboxItem::Kind::kEnd, {}, {}, Clock::now()});
  } else {
    InboxItem item{InboxItem::Kind::kMessage, std::move(read_message_), {}, Clock::now()};
    read_message_.Clear();
    const v1::ProcessRequest& request = item.request;
    const int64_t max_chunk = state_->options().max_chunk_bytes;
    if (!config_seen_ && !request.has_config()) {
      FailLocked(absl::InvalidArgumentError(absl::StrCat(
          "the first message must be a config (StreamConfig), got ", RequestKind(request))));
    } else if (config_seen_ && request.has_config()) {
      FailLocked(absl::InvalidArgumentError(
          "config may be sent only once, as the first message; got a second config"));
    } else if (request.request_case() == v1::ProcessRequest::REQUEST_NOT_SET) {
      FailLocked(absl::InvalidArgumentError("request is empty: set config, chunk or update"));
    } else if (request.has_chunk() && static_cast<int64_t>(request.chunk().data().size()) > max_chunk) {
      state_->metrics().Rejections("max_chunk_bytes").Increment();
      FailLocked(absl::ResourceExhaustedError(
          absl::StrCat("chunk.data is ", request.chunk().data().size(),
                       " bytes, more than --max_chunk_bytes=", max_chunk)));
    } else {
      config_seen_ = true;
      if (request.has_chunk()) state_->metrics().bytes_in().Increment(request.chunk().data().size());
      inbox_.push_back(std::move(item));
      StartReadLocked();
    }
  }
}

void ProcessCall::OnWrite(bool ok) {
  bool done;
  {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    if (!ok) {
      // The client is gone; gRPC's done notification follows.
      broken_ = true;
      inbox_.clear();
      outbox_.clear();
    }
    StartWriteLocked();
    ScheduleLocked();
    MaybeFinishLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::Abort(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (final_status_ || broken_) return;
  FailLocked(status);
  ScheduleLocked();
}

void ProcessCall::Run() {
  InboxItem item;
  {
    absl::MutexLock lock(&mu_);
    item = std::move(inbox_.front());
    inbox_.pop_front();
    StartReadLocked();
  }
  std::vector<OutboxItem> out;
  std::optional<grpc::Status> final;
  Handle(item, &out, &final);
  bool done;
  {
    absl::MutexLock lock(&mu_);
    task_scheduled_ = false;
    if (!broken_) {
      for (OutboxItem& response : out) outbox_.push_back(std::move(response));
    }
    if (final && !final_status_) {
      final_status_ = *final;
      inbox_.clear();
      input_closed_ = true;
    }
    StartWriteLocked();
    ScheduleLocked();
    MaybeFinishLocked();
    done = DoneLocked();
  }
  if (done) Destroy();
}

void ProcessCall::StartReadLocked() {
  if (!CanReadLocked()) return;
  read_pending_ = true;
  read_posted_at_ = Clock::now();
  stream_.Read(&read_message_, &read_tag_);
}

bool ProcessCall::CanReadLocked() const {
  return admitted_ && !input_closed_ && !read_pending_ && !broken_ && !done_ && !final_status_ &&
         inbox_.size() < queue_chunks_;
}

void ProcessCall::StartWriteLocked() {
  if (write_pending_ || outbox_.empty() || broken_ || done_) return;
  OutboxItem item = std::move(outbox_.front());
  outbox_.pop_front();
  if (item.received) {
    state_->metrics().chunk_latency().Observe(Seconds(Clock::now() - *item.received));
  }
  write_message_ = std::move(item.response);
  write_pending_ = true;
  stream_.Write(write_message_, &write_tag_);
}

void ProcessCall::ScheduleLocked() {
  if (task_scheduled_ || inbox_.empty() || outbox_.size() >= queue_chunks_ || broken_ ||
      final_status_) {
    return;
  }
  task_scheduled_ = true;
  if (!state_->executor().Submit(this)) {
    // Only when the executor is stopping: the queue holds at most one task per stream.
    task_scheduled_ = false;
    inbox_.clear();
    final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down");
  }
}

void ProcessCall::MaybeFinishLocked() {
  if (!final_status_ || finish_pending_ || write_pending_ || !outbox_.empty() || task_scheduled_ ||
      broken_ || done_ || finish_started_) {
    return;
  }
  finish_started_ = true;
  finish_pending_ = true;
  if (alarm_pending_) idle_alarm_.Cancel();
  stream_.Finish(*final_status_, &finish_tag_);
}

void ProcessCall::FailLocked(const absl::Status& status) {
  input_closed_ = true;
  inbox_.push_back({InboxItem::Kind::kFail, {}, status, Clock::now()});
}

bool ProcessCall::DoneLocked() const {
  return done_ && !read_pending_ && !write_pending_ && !finish_pending_ && !task_scheduled_ &&
         !alarm_pending_;
}

void ProcessCall::Handle(InboxItem& item, std::vector<OutboxItem>* out,
                         std::optional<grpc::Status>* final) {
  absl::Status status;
  switch (item.kind) {
    case InboxItem::Kind::kFail:
      status = item.status;
      break;
    case InboxItem::Kind::kEnd:
      if (pipeline_ == nullptr) {
        status = absl::InvalidArgumentError(
            "the stream ended before its first message, which must be a config (StreamConfig)");
      } else {
        Finish(out);
        *final = grpc::Status::OK;
        return;
      }
      break;
    case InboxItem::Kind::kMessage:
      switch (item.request.request_case()) {
        case v1::ProcessRequest::kConfig:
          status = Configure(item.request.config(), out);
          if (!status.ok()) state_->metrics().Rejections("invalid_config").Increment();
          break;
        case v1::ProcessRequest::kChunk:
          status = ProcessChunk(item.request.chunk(), item.received, out);
          break;
        case v1::ProcessRequest::kUpdate:
          ApplyUpdate(item.request.update());
          break;
        default:
          break;
      }
      break;
  }
  if (!status.ok()) *final = ToGrpcStatus(status);
}

absl::Status ProcessCall::Configure(const v1::StreamConfig& config, std::vector<OutboxItem>* out) {
  const StreamLimits limits{state_->options().max_chain_length};
  absl::StatusOr<PipelineConfig> pipeline_config =
      ToPipelineConfig(config, limits, state_->NewStreamId());
  if (!pipeline_config.ok()) return pipeline_config.status();
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(state_->registry(), *pipeline_config);
  if (!pipeline.ok()) return Prefixed("config.", pipeline.status());
  pipeline_ = *std::move(pipeline);
  stream_id_ = pipeline_config->stream_id;

  const Chain& chain = pipeline_->chain();
  OutboxItem item;
  v1::StreamReady* ready = item.response.mutable_ready();
  std::vector<std::string> names;
  for (size_t i = 0; i < chain.size(); ++i) {
    const ProcessorConfig& resolved = chain.resolved()[i];
    if (i < pipeline_->requested_chain_size()) *ready->add_chain() = SpecFromConfig(resolved);
    names.push_back(resolved.name);
    processor_histograms_.push_back(&state_->metrics().ProcessorSeconds(resolved.name));
  }
  last_processor_seconds_.assign(chain.size(), 0.0);
  const StreamFormat& output = pipeline_config->output;
  ready->mutable_output()->set_encoding(ToProtoEncoding(output.encoding));
  ready->mutable_output()->set_sample_rate_hz(output.sample_rate_hz);
  ready->mutable_output()->set_channels(output.channels);
  ready->set_latency_frames(chain.latency_frames());
  ready->set_stream_id(stream_id_);
  out->push_back(std::move(item));
  chain_text_ = absl::StrJoin(names, ",");
  ready_at_ = Clock::now();
  LogLine(LogLevel::kInfo, "stream_start")
      .Add("stream_id", stream_id_)
      .Add("peer", context_.peer())
      .Add("chain", chain_text_)
      .Add("input", absl::StrCat(EncodingName(pipeline_config->input.encoding), "/",
                                 pipeline_config->input.sample_rate_hz, "/",
                                 pipeline_config->input.channels))
      .Add("latency_frames", chain.latency_frames());
  return absl::OkStatus();
}

absl::Status ProcessCall::ProcessChunk(const v1::AudioChunk& chunk, Clock::time_point received,
                                       std::vector<OutboxItem>* out) {
  const PipelineConfig& config = pipeline_->config();
  const uint32_t frame_bytes = config.input.channels * BytesPerSample(config.input.encoding);
  const double rate = config.input.sample_rate_hz;
  const double seconds_after = (static_cast<double>(pipeline_->frames_in()) +
                                static_cast<double>(chunk.data().size() / frame_bytes)) / rate;
  if (seconds_after > state_->options().max_stream_seconds) {
    return absl::OutOfRangeError(absl::StrCat("the stream passed --max_stream_seconds=",
                                              state_->options().max_stream_seconds,
                                              " of audio; open a new stream to go on"));
  }
  const Clock::time_point start = Clock::now();
  OutboxItem item;
  item.received = received;
  v1::ProcessedChunk* response = item.response.mutable_chunk();
  const ChunkStats stats = pipeline_->ProcessChunk(chunk.data(), response->mutable_data());
  const Clock::time_point end = Clock::now();

  ++chunks_;
  const uint64_t sequence = chunk.sequence() != 0 ? chunk.sequence() : next_sequence_;
  ++next_sequence_;
  v1::ChunkMetrics* metrics = response->mutable_metrics();
  metrics->set_sequence(sequence);
  metrics->set_frames_in(stats.frames_in);
  metrics->set_frames_out(stats.frames_out);
  metrics->set_queue_wait_us(Micros(start - received));
  metrics->set_process_us(Micros(end - start));
  if (config.measure_levels) {
    metrics->set_in_peak_dbfs(stats.in_peak_dbfs);
    metrics->set_in_rms_dbfs(stats.in_rms_dbfs);
    metrics->set_out_peak_dbfs(stats.out_peak_dbfs);
    metrics->set_out_rms_dbfs(stats.out_rms_dbfs);
  }
  metrics->set_clipped_samples(stats.clipped_samples);
  metrics->set_nonfinite_samples(stats.nonfinite_samples);
  for (v1::Event& event : pending_events_) *response->add_events() = std::move(event);
  pending_events_.clear();

  processing_seconds_ += Seconds(end - start);
  Metrics& m = state_->metrics();
  m.chunks().Increment();
  m.audio_seconds().Increment(stats.frames_in / rate);
  m.bytes_out().Increment(static_cast<double>(response->data().size()));
  m.queue_wait().Observe(Seconds(start - received));
  const auto seconds = pipeline_->chain().processor_seconds();
  for (size_t i = 0; i < seconds.size(); ++i) {
    processor_histograms_[i]->Observe(seconds[i] - last_processor_seconds_[i]);
    last_processor_seconds_[i] = seconds[i];
  }
  out->push_back(std::move(item));
  return absl::OkStatus();
}

void ProcessCall::ApplyUpdate(const v1::ChainUpdate& update) {
  // All or nothing: every entry is validated before any is applied.
  std::vector<std::pair<size_t, ProcessorConfig>> changes;
  absl::Status status;
  uint32_t failed_index = 0;
  for (int i = 0; i < update.updates_size() && status.ok(); ++i) {
    const v1::ProcessorUpdate& entry = update.updates(i);
    failed_index = entry.index();
    absl::StatusOr<ProcessorConfig> config = ConfigFromSpec(entry.spec());
    if (!config.ok()) {
      status = Prefixed(absl::StrCat("update.updates[", i, "].spec "), config.status());
    } else if (entry.index() >= pipeline_->requested_chain_size()) {
      status = absl::InvalidArgumentError(
          absl::StrCat("update.updates[", i, "].index is ", entry.index(), ", past the chain of ",
                       pipeline_->requested_chain_size(), " processors"));
    } else {
      status = pipeline_->chain().ValidateUpdate(entry.index(), *config);
      changes.emplace_back(entry.index(), *std::move(config));
    }
  }
  if (status.ok()) {
    for (const auto& [index, config] : changes) {
      const absl::Status applied = pipeline_->chain().Update(index, config);
      if (!applied.ok()) status = applied;  // validated just above: cannot fail
    }
  }
  v1::Event event;
  event.set_frame(pipeline_->frames_out());
  event.set_processor_index(status.ok() ? (changes.empty() ? 0 : changes.front().first)
                                        : failed_index);
  event.mutable_update()->set_applied(status.ok());
  event.mutable_update()->set_message(status.ok() ? "applied" : std::string(status.message()));
  pending_events_.push_back(std::move(event));
}

void ProcessCall::Finish(std::vector<OutboxItem>* out) {
  OutboxItem tail;
  v1::ProcessedChunk* chunk = tail.response.mutable_chunk();
  const Clock::time_point start = Clock::now();
  const ChunkStats stats = pipeline_->Finish(chunk->mutable_data());
  processing_seconds_ += Seconds(Clock::now() - start);
  chunk->set_tail(true);
  v1::ChunkMetrics* metrics = chunk->mutable_metrics();
  metrics->set_frames_out(stats.frames_out);
  metrics->set_process_us(Micros(Clock::now() - start));
  if (pipeline_->config().measure_levels) {
    metrics->set_out_peak_dbfs(stats.out_peak_dbfs);
    metrics->set_out_rms_dbfs(stats.out_rms_dbfs);
  }
  metrics->set_clipped_samples(stats.clipped_samples);
  for (v1::Event& event : pending_events_) *chunk->add_events() = std::move(event);
  pending_events_.clear();
  state_->metrics().bytes_out().Increment(static_cast<double>(chunk->data().size()));
  out->push_back(std::move(tail));

  OutboxItem summary_item;
  v1::StreamSummary* summary = summary_item.response.mutable_summary();
  const double audio_seconds =
      static_cast<double>(pipeline_->frames_in()) / pipeline_->config().input.sample_rate_hz;
  summary->set_frames_in(pipeline_->frames_in());
  summary->set_frames_out(pipeline_->frames_out());
  summary->set_chunks(chunks_);
  summary->set_audio_seconds(audio_seconds);
  summary->set_wall_seconds(Seconds(Clock::now() - ready_at_));
  summary->set_real_time_factor(audio_seconds > 0 ? processing_seconds_ / audio_seconds : 0);
  const Chain& chain = pipeline_->chain();
  const auto seconds = chain.processor_seconds();
  for (size_t i = 0; i < chain.size(); ++i) {
    v1::ProcessorTiming* timing = summary->add_processors();
    timing->set_name(chain.resolved()[i].name);
    timing->set_seconds(seconds[i]);
  }
  summary->set_clipped_samples(pipeline_->clipped_samples());
  summary->set_nonfinite_samples(pipeline_->nonfinite_samples());
  out->push_back(std::move(summary_item));
}

void ProcessCall::LogEnd(const grpc::Status& status) {
  state_->metrics().StreamsTotal(status.error_code()).Increment();
  LogLine(status.ok() || status.error_code() == grpc::StatusCode::CANCELLED ? LogLevel::kInfo
                                                                            : LogLevel::kWarning,
          "stream_end")
      .Add("stream_id", stream_id_)
      .Add("peer", context_.peer())
      .Add("chain", chain_text_)
      .Add("outcome", StatusCodeName(status.error_code()))
      .Add("message", status.error_message())
      .Add("duration_seconds", Seconds(Clock::now() - started_))
      .Add("chunks", chunks_);
}

}  // namespace audioproc
