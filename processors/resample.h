// resample: sample-rate conversion by a polyphase windowed-sinc FIR (dsp/polyphase_resampler.h),
// linear phase, planar float32 in and out, with its whole state exportable for issue 14's
// resumable streams.
//
// Alignment and latency. Output frame k is the input interpolated at time k x in/out, which
// needs the input up to `lookahead` frames past that time. So the output is L frames of
// silence, L = ceil((lookahead + 1) x out/in), followed by the interpolated frames, released on
// a fixed schedule: after F input frames in all, exactly floor(F x out/in) frames have come
// out. L is chosen so that every scheduled frame is computable when it is due (late_frames()
// stays 0), and the chain drops the L frames, so the stream stays aligned: an impulse at input
// frame n comes out at frame n x out/in. Every frame's value and every block's length depend
// only on the frames in so far, never on how they were chunked.
//
// Quality: LOW, MEDIUM, HIGH and VERY_HIGH are Kaiser designs of 80, 100, 120 and 140 dB
// stopband attenuation with passbands to 80, 85, 91 and 95% of the lower rate's Nyquist
// frequency. HIGH keeps a 1 kHz tone more than 100 dB above the conversion error.
//
// State: the input frame count and the history of input the next outputs read (at HIGH about
// 180 frames per channel upsampling, 180 x in/out downsampling), plus nothing else: the
// position of every later output follows from the count in integers. Restoring it into a
// fresh processor prepared for the same spec continues byte-identically.
//
// Allocation: Prepare builds or shares the kernel (ResamplerKernel::Shared: one table for all
// the streams converting the same pair at the same quality) and sizes the history; Process
// allocates nothing.
//
// Thread safety: a ResampleProcessor is used by one thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_RESAMPLE_H_
#define AUDIOPROC_PROCESSORS_RESAMPLE_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/polyphase_resampler.h"

namespace audioproc {

// The resample processor's metadata (sample_rate_hz: required int in [8000, 192000] Hz;
// quality: enum LOW, MEDIUM, HIGH, VERY_HIGH, default HIGH) and factory.
ProcessorDefinition ResampleDefinition();

enum class ResampleQuality { kLow, kMedium, kHigh, kVeryHigh };

// The kernel design of each quality.
ResamplerDesign ResampleDesignFor(ResampleQuality quality);

class ResampleProcessor : public Processor {
 public:
  ResampleProcessor(uint32_t output_rate_hz, ResampleQuality quality);
  ~ResampleProcessor() override;
  ResampleProcessor(const ResampleProcessor&) = delete;
  ResampleProcessor& operator=(const ResampleProcessor&) = delete;

  // Builds (or shares) the kernel and sizes the history. Allocates. Returns the output rate,
  // the input's channels and the longest output block: ceil(input.max_block_frames x out_rate
  // / in_rate) + 1. The input rate must be a whole number of hertz.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  // Writes the block's scheduled output frames into `out` and sets its frame count.
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // Back to the first frame. Allocates nothing.
  void Reset() noexcept override;
  // L above, in output frames; 0 when the rates are equal (the block is copied).
  int LatencyFrames() const override { return static_cast<int>(latency_frames_); }
  bool ProcessesInPlace() const override { return false; }

  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  // What Create and Prepare of `params` (resolved) for `input` allocate and cost, for
  // ProcessorDefinition::estimate, without building anything.
  static absl::StatusOr<StageEstimate> Estimate(const ParamValues& params,
                                                const ProcessSpec& input);

  // The most scheduled output frames that were ever overdue after a block (not computable
  // yet). Zero unless the latency were too small; tests assert it stays zero.
  uint64_t late_frames() const { return late_frames_; }

 private:
  uint32_t output_rate_hz_;
  ResampleQuality quality_;
  uint32_t channels_ = 0;
  bool passthrough_ = false;  // equal rates
  // The frames the schedule has released after `frames_in` input frames: floor(frames_in x
  // out/in), in exact integers.
  uint64_t Scheduled(uint64_t frames_in) const noexcept;
  // The frames released so far: the leading silence emitted and the frames taken.
  uint64_t Emitted() const noexcept;

  // The ratio out/in in lowest terms.
  uint64_t in_step_ = 1;
  uint64_t out_step_ = 1;
  uint32_t max_out_frames_ = 0;
  uint32_t latency_frames_ = 0;
  uint64_t silence_left_ = 0;  // leading frames of silence still to emit
  uint64_t late_frames_ = 0;
  std::unique_ptr<PolyphaseResampler> resampler_;  // null when passthrough_
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_RESAMPLE_H_
