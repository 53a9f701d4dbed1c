// eq: a parametric equalizer of up to kMaxEqBands bands, each one RBJ cookbook biquad.
//
// Each band is a record: type (one of PEAKING, LOWSHELF, HIGHSHELF, LOWPASS, HIGHPASS,
// BANDPASS, NOTCH, the proto's EqBandType names; required), freq_hz (required, in (0, Nyquist):
// the center of PEAKING, BANDPASS and NOTCH, the midpoint of the shelves, the cutoff of LOWPASS
// and HIGHPASS), q (0.7071, [0.1, 40]) and gain_db (0, [-48, 48] dB; PEAKING and the shelves
// only). The band designs are those of the single-filter processors (biquad_design.h: the
// shelves, peaking, bandpass and notch from the cookbook, LOWPASS / HIGHPASS its second-order
// LPF / HPF of quality q), run in series in one double-precision cascade, so the response is the
// product of the bands' responses. No bands: the signal passes unchanged.
//
// Bands are set when the stream starts; they are not runtime-updatable (a chain update that
// names eq.bands is refused).
//
//   bands: [{type: LOWSHELF, freq_hz: 120, gain_db: 3}, {type: PEAKING, freq_hz: 2500, q: 2,
//            gain_db: -4}]
//
// Thread safety: the definition is a plain value; each processor it creates is used by one
// thread at a time (Processor's contract).
#ifndef AUDIOPROC_PROCESSORS_EQ_H_
#define AUDIOPROC_PROCESSORS_EQ_H_

#include "chain/registry.h"

namespace audioproc {

// The most bands an eq takes (DESIGN §4).
inline constexpr int kMaxEqBands = 16;

// eq: bands (a list of at most kMaxEqBands records of type, freq_hz, q, gain_db), not
// runtime-updatable.
ProcessorDefinition EqDefinition();

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_EQ_H_
