// Independent double-precision references for the IIR filter processors, and the measurements
// tests compare them with.
//
// The references share no code with processors/biquad_design: Butterworth follows
// scipy.signal.butter step by step (analog prototype poles, frequency transform, bilinear
// transform prewarped at the cutoff, all in zero-pole-gain form) and evaluates |H(e^jw)| from
// the zeros and poles; the RBJ shapes evaluate the Audio EQ Cookbook's unnormalized
// coefficients as a rational function of z = e^jw, and their analog prototypes are available
// to check those in turn.
// Thread safety: pure functions.
#ifndef AUDIOPROC_TESTS_TESTING_REFERENCE_FILTERS_H_
#define AUDIOPROC_TESTS_TESTING_REFERENCE_FILTERS_H_

#include <complex>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"

namespace audioproc::testing {

// A digital filter as zeros, poles and gain: H(z) = gain * prod(z - zeros) / prod(z - poles).
struct Zpk {
  std::vector<std::complex<double>> zeros;
  std::vector<std::complex<double>> poles;
  double gain = 1;
};

// scipy.signal.butter(order, cutoff_hz, "highpass" or "lowpass", output="zpk",
// fs=sample_rate_hz).
Zpk ButterworthZpk(int order, double cutoff_hz, bool highpass, double sample_rate_hz);

// |H(e^jw)| at `frequency_hz`.
double ZpkMagnitude(const Zpk& zpk, double frequency_hz, double sample_rate_hz);

// The Audio EQ Cookbook's shapes.
enum class Cookbook { kLowpass, kHighpass, kBandpass, kNotch, kPeaking, kLowshelf, kHighshelf };

// |H(e^jw)| at `frequency_hz` of the cookbook filter `shape`, from its unnormalized b and a
// coefficients evaluated in complex double.
double CookbookMagnitude(Cookbook shape, double f0_hz, double q, double gain_db,
                         double frequency_hz, double sample_rate_hz);

// The largest pole radius of the cookbook filter `shape`: how slowly its impulse response
// decays (by a factor radius per sample).
double CookbookPoleRadius(Cookbook shape, double f0_hz, double q, double gain_db,
                          double sample_rate_hz);

// |H_a(j W)| of the cookbook's analog prototype of `shape` (normalized to a center of 1 rad/s)
// at W = tan(pi f / fs) / tan(pi f0 / fs): what the prewarped bilinear transform maps
// `frequency_hz` to. Equals CookbookMagnitude exactly in exact arithmetic.
double CookbookPrototypeMagnitude(Cookbook shape, double f0_hz, double q, double gain_db,
                                  double frequency_hz, double sample_rate_hz);

// 20 log10(magnitude), floored at -400 dB.
double ToDb(double magnitude);

// |sum h[n] e^(-j w n)|, the DTFT of a (decayed) impulse response, summed in double.
double DtftMagnitude(std::span<const float> impulse_response, double frequency_hz,
                     double sample_rate_hz);

// The amplitude of the `frequency_hz` sinusoid in `signal`, by a least-squares fit of a sine
// and a cosine (exact for a pure tone of any length and phase).
double ToneAmplitude(std::span<const float> signal, double frequency_hz, double sample_rate_hz);

// Runs mono `input` through a prepared one-channel `processor` in place, in blocks of at most
// `block_frames`.
void RunMono(Processor& processor, std::vector<float>& input, uint32_t block_frames);

// The impulse response of a prepared one-channel `processor`, long enough that its last
// `block_frames` samples are below 1e-11 of its peak, or `max_frames` long.
std::vector<float> ImpulseResponse(Processor& processor, uint32_t block_frames, size_t max_frames);

// A config of processor `name` with numeric parameters, e.g.
// NumericConfig("highpass", {{"cutoff_hz", 80}, {"order", 4}}).
ProcessorConfig NumericConfig(std::string name,
                              std::initializer_list<std::pair<const char*, double>> params);

// Builds `config` through `registry` for a stream of `spec` and prepares it.
absl::StatusOr<std::unique_ptr<Processor>> MakeProcessor(const ProcessorRegistry& registry,
                                                         const ProcessorConfig& config,
                                                         const ProcessSpec& spec);

// Resolves `changes` (runtime-updatable parameters of processor `name`, in range) into the
// processor's typed settings through `registry`'s definition, and applies them to
// `processor`, as Chain::Update does after its validation.
void ApplyUpdate(const ProcessorRegistry& registry, absl::string_view name, Processor& processor,
                 const ParamValues& changes);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_REFERENCE_FILTERS_H_
