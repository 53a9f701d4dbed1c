// Processor: the interface every DSP stage implements (shape from JUCE's juce_dsp, run-time
// chains like WebRTC's audio processing module).
//
// Lifecycle: construct from validated parameters, `Prepare` once for the stream's format
// (may allocate, plan FFTs), then `Process` block after block on one thread at a time.
// Thread safety: a Processor is used by one thread at a time; it holds no shared state.
#ifndef AUDIOPROC_CHAIN_PROCESSOR_H_
#define AUDIOPROC_CHAIN_PROCESSOR_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "dsp/audio_block.h"
#include "chain/events.h"
#include "chain/parameters.h"

namespace audioproc {

// The format a processor is prepared for, and that it emits.
struct ProcessSpec {
  double sample_rate_hz = 0;
  // No block passed to Process is longer than this (in this processor's input frames).
  uint32_t max_block_frames = 0;
  uint32_t channels = 0;

  friend bool operator==(const ProcessSpec&, const ProcessSpec&) = default;
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

  // Applies runtime-updatable parameters that the registry has already validated; only the
  // parameters present change, each ramped to its new value. Called between blocks on the
  // thread that calls Process; must not allocate.
  virtual void ApplyUpdate(const ParamValues& changes) noexcept { (void)changes; }

  // Where this processor reports events (vad, analyze, loudness); set by the chain before the
  // first Process. Processors that report nothing ignore it.
  void set_event_sink(EventSink* sink) { event_sink_ = sink; }

 protected:
  // Reports an event about frame `frame` of this processor's input. Real-time safe.
  void Emit(uint64_t frame, const EventPayload& payload) noexcept {
    if (event_sink_ != nullptr) event_sink_->Emit(frame, payload);
  }

 private:
  EventSink* event_sink_ = nullptr;
};

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_PROCESSOR_H_
