// Biquad designs: Butterworth highpass / lowpass cascades and the RBJ "Audio EQ Cookbook"
// shapes, all bilinear-transform designs prewarped at their cutoff or center frequency.
//
// Every design returns normalized sections (see biquad.h) in a fixed-capacity BiquadSections,
// computed in double and without allocating, so the filter processors can redesign on the
// audio thread while a parameter ramps.
//
//   BiquadSections lowpass = DesignBiquadFilter(
//       {.type = FilterType::kLowpass, .frequency_hz = 1000, .order = 4}, 48000);
//
// Thread safety: pure functions.
#ifndef AUDIOPROC_DSP_BIQUAD_DESIGN_H_
#define AUDIOPROC_DSP_BIQUAD_DESIGN_H_

#include "dsp/biquad.h"

namespace audioproc {

enum class FilterType {
  kLowpass,    // Butterworth of `order`; with order 2, an RBJ lowpass of quality `q`
  kHighpass,   // Butterworth of `order`; with order 2, an RBJ highpass of quality `q`
  kBandpass,   // RBJ band-pass, 0 dB at the center
  kNotch,      // RBJ notch
  kPeaking,    // RBJ peaking EQ: `gain_db` at the center
  kLowshelf,   // RBJ low shelf: `gain_db` at DC
  kHighshelf,  // RBJ high shelf: `gain_db` at Nyquist
};

// Butterworth's quality factor for a second-order filter, 1/sqrt(2).
inline constexpr double kButterworthQ = 0.70710678118654752;

// What a filter is designed from. Fields a type does not use are ignored.
struct FilterDesign {
  FilterType type = FilterType::kLowpass;
  // Cutoff (lowpass, highpass, shelves) or center (bandpass, notch, peaking); in (0, Nyquist).
  double frequency_hz = 1000;
  double q = kButterworthQ;  // the RBJ shapes, and lowpass / highpass of order 2
  double gain_db = 0;        // peaking and shelves
  int order = 2;             // lowpass / highpass only, 1 to 2 * kMaxBiquadSections
};

// The sections of `design` for a stream at `sample_rate_hz`. Real-time safe. The frequency
// must be in (0, sample_rate_hz / 2), the order in range: callers validate first.
BiquadSections DesignBiquadFilter(const FilterDesign& design, double sample_rate_hz);

// Butterworth lowpass / highpass of `order` (1 to 8) as a cascade: one section per conjugate
// pole pair, lowest quality first, plus a first-order section for odd orders. The magnitude is
// exactly that of scipy.signal.butter: the analog prototype through a bilinear transform
// prewarped at the cutoff.
BiquadSections DesignButterworth(bool highpass, int order, double cutoff_hz, double sample_rate_hz);

// One second-order lowpass / highpass section of quality `q`: the bilinear transform of
// 1 / (s^2 + s/q + 1) prewarped at the cutoff (the RBJ cookbook LPF / HPF).
BiquadCoefficients SecondOrderPass(bool highpass, double cutoff_hz, double q,
                                   double sample_rate_hz);

// The first-order Butterworth lowpass / highpass section, whose zero sits exactly at z = -1
// (lowpass) or z = 1 (highpass), so DC is removed exactly by a highpass.
BiquadCoefficients FirstOrderPass(bool highpass, double cutoff_hz, double sample_rate_hz);

// The RBJ cookbook shape `type` (one of the kBandpass ... kHighshelf types).
BiquadCoefficients RbjBiquad(FilterType type, double frequency_hz, double q, double gain_db,
                             double sample_rate_hz);

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_BIQUAD_DESIGN_H_
