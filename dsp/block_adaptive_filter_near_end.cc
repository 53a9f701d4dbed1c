// BlockAdaptiveFilter's near-end detector (block_adaptive_filter.h): its two tests, the
// microphone against the echo the foreground's energy profile predicts, and against the
// reference's level for loud near speech.
#include <algorithm>
#include <cmath>

#include "dsp/block_adaptive_filter.h"

namespace audioproc {
namespace {

// The near-end detector (DetectNear). The far end's echo in a block is predicted through the
// foreground filter's energy profile, sum over partitions and bins of |W_p(k)|^2 |X_p(k)|^2 / N
// (the echo estimate's energy with the phases left out: a changed room of the same decay, or
// a delay that moved a little, predicts the same), and its log ratio to the microphone's block
// energy is the echo path's gain: 0 for a filter that models the room, above while it is
// young. The gain is learned as a running 90th percentile (up kGainUp, down kGainDown per
// block) in the blocks where the foreground's error is below kEchoDominated of the
// microphone's (the echo dominates: no near end to inflate it), from the first such block on.
// A block whose microphone holds kNearMargin times more than the learned gain lets the far end
// put there, plus kFloorShare times the microphone's noise floor (the room's own noise, which
// no reference explains), has the near end talking, and the detector holds that for
// kNearHangover blocks (kWeakNearHangover for a lone block under kStrongNearMargin, below). The
// prediction is the largest of the last SetPredictionHold blocks (aec holds 64 ms): an echo that
// comes later than the filter places it (a delay that jumped and that neither the estimator nor
// the filter has caught up with) is not taken for the near end, whose detection then keeps the
// filter's and the suppressor's full strength off the echo; measured on bench-dsp's delay-jump
// scenes with a 48 ms hold, recovery to 20 dB 2.05 -> 0.77 s at 16 kHz and 0.85 -> 0.61 s at 48 kHz
// (64 ms then cost one of aec_echo_test's scenes 42 -> 13.7 dB: a false detection in a loud stretch
// held the suppressor back, which the suppressor's reference test now prevents; processors/aec.h
// has 64 ms's numbers). Against the previous detector (the microphone over the reference's loudest
// block in the span, whose ratio swings 10 dB with speech's dynamics and the room's reverberation
// building up), measured on aec_echo_test's scenes: far-only frames taken for near speech 34-67% ->
// 0-4%, near frames detected 18-54% -> 55-89%.
//
// The gain's first value comes from one block, and a percentile from a few is not one: while
// the filter is young its energy profile underestimates the echo by more at a far end's loud
// onset than in the blocks learned from, and such an onset was taken for the near end (bench-dsp
// single_48k_p0_r1, 0.13 s after the first value, 10 updates later: the microphone 2.06 times
// the expected echo, and the detection's hangover held the suppressor off 0.16 s of echo). So the
// detector waits for kLearningBlocks (the header) updates of the gain before it decides.
// Measured against deciding from the first value, bench-dsp's aec at 16 / 48 kHz: own material
// single talk 39.8 / 35.7 -> 42.4 / 40.6 dB (worst 31.6 / 25.6 -> 34.9 / 34.5), double talk 23.1 /
// 20.5 -> 23.2 / 20.8 dB; other material single talk 39.4 / 36.8 -> 39.8 / 37.0, double talk
// 20.9 / 20.3 -> 20.7 / 20.3 (recoveries over 1 s at 16 kHz 4 -> 5 of 27, the longest 2.21 ->
// 2.26 s). 10 updates fix neither own-material scene; 20 as 40, with other-material double talk a
// little worse (20.5 / 20.2); 80 takes one of own material's double-talk scenes to 10.0 dB.
constexpr double kGainDown = 0.02;
constexpr double kGainUp = 9 * kGainDown;
constexpr double kEchoDominated = 0.35;
constexpr double kNearMargin = 2.0;
// A block over kNearMargin but under kStrongNearMargin times the expected echo, the block before
// it not over kNearMargin, holds a detection kWeakNearHangover blocks (the header) rather than
// kNearHangover. Such lone, weak detections are what a filter re-learning a changed room makes:
// its energy profile under-predicts the new room while the learned gain, learned only where the
// echo dominates, stays where it was (in aec_echo_test's 16 kHz path change with the first delay
// estimate at 100 ms rather than a stray 113 ms first, eight blocks 2.02 to 2.48 times the
// expected echo in the 3 s after the change, each held 30 blocks, kept the near end detected in
// 45 to 100 % of the blocks of its seconds 1 to 2.5 and the suppressor off the echo now and then:
// ERLE 1-3 s after the change 13.4 dB). A near end's own detections come in runs or well over
// the margin: over the double talk of aec_echo_test's five scenes, 2 to 9 % of the blocks over
// kNearMargin were under 2.5 times the expected echo.
constexpr double kStrongNearMargin = 2.5;
constexpr double kFloorShare = 2.0;
// Loud near speech (DetectNear's second test, one that does not go through the filter): the
// microphone's block energy over the loudest reference block in the span, as a log ratio, is
// learned like the echo gain (a running 90th percentile) in the blocks the filter explains with
// no near end detected; a block kLoudNearMargin (10 dB) over it, and kLoudNearFloorShare over
// the microphone's noise floor, has a near end far louder than any echo the far end makes
// there. The ratio swings 10 dB with speech and reverberation, hence the wide margin; a changed
// room or a moved delay leaves it as it was. Measured on its prototype, on the bench-dsp scenes
// (two of single talk, a path change, a delay jump): no block flagged; of the near-end frames of
// double talk, 61 to 95 % where the near end is 20 dB over the echo, 29 to 30 % where it is about
// as loud.
// Found kSustainedLoudBlocks blocks in a row (the header), loud near speech also holds the
// background's adaptation: in a -20 dB room with the near end 20 dB over the echo (bench-dsp's
// double_48k_p1_r2) the background, adapting at the leak's step, began to follow the near end,
// its growing estimate raised that step, and copied into the foreground it cancelled the near
// end (near-end SDR 4.6 dB, where doing nothing leaves 22). The test finds 2 to 3 blocks in a
// row in single talk now and then (a far end's loud onset the learned ratio has not yet seen);
// holding adaptation on every block it finds cost aec_echo_test's 0 dB room its first seconds
// of convergence (ERLE 55.5 -> 24.6 dB), on 3 in a row nothing there. Measured on bench-dsp:
// double_48k_p1_r2 4.6 -> 21.0 dB, double-talk SDR 19.9/16.6 -> 19.8/18.5 dB at 16/48 kHz
// (scenes under 10 dB 1+3 -> 1+2; one 16 kHz scene 22.8 -> 18.2 dB, its filter held while still
// young), single talk 38.5/35.7 -> 38.2/35.7 dB, recovery unchanged.
constexpr double kLoudNearMargin = 10.0;
constexpr double kLoudNearFloorShare = 8.0;
// The microphone's noise floor is the minimum of its block energies, rising by this factor per
// block (about 1 dB a second) to follow a room that gets louder.
constexpr double kFloorRise = 1.002;
// A span of reference below this mean square per FFT point is silence.
constexpr double kSilentSpan = 1e-12;

}  // namespace

void BlockAdaptiveFilter::DetectNear(Channel& channel, double mic_energy) noexcept {
  if (channel.near_blocks > 0) --channel.near_blocks;
  if (channel.loud_near_blocks > 0) --channel.loud_near_blocks;
  if (channel.held_blocks > 0) --channel.held_blocks;
  channel.mic_floor = channel.mic_floor > 0 && mic_energy >= channel.mic_floor
                          ? channel.mic_floor * kFloorRise
                          : mic_energy;
  // The loudest reference block the filter spans (the ring's slots, silent before the first
  // pushes); with the far end silent there is no echo path to compare against.
  const double span = *std::max_element(slot_total_.begin(), slot_total_.end());
  if (!(span > kSilentSpan * fft_size_) || !(mic_energy > 0)) return;
  // The first partitions_ blocks of far end: the filter has not yet learned enough for the
  // foreground's error to say whether the echo dominates.
  if (channel.active_blocks < partitions_) {
    ++channel.active_blocks;
    return;
  }
  // The prediction held over the last hold_blocks_ blocks: an echo later than the filter
  // places it (a delay that jumped, a tail that rings on) is not taken for the near end.
  channel.predictions[channel.next_prediction] = PredictedEcho(channel);
  channel.next_prediction = (channel.next_prediction + 1) % hold_blocks_;
  const double predicted =
      *std::max_element(channel.predictions.begin(), channel.predictions.begin() + hold_blocks_);
  if (!(predicted > 0)) return;
  const bool dominated = channel.foreground_energy < kEchoDominated * channel.mic_energy;
  if (channel.active_blocks == partitions_) {
    // The gain's first value, from the first block the filter explains.
    if (dominated) {
      channel.echo_gain = std::log(mic_energy / predicted);
      channel.reference_gain = std::log(mic_energy / span);
      ++channel.active_blocks;
    }
    return;
  }
  const double expected = std::exp(channel.echo_gain) * predicted + kFloorShare * channel.mic_floor;
  const bool learned = channel.active_blocks > partitions_ + kLearningBlocks;
  const bool over = learned && mic_energy > kNearMargin * expected;
  if (over) {
    // A lone block barely over the margin is weak evidence (kStrongNearMargin).
    const bool strong = channel.over_margin || mic_energy > kStrongNearMargin * expected;
    channel.near_blocks = strong ? kNearHangover : std::max(channel.near_blocks, kWeakNearHangover);
  }
  channel.over_margin = over;
  if (dominated) {
    channel.echo_gain += mic_energy > expected ? kGainUp : -kGainDown;
    if (!learned) ++channel.active_blocks;
  }
  const double reference_ratio = std::log(mic_energy / span);
  const bool loud = reference_ratio > channel.reference_gain + std::log(kLoudNearMargin) &&
                    mic_energy > kLoudNearFloorShare * channel.mic_floor;
  channel.loud_run = loud ? std::min(channel.loud_run + 1, kSustainedLoudBlocks) : 0;
  if (loud) channel.loud_near_blocks = kNearHangover;
  if (channel.loud_run >= kSustainedLoudBlocks) channel.held_blocks = kNearHangover;
  if (dominated && channel.near_blocks == 0) {
    channel.reference_gain += reference_ratio > channel.reference_gain ? kGainUp : -kGainDown;
  }
}

double BlockAdaptiveFilter::PredictedEcho(const Channel& channel) const noexcept {
  double sum = 0;
  for (uint32_t p = 0; p < partitions_; ++p) {
    const uint32_t slot = Slot(p);
    for (uint32_t r = 0; r < references_; ++r) {
      const float* w = channel.foreground.data() + Offset(p, r);
      const float* power = slot_power_.data() + PowerOffset(slot, r);
      for (uint32_t k = 0; k < bins_; ++k) {
        sum += double{w[2 * k] * w[2 * k] + w[2 * k + 1] * w[2 * k + 1]} * power[k];
      }
    }
  }
  // Parseval: the one-sided spectrum's energy over N is the last B samples' (echo, estimate).
  return sum / fft_size_;
}

}  // namespace audioproc
