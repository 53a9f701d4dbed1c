// Echo scenes for the echo canceller (issue 15), made from material none of the DSP was tuned
// on: a far end's espeak-ng talk (speech_material.h) played by a loudspeaker into a room and
// picked up, delayed and reverberated, by a microphone that may also hear a near-end talker
// (another voice) over its own noise floor.
//
// The room is synthetic: an impulse response of exponentially decaying Gaussian noise (the
// statistical model of a diffuse reverberant tail, Polack 1993) after a direct-path tap, with
// the decay set by RT60 and the whole scaled so that the echo's power stands `echo_level_db`
// from the far end's. The echo path may change mid-scene (a second room of the same
// statistics: someone moved the loudspeaker) or its delay may jump (the bridge's buffering).
//
//   EchoScene scene = *MakeEchoScene({.sample_rate_hz = 16000, .double_talk = true});
//   // run an echo canceller on (scene.mic, scene.reference), then:
//   double erle_db = Erle(scene, out, 2 * 16000, scene.mic.size());
#ifndef AUDIOPROC_TESTS_TESTING_ECHO_MATERIAL_H_
#define AUDIOPROC_TESTS_TESTING_ECHO_MATERIAL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace audioproc::testing {

enum class EchoChange {
  kNone,
  kPathChange,  // from change_at_s on, another room response of the same RT60 and level
  kDelayJump,   // from change_at_s on, the echo `delay_jump_ms` later behind the reference
                // (earlier if negative, down to no delay)
};

struct EchoSceneSpec {
  uint32_t sample_rate_hz = 16000;
  int far_voice = 0;   // kSpeechVoices index of the far end (the reference)
  int near_voice = 1;  // and of the near-end talker (double talk only)
  bool double_talk = false;
  double delay_ms = 100;       // the echo's direct path behind the reference
  double rt60_s = 0.3;         // the room's reverberation time (-60 dB decay)
  double echo_level_db = -10;  // the echo's power relative to the far end's
  double floor_dbfs = -80;     // the microphone's white noise floor (RMS)
  EchoChange change = EchoChange::kNone;
  double change_at_s = 8;
  double delay_jump_ms = 50;
  uint32_t seed = 1;
};

// All signals are mono, at spec.sample_rate_hz, equally long (a whole number of 10 ms frames).
struct EchoScene {
  double sample_rate_hz = 0;
  std::vector<float> mic;        // near + echo + the microphone's floor
  std::vector<float> reference;  // the far end as the bridge sent it to the loudspeaker
  std::vector<float> near;       // the clean near-end talk at the microphone (zeros: single talk)
  std::vector<float> echo;       // the echo alone at the microphone
  // Per 10 ms frame: the echo is active (its energy within 30 dB of its active level) while the
  // near end is silent; and the near end is active (its own labels).
  std::vector<bool> far_only;
  std::vector<bool> near_active;
  size_t change_sample = 0;  // where the path change or delay jump starts; 0 without one
};

absl::StatusOr<EchoScene> MakeEchoScene(const EchoSceneSpec& spec);

// The room's impulse response at `sample_rate_hz`: a direct tap, then decaying Gaussian noise
// for rt60_s, scaled to a total energy (sum of squares) of 10^(level_db / 10), so that white
// noise through it comes out level_db from its input. Deterministic in `seed`.
std::vector<float> RoomResponse(double sample_rate_hz, double rt60_s, double level_db,
                                uint32_t seed);

// Echo return loss enhancement over the far-only frames that lie wholly in [from, to): 10 log10
// of the microphone's energy over the canceller output's there. `out` is time-aligned with the
// microphone and at least as long as `to`. 0 if no frame qualifies.
double Erle(const EchoScene& scene, const std::vector<float>& out, size_t from, size_t to);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_ECHO_MATERIAL_H_
