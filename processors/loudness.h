// loudness: streaming loudness normalization per ITU-R BS.1770-4 / EBU R128.
//
// Measurement: libebur128 (K-weighting, momentary 400 ms and gated integrated loudness) in
// EBUR128_MODE_HISTOGRAM, whose gating keeps a fixed histogram instead of a list that grows
// every 100 ms, so measuring allocates nothing while streaming. Short-term loudness (3 s) is
// the mean of the last 30 hops' energies, each read from libebur128 as the hop ends: the same
// number as its own short-term mode, without that mode's 3 s buffer of doubles per channel
// (375 KiB a stream at 16 kHz mono, 2.2 MiB at 48 kHz stereo). Channel weights:
// six channels are 5.1 (L R C LFE Ls Rs: LFE ignored, surrounds 1.41, as the mix processor
// orders them); any other count weighs every channel 1.
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

#include <ebur128.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"

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
  ~LoudnessProcessor() override;
  LoudnessProcessor(const LoudnessProcessor&) = delete;
  LoudnessProcessor& operator=(const LoudnessProcessor&) = delete;

  // Creates the libebur128 meter and the interleaving buffer. Allocates.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // One event per 100 ms hop ended.
  uint32_t MaxEventsPerBlock(uint32_t frames) const override { return frames / hop_frames_ + 1; }
  // Re-creates the meter (libebur128 has no reset) and starts again at unity gain. Allocates.
  void Reset() noexcept override;
  // Takes a new target_lufs, which the gain then glides to. Does not allocate.
  void ApplySettings(const LoudnessRuntimeSettings& settings) noexcept override;

  // The gain in dB the current hop ramps to.
  double gain_db() const { return gain_db_; }

 private:
  // Starts the measurement and the control from scratch. Allocates.
  bool StartMeter() noexcept;
  // Measures, updates the estimate and the gain, and reports, at the end of a hop.
  void EndHop() noexcept;

  double target_lufs_;
  double max_gain_db_;
  uint32_t channels_ = 0;
  double input_rate_ = 0;
  uint32_t hop_frames_ = 1;
  double forget_ = 1.0;      // e^(-hop / kEstimateSeconds)
  double gain_alpha_ = 1.0;  // 1 - e^(-hop / kGainSeconds)

  ebur128_state* meter_ = nullptr;
  std::vector<float> interleaved_;  // max_block_frames x channels, for libebur128's input

  uint64_t frames_ = 0;        // input frames so far
  uint32_t hop_position_ = 0;  // frames into the current hop
  // The last kShortTermHops hops' mean K-weighted energies (a ring; zero before the stream).
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
