#include "processors/chain.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace audioproc {
namespace {

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
  ProcessSpec spec = input;
  // Latency is accumulated in the units of the current stage's output, rescaled whenever a
  // stage changes the rate, so the total is in the chain's output frames.
  double latency = 0;
  for (size_t i = 0; i < configs.size(); ++i) {
    ParamValues resolved;
    absl::StatusOr<std::unique_ptr<Processor>> processor =
        registry.Create(configs[i], spec, &resolved);
    if (!processor.ok()) return Prefixed(i, processor.status());
    absl::StatusOr<ProcessSpec> output = (*processor)->Prepare(spec);
    if (!output.ok()) return Prefixed(i, output.status());
    Stage stage{*std::move(processor), spec, *output, {}};
    if (!stage.processor->ProcessesInPlace()) {
      stage.output_buffer = AudioBuffer(output->channels, output->max_block_frames);
    }
    latency = latency * output->sample_rate_hz / spec.sample_rate_hz +
              stage.processor->LatencyFrames();
    chain->stages_.push_back(std::move(stage));
    chain->resolved_.push_back({configs[i].name, std::move(resolved)});
    spec = *output;
  }
  chain->output_spec_ = spec;
  chain->latency_frames_ = static_cast<uint32_t>(std::lround(latency));
  chain->preroll_left_ = chain->latency_frames_;
  chain->processor_seconds_.assign(chain->stages_.size(), 0.0);
  chain->silence_ = AudioBuffer(input.channels, input.max_block_frames);
  chain->output_pad_ = AudioBuffer(spec.channels, std::max<uint32_t>(spec.max_block_frames, 1));
  return chain;
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
  const uint64_t max_blocks = 4 + (latency_frames_ * input_spec_.sample_rate_hz /
                                       output_spec_.sample_rate_hz +
                                   input_spec_.max_block_frames) /
                                      input_spec_.max_block_frames;
  for (uint64_t n = 0; n < max_blocks && frames_emitted_ < expected; ++n) {
    AudioBlock silence = silence_.Block();
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

absl::Status Chain::Update(size_t index, const ProcessorConfig& update) {
  if (absl::Status status = ValidateUpdate(index, update); !status.ok()) return status;
  stages_[index].processor->ApplyUpdate(update.params);
  resolved_[index].params.Merge(update.params);
  return absl::OkStatus();
}

absl::Status Chain::ValidateUpdate(size_t index, const ProcessorConfig& update) const {
  if (index >= stages_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("update index ", index,
                                                   " is past the end of a chain of ",
                                                   stages_.size()));
  }
  const ProcessorConfig& current = resolved_[index];
  if (update.name != current.name) {
    return absl::InvalidArgumentError(absl::StrCat("chain[", index, "] is ", current.name,
                                                   ", not ", update.name));
  }
  if (absl::Status status = registry_->ValidateUpdate(update, current.params, stages_[index].input);
      !status.ok()) {
    return Prefixed(index, status);
  }
  return absl::OkStatus();
}

}  // namespace audioproc
