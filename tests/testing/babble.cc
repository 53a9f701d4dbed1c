#include "tests/testing/babble.h"

#include <cmath>
#include <iterator>
#include <random>

#include "absl/status/status.h"
#include "tests/testing/speech_material.h"

namespace audioproc::testing {

absl::StatusOr<std::vector<float>> MakeBabble(int exclude_voice, size_t frames,
                                              double sample_rate_hz, uint32_t seed, int streams) {
  constexpr int kVoices = static_cast<int>(std::size(kSpeechVoices));
  if (streams < 1 || frames == 0) {
    return absl::InvalidArgumentError("babble needs at least one talker and one frame");
  }
  std::mt19937 rng(seed);
  std::vector<double> sum(frames, 0.0);
  int voice = exclude_voice;
  for (int s = 0; s < streams; ++s) {
    voice = (voice + 1) % kVoices;
    if (voice == exclude_voice) voice = (voice + 1) % kVoices;
    absl::StatusOr<Talk> talk = MakeTalk(voice, seed * 7919u + static_cast<uint32_t>(s));
    if (!talk.ok()) return talk.status();
    if (sample_rate_hz != talk->sample_rate_hz) {
      talk = Resampled(*talk, static_cast<uint32_t>(sample_rate_hz));
      if (!talk.ok()) return talk.status();
    }
    // Only the speech frames: a talk is mostly pauses, and a crowd's pauses do not line up.
    const uint32_t hop = FrameSamples(sample_rate_hz);
    std::vector<float> voiced;
    for (size_t f = 0; f < talk->speech.size(); ++f) {
      if (!talk->speech[f]) continue;
      voiced.insert(voiced.end(), talk->samples.begin() + f * hop,
                    talk->samples.begin() + (f + 1) * hop);
    }
    if (voiced.empty()) return absl::InternalError("a babble talk has no speech frames");
    // Equal loudness per talker, so no one voice dominates the crowd.
    double power = 0.0;
    for (float x : voiced) power += double{x} * x;
    const double scale = 1.0 / std::sqrt(power / voiced.size());
    const size_t offset = std::uniform_int_distribution<size_t>(0, voiced.size() - 1)(rng);
    for (size_t i = 0; i < frames; ++i) sum[i] += scale * voiced[(offset + i) % voiced.size()];
  }
  double power = 0.0;
  for (double x : sum) power += x * x;
  const double scale = power > 0.0 ? 1.0 / std::sqrt(power / frames) : 0.0;
  std::vector<float> out(frames);
  for (size_t i = 0; i < frames; ++i) out[i] = static_cast<float>(scale * sum[i]);
  return out;
}

}  // namespace audioproc::testing
