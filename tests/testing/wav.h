// A minimal WAV reader for test material: RIFF/WAVE files of 16-bit PCM, which is what the
// committed speech samples are. Tests need nothing more, and reading them this way keeps the
// test binaries free of libsndfile.
#ifndef AUDIOPROC_TESTS_TESTING_WAV_H_
#define AUDIOPROC_TESTS_TESTING_WAV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace audioproc::testing {

struct WavAudio {
  uint32_t sample_rate_hz = 0;
  uint32_t channels = 0;
  std::vector<float> samples;  // interleaved, s16 / 32768
};

// Reads a 16-bit PCM WAV file. NOT_FOUND if it cannot be opened; INVALID_ARGUMENT if it is
// not RIFF/WAVE with a "fmt " chunk of PCM 16-bit and a "data" chunk.
absl::StatusOr<WavAudio> ReadWavS16(const std::string& path);

// `relative` (e.g. "clients/demo/speech_16k.wav") under the source tree.
std::string SourcePath(const std::string& relative);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_WAV_H_
