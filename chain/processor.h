// Processor: the interface every DSP stage implements (shape from JUCE's juce_dsp, run-time
// chains like WebRTC's audio processing module).
//
// Lifecycle: construct from validated parameters, `Prepare` once for the stream's format
// (may allocate, plan FFTs), then `Process` block after block on one thread at a time.
// Thread safety: a Processor is used by one thread at a time; it holds no shared state.
#ifndef AUDIOPROC_CHAIN_PROCESSOR_H_
#define AUDIOPROC_CHAIN_PROCESSOR_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chain/events.h"
#include "chain/parameters.h"
#include "dsp/audio_block.h"
#include "dsp/state_codec.h"

namespace audioproc {

// The format a processor is prepared for, and that it emits.
struct ProcessSpec {
  double sample_rate_hz = 0;
  // No block passed to Process is longer than this (in this processor's input frames).
  uint32_t max_block_frames = 0;
  uint32_t channels = 0;

  friend bool operator==(const ProcessSpec&, const ProcessSpec&) = default;
};

// A run-time update resolved, off the audio path, into one processor's typed settings: a
// TypedUpdate<Settings> of the Settings its UpdatableProcessor takes. Opaque to the chain.
class ProcessorUpdate {
 public:
  virtual ~ProcessorUpdate() = default;
};

template <typename Settings>
class TypedUpdate final : public ProcessorUpdate {
 public:
  explicit TypedUpdate(Settings settings) : settings_(std::move(settings)) {}
  const Settings& settings() const { return settings_; }

 private:
  Settings settings_;
};

class Processor {
 public:
  virtual ~Processor() = default;

  // May allocate and plan FFTs; never called on the streaming hot path. Returns the spec of
  // what this processor emits (another rate or channel count for resample and mix).
  virtual absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) = 0;

  // Real-time safe: no allocation, locks, I/O, logging or exceptions, and never NaN or Inf
  // out. In-place processors write back into `in` and ignore `out`; processors whose
  // `ProcessesInPlace()` is false write into `out` (sized by the caller from Prepare's
  // result) and set its frame count.
  virtual void Process(AudioBlock& in, AudioBlock& out) noexcept = 0;

  // Back to the state right after Prepare.
  virtual void Reset() noexcept = 0;

  // Delay of the output behind the input, in this processor's output frames.
  virtual int LatencyFrames() const { return 0; }

  virtual bool ProcessesInPlace() const { return true; }
  // The most events (vad, analyze, loudness) one Process call of `frames` input frames can
  // report. The chain sizes its event buffer from it in advance, as Process cannot allocate.
  virtual uint32_t MaxEventsPerBlock(uint32_t frames) const {
    (void)frames;
    return 0;
  }

  // Applies a run-time update that the registry has validated and resolved into this
  // processor's typed settings (ProcessorDefinition::resolve_update); only the settings present
  // change, each ramped to its new value. Called between blocks on the thread that calls
  // Process; must not allocate. Processors with run-time settings derive from
  // UpdatableProcessor, which unwraps them.
  virtual void ApplyUpdate(const ProcessorUpdate& update) noexcept { (void)update; }

  // State (issue 14's checkpoints). A processor that supports state saves everything that
  // shapes its later output and events (filter memories, envelopes, delay lines, ramps in
  // flight), so that a fresh instance built from the same config and prepared for the same spec,
  // restored from it, continues byte-identically. Both are called between blocks, after
  // Prepare, on the thread that calls Process.
  //
  // Whether SaveState and RestoreState work; false (the default) means both return
  // UNIMPLEMENTED, and a chain holding such a processor cannot be checkpointed.
  virtual bool SupportsState() const { return false; }

  // Appends the state to `writer`: a tag and version (dsp/state_codec.h), then the fields.
  // Allocates nothing beyond the writer's reserved capacity (a state that does not fit fails
  // RESOURCE_EXHAUSTED), so it may run on the audio thread.
  virtual absl::Status SaveState(StateWriter& writer) const {
    (void)writer;
    return Unsupported();
  }

  // Reads what SaveState wrote, validating every size and value against the prepared spec:
  // another tag or version is FAILED_PRECONDITION, anything malformed INVALID_ARGUMENT. On
  // failure the processor is Reset: usable, its memories cleared, though a run-time parameter
  // read before the failure may keep that value (always within the parameter's range).
  // Allocates nothing on success; a failure builds a status message.
  virtual absl::Status RestoreState(StateReader& reader) {
    (void)reader;
    return Unsupported();
  }

  // Where this processor reports events (vad, analyze, loudness); set by the chain before the
  // first Process. Processors that report nothing ignore it.
  void set_event_sink(EventSink* sink) { event_sink_ = sink; }

 protected:
  // The end of a RestoreState: fails unless every byte was read, and Resets on failure.
  absl::Status FinishRestore(StateReader& reader) noexcept {
    reader.ExpectEnd();
    if (reader.ok()) return absl::OkStatus();
    Reset();
    return reader.status();
  }

  // Reports an event about frame `frame` of this processor's input. Real-time safe.
  void Emit(uint64_t frame, const EventPayload& payload) noexcept {
    if (event_sink_ != nullptr) event_sink_->Emit(frame, payload);
  }

 private:
  static absl::Status Unsupported() {
    return absl::UnimplementedError("this processor cannot save or restore its state");
  }

  EventSink* event_sink_ = nullptr;
};

// A processor with run-time settings `Settings` (a struct of std::optional fields, one per
// runtime-updatable parameter, set for those the update changes). Its definition's
// resolve_update builds a TypedUpdate<Settings>; ApplyUpdate hands the settings to
// ApplySettings, so the processor never looks at parameter names.
template <typename Settings>
class UpdatableProcessor : public Processor {
 public:
  void ApplyUpdate(const ProcessorUpdate& update) noexcept final {
    const auto* typed = dynamic_cast<const TypedUpdate<Settings>*>(&update);
    if (typed == nullptr) {
      // A definition resolved an update for another processor: a bug, not bad input.
      std::fprintf(stderr, "audioproc: an update of the wrong type reached a processor\n");
      std::abort();
    }
    ApplySettings(typed->settings());
  }

  // Takes the settings present in `settings`, each ramped to its new value. Between blocks, on
  // the thread that calls Process; must not allocate.
  virtual void ApplySettings(const Settings& settings) noexcept = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_PROCESSOR_H_
