// aec: acoustic echo cancellation for teleconferencing. The stream carries the far end's
// signal beside the microphone: the last `reference_channels` channels of the input are the
// reference (what the loudspeaker played), the others are microphones. The output is the
// microphone channels only, with the reference's echo removed, so a chain
// `aec,denoise,loudness` on a 2-channel input (mic, reference) gives 1 channel.
//
// Everything runs in blocks of B samples (the largest power of two up to 8 ms: 128 at
// 16 kHz, 256 at 48 kHz), whatever the chunking:
//   1. delay: an EchoDelayEstimator (dsp/echo_delay_estimator.h) finds how far the echo lags
//      the reference (the sum of the reference channels), 0 to kMaxDelaySeconds; the
//      reference is aligned to that lag less kAlignmentMarginSeconds, in whole blocks, and an
//      EchoDelayEvent reports each new estimate;
//   2. linear filter: a BlockAdaptiveFilter (dsp/block_adaptive_filter.h) per microphone,
//      partitioned frequency-domain NLMS covering kFilterSeconds after the alignment, with a
//      foreground and a background filter so double talk cannot diverge the output (the
//      background's double-talk step also where the suppressor believed a near end in the
//      previous block, which in double talk catches what the filter's own detector misses). When
//      the alignment moves, the filters' partitions move with it, keeping the lags they model: an
//      estimate that moves on an unchanged echo costs nothing, while an echo whose delay
//      jumped is re-learned by the filter (the suppressor covers it meanwhile);
//   3. residual echo suppression and comfort noise: an EchoSuppressor per microphone
//      (dsp/echo_suppressor.h), its strength `suppression` (0 = the linear filter alone), given
//      the reference at the estimated delay for its reference floor while the filter detects
//      no near end, and until it has learned the echo path's gain (its cold start) the
//      reference's newest samples, whose power it takes for echo whatever the delay.
// The output lags the input by 2B - 1 samples (LatencyFrames): B - 1 for the block FIFO and
// B for the suppressor's overlap-add.
//
//   chain: {"aec", {{"reference_channels", 1}, {"suppression", 1.0}}}
//
// Thread safety: an AecProcessor is used by one thread at a time (Processor's contract); the
// FFT plans it shares are made in Prepare under the planner mutex and only read afterwards.
#ifndef AUDIOPROC_PROCESSORS_AEC_H_
#define AUDIOPROC_PROCESSORS_AEC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/block_adaptive_filter.h"
#include "dsp/echo_delay_estimator.h"
#include "dsp/echo_suppressor.h"
#include "dsp/smoothed_value.h"

namespace audioproc {

// The longest delay of the echo behind the reference that aec finds.
inline constexpr double kAecMaxDelaySeconds = 0.5;
// How much room the adaptive filter models after the alignment.
inline constexpr double kAecFilterSeconds = 0.4;
// The alignment stays this far ahead of the estimated delay, so the filter holds the echo's
// onset even if the estimate lands on an early reflection, and a delay that shrinks by up to
// this much stays inside the filter while the estimator confirms it. A new estimate further
// than this from the current one waits while a suppressor finds double talk
// (EchoSuppressor::double_talk): the estimator then correlates the far end with a near end too,
// and now and then settles on a stray lag (bench-dsp's other material, double_16k_p2_r1: 497.5 ms
// for 0.7 s, 15 s in, of a 250 ms room); realigning there shifted the filter's taps off the room,
// and back, and the filter alone's SDR from there on was -0.7 dB rather than 8.1
// (aec_echo_test).
inline constexpr double kAecAlignmentMarginSeconds = 0.06;

// The adaptive filter's step profile (BlockAdaptiveFilter::SetStepProfile, Makino et al.'s
// exponentially weighted step): the uniform part of the step is even over the first
// kAecStepFlatSeconds after the alignment (the margin and the echo's onset), then falls as a
// room of an RT60 of kAecStepDecaySeconds does, so a young filter spends its step where a
// room's response is strong. Measured on aec_echo_test's scenes against an even profile:
// single-talk ERLE +1.4/+1.0/-0.3/0.0/+1.0 dB, recovery +0.4 to +1.3 dB, double talk within
// 0.1 dB; a decay of 0.3 to 1 s gains up to 7 dB on the 0.2 s room but loses 0.6 to 1.6 dB
// on the 0.5 s one.
inline constexpr double kAecStepFlatSeconds = 0.1;
inline constexpr double kAecStepDecaySeconds = 1.5;

// How long the near-end detector holds the echo it predicts (BlockAdaptiveFilter::
// SetPredictionHold): an echo up to this much later than the filter places it (a delay jump
// not yet re-learned) is not taken for the near end (measured in block_adaptive_filter.cc).
// 64 ms, a 50 ms jump and a block's rounding: at 48 ms (6 blocks at 16 kHz) a 50 ms jump was
// taken for a near end until the filter had re-learned, which held the adaptation back
// (bench-dsp's delay_16k_p0_r0 recovered in 1.06 s; 0.50 s at 64 ms). Measured on bench-dsp
// against 48 ms, with the suppressor's reference test (dsp/echo_suppressor.cc) in both:
// single talk 37.5/35.0 -> 38.5/35.7 dB at 16/48 kHz (16 kHz's 0.5 s room 25.5 -> 34.8 dB),
// recovery 0.50/0.48 -> 0.43/0.44 s, double-talk SDR 19.9/16.6 -> 19.9/16.6 dB (the 16 kHz
// scene under 10 dB 9.5 -> 9.2 dB).
inline constexpr double kAecPredictionHoldSeconds = 0.064;
// The residual suppressor's reference floor also takes the reference this much more recent
// than the estimated delay: an echo that jumps earlier (the estimator follows it only after
// about a second) is predicted at once, as the near-end detector's hold predicts one that
// jumps later. Measured on bench-dsp's scenes with 50 ms jumps earlier: recovery 0.76 / 0.74 s
// (3 of 18 scenes over 1 s, at most 1.53 s) -> 0.47 / 0.51 s (at most 0.78 s); single-talk ERLE
// +1.5 / +0.7 dB; double-talk SDR -0.4 dB (the reference explains more of a near end's frames).
inline constexpr double kAecEarlierEchoSeconds = 0.064;

// A filter that explains the echo keeps the alignment it explains it at: while the adaptive
// filters' error, averaged over kAecHoldAveragingSeconds, is kAecHoldErleDb or more under the
// microphones', a new delay estimate waits (and is taken once the error rises, as it does within
// a few blocks of a real delay jump). The estimator, correlating a few seconds of speech, now and
// then settles for up to a second and a half on a lag that a far-end phrase after a pause makes
// look right (0-2 ms, or its longest, 500 ms); realigning there moved a converged filter's taps
// off the room and let a second of echo through. Measured on bench-dsp's scenes made from other
// material (dsp-echo-material --voice_shift=1 --seed_offset=1000): single-talk ERLE 34.7 / 34.5
// -> 36.8 / 36.5 dB at 16 / 48 kHz (single_16k_p2_r1 14.5 -> 32.8, single_48k_p0_r1 32.4 ->
// 47.1); on bench-dsp's own scenes single talk within 0.15 dB, double talk unchanged, two
// recoveries slower (path_16k_p0_r2 0.37 -> 0.78 s, delay_16k_p2_r0 0.25 -> 0.34 s).
inline constexpr double kAecHoldErleDb = 10;
inline constexpr double kAecHoldAveragingSeconds = 1.0;

// A probe beside the canceller: a short adaptive filter (kAecProbeSeconds after the alignment)
// without double-talk control (BlockAdaptiveFilter::SetDoubleTalkControl), which keeps
// adapting at the plain step whatever the near-end detector says. After an echo path change or
// a delay jump the detector takes the new room's echo for a near end until the canceller has
// re-learned it, seconds later, and the suppressor, believing a near end the reference does not
// explain, holds back; a filter with a few partitions re-learns the room's strong early part in
// a fraction of that. Where the probe's error is kAecProbeExplainsDb or more under the
// microphone's and under kAecProbeBetterShare of the canceller's (both smoothed over a few
// blocks), the suppressor takes the frame's echo as explained (EchoSuppressor::FarEnd::
// echo_explained). Not the first condition alone: a probe that never stops adapting follows a
// near end in part, and in double talk took some of it for echo. Measured on bench-dsp's own
// material and the other one (16 / 48 kHz), against no probe: ERLE 1 to 3 s after a change 32.6 /
// 34.3 -> 34.3 / 35.2 dB on average, 20.8 / 19.0 -> 22.4 / 20.6 in the worst scene, and 27.0 /
// 29.0 -> 27.7 / 29.9, 10.6 / 15.1 -> 15.1 / 15.2 (scenes under 18 dB 7 -> 6 of 54); its first
// second 22.0 / 19.5 -> 22.1 / 20.7 and 21.3 / 22.5 -> 22.4 / 23.2 dB (the worst 5.2 -> 10.1 at
// 16 kHz); single and double talk within 0.05 dB but the other material's 48 kHz miss, 8.88 ->
// 9.13 dB. The price: aec's CPU time +31 % (the canceller's filter is 0.4 s long). A prototype
// at 4 dB measured, without the second condition, that material's 16 kHz double talk 9.83 -> 9.63
// dB; and with probes of 0.1 / 0.2 s, the worst scenes 1 to 3 s after 21.7 / 20.6 and 13.1 / 15.1
// dB, and 22.4 / 21.6 and 14.0 / 15.2 (0.15 s: 22.2 / 22.3 and 15.1 / 15.1). The probe's error's
// share of the microphone's also tells the suppressor which frames the reference predicts at all
// (EchoSuppressor::FarEnd::unpredicted_share, kPredictableShare).
inline constexpr double kAecProbeSeconds = 0.15;
inline constexpr double kAecProbeExplainsDb = 3;
inline constexpr double kAecProbeBetterShare = 0.7;

// aec's run-time settings: what an update changes.
struct AecRuntimeSettings {
  std::optional<double> suppression;
};

// aec's metadata (reference_channels: 1, [1, 7]; suppression: 1, [0, 4], runtime-updatable)
// and factory.
ProcessorDefinition AecDefinition();

// The block aec runs at `sample_rate_hz`: the largest power of two up to 8 ms (at least 16).
uint32_t AecBlockSize(double sample_rate_hz);

class AecProcessor : public UpdatableProcessor<AecRuntimeSettings> {
 public:
  AecProcessor(uint32_t reference_channels, double suppression);

  // INVALID_ARGUMENT unless the input has more channels than reference_channels. Plans the
  // FFTs, sizes every buffer (allocates). Returns the input's format with the microphone
  // channels only.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  // Writes in.num_frames() frames of the microphone channels into `out`.
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  void Reset() noexcept override;
  int LatencyFrames() const override { return 2 * static_cast<int>(block_) - 1; }
  bool ProcessesInPlace() const override { return false; }
  // At most one delay report per block.
  uint32_t MaxEventsPerBlock(uint32_t frames) const override;
  // Takes a new suppression, ramped over kParameterRampMs in whole blocks. Does not allocate.
  void ApplySettings(const AecRuntimeSettings& settings) noexcept override;

  // The whole canceller's state: the delay estimator, both filters of every microphone, the
  // suppressors (comfort noise generator included), the FIFOs, the reference's history, the
  // alignment, the counters and the suppression ramp. The filters' reference spectra are
  // rebuilt from the history on restore. Every size is checked against the prepared instance.
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  // The current alignment of the reference, in samples (for tests).
  uint64_t alignment_samples() const { return alignment_; }

  static absl::StatusOr<StageEstimate> Estimate(const ParamValues& params,
                                                const ProcessSpec& input);

 private:
  // Runs one block of every channel from the FIFOs, refilling ready_.
  void RunBlock() noexcept;
  // Follows the delay estimator's estimate (the alignment, the suppressors' reference, a delay
  // report) unless the filters explain the echo where they are (kAecHoldErleDb).
  void FollowDelay() noexcept;
  // Moves the reference's alignment to `alignment` samples (a multiple of the block).
  void Align(uint64_t alignment) noexcept;
  // Reference r's 2B samples ending `age` samples before the newest.
  const float* Window(uint32_t r, uint64_t age) const noexcept;
  // The references' windows `age` samples old, summed into `frame` (2B samples).
  void SumWindows(uint64_t age, std::vector<float>& frame) noexcept;

  uint32_t reference_channels_;
  SmoothedValue<float, RampLaw::kLinearBySteps> suppression_;
  double rate_ = 0;
  uint32_t mics_ = 0;
  uint32_t block_ = 0;
  uint32_t partitions_ = 0;
  uint32_t position_ = 0;  // samples of the current block already in the FIFOs
  uint64_t blocks_run_ = 0;
  uint64_t alignment_ = 0;      // samples, a multiple of block_
  uint64_t max_alignment_ = 0;  // samples
  uint64_t written_ = 0;        // reference samples written into the history
  // The delay the alignment and the suppressors' reference follow (-1 before the first
  // estimate), and the microphones' and the filters' error energies averaged over
  // kAecHoldAveragingSeconds (hold_decay_ per block): their ratio holds it (kAecHoldErleDb).
  int64_t delay_samples_ = -1;
  double mic_energy_ = 0;
  double error_energy_ = 0;
  double hold_decay_ = 0;

  EchoDelayEstimator delay_;
  BlockAdaptiveFilter filter_;
  BlockAdaptiveFilter probe_;  // kAecProbeSeconds
  uint32_t probe_partitions_ = 0;
  std::vector<EchoSuppressor> suppressors_;
  // Per reference: a ring of history_size_ samples written twice (at i and i + size), so any
  // window of up to history_size_ samples is contiguous.
  uint32_t history_size_ = 0;
  std::vector<std::vector<float>> history_;
  std::vector<std::vector<float>> input_;  // per input channel: the block being filled
  std::vector<std::vector<float>> ready_;  // per microphone: the block of output made last
  std::vector<float> reference_sum_;
  std::vector<float> error_;
  std::vector<float> echo_;
  std::vector<float> probe_error_;
  std::vector<float> probe_echo_;
  std::vector<float> reference_frame_;  // 2B: the references' sum at the estimated delay
  std::vector<float> earlier_frame_;    // and kAecEarlierEchoSeconds more recent
  std::vector<const float*> windows_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_AEC_H_
