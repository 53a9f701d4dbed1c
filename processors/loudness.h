// loudness: streaming loudness normalization per ITU-R BS.1770-4 / EBU R128.
//
// Measurement, per BS.1770: each channel through the K-weighting filter (a high shelf and a
// high pass, biquads in double precision, designed for the stream's rate from the standard's
// analog prototypes as libebur128 designs them), its squares summed per 100 ms hop. A hop's
// weighted channel sum is all a reading needs: momentary loudness (400 ms) is the mean of the
// last 4 hops, short-term (3 s) the mean of the last 30, and integrated loudness gates the
// 400 ms blocks ending every hop through a histogram of 0.1 LU bins from -70 LUFS (blocks
// counted at their bin's centre, as libebur128's EBUR128_MODE_HISTOGRAM does: within 0.05 LU
// of the exact mean). The meter used to be libebur128, whose state is about 200 KiB a mono
// 16 kHz stream whatever the mode (400 ms of doubles and its true-peak resampler's buffers,
// allocated even when unused); this one is under 5 KiB, and filters in one pass with the gain.
// Channel weights: six channels are 5.1 (L R C LFE Ls Rs: LFE ignored, surrounds 1.41, as the
// mix processor orders them); any other count weighs every channel 1.
//
// Control, every 100 ms of audio (a hop), from the input's loudness:
//   1. The hop's momentary block (the last 400 ms) joins a gated, slowly forgetting average,
//      the way BS.1770's integrated loudness gates: blocks under -70 LUFS are ignored, and so
//      are blocks more than 10 LU under the average of the blocks above -70 LUFS. Each average
//      weighs past blocks down by e^(-0.1 s / kEstimateSeconds) per block that joins it, so
//      the estimate follows a change of programme within tens of seconds, and silence or
//      pauses, which join nothing, leave it (and the gain) where it was.
//   2. The desired gain is target_lufs minus that estimate, at most max_gain_db.
//   3. The gain moves toward it in dB with a time constant of kGainSeconds, and by at most
//      kMaxGainStepDb per hop: it never pumps with syllables or beats. A new target_lufs is
//      reached the same way, so an update ramps over seconds, without a click.
// The gain is applied with a linear ramp across each hop (no steps), computed from the hop
// position alone, so the output does not depend on block sizes. There is no lookahead: the
// first second or so of a stream passes at unity gain while the estimate forms.
//
// Events: every hop, a LoudnessEvent with the input's momentary, short-term and integrated
// (since the stream began) loudness and the gain applied at the end of the hop. Readings of
// silence, -infinity in BS.1770, are reported as kLoudnessFloorLufs.
//
//   chain: {"loudness", {{"target_lufs", -23.0}}}
//
// Thread safety: a LoudnessProcessor is used by one thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_LOUDNESS_H_
#define AUDIOPROC_PROCESSORS_LOUDNESS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/biquad.h"

namespace audioproc {

// Memory of the loudness estimate (step 1 above).
inline constexpr double kEstimateSeconds = 10.0;
// Time constant of the gain (step 3): seconds, so the gain glides rather than follows.
inline constexpr double kGainSeconds = 1.5;
// The most the gain changes from one 100 ms hop to the next.
inline constexpr double kMaxGainStepDb = 0.5;
// Hops in the short-term (3 s) window.
inline constexpr uint32_t kShortTermHops = 30;
// What events report for the loudness of silence.
inline constexpr float kLoudnessFloorLufs = -200.0f;

// The loudness processor's metadata (target_lufs: -16, [-60, -5] LUFS, runtime-updatable;
// max_gain_db: 20, [0, 60] dB) and factory.
ProcessorDefinition LoudnessDefinition();

// loudness's run-time settings: what an update changes.
struct LoudnessRuntimeSettings {
  std::optional<double> target_lufs;
};

// Normalizes toward target_lufs with a slow, gated gain. In place; no latency.
class LoudnessProcessor : public UpdatableProcessor<LoudnessRuntimeSettings> {
 public:
  LoudnessProcessor(double target_lufs, double max_gain_db);

  // Designs the K-weighting for the input's rate. Allocates nothing.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // One event per 100 ms hop ended.
  uint32_t MaxEventsPerBlock(uint32_t frames) const override { return frames / hop_frames_ + 1; }
  // Forgets the measurement and starts again at unity gain. Real-time safe.
  void Reset() noexcept override;
  // Takes a new target_lufs, which the gain then glides to. Does not allocate.
  void ApplySettings(const LoudnessRuntimeSettings& settings) noexcept override;
  // The target, the K-weighting registers, the gating histogram, the forgetting estimate, the
  // short-term ring, the frame count and the gain ramp.
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  // The gain in dB the current hop ramps to.
  double gain_db() const { return gain_db_; }

 private:
  // Gating blocks are counted in kHistogramBins bins of 0.1 LU from -70 LUFS (the absolute
  // gate) up; louder blocks go in the last.
  static constexpr int kHistogramBins = 1000;
  // One K-weighting section's transposed-direct-form-II registers.
  struct FilterState {
    double z1 = 0;
    double z2 = 0;
  };

  // K-weights `frames` samples of channel `c` from `x`, adding their squares to hop_squares_.
  void Measure(uint32_t c, const float* x, uint32_t frames) noexcept;
  // Measures, updates the estimate and the gain, and reports, at the end of a hop.
  void EndHop() noexcept;
  // BS.1770's gated integrated loudness of the blocks so far (-HUGE_VAL before any passes).
  double IntegratedLufs() const noexcept;

  double target_lufs_;
  double max_gain_db_;
  uint32_t channels_ = 0;
  uint32_t hop_frames_ = 1;
  double forget_ = 1.0;      // e^(-hop / kEstimateSeconds)
  double gain_alpha_ = 1.0;  // 1 - e^(-hop / kGainSeconds)

  // The K-weighting: shelf then high pass, and each channel's state and weight.
  std::array<BiquadCoefficients, 2> k_weighting_{};
  std::array<std::array<FilterState, 2>, kMaxChannels> filter_state_{};
  std::array<double, kMaxChannels> channel_weight_{};
  std::array<double, kMaxChannels> hop_squares_{};  // sums of K-weighted squares this hop
  // Gating blocks above the absolute gate, per 0.1 LU bin.
  std::array<uint32_t, kHistogramBins> histogram_{};
  double histogram_sum_ = 0;      // the blocks' energies, each at its bin's centre
  uint64_t histogram_count_ = 0;  // the blocks counted

  uint64_t frames_ = 0;        // input frames so far
  uint32_t hop_position_ = 0;  // frames into the current hop
  // The last kShortTermHops hops' weighted mean K-weighted squares (a ring, zero before the
  // stream): the last 4 make the 400 ms block, all of them the 3 s window.
  std::array<double, kShortTermHops> hop_energy_{};
  uint32_t hop_energy_next_ = 0;
  // Forgetting sums of block energies: above the absolute gate, and above both gates.
  double absolute_sum_ = 0;
  double absolute_weight_ = 0;
  double gated_sum_ = 0;
  double gated_weight_ = 0;
  double gain_db_ = 0;      // what the current hop ramps to
  float ramp_from_ = 1.0f;  // linear gain at the start of the current hop
  float ramp_to_ = 1.0f;    // and at its end
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_LOUDNESS_H_
