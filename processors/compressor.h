// compressor: a feed-forward dynamic range compressor with an RMS detector, a soft knee and
// attack / release smoothing of the gain in dB; channels are linked (one gain for all).
//
// Per frame, in double precision:
//   1. level L (dBFS RMS): 10 log10 of each channel's mean square, smoothed by a one-pole filter
//      of kCompressorRmsMs, taking the loudest channel (dynamics::LinkedRmsDetector);
//   2. static curve: with threshold T, ratio R, knee width W and over = L - T, the gain
//      reduction is 0 for 2 over <= -W, (1 - 1/R) (over + W/2)^2 / (2W) inside the knee
//      (|2 over| < W), and (1 - 1/R) over above it: the standard quadratic soft knee
//      (Giannoulis, Massberg and Reiss, JAES 2012), so a steady input at L comes out at
//      L - reduction + makeup;
//   3. smoothing: the reduction in dB follows the static one through a one-pole filter whose
//      time constant is attack_ms while the reduction grows and release_ms while it shrinks;
//   4. gain: 10^((makeup_db - reduction) / 20), applied to every channel.
// The level's logarithm (step 1) and the gain's power of ten (step 4), once per frame while
// compressing, are float (fast_math: within 2 ulp, 1e-5 dB), which is a tenth of libm's double
// log10 and pow; the detector, the curve and the smoothing stay double.
// A reduction within 1e-6 dB of its target snaps to it, so below the knee, once released, the
// gain is exactly the makeup (with makeup 0, the output equals the input).
//
// Every parameter is runtime-updatable: an update moves each changed parameter linearly from
// where it is to its new value over dynamics::kRampMs (the ratio through 1/R, so that the curve's
// slope moves evenly), per sample, and the makeup gain with it, so the gain never steps.
//
//   chain: {"compressor", {{"threshold_db", -20.0}, {"ratio", 4.0}}}
//
// Thread safety: the definition is a plain value; each processor it creates is used by one
// thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_COMPRESSOR_H_
#define AUDIOPROC_PROCESSORS_COMPRESSOR_H_

#include <optional>

#include "chain/registry.h"

namespace audioproc {

// The RMS detector's time constant. Short enough to follow a 10 ms attack; long enough that a
// 1 kHz tone's mean square ripples by under 1% (so the gain does not distort it), 100 Hz by
// about 8%.
inline constexpr double kCompressorRmsMs = 10.0;

// compressor: threshold_db (-20, [-80, 0] dB), ratio (4, [1, 100]), knee_db (6, [0, 24] dB),
// attack_ms (10, [0.1, 1000] ms), release_ms (100, [1, 5000] ms), makeup_db (0, [-24, 48]
// dB); all runtime-updatable.
ProcessorDefinition CompressorDefinition();

// compressor's run-time settings: what an update changes. Every parameter ramps over
// dynamics::kRampMs, all of them together.
struct CompressorRuntimeSettings {
  std::optional<double> threshold_db;
  std::optional<double> ratio;
  std::optional<double> knee_db;
  std::optional<double> attack_ms;
  std::optional<double> release_ms;
  std::optional<double> makeup_db;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_COMPRESSOR_H_
