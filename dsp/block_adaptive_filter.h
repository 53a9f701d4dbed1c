// BlockAdaptiveFilter: the linear part of an echo canceller. For each microphone channel it
// models the echo as the references filtered by a long FIR (the room), identified on line,
// and subtracts it.
//
// The FIR is a partitioned-block frequency-domain adaptive filter (PBFDAF, also called MDF:
// Soo & Pang 1990; the layout of speexdsp's mdf.c): the filter is cut into P partitions of B
// taps, each held as a spectrum of N = 2B bins, so a block of B samples costs one FFT of the
// references and P complex multiply-adds per bin rather than P B multiply-adds per sample.
// The echo estimate is the last B samples of IFFT(sum_p W_p X_p), X_p being the spectrum of
// the reference's 2B samples p blocks ago (overlap-save). Adaptation is NLMS per bin: W_p +=
// mu conj(X_p) E / (sum_p |X_p|^2 + delta), with E the spectrum of the block's error padded
// by B zeros in front, and the denominator at least a tenth of its neighbours' within 3 bins
// (the padding leaks their error into the bin: a voice whose pitch is a multiple of the bin
// spacing diverged without it; the .cc has the measurements). The gradient constraint (taps
// past B zeroed in the time domain) costs two FFTs per partition; it is applied to
// kConstrainedPerBlock partitions per block in turn (speexdsp's "AUMDF"), which keeps the
// filter linear-convolution-correct at a fraction of the cost.
//
// Double talk: the near end's speech in the error would drive an adapting filter away from
// the room. So every channel has two filters (Ochiai et al. 1977; speexdsp): a background
// filter that adapts all the time, and the foreground filter whose error is the output. The
// background is copied into the foreground when its error has been smaller (a better model
// of the echo: near speech is in both errors alike), and the foreground into the background
// when the background has diverged (its error far larger).
// The background's step is also cut while a detector finds the near end talking: the
// microphone louder than the echo the reference predicts through the foreground's energy
// profile (|W|^2, phases left out) and the room's noise allow (a level test, so an echo path
// change or a delay jump, whose error is large too, keeps the full step and re-converges; the
// .cc has its measurements), or while the caller has found it elsewhere (Process's
// near_elsewhere: aec passes its echo suppressor's belief, which in double talk also takes the
// frames the detector missed that neither the echo estimate nor the reference explains; on
// bench-dsp's scenes double-talk SDR 23.8 / 22.1 -> 24.0 / 22.4 dB at 16 / 48 kHz, the least
// 10.7 / 10.2 -> 12.1 / 10.8 dB, and on the other material 22.2 / 21.7 -> 22.4 / 22.1 dB;
// single talk the same, recovery too but one scene's, 0.65 -> 0.74 s). Then each bin's step is
// Valin's (2007) optimal one, the residual echo's share of the bin's error, from a leak learned
// by regressing the error's power fluctuations on the echo estimate's (uncorrelated near speech
// leaves the leak alone). Measured on aec_echo_test's scenes against the plain step (both with
// the level-relative regularization, .cc): double-talk SDR 10.0/11.7/15.1/5.0/8.7 ->
// 11.1/14.3/14.8/6.8/12.9 dB, levels within 1 dB but the 48 kHz 1/0 scene's (-2.6 -> -1.9 dB);
// single talk and recovery within 0.5 dB. On bench-dsp's echo scenes double-talk SDR 12.8 ->
// 13.6 dB at 16 kHz and 7.7 -> 9.1 dB at 48 kHz.
// A second test flags a loud near end, the microphone 10 dB over anything the reference's level
// has put there (loud_near_active; it does not go through the filter, so a filter that lost its
// model or began to follow the near end cannot hide it, and a changed room or a moved delay do
// not trip it). Under it the leak holds what it learned and the step leaves out the error's
// correlation with the estimate: both had carried the filter after a near end 20 dB over the
// echo until its estimate was as loud as the near end. With it (and aec's delay estimator
// skipping those blocks) bench-dsp's double-talk SDR went 16.8 -> 20.2 dB at 16 kHz and
// 13.8 -> 16.9 dB at 48 kHz (the -20 dB rooms' 25.6/22.2/20.3 -> 28.3/27.0/30.4 and
// 24.5/4.0/18.0 -> 34.7/4.6/28.2 dB), single talk and recovery unchanged. Found
// kSustainedLoudBlocks blocks in a row, it holds the background's adaptation altogether
// (adaptation_held): in one -20 dB room the background still followed the near end, its own
// growing estimate raising the leak's step, and copied into the foreground cancelled it
// (4.6 -> 21.0 dB; the .cc has the measurements).
//
//   BlockAdaptiveFilter filter;
//   filter.Init(128, 57, /*channels=*/1, /*references=*/1);   // allocates
//   filter.PushReference(windows);  // each reference's last 2B samples, once per block
//   filter.Process(0, mic, error, echo);
//
// Thread safety: one thread at a time.
#ifndef AUDIOPROC_DSP_BLOCK_ADAPTIVE_FILTER_H_
#define AUDIOPROC_DSP_BLOCK_ADAPTIVE_FILTER_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "dsp/fftw_plan.h"
#include "dsp/state_codec.h"

namespace audioproc {

class BlockAdaptiveFilter {
 public:
  // The background filter's NLMS step (of 1, which would zero the block's error at once) ...
  static constexpr float kBackgroundStep = 0.5f;
  // ... rising to this one where its echo estimate's energy is kHighEchoShare times its
  // error's or more (from kLowEchoShare times): the far end alone and a filter that explains it
  // (measured on aec_echo_test's scenes: 1 to 2.5 dB more ERLE, double talk unchanged).
  static constexpr float kConvergedStep = 0.8f;
  static constexpr double kLowEchoShare = 0.3;
  static constexpr double kHighEchoShare = 3.0;
  // IPNLMS's alpha: -1 is NLMS (every partition the same step), 1 fully proportionate.
  static constexpr float kProportionality = 0.5f;
  // The background replaces the foreground when its smoothed error energy is below this share
  // of the foreground's, and is reset to the foreground when above this multiple.
  static constexpr float kCopyRatio = 0.8f;
  static constexpr float kResetRatio = 4.0f;
  // ... and only if its smoothed error energy is also below this share of the microphone's: a
  // background that removes less than that explains little echo and, in double talk, is fitting
  // the near end (measured on aec_echo_test's scenes: recovery after a change 0.3 to 5 dB
  // better, double talk within 0.2 dB or better, single talk within 0.8 dB).
  static constexpr float kMicCopyRatio = 0.7f;
  // Partitions whose gradient constraint is applied per block, in turn.
  static constexpr uint32_t kConstrainedPerBlock = 4;

  // Sizes `channels` microphone channels' filters of `partitions` x `block` taps on each of
  // `references` references. Allocates and plans FFTs of 2 x block points.
  absl::Status Init(uint32_t block, uint32_t partitions, uint32_t channels, uint32_t references);

  // The uniform part of each partition's step share: 1 over the first `flat` partitions, then
  // decaying by `decay` per partition (normalized to sum to 1). Uniform after Init. Allocates
  // nothing.
  void SetStepProfile(uint32_t flat, float decay);

  // Without double-talk control (`false`; on after Init) a channel has one filter, the
  // background, which adapts at the plain step whatever the microphone holds, and whose error and
  // estimate are Process's output; nothing detects a near end. Such a filter follows a near end
  // as readily as a changed room: it is a probe, not a canceller (aec runs a short one beside its
  // canceller and asks whether it explains a frame the detector flags: processors/aec.h,
  // kAecProbeSeconds). Allocates nothing.
  void SetDoubleTalkControl(bool on) noexcept { double_talk_control_ = on; }

  // The near-end detector holds its predicted echo over the last `blocks` blocks (1 to
  // kMaxHoldBlocks; 1 after Init). Allocates nothing.
  void SetPredictionHold(uint32_t blocks) noexcept;
  static constexpr uint32_t kMaxHoldBlocks = 16;
  // Blocks the near-end detector holds a detection for; and one from a lone block barely over its
  // margin (block_adaptive_filter_near_end.cc has why).
  static constexpr uint32_t kNearHangover = 30;
  static constexpr uint32_t kWeakNearHangover = 5;
  // Updates of the near-end detector's echo gain it waits for before it decides (measured in
  // block_adaptive_filter_near_end.cc).
  static constexpr uint32_t kLearningBlocks = 40;
  // Blocks in a row of loud near speech after which the background stops adapting (for
  // kNearHangover blocks from the last): measured in block_adaptive_filter_near_end.cc.
  static constexpr uint32_t kSustainedLoudBlocks = 3;

  static uint64_t InitBytes(uint32_t block, uint32_t partitions, uint32_t channels,
                            uint32_t references);
  // CPU-seconds per second at `sample_rate_hz`, on the reference machine (cost_model.h).
  static double CpuCores(double sample_rate_hz, uint32_t block, uint32_t partitions,
                         uint32_t channels, uint32_t references);

  // Every filter to zero, the reference history to silence. Real-time safe.
  void Reset() noexcept;

  // Takes the references' newest block: windows[r] points to reference r's last 2B samples
  // (the previous block, then this one). Call once per block, before Process. Real-time safe.
  void PushReference(const float* const* windows) noexcept;
  // Forgets the reference history (silence), for a caller that pushes it again after moving
  // its alignment. Real-time safe.
  void ClearReference() noexcept;
  // Moves every filter's taps by `blocks` partitions toward the start (positive: the
  // reference's alignment moved `blocks` blocks later, so what partition p + blocks modelled
  // is now partition p's), zeroing the partitions that have nothing to take. Real-time safe.
  void ShiftTaps(int blocks) noexcept;

  // Filters channel `channel`'s block of B microphone samples: writes the foreground's error
  // (the echo removed) and its echo estimate, B samples each (without double-talk control, the
  // one filter's), and adapts. `near_elsewhere`: a near end another test has found (aec: the
  // echo suppressor's, EchoSuppressor::believes_near, a block late), for which the double-talk
  // step applies though the detector found none. Real-time safe.
  void Process(uint32_t channel, const float* mic, float* error, float* echo,
               bool near_elsewhere = false) noexcept;

  // Writes both filters of every channel, their error energies, their double-talk state (leak,
  // reference level, near-end detector) and the reference ring's position (a checkpoint;
  // dsp/state_codec.h). The reference spectra are not written: they are the FFTs of the caller's
  // reference history, which the caller pushes again after a restore. Allocates nothing.
  void SaveState(StateWriter& writer) const noexcept;
  // Reads what SaveState wrote into a filter Init'ed for the same sizes (every size checked).
  // Clears the reference ring; the caller then pushes `*pushes` blocks of reference again,
  // oldest first (the windows the last *pushes PushReference calls took, at the current
  // alignment), which leaves the ring as it was saved. On failure the reader fails (the caller
  // Resets). Allocates nothing.
  void RestoreState(StateReader& reader, uint32_t* pushes) noexcept;

  // Whether channel `channel`'s near end was detected in its last blocks (DetectNear in the .cc:
  // the microphone louder than the echo the reference predicts and the room's noise).
  bool near_active(uint32_t channel) const { return channels_[channel].near_blocks > 0; }
  // Whether it was detected in the last block itself (over the detector's margin), not held.
  bool near_now(uint32_t channel) const { return channels_[channel].over_margin; }
  // Whether it was loud (DetectNear's second test: the microphone 10 dB over anything the
  // reference's level has put there, which does not depend on the filter): the leak then holds,
  // and a caller's delay estimator should not learn from those blocks either.
  bool loud_near_active(uint32_t channel) const { return channels_[channel].loud_near_blocks > 0; }
  // Whether the background's adaptation is held for sustained loud near speech.
  bool adaptation_held(uint32_t channel) const { return channels_[channel].held_blocks > 0; }
  // Channel `channel`'s error energy per block (the foreground's; without double-talk control
  // the one filter's) and its microphone's, both smoothed over a few blocks (kEnergySmoothing in
  // the .cc).
  double error_energy(uint32_t channel) const { return channels_[channel].foreground_energy; }
  double mic_energy(uint32_t channel) const { return channels_[channel].mic_energy; }
  uint32_t block() const { return block_; }
  uint32_t partitions() const { return partitions_; }

 private:
  struct Channel {
    std::vector<float> background;  // partitions x references x bins, interleaved re, im
    std::vector<float> foreground;
    double background_energy = 0;  // smoothed error energies
    double foreground_energy = 0;
    double mic_energy = 0;  // the microphone's, smoothed alike
    uint32_t next_constrained = 0;
    // The double-talk step (Valin 2007): per bin, the slowly averaged power of the
    // background's error and of its echo estimate, and the recursive averages of their
    // fluctuations' covariance and of the estimate's deviation, whose ratio is the leak.
    std::vector<float> error_power;
    std::vector<float> echo_power;
    double leak_covariance = 0;
    double leak_deviation = 0;
    // The reference's recent peak level (mean per-bin power), for the NLMS regularization.
    double reference_level = 0;
    // The near-end detector: the echo path's learned log gain (the microphone over the echo
    // predicted through the foreground's energy profile), the microphone's noise floor (block
    // energy), the blocks of far end seen and then of the gain learned (counting to partitions +
    // 1 + kLearningBlocks: partitions blocks of the filter learning, then one for the gain's first
    // value and kLearningBlocks of its updates before the detector decides), the blocks left
    // of detected near-end activity, and whether the last block was over the detector's margin.
    double echo_gain = 0;
    double mic_floor = 0;
    std::array<double, kMaxHoldBlocks> predictions{};  // the last predicted echoes, a ring
    uint32_t next_prediction = 0;
    uint32_t active_blocks = 0;
    uint32_t near_blocks = 0;
    bool over_margin = false;
    // Loud near speech: the microphone's learned log ratio to the span's loudest reference
    // block, and the blocks left of it; the blocks in a row it was found in, and the blocks
    // left of adaptation held for it (found kSustainedLoudBlocks in a row).
    double reference_gain = 0;
    uint32_t loud_near_blocks = 0;
    uint32_t loud_run = 0;
    uint32_t held_blocks = 0;
  };

  // Writes sum_p W_p X_p of `weights` into spectrum_, its last B samples / N into `out`.
  void Estimate(const std::vector<float>& weights, float* out) noexcept;
  // A block's error (`mic` - `echo`, written to `error`), echo estimate and microphone energies.
  struct BlockEnergies {
    double error = 0;
    double echo = 0;
    double mic = 0;
  };
  BlockEnergies Subtract(const float* mic, const float* echo, float* error) const noexcept;
  // Only overflowing input makes a block's energies infinite: every filter of the channel to
  // zero and its double-talk state reset, the block passed on as it came (non-finite samples as
  // 0), rather than Inf emitted.
  void StartAgain(Channel& channel, const float* mic, float* error, float* echo) noexcept;
  // Process without double-talk control: the background's error and estimate, then it adapts.
  void ProcessAlone(Channel& channel, const float* mic, float* error, float* echo) noexcept;
  // Adapts the background filter to its block's error, whose energy is `error_energy`, its
  // echo estimate's `echo_energy`.
  void Adapt(Channel& channel, const float* error, const float* echo, double echo_energy,
             double error_energy, bool near_elsewhere) noexcept;
  // Updates the leak and writes each bin's share of the step into bin_step_ (which holds the
  // echo estimate's power spectrum on entry, error_power_ the error's): 1 but while the near
  // end is detected, or found elsewhere.
  void StepShares(Channel& channel, const float* error, const float* echo, double echo_energy,
                  double error_energy, bool near_elsewhere) noexcept;
  // Updates the near-end detector with the microphone's block energy.
  void DetectNear(Channel& channel, double mic_energy) noexcept;
  // The block's echo energy as the foreground's energy profile predicts it from the reference
  // spectra (phases left out).
  double PredictedEcho(const Channel& channel) const noexcept;
  static void ResetDoubleTalk(Channel& channel) noexcept;
  void Constrain(float* weights) noexcept;
  // Weights of partition p, reference r.
  size_t Offset(uint32_t p, uint32_t r) const { return (size_t{p} * references_ + r) * 2 * bins_; }
  // Where slot p's power spectrum of reference r starts in slot_power_.
  size_t PowerOffset(uint32_t p, uint32_t r) const { return (size_t{p} * references_ + r) * bins_; }
  // The slot of the reference spectra p blocks old.
  uint32_t Slot(uint32_t p) const { return (newest_ + partitions_ - p) % partitions_; }

  uint32_t block_ = 0;
  uint32_t fft_size_ = 0;
  uint32_t bins_ = 0;
  uint32_t partitions_ = 0;
  uint32_t references_ = 0;
  uint32_t newest_ = 0;
  uint32_t hold_blocks_ = 1;
  uint32_t filled_ = 0;  // ring slots pushed since the last ClearReference, at most partitions_
  bool double_talk_control_ = true;

  const RealFftPlan* fft_ = nullptr;  // shared, immutable
  FftwBuffer<float> frame_;
  FftwBuffer<fftwf_complex> spectrum_;
  std::vector<float> spectra_;      // ring of partitions x references x bins, interleaved
  std::vector<float> slot_total_;   // per ring slot: |X|^2 summed over bins and references
  std::vector<float> slot_power_;   // per ring slot, reference and bin: |X|^2
  std::vector<float> power_;        // per bin scratch: the NLMS denominator
  std::vector<float> share_;        // per partition scratch: its share of the step
  std::vector<float> profile_;      // per partition: the uniform part's weight, summing to 1
  std::vector<float> step_;         // per bin scratch: mu E / (power + delta)
  std::vector<float> bin_step_;     // per bin scratch: the double-talk control's step share
  std::vector<float> error_power_;  // per bin scratch: the background error's |E|^2
  std::vector<float> scaled_step_;  // step_ times a partition's share
  std::vector<float> background_error_;
  std::vector<float> background_echo_;
  std::vector<Channel> channels_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_BLOCK_ADAPTIVE_FILTER_H_
