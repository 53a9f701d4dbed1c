// Fuzzes mid-stream updates: a StreamConfig builds a pipeline as the server would, a test
// signal runs through its chain, then a ChainUpdate is validated and applied the way
// StreamSession::ApplyUpdate does it (ConfigFromSpec, the index check, Chain::ResolveUpdate
// for every entry, then Chain::Apply for each) while the signal goes on, across the ramp to
// the new values, to the flush.
//
// Input: [n: 2 bytes LE][n bytes: a serialized StreamConfig][the rest: a serialized
// ChainUpdate].
//
// Invariants: an update whose every entry resolved applies, each entry in turn, without a
// second validation (Chain::Apply cannot fail: the session relies on it for "whole or not at
// all", DESIGN.md section 3); before and after any update the chain emits the output's channel
// count, and exactly round(frames_in x out_rate / in_rate) frames in all.
//
// Finite samples out of a finite signal are not checked: they are not promised. Parameters in
// range can overflow float (32 gain stages at their maximum; convolve taps and mix weights are
// only required to be finite), and the encoders then write 0 or full scale.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numbers>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/chain.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "dsp/audio_block.h"
#include "fuzz/fuzz_input.h"
#include "service/spec_translation.h"
#include "service/stream_config.h"

namespace audioproc::fuzz {
namespace {

constexpr uint32_t kChunkFrames = 160;
constexpr int kChunksBefore = 4;
constexpr int kChunksAfter = 8;

// Feeds a test signal through a chain and checks how much comes out.
class SignalRunner {
 public:
  explicit SignalRunner(Chain& chain)
      : chain_(chain), buffer_(chain.input_spec().channels, kChunkFrames) {}

  void Run(int chunks) {
    for (int n = 0; n < chunks; ++n) {
      const AudioBlock block = buffer_.Block(kChunkFrames);
      // A tone with a different frequency in each channel, and deterministic noise: enough
      // to make every dynamics processor, gate and detector act.
      for (uint32_t c = 0; c < block.num_channels(); ++c) {
        const double hz = 220.0 * (c + 1);
        for (uint32_t i = 0; i < kChunkFrames; ++i) {
          const double t = static_cast<double>(frame_ + i) / chain_.input_spec().sample_rate_hz;
          noise_ = noise_ * 6364136223846793005u + 1442695040888963407u;
          const double noise = static_cast<double>(noise_ >> 40) / (1 << 24) - 0.5;
          block.channel(c)[i] =
              static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * hz * t) + 0.1 * noise);
        }
      }
      frame_ += kChunkFrames;
      chain_.Process(block, [this](const AudioBlock& out) { Check(out); });
      chain_.ClearEvents();
    }
  }

  void Flush() {
    chain_.Flush([this](const AudioBlock& out) { Check(out); });
    chain_.ClearEvents();
    const uint64_t expected = static_cast<uint64_t>(
        std::llround(static_cast<double>(frame_) * chain_.output_spec().sample_rate_hz /
                     chain_.input_spec().sample_rate_hz));
    AUDIOPROC_FUZZ_CHECK(frames_out_ == expected,
                         absl::StrCat(frames_out_, " frames out, expected ", expected));
  }

 private:
  void Check(const AudioBlock& out) {
    AUDIOPROC_FUZZ_CHECK(out.num_channels() == chain_.output_spec().channels);
    frames_out_ += out.num_frames();
  }

  Chain& chain_;
  AudioBuffer buffer_;
  uint64_t frame_ = 0;
  uint64_t frames_out_ = 0;
  uint64_t noise_ = 1;
};

}  // namespace
}  // namespace audioproc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace audioproc;
  const fuzz::SplitInput input = fuzz::SplitMessage(data, size);
  v1::StreamConfig config;
  v1::ChainUpdate update;
  if (!config.ParseFromArray(input.message.data(), static_cast<int>(input.message.size())) ||
      !update.ParseFromArray(input.rest.data(), static_cast<int>(input.rest.size()))) {
    return 0;
  }
  absl::StatusOr<PipelineConfig> pipeline_config =
      ToPipelineConfig(config, StreamLimits{}, "fuzz-stream");
  if (!pipeline_config.ok()) return 0;
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), *pipeline_config);
  if (!pipeline.ok()) return 0;
  Chain& chain = (*pipeline)->chain();
  fuzz::SignalRunner runner(chain);
  runner.Run(fuzz::kChunksBefore);

  // StreamSession::ApplyUpdate: every entry is validated and resolved before any is applied.
  std::vector<Chain::ResolvedUpdate> changes;
  absl::Status status;
  for (int i = 0; i < update.updates_size() && status.ok(); ++i) {
    const v1::ProcessorUpdate& entry = update.updates(i);
    absl::StatusOr<ProcessorConfig> change = ConfigFromSpec(entry.spec());
    if (!change.ok()) {
      status = change.status();
    } else if (entry.index() >= (*pipeline)->requested_chain_size()) {
      status = absl::InvalidArgumentError("index past the chain");
    } else {
      absl::StatusOr<Chain::ResolvedUpdate> resolved = chain.ResolveUpdate(entry.index(), *change);
      status = resolved.status();
      if (resolved.ok()) changes.push_back(*std::move(resolved));
    }
  }
  if (status.ok()) {
    for (const Chain::ResolvedUpdate& change : changes) chain.Apply(change);
  }

  runner.Run(fuzz::kChunksAfter);
  runner.Flush();
  return 0;
}
