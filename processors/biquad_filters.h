// The biquad filter processors: Butterworth highpass and lowpass (orders 1 to 8, as a biquad
// cascade) and the RBJ cookbook bandpass, notch, peaking, lowshelf and highshelf.
//
// Each function returns the processor's ProcessorDefinition for the registry: its parameters
// (names are the proto field names), ranges, defaults, cross-parameter checks and factory.
// Frequencies must lie in (0, Nyquist) of the stream. Runtime updates ramp the changed
// parameters (frequency and q geometrically, gain in dB) to their new values over 10 ms,
// redesigning the filter at every sample of the ramp, so there is no zipper noise and the
// output does not depend on how the stream was cut into blocks.
//
//   ProcessorRegistry registry({HighpassDefinition(), LowpassDefinition()});
//
// Thread safety: the definitions are plain values; each processor they create is used by one
// thread at a time.
#ifndef AUDIOPROC_PROCESSORS_BIQUAD_FILTERS_H_
#define AUDIOPROC_PROCESSORS_BIQUAD_FILTERS_H_

#include <optional>

#include "chain/registry.h"

namespace audioproc {

// highpass: cutoff_hz (required, runtime-updatable), q (0.7071, 0.1..40, order 2 only),
// order (2, 1..8). Butterworth; with order 2, q sets the resonance.
// The run-time settings of every filter here: what an update changes. frequency_hz is the
// filter's cutoff_hz or center_hz; q and gain_db only where the filter has them. Each moves to
// its new value over kParameterRampMs, frequency and q geometrically, gain_db linearly.
struct BiquadRuntimeSettings {
  std::optional<double> frequency_hz;
  std::optional<double> q;
  std::optional<double> gain_db;
};

ProcessorDefinition HighpassDefinition();

// lowpass: the same parameters as highpass.
ProcessorDefinition LowpassDefinition();

// bandpass: center_hz (required), q (0.7071, 0.1..40); 0 dB at the center. All runtime-updatable.
ProcessorDefinition BandpassDefinition();

// notch: center_hz (required), q (0.7071, 0.1..40). All runtime-updatable.
ProcessorDefinition NotchDefinition();

// peaking: center_hz (required), q (1, 0.1..40), gain_db (0, -48..48). All runtime-updatable.
ProcessorDefinition PeakingDefinition();

// lowshelf: cutoff_hz (required), gain_db (0, -48..48), q (0.7071, 0.1..40). All
// runtime-updatable.
ProcessorDefinition LowshelfDefinition();

// highshelf: the same parameters as lowshelf.
ProcessorDefinition HighshelfDefinition();

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_BIQUAD_FILTERS_H_
