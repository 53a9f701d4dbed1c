// resample: sample-rate conversion with libsoxr (linear-phase, planar float32 in and out).
//
// Alignment and latency. libsoxr aligns its output with its input by itself (an impulse at
// input frame n comes out at frame n x out_rate / in_rate) but holds back a varying number
// of output frames until its filters and FFT blocks have enough input, and that number
// depends on where in the stream the last block ended. A chain needs a constant latency
// instead (it drops that many frames and flushes enough silence to get the tail out), so this
// processor turns the first into the second:
//   - Prepare measures the most frames soxr holds back, W, feeding a mono probe converter 16
//     frames at a time for a second (at least 65536 frames), and reports a latency
//     L = 1.05 W plus what waits in the staging buffer (below), in output frames;
//   - the output is L frames of silence followed by soxr's aligned output, released on a
//     fixed schedule: after F input frames in all, exactly floor(F x out_rate / in_rate)
//     frames have come out. soxr's output waits in a ring buffer until its turn.
// The chain drops the L frames, so the stream stays aligned, and every block's output length
// depends only on the frames in so far, never on how they were chunked. soxr's samples do not
// depend on block sizes either (its stages work on the sample stream), so the output is
// chunking-invariant.
//
// Allocation. soxr's internal FIFOs grow with realloc whenever they need more room than
// before, which depends on the sizes of the blocks fed and on where each FIFO's data has
// drifted to. So soxr is fed only fixed blocks of kResampleBlockFrames frames (the input
// waits in a staging buffer, which the latency covers), and Prepare first pushes four seconds
// of silence through in those same blocks: that grows every FIFO to what the fixed pattern
// ever needs and no further, and Process allocates nothing (checked with a counting malloc
// for every quality and every ordered pair of 13 rates from 8 to 192 kHz, 30 s each after the
// warm-up; the allocation test covers the registered example). soxr runs with its smallest
// DFT blocks (resample.cc), which keeps its per-channel buffers and what it holds back small.
// The warm-up's output is discarded; its length is a multiple of in_rate / gcd(in_rate,
// out_rate) frames, so its output is a whole number of frames and alignment is kept.
//
// Quality: LOW, MEDIUM, HIGH and VERY_HIGH are soxr's LQ, MQ, HQ (20-bit) and VHQ (28-bit)
// recipes. HIGH keeps a 1 kHz tone about 130 dB above the conversion error.
//
// State (issue 14's checkpoints): not supported (SupportsState() is false, so a chain holding
// resample cannot be checkpointed). libsoxr exports no state, and its state is more than a
// bounded tail of input: the phase of its polyphase stage and the fill of each DFT stage's
// FIFO depend on every frame since the warm-up. Replaying a tail into a fresh converter would
// be byte-identical only if those phases were proved to match (a silence prefix bringing the
// frame count to the same residue modulo every stage's period, the tail covering every
// filter's memory), which rests on libsoxr's internals; until that is proved and tested, a
// restore that is not byte-identical is worse than none.
//
// Thread safety: a ResampleProcessor is used by one thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_RESAMPLE_H_
#define AUDIOPROC_PROCESSORS_RESAMPLE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"

struct soxr;  // libsoxr's opaque state (soxr_t is `struct soxr*`).

namespace audioproc {

// The fixed number of input frames soxr is fed at a time.
inline constexpr uint32_t kResampleBlockFrames = 128;

// The resample processor's metadata (sample_rate_hz: required int in [8000, 192000] Hz;
// quality: enum LOW, MEDIUM, HIGH, VERY_HIGH, default HIGH) and factory.
ProcessorDefinition ResampleDefinition();

enum class ResampleQuality { kLow, kMedium, kHigh, kVeryHigh };

class ResampleProcessor : public Processor {
 public:
  ResampleProcessor(uint32_t output_rate_hz, ResampleQuality quality);
  ~ResampleProcessor() override;
  ResampleProcessor(const ResampleProcessor&) = delete;
  ResampleProcessor& operator=(const ResampleProcessor&) = delete;

  // Creates and warms up soxr, measures the latency, sizes the ring buffer. Allocates, and
  // takes milliseconds (the warm-up resamples four seconds of silence per channel; the probe,
  // as much on one channel, then a second in 16-frame pieces). Returns the output
  // rate, the input's channels and the longest output block:
  // ceil(input.max_block_frames x out_rate / in_rate) + 1. The input rate must be a whole
  // number of hertz.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  // Writes the block's scheduled output frames into `out` and sets its frame count.
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // Re-creates soxr and warms it up again. Allocates (soxr has no allocation-free reset).
  void Reset() noexcept override;
  // L above, in output frames; 0 when the rates are equal (the block is copied).
  int LatencyFrames() const override { return static_cast<int>(latency_frames_); }
  bool ProcessesInPlace() const override { return false; }

  // What Create and Prepare of `params` (resolved) for `input` allocate and cost, for
  // ProcessorDefinition::estimate, without creating soxr: its memory and cost, and the
  // latency Prepare measures, come from models fitted to measurements (resample.cc).
  static absl::StatusOr<StageEstimate> Estimate(const ParamValues& params,
                                                const ProcessSpec& input);

  // The most scheduled output frames that were ever overdue after a block, because soxr had
  // not produced them yet (they come out later, and the stream slips). Zero unless the
  // latency measured in Prepare was too small; tests assert it stays zero.
  uint64_t late_frames() const { return late_frames_; }

 private:
  // Creates soxr_ and runs the warm-up; sets discard_frames_, the staging buffer and, when
  // `measure`, the latency and the ring. Allocates.
  absl::Status Start(bool measure);
  // Feeds the full staging buffer to soxr and moves what soxr has into the ring.
  void Pump() noexcept;
  // Moves `frames` frames from scratch_ into the ring, less what the warm-up left to drop.
  void Store(uint32_t frames) noexcept;
  // Schedules `frames` more input frames and writes what is due of the output (leading
  // silence, then the ring) to `out` after the `written` frames already there, at most up to
  // the longest output block; returns how many it wrote.
  uint32_t Release(const AudioBlock& out, uint32_t written, uint32_t frames) noexcept;
  // Moves up to `frames` ring frames to `out` at `offset`; returns how many.
  uint32_t TakeFromRing(const AudioBlock& out, uint32_t offset, uint32_t frames) noexcept;

  uint32_t output_rate_hz_;
  ResampleQuality quality_;
  ProcessSpec input_{};
  uint32_t channels_ = 0;
  bool passthrough_ = false;  // equal rates
  // The ratio out/in in lowest terms, and the remainder of (frames_in x out_step) / in_step
  // so far: the release schedule in exact integers.
  uint64_t in_step_ = 1;
  uint64_t out_step_ = 1;
  uint64_t phase_ = 0;
  uint32_t max_out_frames_ = 0;

  soxr* soxr_ = nullptr;
  uint32_t latency_frames_ = 0;
  uint64_t silence_left_ = 0;    // leading frames of silence still to emit
  uint64_t discard_frames_ = 0;  // soxr output of the warm-up still to drop
  uint64_t owed_frames_ = 0;     // scheduled frames not yet emitted
  uint64_t late_frames_ = 0;

  // Input waiting for a full block of kResampleBlockFrames: per channel, staged_ frames.
  std::vector<std::vector<float>> staging_;
  uint32_t staged_ = 0;
  // soxr's output is pulled pull_frames_ at a time into scratch_, then moved to the ring.
  uint32_t pull_frames_ = 0;
  std::vector<std::vector<float>> scratch_;
  // soxr's output waiting for its turn: per channel, a ring of ring_capacity_ frames.
  std::vector<std::vector<float>> ring_;
  uint32_t ring_capacity_ = 0;
  uint32_t ring_start_ = 0;
  uint32_t ring_size_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_RESAMPLE_H_
