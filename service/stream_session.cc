#include "service/stream_session.h"

#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chain/resource_estimate.h"
#include "service/logging.h"
#include "service/spec_translation.h"
#include "service/stream_config.h"
#include "service/stream_plan.h"
#include "service/stream_summary.h"

namespace audioproc {
namespace {

// The CPU of one checkpoint (SaveState into the token's buffer, the config, HMAC-SHA256 over
// it all): measured 2026-12-04 with SealResumeToken on this machine (SHA extensions, about
// 1.4 GB/s): 57 us for the voice chain's 29.7 KB token, 33 us for the music chain's 7.9 KB,
// 25 us for a gain's 0.3 KB, each zero-filling a 1 MiB buffer; the server's buffer is sized
// from a trial token, so the fixed part is smaller. Per byte doubled for machines without
// SHA extensions.
constexpr double kCheckpointFixedSeconds = 25e-6;
constexpr double kCheckpointSecondsPerByte = 2.5e-9;

uint32_t Micros(std::chrono::steady_clock::duration d) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// A processor's event as the wire's Event.
v1::Event ToProto(const ProcessorEvent& event) {
  v1::Event out;
  out.set_frame(event.frame);
  out.set_processor_index(event.processor_index);
  if (const auto* voice = std::get_if<VoiceActivityEvent>(&event.payload)) {
    out.mutable_voice()->set_active(voice->active);
    out.mutable_voice()->set_probability(voice->probability);
  } else if (const auto* loudness = std::get_if<LoudnessEvent>(&event.payload)) {
    v1::LoudnessReading* reading = out.mutable_loudness();
    reading->set_momentary_lufs(loudness->momentary_lufs);
    reading->set_short_term_lufs(loudness->short_term_lufs);
    reading->set_integrated_lufs(loudness->integrated_lufs);
    reading->set_gain_db(loudness->gain_db);
  } else if (const auto* speech = std::get_if<SpeechProbabilityEvent>(&event.payload)) {
    out.mutable_speech_probability()->set_probability(speech->probability);
    out.mutable_speech_probability()->set_active(speech->active);
  } else if (const auto* delay = std::get_if<EchoDelayEvent>(&event.payload)) {
    out.mutable_echo_delay()->set_delay_ms(delay->delay_ms);
  } else if (const auto* analysis = std::get_if<AnalysisEvent>(&event.payload)) {
    v1::Analysis* result = out.mutable_analysis();
    result->set_peak_dbfs(analysis->peak_dbfs);
    result->set_rms_dbfs(analysis->rms_dbfs);
    result->set_spectral_centroid_hz(analysis->spectral_centroid_hz);
    for (uint32_t b = 0; b < analysis->num_bands; ++b) {
      result->add_band_energy_db(analysis->band_energy_db[b]);
    }
  }
  return out;
}

const char* RequestKind(const v1::ProcessRequest& request) {
  switch (request.request_case()) {
    case v1::ProcessRequest::kConfig:
      return "config";
    case v1::ProcessRequest::kChunk:
      return "chunk";
    case v1::ProcessRequest::kUpdate:
      return "update";
    case v1::ProcessRequest::kResume:
      return "resume";
    default:
      return "an empty request";
  }
}

}  // namespace

absl::Status StreamSession::CheckRequest(const v1::ProcessRequest& request, uint64_t bytes,
                                         bool first, const RequestBounds& bounds,
                                         const SessionLimits& limits) {
  if (first) {
    if (!request.has_config() && !request.has_resume()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the first message must be a config (StreamConfig), got ",
                       RequestKind(request), " (or a resume, to go on from a checkpoint)"));
    }
    return absl::OkStatus();
  }
  if (request.has_config()) {
    return absl::InvalidArgumentError(
        "config may be sent only once, as the first message; got a second config");
  }
  if (request.has_resume()) {
    return absl::InvalidArgumentError(
        "resume may be sent only as the first message, instead of a config");
  }
  if (request.request_case() == v1::ProcessRequest::REQUEST_NOT_SET) {
    return absl::InvalidArgumentError("request is empty: set config, chunk or update");
  }
  if (request.has_chunk() && request.chunk().data().size() > bounds.max_chunk_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "chunk.data is ", request.chunk().data().size(),
        " bytes, more than this stream's "
        "max_chunk_bytes=",
        bounds.max_chunk_bytes,
        " (StreamReady.max_chunk_bytes: ", "--max_chunk_bytes=", limits.grant.max_chunk_bytes,
        ", and what keeps a response "
        "within --max_response_bytes=",
        limits.grant.max_response_bytes, ")"));
  }
  if (bytes > bounds.max_message_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        RequestKind(request), " is ", bytes, " bytes, more than this stream's messages may be (",
        bounds.max_message_bytes, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> StreamSession::Handle(const v1::ProcessRequest& request,
                                           absl::string_view peer, Clock::time_point received,
                                           absl::FunctionRef<bool()> yield,
                                           std::vector<Response>* out) {
  // The order CheckRequest enforces as requests arrive, kept here too: a chunk or an update
  // before the config, or a second config, never reaches the pipeline.
  const bool starts = request.has_config() || request.has_resume();
  if (starts == configured()) {
    return CheckRequest(request, 0, /*first=*/!configured(), {}, deps_.limits);
  }
  switch (request.request_case()) {
    case v1::ProcessRequest::kConfig: {
      absl::Status status = Configure(request.config(), peer, out);
      if (status.code() == absl::StatusCode::kInvalidArgument) {
        deps_.metrics.Rejected("invalid_config");
      }
      if (!status.ok()) return status;
      return true;
    }
    case v1::ProcessRequest::kResume: {
      absl::Status status = Resume(request.resume(), peer, out);
      deps_.metrics.Resumed(status.code());
      if (!status.ok()) return status;
      return true;
    }
    case v1::ProcessRequest::kChunk:
      return ProcessChunk(request.chunk(), received, yield, out);
    case v1::ProcessRequest::kUpdate:
      if (absl::Status status = ApplyUpdate(request.update()); !status.ok()) return status;
      return true;
    default:
      return true;
  }
}

void StreamSession::AttachEvents(v1::ProcessedChunk* chunk) {
  for (v1::Event& event : pending_events_) *chunk->add_events() = std::move(event);
  pending_events_.clear();
  uint64_t dropped = 0;
  for (const ProcessorEvent& event : pipeline_->TakeEvents()) {
    if (const auto* loudness = std::get_if<LoudnessEvent>(&event.payload)) {
      last_integrated_lufs_ = loudness->integrated_lufs;
    }
    // The grant bounds what a response can carry, and the bound is what the response is
    // sized (and the client's limits set) by: past it an event is dropped and counted. Only
    // a chain that reports more than its estimate says can get here.
    if (static_cast<uint32_t>(chunk->events_size()) >= grant_.max_events_per_response) {
      ++dropped;
      continue;
    }
    *chunk->add_events() = ToProto(event);
  }
  if (dropped > 0) {
    events_not_sent_ += dropped;
    deps_.metrics.EventsDropped(dropped);
  }
}

void StreamSession::AddChannelLevels(v1::ChunkMetrics* metrics) const {
  for (const ChannelLevels& channel : pipeline_->in_channel_levels()) {
    v1::ChannelLevels* levels = metrics->add_in_channel_levels();
    levels->set_peak_dbfs(channel.peak_dbfs);
    levels->set_rms_dbfs(channel.rms_dbfs);
  }
  for (const ChannelLevels& channel : pipeline_->out_channel_levels()) {
    v1::ChannelLevels* levels = metrics->add_out_channel_levels();
    levels->set_peak_dbfs(channel.peak_dbfs);
    levels->set_rms_dbfs(channel.rms_dbfs);
  }
}

absl::Status StreamSession::Configure(const v1::StreamConfig& config, absl::string_view peer,
                                      std::vector<Response>* out) {
  return Start(config, peer, nullptr, out);
}

absl::Status StreamSession::Resume(const v1::ResumeStream& resume, absl::string_view peer,
                                   std::vector<Response>* out) {
  if (deps_.resume_keys == nullptr) {
    return absl::FailedPreconditionError(
        "this server has no --resume_key_file: it cannot resume streams; start a new stream");
  }
  absl::StatusOr<OpenedResumeToken> opened =
      OpenResumeToken(resume.token(), deps_.resume_keys->Current()->keys, principal_, absl::Now());
  if (!opened.ok()) return opened.status();
  return Start(opened->config, peer, &*opened, out);
}

absl::Status StreamSession::Start(const v1::StreamConfig& config, absl::string_view peer,
                                  const OpenedResumeToken* resumed, std::vector<Response>* out) {
  absl::StatusOr<StreamPlan> plan =
      PlanStream(deps_.registry, deps_.limits, config, deps_.new_stream_id());
  if (!plan.ok()) return plan.status();
  if (config.checkpoint_interval_ms() > 0 && deps_.resume_keys != nullptr) {
    // A checkpoint's token is held while it is made and sent: at most the state, which is at
    // most what the processors hold, and never past --max_resume_token_bytes.
    const uint64_t token_bound = std::min<uint64_t>(
        deps_.limits.max_resume_token_bytes, static_cast<uint64_t>(plan->estimate.memory_bytes));
    plan->grant.cost.memory_bytes += static_cast<int64_t>(token_bound);
    // Making one costs CPU on the stream's worker, once per interval of audio: a stream that
    // asks for a checkpoint every millisecond pays for a thousand a second.
    plan->grant.cost.cpu_cores +=
        1000.0 / config.checkpoint_interval_ms() *
        (kCheckpointFixedSeconds + static_cast<double>(token_bound) * kCheckpointSecondsPerByte);
  }
  absl::StatusOr<std::unique_ptr<SessionAdmission::Hold>> admitted =
      deps_.admission.Admit(plan->grant);
  if (!admitted.ok()) return admitted.status();
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(deps_.registry, plan->pipeline);
  if (!pipeline.ok()) return Prefixed("config.", pipeline.status());
  if (resumed != nullptr) {
    StateReader reader(resumed->state);
    absl::Status restored = (*pipeline)->RestoreState(reader);
    if (restored.ok()) reader.ExpectEnd();
    if (restored.ok()) restored = reader.status();
    if (!restored.ok()) return Prefixed("resume.token: ", restored);
    chunks_ = resumed->point.chunks;
    next_sequence_ = resumed->point.next_sequence;
    last_sequence_ = resumed->point.sequence;
  }
  admitted_ = *std::move(admitted);
  grant_ = plan->grant;
  pipeline_ = *std::move(pipeline);
  stream_id_ = plan->pipeline.stream_id;
  config_ = config;
  config_.set_stream_id(stream_id_);  // it keys the dither: a resumed stream keeps it
  const PipelineConfig* pipeline_config = &plan->pipeline;
  PlanCheckpoints();

  Response item;
  v1::StreamReady* ready = item.response.mutable_ready();
  *ready = PlannedReady(*plan);
  // Exact once built: resample measures its own.
  ready->set_latency_frames(pipeline_->latency_frames());
  ready->set_resumable(resumable_);
  if (resumed != nullptr) ready->set_resumed_after_sequence(resumed->point.sequence);
  std::vector<std::string> names;
  for (const ProcessorConfig& resolved : pipeline_->resolved_chain()) {
    names.push_back(resolved.name);
    processor_seconds_observers_.push_back(deps_.metrics.ProcessorSeconds(resolved.name));
  }
  last_processor_seconds_.assign(pipeline_->resolved_chain().size(), 0.0);
  out->push_back(std::move(item));
  chain_text_ = absl::StrJoin(names, ",");
  ready_at_ = deps_.now();
  LogLine(LogLevel::kInfo, "stream_start")
      .Add("stream_id", stream_id_)
      .Add("peer", peer)
      .Add("chain", chain_text_)
      .Add("input", absl::StrCat(EncodingName(pipeline_config->input.encoding), "/",
                                 pipeline_config->input.sample_rate_hz, "/",
                                 pipeline_config->input.channels))
      .Add("latency_frames", pipeline_->latency_frames())
      .Add("resumed", resumed != nullptr)
      .Add("resumable", resumable_)
      .Add("max_chunk_bytes", grant_.max_chunk_bytes)
      .Add("cpu_cores", grant_.cost.cpu_cores)
      .Add("memory_bytes", grant_.cost.memory_bytes);
  return absl::OkStatus();
}

absl::StatusOr<bool> StreamSession::ProcessChunk(const v1::AudioChunk& chunk,
                                                 Clock::time_point received,
                                                 absl::FunctionRef<bool()> yield,
                                                 std::vector<Response>* out) {
  const PipelineConfig& config = pipeline_->config();
  if (!in_progress_) {
    const uint32_t frame_bytes = config.input.channels * BytesPerSample(config.input.encoding);
    const uint64_t whole_frames = chunk.data().size() / frame_bytes;
    const double seconds_after =
        static_cast<double>(pipeline_->frames_in() + whole_frames) / config.input.sample_rate_hz;
    if (seconds_after > deps_.limits.max_stream_seconds) {
      return absl::OutOfRangeError(
          absl::StrCat("the stream passed --max_stream_seconds=", deps_.limits.max_stream_seconds,
                       " of audio; open a new stream to go on"));
    }
    // Assigned, not emplace()d: clang 14 (clang-tidy) decides std::optional's is_constructible
    // for a nested struct with member initializers while the class is incomplete.
    in_progress_ = ChunkInProgress();
    in_progress_->start = deps_.now();
    in_progress_->response.received = received;
    // Sized once for the most this chunk can make, so the buffer never grows past its grant.
    in_progress_->response.response.mutable_chunk()->mutable_data()->reserve(
        grant_.MaxOutputBytes(chunk.data().size()));
    pipeline_->BeginChunk();
  }
  ChunkInProgress& progress = *in_progress_;
  std::string* data = progress.response.response.mutable_chunk()->mutable_data();
  const absl::string_view bytes = chunk.data();
  // A slice is one decode block: between slices the stream may give its worker to others.
  const size_t slice = size_t{kDefaultMaxBlockFrames} * grant_.in_frame_bytes;
  while (progress.offset < bytes.size()) {
    const size_t n = std::min(slice, bytes.size() - progress.offset);
    pipeline_->Feed(bytes.substr(progress.offset, n), data);
    progress.offset += n;
    if (progress.offset < bytes.size() && yield()) return false;
  }
  CompleteChunk(chunk, received, progress, out);
  in_progress_.reset();
  return true;
}

void StreamSession::CompleteChunk(const v1::AudioChunk& chunk, Clock::time_point received,
                                  ChunkInProgress& progress, std::vector<Response>* out) {
  const ChunkStats stats = pipeline_->EndChunk();
  const Clock::time_point end = deps_.now();
  const Clock::time_point start = progress.start;
  v1::ProcessedChunk* response = progress.response.response.mutable_chunk();

  ++chunks_;
  const uint64_t sequence = chunk.sequence() != 0 ? chunk.sequence() : next_sequence_;
  ++next_sequence_;
  last_sequence_ = sequence;
  v1::ChunkMetrics* metrics = response->mutable_metrics();
  metrics->set_sequence(sequence);
  metrics->set_frames_in(stats.frames_in);
  metrics->set_frames_out(stats.frames_out);
  metrics->set_queue_wait_us(Micros(start - received));
  metrics->set_process_us(Micros(end - start));
  if (pipeline_->config().measure_levels) {
    metrics->set_in_peak_dbfs(stats.in_peak_dbfs);
    metrics->set_in_rms_dbfs(stats.in_rms_dbfs);
    metrics->set_out_peak_dbfs(stats.out_peak_dbfs);
    metrics->set_out_rms_dbfs(stats.out_rms_dbfs);
  }
  metrics->set_clipped_samples(stats.clipped_samples);
  metrics->set_nonfinite_samples(stats.nonfinite_samples);
  AddChannelLevels(metrics);
  AttachEvents(response);

  processing_seconds_ += Seconds(end - start);
  deps_.metrics.ChunkProcessed(
      stats.frames_in / static_cast<double>(pipeline_->config().input.sample_rate_hz),
      response->data().size(), Seconds(start - received));
  const std::span<const double> seconds = pipeline_->processor_seconds();
  for (size_t i = 0; i < seconds.size(); ++i) {
    processor_seconds_observers_[i](seconds[i] - last_processor_seconds_[i]);
    last_processor_seconds_[i] = seconds[i];
  }
  out->push_back(std::move(progress.response));
  if (resumable_ && pipeline_->frames_in() >= next_checkpoint_frame_) Checkpoint(out);
}

void StreamSession::PlanCheckpoints() {
  resumable_ = false;
  const uint32_t interval_ms = config_.checkpoint_interval_ms();
  if (interval_ms == 0 || deps_.resume_keys == nullptr || !pipeline_->SupportsState()) return;
  // A trial token says whether the state fits --max_resume_token_bytes (a processor's state
  // has a fixed size once prepared: the same chain always fits or never does).
  absl::StatusOr<std::string> trial =
      SealResumeToken(deps_.resume_keys->Current()->keys.front(), principal_, absl::Now(),
                      absl::Seconds(deps_.limits.resume_token_ttl_seconds), {}, config_, *pipeline_,
                      deps_.limits.max_resume_token_bytes);
  if (!trial.ok()) return;
  resumable_ = true;
  // Each checkpoint's buffer is sized from this one (and zero-filled: not the whole bound).
  token_capacity_ = std::min<uint64_t>(deps_.limits.max_resume_token_bytes,
                                       trial->size() + trial->size() / 4 + 4096);
  checkpoint_interval_frames_ = std::max<uint64_t>(
      1, uint64_t{interval_ms} * pipeline_->config().input.sample_rate_hz / 1000);
  // On the grid of the stream's audio time, so a resumed stream keeps the schedule.
  next_checkpoint_frame_ =
      (pipeline_->frames_in() / checkpoint_interval_frames_ + 1) * checkpoint_interval_frames_;
}

void StreamSession::Checkpoint(std::vector<Response>* out) {
  if (!resumable_) return;
  next_checkpoint_frame_ =
      (pipeline_->frames_in() / checkpoint_interval_frames_ + 1) * checkpoint_interval_frames_;
  // The chain as it runs: updates applied, every default filled in.
  v1::StreamConfig config = config_;
  for (size_t i = 0; i < pipeline_->requested_chain_size(); ++i) {
    *config.mutable_chain(static_cast<int>(i)) = SpecFromConfig(pipeline_->resolved_chain()[i]);
  }
  const auto seal = [&](uint64_t capacity) {
    return SealResumeToken(
        deps_.resume_keys->Current()->keys.front(), principal_, absl::Now(),
        absl::Seconds(deps_.limits.resume_token_ttl_seconds),
        {.sequence = last_sequence_, .next_sequence = next_sequence_, .chunks = chunks_}, config,
        *pipeline_, capacity);
  };
  absl::StatusOr<std::string> token = seal(token_capacity_);
  if (token.status().code() == absl::StatusCode::kResourceExhausted &&
      token_capacity_ < deps_.limits.max_resume_token_bytes) {
    // The config grew (updates): once more within the whole bound, and remember the size.
    token = seal(deps_.limits.max_resume_token_bytes);
    if (token.ok()) {
      token_capacity_ = std::min<uint64_t>(deps_.limits.max_resume_token_bytes,
                                           token->size() + token->size() / 4 + 4096);
    }
  }
  if (!token.ok()) {
    LogLine(LogLevel::kWarning, "checkpoint_failed")
        .Add("stream_id", stream_id_)
        .Add("message", token.status().message());
    return;
  }
  deps_.metrics.CheckpointSent(token->size());
  Response item;
  v1::Checkpoint* checkpoint = item.response.mutable_checkpoint();
  checkpoint->set_sequence(last_sequence_);
  *checkpoint->mutable_token() = *std::move(token);
  out->push_back(std::move(item));
}

absl::Status StreamSession::ApplyUpdate(const v1::ChainUpdate& update) {
  if (pending_events_.size() >= kMaxPendingUpdates) {
    deps_.metrics.Rejected("update_flood");
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", kMaxPendingUpdates,
                     " updates since the last chunk: each update's result "
                     "rides on the next chunk's response, so send audio between updates"));
  }
  // All or nothing: every entry is validated (once, resolved into its processor's typed
  // settings) before any is applied.
  std::vector<Chain::ResolvedUpdate> changes;
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
      absl::StatusOr<Chain::ResolvedUpdate> resolved =
          pipeline_->ResolveUpdate(entry.index(), *config);
      status = resolved.status();
      if (resolved.ok()) changes.push_back(*std::move(resolved));
    }
  }
  if (status.ok()) {
    for (const Chain::ResolvedUpdate& change : changes) pipeline_->ApplyUpdate(change);
  }
  v1::Event event;
  event.set_frame(pipeline_->frames_out());
  event.set_processor_index(status.ok() ? (changes.empty() ? 0 : changes.front().index)
                                        : failed_index);
  event.mutable_update()->set_applied(status.ok());
  // The message names the field and its range; bounded so that responses stay bounded.
  event.mutable_update()->set_message(
      status.ok() ? "applied" : std::string(status.message().substr(0, kMaxUpdateMessageBytes)));
  pending_events_.push_back(std::move(event));
  return absl::OkStatus();
}

double StreamSession::audio_seconds() const {
  if (pipeline_ == nullptr) return 0;
  return static_cast<double>(pipeline_->frames_in()) / pipeline_->config().input.sample_rate_hz;
}

absl::Status StreamSession::Finish(std::vector<Response>* out) {
  if (!configured()) {
    return absl::InvalidArgumentError(
        "the stream ended before its first message, which must be a config (StreamConfig)");
  }
  Response tail;
  v1::ProcessedChunk* chunk = tail.response.mutable_chunk();
  const Clock::time_point start = deps_.now();
  const ChunkStats stats = pipeline_->Finish(chunk->mutable_data());
  const Clock::time_point end = deps_.now();
  processing_seconds_ += Seconds(end - start);
  chunk->set_tail(true);
  v1::ChunkMetrics* metrics = chunk->mutable_metrics();
  metrics->set_frames_out(stats.frames_out);
  metrics->set_process_us(Micros(end - start));
  if (pipeline_->config().measure_levels) {
    metrics->set_out_peak_dbfs(stats.out_peak_dbfs);
    metrics->set_out_rms_dbfs(stats.out_rms_dbfs);
  }
  metrics->set_clipped_samples(stats.clipped_samples);
  AddChannelLevels(metrics);
  AttachEvents(chunk);
  deps_.metrics.TailProcessed(chunk->data().size());
  out->push_back(std::move(tail));

  Response summary;
  *summary.response.mutable_summary() =
      BuildStreamSummary(*pipeline_, {.chunks = chunks_,
                                      .wall_seconds = Seconds(deps_.now() - ready_at_),
                                      .processing_seconds = processing_seconds_,
                                      .integrated_lufs = last_integrated_lufs_,
                                      .events_not_sent = events_not_sent_});
  out->push_back(std::move(summary));
  return absl::OkStatus();
}

}  // namespace audioproc
