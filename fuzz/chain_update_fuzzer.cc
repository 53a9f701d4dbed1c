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
#include "fuzz/pipeline_from_config.h"
#include "fuzz/signal_runner.h"
#include "service/spec_translation.h"
#include "service/stream_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace audioproc;
  const fuzz::SplitInput input = fuzz::SplitMessage(data, size);
  v1::StreamConfig config;
  v1::ChainUpdate update;
  if (!config.ParseFromArray(input.message.data(), static_cast<int>(input.message.size())) ||
      !update.ParseFromArray(input.rest.data(), static_cast<int>(input.rest.size()))) {
    return 0;
  }
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline = fuzz::PipelineFromConfig(config);
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
