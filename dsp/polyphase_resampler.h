// Rational sample-rate conversion by a polyphase windowed-sinc FIR whose whole state is a
// frame counter and a short history of input: the resampler behind the `resample` processor.
//
// Why our own and not libsoxr's: a resumable stream (issue 14) must continue byte-identically
// on another replica, so the converter's state has to be saved and restored exactly. libsoxr
// exports no state, and its state is not a function of a bounded input tail: its polyphase
// stage accumulates the phase in 32.32 fixed point from the first frame (48 to 44.1 kHz: a
// fresh converter fed the same tail differs by about 4e-7), and its DFT stages' block
// boundaries fall where the stream's length puts them. Here the output frame k is, exactly,
// the band-limited interpolation of the input at time k x in/out:
//   y[k] = sum_j x[i0 + j] h(f - j),   i0 = floor(k M / L),  f = (k M mod L) / L,
// with L / M = out / in in lowest terms, all in integers, so y[k] depends on nothing but
// the input around it, whatever the chunking and wherever the stream was resumed.
//
// The kernel h is a Kaiser-windowed sinc at the lower of the two rates' Nyquist frequencies
// (passband and stopband per quality below), designed in double and kept in float. Its
// coefficients are tabulated per phase: one row per exact phase when L <= kMaxExactPhases
// (every pair of the common rates: 44.1 to 48 kHz is L = 160), otherwise rows at
// `phases` evenly spaced fractions, linearly interpolated (an odd rate such as 44.101 kHz:
// a 1 kHz tone still 135-139 dB above the error at HIGH, see the processor's tests). A kernel is
// immutable and shared by every stream converting the same pair at the same quality
// (ResamplerKernel::Shared).
//
// Thread safety: a ResamplerKernel is immutable; Shared is thread-safe. A PolyphaseResampler
// is used by one thread at a time.
#ifndef AUDIOPROC_DSP_POLYPHASE_RESAMPLER_H_
#define AUDIOPROC_DSP_POLYPHASE_RESAMPLER_H_

#include <cstdint>
#include <memory>
#include <vector>

namespace audioproc {

// The design of one quality: stopband attenuation, and the passband's end as a fraction of
// the lower rate's Nyquist frequency (the stopband starts at that Nyquist frequency).
struct ResamplerDesign {
  double attenuation_db;
  double passband;
};

// Rows are padded with zero taps to a multiple of this (the dot product's unrolling).
inline constexpr uint32_t kTapMultiple = 32;
// Above this many exact phases the table interpolates between rows instead.
inline constexpr uint64_t kMaxExactPhases = 1024;
// Rows per input sample of an interpolated table when upsampling (fewer when downsampling:
// the kernel is stretched by in/out, and smoother by as much).
inline constexpr uint64_t kInterpolatedPhases = 512;

class ResamplerKernel {
 public:
  // The kernel for in_rate -> out_rate Hz (whole, > 0, different) at `design`.
  static std::shared_ptr<const ResamplerKernel> Shared(uint64_t in_rate, uint64_t out_rate,
                                                       const ResamplerDesign& design);

  // What Shared would build, without building it.
  struct Shape {
    uint64_t in_step = 1;    // M
    uint64_t out_step = 1;   // L
    uint32_t taps = 0;       // per row, a multiple of kTapMultiple
    uint32_t lookahead = 0;  // K: input frames after i0 that y[k] reads
    bool interpolated = false;
    uint64_t phases = 0;  // the rows' spacing: a row per 1 / phases of an input frame
    // The kernel in input frames: h is zero from half_width on; its cutoff in cycles per frame.
    double half_width = 0;
    double cutoff = 0;
    // Rows of the table: one per phase, and one more (fraction 1) to interpolate towards.
    uint64_t rows() const { return interpolated ? phases + 1 : phases; }
  };
  static Shape ShapeFor(uint64_t in_rate, uint64_t out_rate, const ResamplerDesign& design);

  ResamplerKernel(uint64_t in_rate, uint64_t out_rate, const ResamplerDesign& design);

  const Shape& shape() const { return shape_; }
  // Row `row`'s taps: coefficient t multiplies input frame i0 - (taps - lookahead - 1) + t.
  const float* row(uint64_t row) const { return coefficients_.data() + row * shape_.taps; }

 private:
  Shape shape_;
  std::vector<float> coefficients_;
};

// Converts planar float frames of `channels` channels at a fixed ratio: Append each block's
// input, then Take up to Available() output frames. The owner decides how many to take (the
// processor takes exactly what its schedule owes).
class PolyphaseResampler {
 public:
  // Sizes the history for blocks of up to max_block_frames input frames. Allocates.
  PolyphaseResampler(std::shared_ptr<const ResamplerKernel> kernel, uint32_t channels,
                     uint32_t max_block_frames);

  // Appends `frames` input frames (per channel, in[c][0..frames)).
  void Append(const float* const* in, uint32_t frames) noexcept;
  // The output frames computable from the input so far and not yet taken.
  uint64_t Available() const noexcept;
  // Writes the next `frames` (<= Available()) output frames to out[c] + offset, and forgets the
  // input no later output needs.
  void Take(float* const* out, uint32_t offset, uint32_t frames) noexcept;
  // Back to the first frame, the history all zeros.
  void Reset() noexcept;

  // The state: how many input frames came in and how many output frames were taken; the
  // history follows from them (history_frames()), its samples through history().
  uint64_t frames_in() const { return frames_in_; }
  uint64_t frames_out() const { return frames_out_; }
  uint64_t history_frames() const { return history_frames_; }
  const float* history(uint32_t channel) const { return history_[channel].data(); }
  // Sets the counters (as a saved state gives them); the caller then writes history_frames()
  // samples per channel through mutable_history(). False, and nothing changed, when the
  // counters are impossible (more output than the input allows, or more history than fits).
  bool Restore(uint64_t frames_in, uint64_t frames_out) noexcept;
  float* mutable_history(uint32_t channel) { return history_[channel].data(); }

  // Input frames of history the buffer holds, for a kernel of `shape` and blocks of up to
  // max_block_frames: the next owed output's taps, the input its owner's latency keeps waiting
  // (ResampleProcessor: under lookahead + 2 + 2 x ceil(in/out) frames) and a block.
  static uint64_t HistoryCapacity(const ResamplerKernel::Shape& shape, uint32_t max_block_frames);

 private:
  // Outputs y[0..n) computable from `frames_in` input frames.
  uint64_t Computable(uint64_t frames_in) const noexcept;

  std::shared_ptr<const ResamplerKernel> kernel_;
  uint32_t channels_;
  uint64_t capacity_;
  uint64_t frames_in_ = 0;
  uint64_t frames_out_ = 0;
  // The next output's (k M) mod L.
  uint64_t next_phase_ = 0;
  // history_[c][0..history_frames_) holds input frames from the next output's i0 - back_ on
  // (frames before the stream's first are zeros).
  uint64_t back_ = 0;
  uint64_t history_frames_ = 0;
  std::vector<std::vector<float>> history_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_POLYPHASE_RESAMPLER_H_
