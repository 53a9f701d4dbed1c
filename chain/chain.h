// Chain: processors run in sequence, with latency compensation and an exact-length tail.
//
// The chain accepts any number of frames per call and cuts them into blocks no longer than
// each processor prepared for. Output is aligned with input: the first `latency_frames()`
// output frames (the lookahead pre-roll) are dropped, and `Flush` pushes silence through so
// that the whole output is exactly round(frames_in x out_rate / in_rate) frames, cutting any
// ringing past the end of the input. Because every processor works sample by sample, the
// output does not depend on how the input was chunked.
// Thread safety: one thread at a time (a stream's worker).
#ifndef AUDIOPROC_CHAIN_CHAIN_H_
#define AUDIOPROC_CHAIN_CHAIN_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "chain/events.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"

namespace audioproc {

// The longest block the chain hands a processor, in input frames.
inline constexpr uint32_t kDefaultMaxBlockFrames = 1024;

// The longest run of padding Flush emits at once, in output frames (a chain that fell short
// is padded in runs of at most this many; the buffer is kept per stream and rarely used).
inline constexpr uint32_t kOutputPadFrames = 256;

class Chain {
 public:
  using EmitFn = absl::FunctionRef<void(const AudioBlock&)>;

  // Validates each config against the format the processor before it emits, then builds and
  // prepares every processor. Errors are INVALID_ARGUMENT prefixed "chain[i].". Allocates.
  static absl::StatusOr<std::unique_ptr<Chain>> Build(const ProcessorRegistry& registry,
                                                      const std::vector<ProcessorConfig>& configs,
                                                      const ProcessSpec& input);

  // Adds a processor after the last one, validated against what that one emits (the format
  // conversions an output format asks for). Only before the first Process. Allocates.
  absl::Status Append(const ProcessorConfig& config);

  const ProcessSpec& input_spec() const { return input_spec_; }
  // A buffer in the input format, input_spec().max_block_frames long, for a caller to fill and
  // hand to Process, so that a stream keeps one input block rather than two (StreamPipeline
  // decodes into it). Flush pushes its silence through it and so overwrites it.
  AudioBuffer& input_buffer() { return input_buffer_; }
  const ProcessSpec& output_spec() const { return output_spec_; }
  size_t size() const { return stages_.size(); }
  // The processor at `index` (tests and benchmarks drive processors directly through it).
  Processor& processor(size_t index) { return *stages_[index].processor; }
  // The configs with every default filled in, one per processor.
  const std::vector<ProcessorConfig>& resolved() const { return resolved_; }
  // The delay the chain would add, in output frames; it is dropped from the output's start.
  uint32_t latency_frames() const { return latency_frames_; }

  // Processes `in` (any number of frames; its samples are overwritten) and calls `emit` with
  // each run of output frames that became final. Real-time safe.
  void Process(const AudioBlock& in, EmitFn emit) noexcept;

  // After the last input: emits the rest of the output, so that the total is exactly
  // round(frames_in x out_rate / in_rate) frames. Real-time safe.
  void Flush(EmitFn emit) noexcept;

  // An update of one processor, validated and resolved into its typed settings: what Apply
  // takes. Build it with ResolveUpdate.
  struct ResolvedUpdate {
    size_t index = 0;
    ParamValues changes;                        // as requested, merged into resolved() when applied
    std::unique_ptr<ProcessorUpdate> settings;  // null when the update sets nothing
  };

  // Checks `update` against processor `index` (the processor's name, runtime-updatability
  // and range of each parameter set, the processor's own checks) and resolves it into the
  // processor's typed settings, without applying it. This is the one validation of an update.
  // Allocates.
  absl::StatusOr<ResolvedUpdate> ResolveUpdate(size_t index, const ProcessorConfig& update) const;

  // Applies a resolved update at the next block; the processor ramps to the new values.
  // Updates resolved for this chain cannot fail. Allocates (the resolved parameters are
  // merged), so it runs between chunks; the processor's part does not.
  void Apply(const ResolvedUpdate& update);

  // ResolveUpdate's status, for callers that only check.
  absl::Status ValidateUpdate(size_t index, const ProcessorConfig& update) const;

  // ResolveUpdate, then Apply. On error nothing changes.
  absl::Status Update(size_t index, const ProcessorConfig& update);

  // How many blocks of silence Flush pushes through at most, for a chain from `input` to
  // `output` whose latency is `latency_frames` (output frames). The event buffer holds a
  // block's worth of events for each.
  static uint64_t FlushBlocksFor(uint32_t latency_frames, const ProcessSpec& input,
                                 const ProcessSpec& output);

  // The sizes of what Build and Append allocate for the chain itself besides its buffers, for
  // EstimateChain (resource_estimate.h): the chain object, and per stage its record in the
  // stage vector and its event sink.
  struct RecordSizes {
    size_t chain = 0;
    size_t stage = 0;
    size_t stage_events = 0;
  };
  static RecordSizes Records();
  // The frames of the output pad of a chain that emits `output`.
  static uint32_t OutputPadFrames(const ProcessSpec& output) {
    return std::clamp<uint32_t>(output.max_block_frames, 1, kOutputPadFrames);
  }

  // The events processors reported since the last ClearEvents, with output frames. There is
  // room for those of one Process call of at most max_block_frames, or of one Flush; drain
  // after each (StreamPipeline does).
  const std::vector<ProcessorEvent>& events() const { return events_.events(); }
  void ClearEvents() noexcept { events_.Clear(); }
  // Events that did not fit between two drains.
  uint64_t dropped_events() const { return events_.dropped(); }

  // State (issue 14's checkpoints): every stage's processor state and the chain's own counters
  // (pre-roll left, frames in and out), so that a chain built from the same configs for the
  // same input, restored, continues byte-identically, events at the same frames. Between
  // Process calls (not after Flush), on the thread that calls Process.
  //
  // Whether every stage supports state (Processor::SupportsState).
  bool SupportsState() const;
  // Appends the chain's state to `writer`: UNIMPLEMENTED naming the first stage that cannot
  // save its state, RESOURCE_EXHAUSTED past the writer's capacity. Allocates nothing beyond
  // the writer's buffer.
  absl::Status SaveState(StateWriter& writer) const;
  // Reads what SaveState wrote. A blob of another chain shape (other processors, formats or
  // block size) is FAILED_PRECONDITION, and leaves the chain as built; a malformed one
  // INVALID_ARGUMENT "chain[i]. ...", after which every processor is Reset and the counters are
  // at zero (usable, though a run-time parameter a stage read before a later one failed may
  // keep that value, within its range: a refused stream discards its chain anyway). Allocates
  // nothing on success.
  absl::Status RestoreState(StateReader& reader);

  uint64_t frames_in() const { return frames_in_; }
  uint64_t frames_out() const { return frames_emitted_; }
  // Time spent in each processor's Process so far, in seconds.
  std::span<const double> processor_seconds() const { return processor_seconds_; }

 private:
  // Maps a stage's events onto the chain's output frames: the stage's input frame f is
  // (f - upstream latency) in its own rate, then rescaled to the output rate.
  class StageEvents final : public EventSink {
   public:
    StageEvents(Chain* chain, uint32_t index, double upstream_latency, double input_rate)
        : chain_(chain),
          index_(index),
          upstream_latency_(upstream_latency),
          input_rate_(input_rate) {}
    void Emit(uint64_t frame, const EventPayload& payload) noexcept override;

   private:
    Chain* chain_;
    uint32_t index_;
    double upstream_latency_;
    double input_rate_;
  };

  struct Stage {
    std::unique_ptr<Processor> processor;
    ProcessSpec input;
    ProcessSpec output;
    AudioBuffer output_buffer;  // only for processors that do not work in place
    std::unique_ptr<StageEvents> events;
  };

  Chain() = default;
  // Resolves, creates and prepares `config` as stage `index`, after the current last stage.
  absl::Status AddStage(const ProcessorConfig& config, size_t index);
  // Sizes events_ for the stages so far (see MaxEventsPerBlock). Allocates.
  void ReserveEvents();
  // How many blocks of silence Flush pushes through at most.
  uint64_t FlushBlocks() const;
  // Back to the state right after Build: every processor Reset, the counters at zero.
  void ResetState() noexcept;
  // Runs one block of at most input_spec_.max_block_frames frames through every stage.
  void ProcessBlock(const AudioBlock& block, EmitFn emit) noexcept;
  // Emits `block` after dropping what is left of the pre-roll and cutting past `limit` frames.
  void EmitFinal(const AudioBlock& block, uint64_t limit, EmitFn emit) noexcept;

  const ProcessorRegistry* registry_ = nullptr;
  ProcessSpec input_spec_;
  ProcessSpec output_spec_;
  std::vector<Stage> stages_;
  std::vector<ProcessorConfig> resolved_;
  std::vector<double> processor_seconds_;
  uint32_t latency_frames_ = 0;
  // Latency so far, in the last stage's output frames (rescaled at each rate change).
  double latency_ = 0;
  uint64_t preroll_left_ = 0;
  uint64_t frames_in_ = 0;
  uint64_t frames_emitted_ = 0;
  uint64_t emit_limit_ = UINT64_MAX;
  EventBuffer events_;
  AudioBuffer input_buffer_;  // input format: input_buffer(), and what Flush pushes through
  AudioBuffer output_pad_;    // output format, kOutputPadFrames: pads a chain that fell short
};

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_CHAIN_H_
