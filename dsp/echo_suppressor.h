// EchoSuppressor: what an echo canceller does after its linear filter. The filter leaves a
// residual (its misadjustment, nonlinearity, the tail past its length, the time it takes to
// re-converge after the room changes); this removes it frame by frame in the frequency domain
// where the near end is not speaking over it, and fills what it removes with comfort noise.
//
// Frames of N = 2 hop samples every hop, under a periodic sqrt-Hann window for analysis and
// synthesis (their product, a Hann window, sums to 1 at 50% overlap: with every gain at 1 the
// output is the input delayed by one hop, to float rounding). Per frame and bin k, with E the
// filter's error and Y its echo estimate:
//   1. residual echo: R = max(leak, share_k) |Y|^2, the leak being speexdsp's (mdf.c)
//      estimate: the regression of |E|^2 on |Y|^2 over the bins' fluctuations about their
//      running means, which near speech, uncorrelated with Y, does not bias; share_k the bin's
//      own |E|^2 / |E + Y|^2 (1 / ERLE, AEC3's per-band ERLE) smoothed over the frames the
//      leak's ratio test finds the echo dominating; held against its own decay (kTailSeconds)
//      for the reverberation the filter's length or its lag leaves; and, given the reference
//      at the echo's delay (and, for an echo that came earlier, a more recent one: FarEnd) and
//      no near speech detected (or none the reference cannot explain: a frame with nearly all
//      its energy within 9 dB of the reference's prediction is the echo, whatever a detector
//      that reads it against the filter says, unless the stream is in double talk: then a flag
//      raised in its own block, any frame about as loud as the near end has lately been (a
//      missed one unless the caller finds it predictable: FarEnd::unpredicted_share), or a
//      missed frame neither the echo estimate nor the reference accounts for, is the near end),
//      at least the reference floor (the bin's learned echo path gain, the larger of its recent
//      and lasting averages, x the reference's power, held as a room of RT60 0.5 s decays, at
//      most |E|^2), which covers what the filter does not model or has not re-learned; in the cold
//      start (TrackColdStart: nothing learned yet), with or without a delay estimate, at least the
//      far end's newest power held as it falls;
//   2. gain: Wiener, G = xi / (1 + xi), xi the decision-directed (Ephraim & Malah 1984) ratio
//      of near-end power to strength x kOverSubtraction x R (4 times that where the echo
//      dominates and no near end is believed; a quarter where one is, once the suppressor is
//      warm: kNearOverSubtraction),
//      floored at kGainFloorDb;
//      strength 0 passes everything (the linear filter alone);
//   3. comfort noise: the near end's noise floor N (minimum of the smoothed |E|^2, rising at
//      most kNoiseRiseDbPerSecond) is put back where the gain removed it, with random phase:
//      out = G E + sqrt((1 - G^2) N) e^(j phi), so a suppressed frame sounds like the room,
//      not like digital silence. The noise is a seeded generator's: the output is a function
//      of the input alone.
//
//   EchoSuppressor suppressor;
//   suppressor.Init(128, 16000);                   // allocates
//   suppressor.Process(error, echo, 1.0f, out);    // one hop; out lags by one hop
//
// Thread safety: one thread at a time.
#ifndef AUDIOPROC_DSP_ECHO_SUPPRESSOR_H_
#define AUDIOPROC_DSP_ECHO_SUPPRESSOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "dsp/fftw_plan.h"
#include "dsp/state_codec.h"

namespace audioproc {

class EchoSuppressor {
 public:
  // The gain never falls below this.
  static constexpr double kGainFloorDb = -60;
  // The residual estimate is scaled by this at strength 1: the leak is a mean, and the
  // residual's fluctuation about it would leave audible echo at 1.
  static constexpr float kOverSubtraction = 2.0f;
  // The decision-directed smoothing of xi (0.8 rather than 0.7, measured on aec_echo_test's
  // scenes: about 0.9 dB more single-talk ERLE and 0.5 to 2 dB faster recovery, for 0.2 to
  // 0.3 dB of double-talk SDR).
  static constexpr float kDecisionDirectedAlpha = 0.8f;
  // The residual's decay: an RT60 of this long.
  static constexpr double kTailSeconds = 0.25;
  // The reference floor's held reference power decays as a room of this RT60, the longest the
  // canceller is built for: held as the residual is (kTailSeconds), the floor fell below the
  // echo's own reverberation after every far-end phrase in a 0.5 s room, and the tail came
  // through (bench-dsp's 250 ms / RT60 0.5 s / 0 dB scenes: 4 to 6 dB ERLE in their last
  // 300 ms). Only without near speech detected, so the double talk it can cost is none.
  static constexpr double kReferenceTailSeconds = 0.5;
  static constexpr double kNoiseRiseDbPerSecond = 3;
  // A frame with a near end the suppressor believes (the detector's, unexplained by the
  // reference) is over-subtracted kNearOverSubtraction times as much, once kNearWarmSeconds have
  // passed since the cold start: the adaptive filter alone keeps the near end's SDR at 10 dB or
  // more in every double-talk scene of bench-dsp (its audioproc-aec-linear row), and the
  // suppressor, which cannot tell the near end from the residual echo within a bin, took more of
  // the near end than of the echo there. Not while warming: the young filter's detector takes
  // the echo for a near end (one scene's first 0.5 s of single talk lost 11 dB of ERLE). Measured
  // on bench-dsp: double-talk SDR 19.4 / 18.1 -> 22.4 / 20.7 dB at 16 / 48 kHz, the near end's
  // level -0.31 / -0.46 -> -0.19 / -0.31 dB (the worst scene's -1.36 -> -0.97: all 18 within
  // 1 dB), single talk's minimum unchanged (32.6 / 34.5 dB; means 41.6 -> 41.0 / 39.7); the
  // price is echo that a changed room leaves and the detector takes for a near end: recovery
  // to 20 dB at 48 kHz 0.36 / 0.43 -> 0.40 / 0.52 s (the slowest 0.62 -> 0.96 s), and in
  // aec_echo_test's 16 kHz path change 32.3 -> 22.8 dB 1 to 3 s after it. Half as much instead
  // (0.5, with 100 frames of warm-up): SDR 21.0 / 19.6 dB, one scene's level still -1.13 dB.
  static constexpr float kNearOverSubtraction = 0.25f;
  static constexpr double kNearWarmSeconds = 0.5;
  // Cold start: until the echo path's gain has been learned over kColdStartLearnSeconds of
  // frames (or the far end has talked kColdStartMaxSeconds without it), neither the filter nor
  // the gain knows the echo, nor the delay estimator its delay; the reference floor then takes
  // the echo at kColdStartGainDb of the reference's power, held per bin as it falls
  // kColdStartDecayDbPerSecond (the echo may lag it by anything up to the canceller's longest
  // delay). WebRTC's AEC3 starts alike (its initial state's default echo path gain). Where the
  // near-end detector reports a near end the learned reference cannot explain, the floor holds
  // back as ever; the price is a near end under the far end's level in its first seconds, before
  // anything is learned, taken for echo. Measured on bench-dsp's scenes: single-talk ERLE 38.2
  // / 35.7 -> 40.1 / 39.0 dB at 16 / 48 kHz (the 250 ms, RT60 0.5 s, 0 dB room's 28.3 -> 36.1 dB at
  // 48 kHz: half of what it let through was the first 0.1 s of echo, before the delay was found),
  // double talk and recovery unchanged. Learning over 0.25 s: 39.6 / 38.5 dB; taking the held power
  // as explaining a detected near end too: 41.2 / 41.1 dB, but a near end that started 1.4 s after
  // the far end (still cold) lost 18.2 -> 10.4 dB of SDR.
  static constexpr double kColdStartLearnSeconds = 0.5;
  static constexpr double kColdStartMaxSeconds = 3.0;
  static constexpr double kColdStartGainDb = 0;
  static constexpr double kColdStartDecayDbPerSecond = 6;

  // Double talk as a state of the stream, not of a frame: of the frames the detector flags, the
  // share the reference explains, averaged over kExplainedSeconds of flagged frames (from 1, so
  // that flags are suspect until shown otherwise). The detector's false flags are mostly explained
  // (48 to 80 % of them in bench-dsp's single talk, 73 to 91 % after a path change or a delay
  // jump), a real near end's mostly not (13 to 23 %). Under kDoubleTalkExplainedShare the
  // suppressor is in double talk, and then also believes a flag raised in its very block
  // (FarEnd::near_now) that the reference explains (a near end as loud as a 0 dB echo, the
  // microphone at twice what the reference predicts, is well within its test's 9 dB margin), and a
  // frame the detector missed that the echo estimate does not dominate and the reference cannot
  // explain. Not a flag the detector merely holds (its hangover): believed, those let the residual
  // echo through in the near end's pauses. Measured on bench-dsp's 0 dB, RT60 0.5 s double-talk
  // scenes (double_48k_p2_r1, 9 to 13 s in, before): 22 % of the near end's energy lay in flagged
  // frames the reference explained, kept at -13 to -15 dB, and 16 % in frames not flagged, at -7
  // dB. With aec's alignment waiting out double talk (kAecAlignmentMarginSeconds), double-talk SDR
  // 23.0 / 20.7 -> 23.7 / 21.7 dB at 16 / 48 kHz (its three scenes under 10 dB, 8.3 | 8.7, 8.4, now
  // 10.1 | 9.6, 9.7), the far-only stretches of those scenes' ERLE 32.2 / 30.8 -> 30.2 / 31.6 dB,
  // single talk and recovery unchanged. Believing every flag (held ones too) and every missed frame
  // the echo estimate does not dominate: 24.4 / 22.7 dB (none under 11.2) but that ERLE 23.6 / 23.5
  // dB; every flag, and the missed frames only where the reference cannot explain them either: 24.3
  // / 22.5 dB (10.9 and 10.4 at least), that ERLE 26.1 / 26.9 dB. A share of 0.7: the same double
  // talk, one more recovery over 1 s in the other material; 0.5: a 48 kHz scene's double talk 3.0
  // dB (a stray far delay estimate followed). Outside double talk, a flag over a frame the
  // caller finds predictable (kPredictableShare: aec's probe filter removes much of it) counts
  // as explained too: a changed room's echo, which the canceller's detector flags and the
  // learned gain may misread, must not start double talk, which would then believe its flags at
  // the near end's level (below). Double talk ends kDoubleTalkEndSeconds after the last flagged
  // frame the reference did not explain, the share back at 1, and only then: a near end that has
  // stopped talking must not leave a changed room's flags believed (echo_suppressor_test), but
  // one as loud as a 0 dB echo is often explained for a second or more (the share back over
  // kDoubleTalkExplainedShare), and double talk that ended there took it for echo. bench-dsp
  // measures 2 s, 3 s and never ending within 0.1 dB; 3 s, so that a near end's pauses (up to 2 s
  // in bench-dsp's scenes) stay inside double talk. Measured on bench-dsp's own material and the
  // other one, the predictable flags and ending only then together with believing the missed
  // frames at the near end's level (kHeldNearShare): below.
  static constexpr double kExplainedSeconds = 0.5;
  static constexpr double kDoubleTalkExplainedShare = 0.6;
  static constexpr double kDoubleTalkEndSeconds = 3.0;
  // In double talk a flag the detector holds is believed too where the frame's error has at
  // least kHeldNearShare (-5 dB) of the near end's recent level: the error's energy averaged
  // over kNearLevelSeconds of the frames flagged in their own block. A near end goes on under
  // the detector's hangover at about its level (the quiet end of a phrase, a syllable under
  // the detector's margin); the residual echo it holds the flag over once the near end stops
  // is the filter's residual, far under it. Instrumented (reverted) on bench-dsp's
  // double_48k_p2_r1 before: the held flags the reference explained, in double talk, carried 8 %
  // of the near end's energy, kept at -11 to -13 dB, and 56 % of the output's distortion.
  // Measured on bench-dsp's scenes (those flags not believed -> this): double-talk SDR 23.7 /
  // 21.7 -> 23.8 / 22.1 dB at 16 / 48 kHz (the two 48 kHz scenes under 10 dB, 9.6 and 9.7, now
  // 10.2 dB and more), the far-only stretches of the double-talk scenes 30.2 / 31.6 -> 30.1 /
  // 31.5 dB; on the other material 22.0 / 21.4 -> 22.2 / 21.7 and 27.2 / 30.0 -> 27.0 / 29.3 dB.
  // Believing every held flag: those stretches 26.1 / 26.9 dB; believing none of them but
  // leaving out the reference floor under them: 28.6 / 29.9 dB for 10.6 / 10.1 dB at least; a
  // share of 0.1: 29.3 / 30.7 dB; 0.5: the worst scene 10.1 dB.
  // So is a frame the detector missed altogether at that level, unless the caller finds it
  // predictable (kPredictableShare): the filter's model, which the detector reads the
  // microphone against, can be wrong for seconds in double talk. On the other material's
  // double_16k_p2_r1 (instrumented, reverted) the background filter fitted the near end at
  // 16.5 s, its copy into the foreground left the far end alone 6.6 dB louder than the
  // microphone, and the detector, its echo gain grown, missed the near end from 17 to 19 s: 9 %
  // of the near end's energy and 44 % of the scene's distortion, all of it near end taken for
  // echo. Measured on bench-dsp, both materials, 16 / 48 kHz, this with the predictable flags
  // outside double talk and its end only by kDoubleTalkEndSeconds (kDoubleTalkExplainedShare),
  // against keeping only the reference floor and the 4 times over-subtraction off those frames:
  // double talk's least 11.67 / 11.42 -> 12.71 / 12.39 dB and on the other material 9.83 / 9.13
  // -> 10.65 / 9.81 (means 23.93 / 22.46 -> 24.15 / 22.66 and 22.51 / 22.03 -> 22.62 / 22.15);
  // the near end's level at worst -0.40 / -0.52 -> -0.31 / -0.44 and -0.61 / -0.37 -> -0.47 /
  // -0.42 dB; single talk and recovery to 20 dB unchanged; ERLE 1 to 3 s after a change the same
  // but for two own delay jumps at 16 kHz: delay_16k_p2_r1 25.9 -> 43.9 dB (no near end, but in
  // double talk from 6 s before, and the jump's echo taken for a near end) and delay_16k_p0_r1
  // 26.5 -> 21.0 (a false double talk from a phrase's end 1.7 s after the jump); the far-only
  // stretches of the double-talk scenes 30.5 / 31.7 -> 31.2 / 29.5 and 27.1 / 29.8 -> 27.1 /
  // 29.9 dB, their least 25.6 -> 21.0 (own double_48k_p1_r2) and 15.2 (unchanged). The parts
  // alone: believing the missed frames at the near end's level, every one: delay_16k_p2_r1's
  // recovery 0.46 -> 4.12 s and the other 48 kHz miss 8.71 dB; with the predictable flags too (3
  // dB): that recovery as before, 9.38 dB; ending double talk only by kDoubleTalkEndSeconds too:
  // 9.81 dB, the other 16 kHz miss 10.88, delay_16k_p0_r1 19.5 dB; the missed frames the probe
  // predicts not believed at 3 / 4 / 6 dB: 10.13 / 10.65 / 10.79 and 21.4 / 21.0 / 19.5 dB. The
  // predictable flags at 6 dB: delay_16k_p2_r1's recovery 4.12 s again.
  static constexpr double kHeldNearShare = 0.3;
  static constexpr double kNearLevelSeconds = 0.05;
  // A frame is predictable from the reference where the caller's adapting filter leaves under
  // this share (-4 dB) of the microphone's energy (FarEnd::unpredicted_share).
  static constexpr float kPredictableShare = 0.4f;

  // Sizes frames of 2 `hop` samples at `sample_rate_hz`. Allocates and plans FFTs.
  absl::Status Init(uint32_t hop, double sample_rate_hz);
  static uint64_t InitBytes(uint32_t hop);
  // CPU-seconds per second at `sample_rate_hz`, on the reference machine (cost_model.h).
  static double CpuCores(double sample_rate_hz, uint32_t hop);

  // Back to the state after Init (the noise generator reseeded). Real-time safe.
  void Reset() noexcept;

  // Takes the next hop of the filter's error and echo estimate (hop samples each) and the
  // strength (>= 0), and writes the hop of output the frame completes: the error one hop
  // earlier, its echo removed. Real-time safe.
  void Process(const float* error, const float* echo, float strength, float* out) noexcept;
  // What the reference floor knows of the far end in a frame.
  struct FarEnd {
    // The far end's 2 hop samples the frame's echo comes from (the reference at the echo's
    // estimated delay); null without an estimate.
    const float* reference = nullptr;
    // The same a little more recent (aec: kAecEarlierEchoSeconds), for an echo that comes
    // earlier than estimated (a delay jump the estimator has not followed yet); may be null.
    const float* earlier = nullptr;
    // Whether the near end was detected (BlockAdaptiveFilter::near_active), and in this very
    // block rather than by the detector's hangover (BlockAdaptiveFilter::near_now).
    bool near = false;
    bool near_now = false;
    // Whether a test of the caller's own found the frame's echo explained (aec: a short probe
    // filter that keeps adapting removes much of the microphone where its canceller does not,
    // processors/aec.h kAecProbeSeconds): a flag over it counts as explained for its belief, as
    // one the reference explains does, but not for the share that finds double talk.
    bool echo_explained = false;
    // The share of the microphone's energy that a filter of the caller's which keeps adapting
    // whatever the microphone holds leaves (aec: its probe's error over the microphone's, both
    // smoothed over a few blocks); 1 without one. Under kPredictableShare the frame is
    // predictable from the reference, more likely an echo the canceller has not learned than a
    // near end: outside double talk a flag over it counts as explained for the share that finds
    // double talk, and in double talk a frame the detector missed is not believed for its level
    // alone.
    float unpredicted_share = 1;
  };
  // The same with the reference floor: the floor and the stronger over-subtraction apply
  // without a near end detected, and with one where the reference explains the frame (a
  // detector reading the microphone against a filter the room has outgrown takes the echo for a
  // near end).
  void Process(const float* error, const float* echo, const FarEnd& far_end, float strength,
               float* out) noexcept;
  // Takes the far end's newest 2 hop samples (the reference at no delay), for the cold start's
  // floor; call before each Process while cold_start(). Real-time safe.
  void TrackColdStart(const float* newest_reference) noexcept;
  // Whether the suppressor is still in its cold start (kColdStartLearnSeconds: frames the echo
  // path's gain learned from, given the reference at the echo's delay and no near end).
  bool cold_start() const { return cold_frames_left_ > 0; }

  // Writes the frames' histories, the overlap, the leak's, the reference floor's and the noise
  // floor's averages, the double-talk state (whether in it, the explained share, the frames until
  // it ends, the near end's level, whether the last frame's was believed) and the comfort noise
  // generator (a checkpoint; dsp/state_codec.h). Allocates nothing.
  void SaveState(StateWriter& writer) const noexcept;
  // Reads what SaveState wrote into a suppressor Init'ed for the same hop (every size checked).
  // On failure the reader fails (the caller Resets). Allocates nothing.
  void RestoreState(StateReader& reader) noexcept;

  // Whether the suppressor finds the stream in double talk (kDoubleTalkExplainedShare,
  // kDoubleTalkEndSeconds).
  bool double_talk() const { return double_talk_; }
  // Whether it believed a near end in its last frame (in double talk, also where the detector
  // found none: a frame it missed at the near end's level that the caller does not find
  // predictable, or one that neither the echo estimate nor the reference explains).
  bool believes_near() const { return believes_near_; }

  // The last frame's leak estimate (for tests).
  float leak() const { return leak_; }

 private:
  // Windows and transforms 2 hop `samples` and holds their power per bin in `held` against
  // `decay` per frame; returns the windowed frame's energy.
  double HoldPower(const float* samples, float decay, std::vector<float>& held) noexcept;
  // Updates the leak from this frame's power spectra, whose sums over bins are the totals.
  void UpdateLeak(double error_total, double echo_total) noexcept;
  // The echo the reference predicts in bin k: its held power (the larger of the reference's at
  // the echo's delay and the earlier one's) times the bin's learned echo path gain, the recent
  // one or (`lasting`) the larger of the recent and the lasting one (0 before any was learned).
  float ReferencePrediction(uint32_t k, bool lasting) const noexcept;
  // Whether the reference explains the frame whose error and echo estimate spectra these are
  // (interleaved re, im): under kUnexplainedShare of the microphone's (their sum's) energy in
  // bins far over ReferencePrediction (.cc), with the recent gain and with the larger of both.
  struct Explained {
    bool recent = false;
    bool either = false;
  };
  Explained ReferenceExplains(const float* error, const float* echo) const noexcept;

  uint32_t hop_ = 0;
  uint32_t fft_size_ = 0;
  uint32_t bins_ = 0;
  float gain_floor_ = 0;
  float tail_decay_ = 0;
  float reference_decay_ = 0;  // kReferenceTailSeconds' per hop
  float noise_rise_ = 0;
  float beta_ = 0;            // the leak's smoothing
  float mean_weight_ = 0;     // the running means' smoothing
  float bin_weight_ = 0;      // the per-bin ERLE's and the recent gain's smoothing
  float lasting_weight_ = 0;  // the lasting gain's

  const RealFftPlan* fft_ = nullptr;  // shared, immutable
  std::vector<float> analysis_window_;
  std::vector<float> synthesis_window_;  // includes 1 / N
  FftwBuffer<float> frame_;
  FftwBuffer<fftwf_complex> error_spectrum_;
  FftwBuffer<fftwf_complex> echo_spectrum_;
  std::vector<float> error_history_;  // the last 2 hop samples of each input
  std::vector<float> echo_history_;
  std::vector<float> overlap_;  // hop samples of the previous frame's second half
  std::vector<float> error_power_;
  std::vector<float> echo_power_;
  std::vector<float> error_mean_;  // running means of the powers, for the leak
  std::vector<float> echo_mean_;
  // Per bin, smoothed |E|^2 and |E + Y|^2 (the microphone): their ratio is the bin's residual
  // share, 1 / ERLE (AEC3's per-band ERLE).
  std::vector<float> bin_error_;
  std::vector<float> bin_mic_;
  std::vector<float> residual_;
  std::vector<float> previous_clean_;  // G^2 |E|^2 of the previous frame
  std::vector<float> smoothed_power_;
  std::vector<float> noise_;
  // Per bin, the reference's power at the echo's delay held against kReferenceTailSeconds, and
  // the averages of the microphone's power and of that held power over the frames the echo
  // dominates (their ratio is the echo path's gain), recent (kBinSeconds) and lasting
  // (kLastingGainSeconds, .cc).
  std::vector<float> reference_power_;
  std::vector<float> reference_mic_;
  std::vector<float> reference_held_;
  std::vector<float> lasting_mic_;
  std::vector<float> lasting_held_;
  // Per bin, the earlier reference's power, held alike (FarEnd::earlier).
  std::vector<float> earlier_power_;
  // Per bin, the newest reference's power held against kColdStartDecayDbPerSecond, for the cold
  // start's floor; the frames of the gain's learning still wanted, and of far end allowed.
  std::vector<float> cold_power_;
  uint32_t cold_frames_left_ = 0;
  uint32_t cold_far_frames_left_ = 0;
  uint32_t cold_learn_frames_ = 0;  // kColdStartLearnSeconds' frames
  uint32_t cold_max_frames_ = 0;    // kColdStartMaxSeconds'
  // Frames since the cold start ended, counting up to kNearWarmSeconds' (near_warm_frames_).
  uint32_t warm_frames_ = 0;
  uint32_t near_warm_frames_ = 0;
  float cold_active_energy_ = 0;  // a newest reference frame's energy that counts as far end
  float cold_gain_ = 0;
  float cold_decay_ = 0;
  double covariance_ = 0;  // smoothed sum of (|E|^2 - mean)(|Y|^2 - mean)
  double variance_ = 0;    // smoothed sum of (|Y|^2 - mean)^2
  float leak_ = 0;
  float regression_leak_ = 0;
  float ratio_leak_ = 0;
  bool echo_dominates_ = false;  // this frame's, from UpdateLeak
  // The share of the flagged frames the reference explained (kExplainedSeconds), and its weight
  // per flagged frame.
  double explained_share_ = 1;
  double explained_weight_ = 0;
  // Whether the stream is in double talk: from the share's fall under kDoubleTalkExplainedShare
  // until the frames left without another unexplained flag (kDoubleTalkEndSeconds) run out.
  bool double_talk_ = false;
  uint32_t unexplained_frames_left_ = 0;
  uint32_t double_talk_end_frames_ = 0;
  // The error's energy over the frames flagged in their own block (kNearLevelSeconds), and its
  // weight per such frame.
  double near_level_ = 0;
  double near_level_weight_ = 0;
  bool believes_near_ = false;  // in the last frame
  uint32_t frames_ = 0;
  uint32_t random_ = 1;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_ECHO_SUPPRESSOR_H_
