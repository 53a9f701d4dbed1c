#include "chain/chain.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace audioproc {
namespace {

// Keeps every sample finite and within +-kMaxSampleMagnitude after each stage. Parameters
// are bounded, but a chain can still stack them (32 gains of +60 dB overflow float), and a
// NaN or Inf would then stay in every filter downstream for the rest of the stream. The
// bound (+120 dBFS) is far beyond any meaningful level, so real signals pass untouched.
constexpr float kMaxSampleMagnitude = 1e6f;

void LimitSamples(const AudioBlock& block) noexcept {
  for (uint32_t c = 0; c < block.num_channels(); ++c) {
    float* x = block.channel(c);
    for (uint32_t i = 0; i < block.num_frames(); ++i) {
      const float v = x[i];
      // NaN fails both comparisons and becomes 0.
      x[i] = v >= -kMaxSampleMagnitude ? (v <= kMaxSampleMagnitude ? v : kMaxSampleMagnitude)
                                       : (v < 0 ? -kMaxSampleMagnitude : 0.0f);
    }
  }
}

absl::Status Prefixed(size_t index, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("chain[", index, "].", status.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Chain>> Chain::Build(const ProcessorRegistry& registry,
                                                    const std::vector<ProcessorConfig>& configs,
                                                    const ProcessSpec& input) {
  std::unique_ptr<Chain> chain(new Chain());
  chain->registry_ = &registry;
  chain->input_spec_ = input;
  chain->output_spec_ = input;
  for (size_t i = 0; i < configs.size(); ++i) {
    if (absl::Status status = chain->AddStage(configs[i], i); !status.ok()) return status;
  }
  chain->input_buffer_ = AudioBuffer(input.channels, input.max_block_frames);
  chain->ReserveEvents();
  return chain;
}

absl::Status Chain::Append(const ProcessorConfig& config) {
  if (absl::Status status = AddStage(config, stages_.size()); !status.ok()) return status;
  ReserveEvents();
  return absl::OkStatus();
}

void Chain::ReserveEvents() {
  // A block's worth per stage, for each of the blocks a Flush runs before its events are
  // drained: enough for the StreamPipeline, which drains after every block. Most chains report
  // no events and reserve nothing.
  uint64_t per_block = 0;
  for (const Stage& stage : stages_) {
    per_block += stage.processor->MaxEventsPerBlock(stage.input.max_block_frames);
  }
  events_.Reserve(per_block * FlushBlocks());
}

uint64_t Chain::FlushBlocks() const {
  return FlushBlocksFor(latency_frames_, input_spec_, output_spec_);
}

uint64_t Chain::FlushBlocksFor(uint32_t latency_frames, const ProcessSpec& input,
                               const ProcessSpec& output) {
  return 4 +
         (latency_frames * input.sample_rate_hz / output.sample_rate_hz + input.max_block_frames) /
             input.max_block_frames;
}

Chain::RecordSizes Chain::Records() { return {sizeof(Chain), sizeof(Stage), sizeof(StageEvents)}; }

absl::Status Chain::AddStage(const ProcessorConfig& config, size_t index) {
  const ProcessSpec spec = output_spec_;
  ParamValues resolved;
  absl::StatusOr<std::unique_ptr<Processor>> processor = registry_->Create(config, spec, &resolved);
  if (!processor.ok()) return Prefixed(index, processor.status());
  absl::StatusOr<ProcessSpec> output = (*processor)->Prepare(spec);
  if (!output.ok()) return Prefixed(index, output.status());
  Stage stage{*std::move(processor), spec, *output, {}, {}};
  if (!stage.processor->ProcessesInPlace()) {
    stage.output_buffer = AudioBuffer(output->channels, output->max_block_frames);
  }
  stage.events = std::make_unique<StageEvents>(this, static_cast<uint32_t>(index), latency_,
                                               spec.sample_rate_hz);
  stage.processor->set_event_sink(stage.events.get());
  latency_ =
      latency_ * output->sample_rate_hz / spec.sample_rate_hz + stage.processor->LatencyFrames();
  stages_.push_back(std::move(stage));
  resolved_.push_back({config.name, std::move(resolved)});
  processor_seconds_.push_back(0.0);
  output_spec_ = *output;
  latency_frames_ = static_cast<uint32_t>(std::lround(latency_));
  preroll_left_ = latency_frames_;
  output_pad_ = AudioBuffer(output_spec_.channels, OutputPadFrames(output_spec_));
  return absl::OkStatus();
}

void Chain::Process(const AudioBlock& in, EmitFn emit) noexcept {
  const uint32_t max_block = input_spec_.max_block_frames;
  for (uint32_t offset = 0; offset < in.num_frames(); offset += max_block) {
    const uint32_t frames = std::min(max_block, in.num_frames() - offset);
    frames_in_ += frames;
    ProcessBlock(in.Slice(offset, frames), emit);
  }
}

void Chain::ProcessBlock(const AudioBlock& block, EmitFn emit) noexcept {
  AudioBlock current = block;
  for (size_t i = 0; i < stages_.size(); ++i) {
    Stage& stage = stages_[i];
    const auto start = std::chrono::steady_clock::now();
    if (stage.processor->ProcessesInPlace()) {
      stage.processor->Process(current, current);
    } else {
      AudioBlock out = stage.output_buffer.Block();
      stage.processor->Process(current, out);
      current = out;
    }
    LimitSamples(current);
    processor_seconds_[i] +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  EmitFinal(current, emit_limit_, emit);
}

void Chain::EmitFinal(const AudioBlock& block, uint64_t limit, EmitFn emit) noexcept {
  uint32_t skip = static_cast<uint32_t>(std::min<uint64_t>(preroll_left_, block.num_frames()));
  preroll_left_ -= skip;
  uint64_t frames = block.num_frames() - skip;
  if (frames_emitted_ >= limit) return;
  frames = std::min(frames, limit - frames_emitted_);
  if (frames == 0) return;
  frames_emitted_ += frames;
  emit(block.Slice(skip, static_cast<uint32_t>(frames)));
}

void Chain::Flush(EmitFn emit) noexcept {
  const uint64_t expected = static_cast<uint64_t>(std::llround(
      static_cast<double>(frames_in_) * output_spec_.sample_rate_hz / input_spec_.sample_rate_hz));
  emit_limit_ = expected;
  // Silence in; enough of it covers the latency. The bound guards against a processor that
  // swallows input: the output is then padded with silence to keep the length exact.
  const uint64_t max_blocks = FlushBlocks();
  for (uint64_t n = 0; n < max_blocks && frames_emitted_ < expected; ++n) {
    AudioBlock silence = input_buffer_.Block();
    silence.Clear();
    ProcessBlock(silence, emit);
  }
  while (frames_emitted_ < expected) {
    const uint64_t room = expected - frames_emitted_;
    AudioBlock block = output_pad_.Block(
        static_cast<uint32_t>(std::min<uint64_t>(room, output_pad_.capacity_frames())));
    block.Clear();
    preroll_left_ = 0;
    EmitFinal(block, expected, emit);
  }
}

void Chain::StageEvents::Emit(uint64_t frame, const EventPayload& payload) noexcept {
  const double aligned = std::max(0.0, static_cast<double>(frame) - upstream_latency_);
  // The output rate is only final once the chain is built; events come later, in Process.
  const double scale = chain_->output_spec_.sample_rate_hz / input_rate_;
  chain_->events_.Push({static_cast<uint64_t>(std::llround(aligned * scale)), index_, payload});
}

absl::Status Chain::Update(size_t index, const ProcessorConfig& update) {
  absl::StatusOr<ResolvedUpdate> resolved = ResolveUpdate(index, update);
  if (!resolved.ok()) return resolved.status();
  Apply(*resolved);
  return absl::OkStatus();
}

void Chain::Apply(const ResolvedUpdate& update) {
  if (update.settings != nullptr) stages_[update.index].processor->ApplyUpdate(*update.settings);
  resolved_[update.index].params.Merge(update.changes);
}

absl::Status Chain::ValidateUpdate(size_t index, const ProcessorConfig& update) const {
  return ResolveUpdate(index, update).status();
}

absl::StatusOr<Chain::ResolvedUpdate> Chain::ResolveUpdate(size_t index,
                                                           const ProcessorConfig& update) const {
  if (index >= stages_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("update index ", index, " is past the end of a chain of ", stages_.size()));
  }
  const ProcessorConfig& current = resolved_[index];
  if (update.name != current.name) {
    return absl::InvalidArgumentError(
        absl::StrCat("chain[", index, "] is ", current.name, ", not ", update.name));
  }
  absl::StatusOr<std::unique_ptr<ProcessorUpdate>> settings =
      registry_->ResolveUpdate(update, current.params, stages_[index].input);
  if (!settings.ok()) return Prefixed(index, settings.status());
  return ResolvedUpdate{index, update.params, *std::move(settings)};
}

namespace {

constexpr StateTag kChainStateTag = MakeStateTag("chan");
constexpr uint16_t kChainStateVersion = 1;
// A processor name is short; a longer one in a blob is corrupt.
constexpr size_t kMaxNameBytes = 64;

void PutSpec(StateWriter& writer, const ProcessSpec& spec) {
  writer.PutDouble(spec.sample_rate_hz);
  writer.PutU32(spec.max_block_frames);
  writer.PutU32(spec.channels);
}

ProcessSpec GetSpec(StateReader& reader) {
  ProcessSpec spec;
  spec.sample_rate_hz = reader.GetDouble();
  spec.max_block_frames = reader.GetU32();
  spec.channels = reader.GetU32();
  return spec;
}

absl::Status ShapeMismatch(std::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat(
      "state: the state of another chain (", absl::string_view(what.data(), what.size()), ")"));
}

}  // namespace

bool Chain::SupportsState() const {
  for (const Stage& stage : stages_) {
    if (!stage.processor->SupportsState()) return false;
  }
  return true;
}

absl::Status Chain::SaveState(StateWriter& writer) const {
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (!stages_[i].processor->SupportsState()) {
      return absl::UnimplementedError(
          absl::StrCat("chain[", i, "].", resolved_[i].name, " cannot save its state"));
    }
  }
  writer.PutTag(kChainStateTag, kChainStateVersion);
  PutSpec(writer, input_spec_);
  writer.PutU32(static_cast<uint32_t>(stages_.size()));
  for (size_t i = 0; i < stages_.size(); ++i) {
    writer.PutString(resolved_[i].name);
    PutSpec(writer, stages_[i].input);
  }
  writer.PutU64(preroll_left_);
  writer.PutU64(frames_in_);
  writer.PutU64(frames_emitted_);
  writer.PutU64(emit_limit_);
  for (size_t i = 0; i < stages_.size(); ++i) {
    // Each stage's state is a sized section, so a reader can hold a stage to its own bytes.
    const size_t size_at = writer.position();
    writer.PutU64(0);
    const size_t start = writer.position();
    if (absl::Status status = stages_[i].processor->SaveState(writer); !status.ok()) {
      return Prefixed(i, status);
    }
    writer.PatchU64(size_at, writer.position() - start);
  }
  return writer.status();
}

absl::Status Chain::RestoreState(StateReader& reader) {
  absl::Status status = [&]() -> absl::Status {
    reader.ExpectTag(kChainStateTag, kChainStateVersion);
    const ProcessSpec input = GetSpec(reader);
    const uint32_t stages = reader.GetU32();
    if (!reader.ok()) return reader.status();
    if (input != input_spec_) return ShapeMismatch("another input format or block size");
    if (stages != stages_.size()) return ShapeMismatch("another number of processors");
    for (size_t i = 0; i < stages_.size(); ++i) {
      const std::string_view name = reader.GetString(kMaxNameBytes);
      const ProcessSpec spec = GetSpec(reader);
      if (!reader.ok()) return reader.status();
      if (name != resolved_[i].name)
        return ShapeMismatch(absl::StrCat("chain[", i, "] is ", resolved_[i].name));
      if (spec != stages_[i].input)
        return ShapeMismatch(absl::StrCat("chain[", i, "] sees another format"));
    }
    const uint64_t preroll_left = reader.GetU64AtMost(latency_frames_);
    const uint64_t frames_in = reader.GetU64();
    const uint64_t frames_emitted = reader.GetU64();
    const uint64_t emit_limit = reader.GetU64();
    if (!reader.ok()) return reader.status();
    // The counters must be those of a chain between blocks, before Flush: what the input so
    // far makes, less what was emitted, is at most what the chain can hold (Flush emits it,
    // padding with silence, so a state claiming more would make Flush emit without end).
    const double expected =
        static_cast<double>(frames_in) * output_spec_.sample_rate_hz / input_spec_.sample_rate_hz;
    const double held = static_cast<double>(frames_emitted) - expected;
    const double most_held =
        static_cast<double>(latency_frames_) +
        static_cast<double>(FlushBlocks()) * static_cast<double>(output_spec_.max_block_frames);
    if (emit_limit != UINT64_MAX || held > 2.0 || -held > most_held) {
      reader.Fail("the chain's frame counters are not those of a running stream");
      return reader.status();
    }
    for (size_t i = 0; i < stages_.size(); ++i) {
      const uint64_t size = reader.GetU64AtMost(reader.remaining());
      StateReader stage = reader.Sub(size);
      if (!reader.ok()) return reader.status();
      if (absl::Status restored = stages_[i].processor->RestoreState(stage); !restored.ok()) {
        return Prefixed(i, restored);
      }
    }
    reader.ExpectEnd();
    if (!reader.ok()) return reader.status();
    preroll_left_ = preroll_left;
    frames_in_ = frames_in;
    frames_emitted_ = frames_emitted;
    emit_limit_ = emit_limit;
    return absl::OkStatus();
  }();
  if (!status.ok()) ResetState();
  return status;
}

void Chain::ResetState() noexcept {
  for (Stage& stage : stages_) stage.processor->Reset();
  preroll_left_ = latency_frames_;
  frames_in_ = 0;
  frames_emitted_ = 0;
  emit_limit_ = UINT64_MAX;
  events_.Clear();
}

}  // namespace audioproc
