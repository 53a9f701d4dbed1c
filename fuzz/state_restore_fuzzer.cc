// Fuzzes restoring a stream's state (issue 14's resume tokens carry it): a StreamConfig builds
// a pipeline as the server would, then StreamPipeline::RestoreState reads the rest of the input
// as the saved state of every processor. A token's state is read only after its signature
// verified, so this is what a leaked key, or a token of an older build, could feed a server.
//
// Input: [n: 2 bytes LE][n bytes: a serialized StreamConfig][the rest: the pipeline's state].
//
// Invariants: restoring never reads out of bounds or allocates from a length it read (ASan,
// the reader's own checks); a refused state leaves the chain as built (each processor Reset),
// which then runs and flushes exactly the frames the rates promise; an accepted one runs and
// flushes with the output's channel count on every block, and saving it again gives a state
// that restores into a fresh pipeline.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "audioproc/v1/audioproc.pb.h"
#include "chain/stream_pipeline.h"
#include "dsp/state_codec.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/pipeline_from_config.h"
#include "fuzz/signal_runner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace audioproc;
  const fuzz::SplitInput input = fuzz::SplitMessage(data, size);
  v1::StreamConfig config;
  if (!config.ParseFromArray(input.message.data(), static_cast<int>(input.message.size()))) {
    return 0;
  }
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline = fuzz::PipelineFromConfig(config);
  if (!pipeline.ok() || !(*pipeline)->SupportsState()) return 0;

  StateReader reader(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(input.rest.data()),
                                              input.rest.size()));
  const absl::Status restored = (*pipeline)->RestoreState(reader);
  fuzz::SignalRunner runner((*pipeline)->chain());
  if (!restored.ok()) {
    runner.Run(fuzz::kChunksAfter);
    runner.Flush();
    return 0;
  }
  StateWriter writer;
  AUDIOPROC_FUZZ_CHECK((*pipeline)->SaveState(writer).ok());
  absl::StatusOr<std::unique_ptr<StreamPipeline>> again = fuzz::PipelineFromConfig(config);
  AUDIOPROC_FUZZ_CHECK(again.ok());
  StateReader saved(writer.bytes());
  AUDIOPROC_FUZZ_CHECK((*again)->RestoreState(saved).ok(), "a saved state restores");
  runner.Run(fuzz::kChunksAfter);
  runner.Flush(/*check_count=*/false);
  return 0;
}
