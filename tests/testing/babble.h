// Babble: a crowd of other talkers, the noise a denoiser finds hardest because it is speech.
// Built from the build's espeak-ng voices (speech_material.h), never including the voice it
// will be mixed with, so a target's own sentences are never in its noise.
#ifndef AUDIOPROC_TESTS_TESTING_BABBLE_H_
#define AUDIOPROC_TESTS_TESTING_BABBLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace audioproc::testing {

// Talkers summed by MakeBabble by default: past about six, single voices stop standing out.
inline constexpr int kBabbleStreams = 8;

// `frames` samples at `sample_rate_hz` of `streams` talks summed, RMS 1. The talks come from
// every kSpeechVoices voice but `exclude_voice` in turn, each with its own seed (from `seed`)
// and started at its own offset, repeated end to end to fill `frames`; their pauses are
// squeezed out first, so the crowd never falls silent together. Reads the speech files and
// resamples: allocates and takes a fraction of a second per talk.
absl::StatusOr<std::vector<float>> MakeBabble(int exclude_voice, size_t frames,
                                              double sample_rate_hz, uint32_t seed,
                                              int streams = kBabbleStreams);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_BABBLE_H_
