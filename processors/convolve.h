// convolve: FIR filtering with an impulse response (a cabinet, a room, a measured EQ), by
// uniformly partitioned FFT convolution (PartitionedConvolver).
//
// The impulse comes either as `impulse` (up to kMaxImpulseTaps float taps) or as
// `impulse_file` (an encoded audio file of up to kMaxImpulseFileBytes, first channel, decoded
// in Prepare with libsndfile and resampled to the stream's rate; impulse_file.h). Exactly one
// must be set: a convolve with neither is INVALID_ARGUMENT ("set convolve.impulse or
// convolve.impulse_file"), since there is no sensible default filter. Every channel is
// convolved with the same impulse.
//
// Latency: one partition, ConvolvePartitionFrames(taps) frames (64 to 256: the power of two
// nearest above sqrt(taps), which balances the FFT's cost against the delay line's), reported
// exactly by LatencyFrames so the chain's output is aligned: with impulse [1] the output is
// the input, sample for sample (within float rounding of the FFTs, ~1e-7 of full scale, so
// bit-exact at s16). Output past the end of the input (the impulse's tail) is cut by the chain.
//
// `wet` (runtime-updatable) mixes the filtered signal with the dry input, which is delayed
// by the same latency so the two stay aligned; a change ramps linearly over kWetRampMs.
//
//   chain: {"convolve", {{"impulse", std::vector<float>{0.5f, 0.3f, 0.2f}}, {"wet", 0.8}}}
//
// Thread safety: the definition is a plain value; each ConvolveProcessor is used by one thread
// at a time (Processor's contract). Prepare plans FFTs under the process-wide planner mutex.
#ifndef AUDIOPROC_PROCESSORS_CONVOLVE_H_
#define AUDIOPROC_PROCESSORS_CONVOLVE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/partitioned_convolver.h"
#include "dsp/smoothed_value.h"

namespace audioproc {

// DESIGN §4: at most 262144 taps (5.5 s at 48 kHz), after resampling an impulse_file.
inline constexpr size_t kMaxImpulseTaps = 262144;
// A "small encoded audio file": the longest impulse as a 32-bit float stereo WAV is 2 MiB.
inline constexpr size_t kMaxImpulseFileBytes = 4 << 20;
// How long a runtime change of `wet` takes: well inside DESIGN's 20 ms bound.
inline constexpr double kWetRampMs = kParameterRampMs;

// convolve's run-time settings: what an update changes.
struct ConvolveRuntimeSettings {
  std::optional<double> wet;
};

// convolve: impulse (float_list, 1..262144 taps), impulse_file (bytes, at most 4 MiB), exactly
// one of them; wet (1, [0, 1], runtime-updatable).
ProcessorDefinition ConvolveDefinition();

// The partition size, and so the latency in frames, for an impulse of `taps` taps.
uint32_t ConvolvePartitionFrames(size_t taps);

class ConvolveProcessor : public UpdatableProcessor<ConvolveRuntimeSettings> {
 public:
  // Exactly one of `impulse` and `impulse_file` is non-empty (the registry's validation).
  ConvolveProcessor(std::vector<float> impulse, std::string impulse_file, double wet);

  // Decodes impulse_file (INVALID_ARGUMENT naming convolve.impulse_file if it cannot), then
  // transforms the impulse and plans the FFTs. Allocates and locks the FFTW planner mutex.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  void Reset() noexcept override;
  int LatencyFrames() const override { return static_cast<int>(convolver_.latency_frames()); }
  // Ramps to a new `wet`; does not allocate.
  void ApplySettings(const ConvolveRuntimeSettings& settings) noexcept override;
  // The convolver's history (input partition, pending output, spectral delay line) and the
  // wet ramp.
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  // The taps in use after Prepare (the decoded and resampled file, or `impulse`).
  size_t taps() const { return taps_; }

  // What Create and Prepare of `params` (resolved) for `input` allocate and cost, for
  // ProcessorDefinition::estimate: an impulse_file's header is read for its length (the same
  // INVALID_ARGUMENT as Prepare for a file libsndfile cannot read, or too long), its samples
  // are not decoded.
  static absl::StatusOr<StageEstimate> Estimate(const ParamValues& params,
                                                const ProcessSpec& input);

 private:
  std::vector<float> impulse_;
  std::string impulse_file_;
  size_t taps_ = 0;
  PartitionedConvolver convolver_;
  std::vector<float> wet_gains_;  // one per frame of a block, sized in Prepare
  // One multiply per sample: the law convolve has always used, so its output is what it was.
  SmoothedValue<float, RampLaw::kLinearByReciprocal> wet_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_CONVOLVE_H_
