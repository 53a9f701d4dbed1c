// Coloured test noises, deterministic (seeded), each at unit RMS: the noises the DSP bars are
// stated for (white, pink, brown and a fan's hum), for mixing with speech at a given SNR.
#ifndef AUDIOPROC_TESTS_TESTING_NOISES_H_
#define AUDIOPROC_TESTS_TESTING_NOISES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace audioproc::testing {

enum class NoiseKind { kWhite, kPink, kBrown, kFan };

inline constexpr NoiseKind kStationaryNoises[] = {NoiseKind::kWhite, NoiseKind::kPink,
                                                  NoiseKind::kBrown, NoiseKind::kFan};

std::string NoiseName(NoiseKind kind);

// `frames` samples of `kind` at `sample_rate_hz`, RMS 1:
//   white: Gaussian;
//   pink:  1/f, Paul Kellet's filter of white noise;
//   brown: 1/f^2, white noise through a leaky integrator (pole 0.998 at 16 kHz, the same
//          corner frequency at other rates);
//   fan:   a motor's hum (50 Hz and its harmonics to 550 Hz, falling as 1/k, random phases)
//          over low-passed noise (a pole at ~80 Hz), equal in power.
std::vector<float> MakeNoise(NoiseKind kind, size_t frames, double sample_rate_hz, uint32_t seed);

// `speech` + `noise` scaled so that the speech's `speech_power` (mean square; the active
// level, not the mean over pauses) stands `snr_db` over the noise's mean square. `noise` is at
// least as long as `speech`.
std::vector<float> MixAtSnr(const std::vector<float>& speech, double speech_power,
                            const std::vector<float>& noise, double snr_db);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_NOISES_H_
