// Speech none of the DSP was tuned on: espeak-ng's voices, made by the build
// (tests/CMakeLists.txt writes AUDIOPROC_SPEECH_DIR/<voice>_<sentence>.wav, 22050 Hz mono),
// strung into a talker's turn with pauses, and labelled by 10 ms frames.
#ifndef AUDIOPROC_TESTS_TESTING_SPEECH_MATERIAL_H_
#define AUDIOPROC_TESTS_TESTING_SPEECH_MATERIAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace audioproc::testing {

// espeak-ng voices, male and female: the build's list (tests/CMakeLists.txt) in this order.
inline constexpr const char* kSpeechVoices[] = {"en-us+m3", "en-us+f3",          "en-gb+m1",
                                                "en-gb+f2", "en-gb-scotland+m5", "en-029+f4"};
inline constexpr int kSpeechSentences = 5;
inline constexpr double kSpeechRateHz = 22050;

struct Talk {
  double sample_rate_hz = 0;
  std::vector<float> samples;  // mono
  // Per 10 ms frame (lround(rate / 100) samples): the clean speech's energy is at least the
  // active level - 30 dB.
  std::vector<bool> speech;
  double active_power = 0;  // mean square over the frames within 40 dB of the loudest
};

// Voice `voice`'s sentences, each trimmed to its sound, scaled by 0.5, after pauses of
// 0.6-1.6 s (from `seed`), and a pause after the last; plus white noise at `floor_dbfs` (a
// real microphone's floor: clean speech is never digital silence).
absl::StatusOr<Talk> MakeTalk(int voice, uint32_t seed, double floor_dbfs = -70.0);

// The same talk at another rate (libsoxr through the resample processor), relabelled.
absl::StatusOr<Talk> Resampled(const Talk& talk, uint32_t sample_rate_hz);

// One talk per kSpeechVoices voice, voice v's from seed `first_seed + v`, at `sample_rate_hz`.
absl::StatusOr<std::vector<Talk>> MakeTalks(uint32_t first_seed, uint32_t sample_rate_hz);

// 10 ms frames of `samples` at `sample_rate_hz` labelled as Talk::speech says, and the active
// level they are measured from.
void Label(Talk& talk);

// Samples per 10 ms frame.
uint32_t FrameSamples(double sample_rate_hz);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_SPEECH_MATERIAL_H_
