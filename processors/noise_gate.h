// noise_gate: a gate / downward expander with hold; channels are linked (one gain for all).
//
// Per frame:
//   1. level (dBFS RMS, as the compressor's): each channel's mean square smoothed by a one-pole
//      filter of kNoiseGateRmsMs, taking the loudest channel (dynamics::LinkedRmsDetector);
//   2. state: open while the level is at or above threshold_db and for hold_ms after it last
//      was; closed otherwise, and before any signal has reached the threshold;
//   3. gain in dB: heads for 0 dB when open and for range_db when closed, through a one-pole
//      filter with time constant attack_ms while rising (opening) and release_ms while falling
//      (closing), and snaps to its target within 1e-4 dB;
//   4. 10^(gain / 20) is applied to every channel.
// So a steady signal below the threshold comes out attenuated by exactly range_db (-100 dB:
// a gate; -6 dB: a gentle expander) and one above it exactly as it came in.
//
// Every parameter is runtime-updatable. threshold_db, range_db, attack_ms and release_ms move
// linearly to a new value over dynamics::kRampMs, per sample, so a change of range while closed
// fades rather than steps; hold_ms applies from the next frame (it decides only when the gate
// starts to close, never where its gain is).
//
//   chain: {"noise_gate", {{"threshold_db", -45.0}, {"range_db", -60.0}}}
//
// Thread safety: the definition is a plain value; each processor it creates is used by one
// thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_NOISE_GATE_H_
#define AUDIOPROC_PROCESSORS_NOISE_GATE_H_

#include <optional>

#include "chain/registry.h"

namespace audioproc {

// The level detector's time constant: quick enough that the gate opens within a fraction of a
// millisecond of a 30 dB rise and sees the level fall within tens of milliseconds; the mean
// square of a 100 Hz tone ripples by about 16% (0.7 dB), which the hold time bridges.
inline constexpr double kNoiseGateRmsMs = 5.0;

// noise_gate: threshold_db (-50, [-100, 0] dB), range_db (-40, [-100, 0] dB), attack_ms (1,
// [0.1, 1000] ms), hold_ms (50, [0, 5000] ms), release_ms (100, [1, 5000] ms); all
// runtime-updatable.
ProcessorDefinition NoiseGateDefinition();

// noise_gate's run-time settings: what an update changes. threshold_db, range_db, attack_ms
// and release_ms ramp over dynamics::kRampMs, together; hold_ms applies at once.
struct NoiseGateRuntimeSettings {
  std::optional<double> threshold_db;
  std::optional<double> range_db;
  std::optional<double> attack_ms;
  std::optional<double> hold_ms;
  std::optional<double> release_ms;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_NOISE_GATE_H_
