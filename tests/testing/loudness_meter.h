// A reference loudness meter for tests, per ITU-R BS.1770-4, written independently of the
// loudness processor (which uses libebur128): its own K-weighting design, filtering and
// gating, checked against the standard's coefficient table and EBU Tech 3341 test signals.
//
// K-weighting is the standard's two stages, a high shelf (+4 dB above about 1.5 kHz) and a
// high pass (about 38 Hz), each a biquad run in double precision. BS.1770 tabulates them only
// for 48 kHz; for other rates both are designed from their analog prototypes by the bilinear
// transform, with the prototype constants that reproduce the 48 kHz table to 1e-10.
//
// Integrated loudness: mean squares of the K-weighted channels over 400 ms blocks starting
// every 100 ms (75% overlap), summed with channel weights G_i; blocks below -70 LUFS
// (absolute gate) and then more than 10 LU below the mean of the remaining blocks (relative
// gate) are dropped; the result is -0.691 + 10 log10 of the mean of what is left. Channel
// weights: 1.0 for every channel, except six-channel (5.1: L R C LFE Ls Rs) input, where LFE
// counts 0 and the surrounds 1.41.
//
//   double lufs = IntegratedLufs({left, right}, 48000);
//   double settled = IntegratedLufs({out}, 16000, /*skip_seconds=*/3.0);
//
// Thread safety: free functions without shared state; safe from any thread.
#ifndef AUDIOPROC_TESTS_TESTING_LOUDNESS_METER_H_
#define AUDIOPROC_TESTS_TESTING_LOUDNESS_METER_H_

#include <array>
#include <cstddef>
#include <vector>

namespace audioproc::testing {

// A biquad b0 + b1 z^-1 + b2 z^-2 over 1 + a1 z^-1 + a2 z^-2.
struct MeterBiquad {
  double b0, b1, b2, a1, a2;
};

// The two K-weighting stages (shelf, then high pass) for `rate` Hz.
std::array<MeterBiquad, 2> KWeightingFilters(double rate);

// `samples` through both K-weighting stages, in double precision from a zero state.
std::vector<double> KWeighted(const std::vector<float>& samples, double rate);

// The loudness (LUFS) of each 400 ms block, one starting every 100 ms, of equally long
// channels (block k covers seconds [0.1 k, 0.1 k + 0.4)). Silence reads -infinity.
std::vector<double> BlockLoudness(const std::vector<std::vector<float>>& channels, double rate);

// Gated integrated loudness in LUFS; -infinity when no block passes the gates (silence, or
// less than 400 ms of audio).
double IntegratedLufs(const std::vector<std::vector<float>>& channels, double rate);

// The same over the blocks that start `skip_seconds` or more into the audio. The K-weighting
// filters still run from the start, so what came before only leaves its proper filter state.
double IntegratedLufs(const std::vector<std::vector<float>>& channels, double rate,
                      double skip_seconds);

// Splits interleaved samples into `channels` planar channels (a convenience for the above).
std::vector<std::vector<float>> Deinterleave(const std::vector<float>& interleaved,
                                             size_t channels);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_LOUDNESS_METER_H_
