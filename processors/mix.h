// mix: a channel matrix (remap, downmix, upmix) from the input's channels to output_channels.
//
// Output channel o of frame i is sum_j matrix[o x in + j] * input j, the matrix being given
// row-major (one row per output channel), summed in double and rounded to float once, so the
// result is exact whenever the exact sum is a float (copies, dyadic weights) and otherwise the
// correctly rounded float of it. Zero weights are skipped.
//
// An empty or unset `matrix` selects the standard down/upmix, by these rules in this order
// (in = input channels, out = output_channels):
//   1. in == out: identity.
//   2. in == 1: the mono input is copied to every output.
//   3. out == 1: the average of all inputs (each weighted 1/in).
//   4. in == 6, out == 2: ITU-R BS.775 stereo downmix of 5.1 ordered L R C LFE Ls Rs:
//        L' = L + C/sqrt(2) + Ls/sqrt(2),  R' = R + C/sqrt(2) + Rs/sqrt(2)
//      (centre and surrounds at -3 dB, LFE dropped, no normalization: loud 5.1 can exceed
//      full scale, as with the standard's coefficients; follow with a limiter if needed).
//   5. in < out (e.g. stereo to 5.1): input j goes to output j; the other outputs are silent.
//   6. in > out otherwise: the first `out` inputs go through; the rest are dropped.
// Any other fold is a matter of passing a matrix.
//
// Thread safety: a MixProcessor is used by one thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_MIX_H_
#define AUDIOPROC_PROCESSORS_MIX_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"

namespace audioproc {

// The most weights a matrix may hold: kMaxChannels outputs x kMaxChannels inputs.
inline constexpr uint32_t kMaxMixMatrixSize = kMaxChannels * kMaxChannels;

// The mix processor's metadata (output_channels: required int in [1, 8]; matrix: float list
// of at most 64 weights, out x in row-major, empty for the standard mix), its validation
// (matrix size must be output_channels x input channels) and factory.
ProcessorDefinition MixDefinition();

// The row-major output x input matrix the rules above choose when no matrix is given.
std::vector<double> StandardMixMatrix(uint32_t input_channels, uint32_t output_channels);

// Maps input channels to output channels through a matrix. Not in place: writes `out`.
class MixProcessor : public Processor {
 public:
  // `matrix` is empty (standard mix) or output_channels x input channels, row-major; the
  // registry's validation guarantees the size.
  MixProcessor(uint32_t output_channels, std::vector<float> matrix);

  // Fixes the matrix for the input's channel count. Allocates. Returns the input's rate and
  // block size with output_channels channels.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  // Writes in.num_frames() frames into `out` and sets its frame count.
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  void Reset() noexcept override {}
  // Nothing carries from one block to the next (the matrix is the config's): the state is its
  // tag alone, so a chain holding mix can be checkpointed.
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override {
    writer.PutTag(kStateTag, kStateVersion);
    return writer.status();
  }
  absl::Status RestoreState(StateReader& reader) override {
    reader.ExpectTag(kStateTag, kStateVersion);
    return FinishRestore(reader);
  }
  bool ProcessesInPlace() const override { return false; }

  // What Create and Prepare of `params` (resolved) for `input` allocate and cost, for
  // ProcessorDefinition::estimate. Allocates only small values (the matrix it counts).
  static absl::StatusOr<StageEstimate> Estimate(const ParamValues& params,
                                                const ProcessSpec& input);

 private:
  static constexpr StateTag kStateTag = MakeStateTag("mix ");
  static constexpr uint16_t kStateVersion = 1;

  // One non-zero weight of an output row.
  struct Term {
    uint32_t input;
    double weight;
  };

  uint32_t output_channels_;
  std::vector<float> requested_matrix_;
  // terms_[o] are output o's non-zero weights, in input order (the summation order).
  std::vector<std::vector<Term>> terms_;
  std::vector<double> scratch_;  // one output row's sums, max_block_frames long
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_MIX_H_
