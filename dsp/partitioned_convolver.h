// PartitionedConvolver: convolution of every channel with one impulse response, by uniformly
// partitioned overlap-save FFT convolution with a frequency-domain delay line (UPOLS, as in
// Gardner 1995 / Wefers 2015), so the cost per sample grows with the impulse's length divided
// by the partition size rather than with its length.
//
// The impulse is cut into P partitions of B taps; each is zero-padded to N = 2B and
// transformed once, in Init. Input is gathered B frames at a time; when a partition of input
// is complete, the last 2B input frames are transformed and their spectrum enters a ring of
// the last P input spectra (the delay line); the output spectrum is the sum over p of
// H_p x X_(now - p), and the second half of its inverse transform is the next B output
// frames. Output therefore lags input by exactly B frames (LatencyFrames), whatever the
// block sizes: samples are pushed one by one against a partition position, so the output is
// also independent of how the input is chunked.
//
// Spectra are kept split (real and imaginary arrays) so that the multiply-accumulate over
// partitions, which dominates the cost, is a plain loop the compiler vectorizes; H_p is
// scaled by 1/N in Init, which makes FFTW's unnormalized inverse exact in scale.
//
//   PartitionedConvolver convolver;
//   RETURN_IF_ERROR(convolver.Init(impulse, 128, channels));   // Prepare: allocates, plans
//   convolver.Process(block, wet_gains);                       // Process: real-time safe
//
// Thread safety: one thread at a time. Init plans FFTs under the process-wide FFTW planner
// mutex (fftw_plan.h); Process runs only the new-array execute functions.
#ifndef AUDIOPROC_DSP_PARTITIONED_CONVOLVER_H_
#define AUDIOPROC_DSP_PARTITIONED_CONVOLVER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "dsp/audio_block.h"
#include "dsp/fftw_plan.h"
#include "dsp/state_codec.h"

namespace audioproc {

class PartitionedConvolver {
 public:
  // Prepares to convolve `channels` channels with `impulse` (at least one tap), in partitions
  // of `partition_frames` (a power of two, at least 8). Allocates and plans FFTs (locks the
  // planner mutex): never on the audio path. INTERNAL if FFTW cannot plan.
  absl::Status Init(std::span<const float> impulse, uint32_t partition_frames, uint32_t channels);

  // The heap bytes Init allocates and the convolver keeps for an impulse of `taps` taps, in
  // partitions of `partition_frames`, on `channels` channels (its FFT plan included).
  static uint64_t InitBytes(size_t taps, uint32_t partition_frames, uint32_t channels);

  // CPU-seconds per second of audio of Process at `sample_rate_hz`, for the same.
  static double Cores(size_t taps, uint32_t partition_frames, uint32_t channels,
                      double sample_rate_hz);

  // The delay of the output behind the input: one partition.
  uint32_t latency_frames() const { return partition_; }
  uint32_t partitions() const { return partitions_; }

  // Replaces each sample of `block` (the channels Init was given) by
  //   wet[i] x (impulse * input)[n - B] + (1 - wet[i]) x input[n - B],
  // i.e. the convolution and the dry signal, both delayed by B frames so they stay aligned.
  // `wet` holds block.num_frames() gains. Never writes NaN or Inf. Real-time safe.
  void Process(AudioBlock& block, const float* wet) noexcept;

  // Silence in the delay line: back to the state right after Init. Real-time safe.
  void Reset() noexcept;

  // Each channel's input partition, pending output and spectral delay line, for a checkpoint.
  // Does not allocate.
  void SaveState(StateWriter& writer) const noexcept;
  // Reads what SaveState wrote into a convolver Init'ed with the same impulse size and
  // channels. On failure the reader fails; the caller Resets. Does not allocate.
  void RestoreState(StateReader& reader) noexcept;

 private:
  struct Channel {
    FftwBuffer<float> input;        // N frames: the previous partition, then the current one
    std::vector<float> output;      // B frames of filtered output, read out while input fills
    std::vector<float> history_re;  // P spectra of the last P input frames (the delay line)
    std::vector<float> history_im;
  };

  // Transforms channel `c`'s completed input, enters it in the delay line at slot_, and
  // computes the next B output frames. Real-time safe.
  void RunPartition(Channel& channel) noexcept;

  uint32_t partition_ = 0;   // B
  uint32_t fft_size_ = 0;    // N = 2B
  uint32_t bins_ = 0;        // N / 2 + 1
  uint32_t partitions_ = 0;  // P
  uint32_t position_ = 0;    // frames of the current partition gathered so far
  uint32_t slot_ = 0;        // where the next input spectrum goes in the delay line
  RealFftPlan fft_;
  std::vector<float> filter_re_;  // P spectra of the impulse's partitions, scaled by 1/N
  std::vector<float> filter_im_;
  std::vector<float> sum_re_;  // the output spectrum being accumulated
  std::vector<float> sum_im_;
  FftwBuffer<fftwf_complex> spectrum_;  // FFT output, and the inverse FFT's input
  FftwBuffer<float> time_;              // the inverse FFT's output
  std::vector<Channel> channels_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_PARTITIONED_CONVOLVER_H_
