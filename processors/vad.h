// vad: voice activity detection, reported as events, with optional muting of non-speech.
//
// Every 10 ms hop of the channels' average gets a speech probability from the likelihood ratio
// of speech over the noise tracked in each bin of 200-4000 Hz (VoiceFeatureExtractor), so
// that white, pink, brown noise and hum are judged alike. A hop more than kVadLevelSpanDb
// below the recent speech level (held at each speech-like hop, falling kVadLevelDecayDbPerHop
// a hop) counts as not speech: a word dying away into the room. A hop more than kVadFarBelowDb
// below the talker's level (the same, falling slower) needs kVadFarBelowEvidence times the
// evidence: a suppressor's residue in the pauses. The decision uses the mean of the last
// kVadSmoothingHops probabilities, with hysteresis and hangover:
//   - speech starts when the mean reaches `threshold`;
//   - while speaking, a hop whose probability is at least threshold - kVadHysteresis is
//     speech-like;
//   - speech stops once `hangover_ms` has passed since the start of the last speech-like hop's
//     analysis window: a shorter pause (between words, an unvoiced consonant) is bridged, a
//     longer one ends the speech (the hangover is counted from the speech, not from the
//     decision).
// Each start and stop is Emitted as a VoiceActivityEvent (active, the mean speech probability)
// at the frame it refers to, which lies before the frame that decided it: a start
// kVadOnsetHops before the run of speech-like hops that set it off (up to kVadSmoothingHops
// back), since a word's first consonant lies under the noise before its vowel stands out and
// the smoothing's decision delay must not shift the reported onset; a stop kVadTailHops after
// the last speech-like hop, where the speech ended (a word's decay and last consonant, which
// the probability lets go of first), not where the hangover ran out. The hangover is how long
// the detector waits to be sure a pause is not inside an utterance; the pause it waited
// through was not speech, so the stop, reported when the hangover runs out, names the frame
// where the speech stopped (at most hangover_ms before the report).
//
// With report_interval_ms, every that many milliseconds (whole hops) a SpeechProbabilityEvent
// reports the mean of the interval's hop probabilities (as the decision saw them, after the
// level rules) and the decision as it stood at the interval's end (through a hangover still
// running, active), at the interval's first frame.
//
// Audio passes through unchanged (no latency) unless `mute`: then the gain falls to zero over
// kVadMuteReleaseMs once the decision says speech stopped (when the hangover runs out: the
// audio is already gone by the time a stop is known) and rises over kVadMuteAttackMs when it starts
// (the decision's delay, 20-40 ms, softens an onset's first syllable rather than cutting it hard).
//
// Thread safety: the definition is a plain value; each VadProcessor is used by one thread at a
// time (Processor's contract). Prepare plans FFTs under the process-wide planner mutex.
#ifndef AUDIOPROC_PROCESSORS_VAD_H_
#define AUDIOPROC_PROCESSORS_VAD_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/vad_features.h"

namespace audioproc {

inline constexpr uint32_t kVadSmoothingHops = 4;
inline constexpr uint32_t kVadOnsetHops = 8;
inline constexpr uint32_t kVadTailHops = 10;
inline constexpr double kVadHysteresis = 0.15;
inline constexpr double kVadLevelSpanDb = 30.0;
inline constexpr double kVadLevelDecayDbPerHop = 0.05;  // 5 dB a second
// A hop more than kVadFarBelowDb below the talker's level (held at each speech-like hop,
// falling kVadTalkerLevelDecayDbPerHop a hop: the level of the talker heard in the last tens of
// seconds) needs kVadFarBelowEvidence times the likelihood ratio to count as speech. What lies
// that far below a talker is a suppressor's residue, whose level swings with its gain, or
// another voice far off; after denoise, bursts of residue 10 dB over its floor were called
// speech in 20-90% of the pauses in pink and brown noise (vad_noise_test.cc measures it).
inline constexpr double kVadFarBelowDb = 20.0;
inline constexpr double kVadFarBelowEvidence = 40.0;
inline constexpr double kVadTalkerLevelDecayDbPerHop = 0.01;  // 1 dB a second
inline constexpr double kVadMuteAttackMs = 5.0;
inline constexpr double kVadMuteReleaseMs = 50.0;

// vad: threshold (0.5, [0, 1], runtime-updatable), hangover_ms (300, [0, 5000] ms), mute
// (false, runtime-updatable), report_interval_ms (0: no reports, [0, 10000] ms).
ProcessorDefinition VadDefinition();

struct VadSettings {
  double threshold = 0.5;
  double hangover_ms = 300.0;
  bool mute = false;
  double report_interval_ms = 0.0;
};

// vad's run-time settings: what an update changes.
struct VadRuntimeSettings {
  std::optional<double> threshold;
  std::optional<bool> mute;
};

class VadProcessor : public UpdatableProcessor<VadRuntimeSettings> {
 public:
  explicit VadProcessor(const VadSettings& settings);

  // Sizes the hop buffers and plans the feature extractor's FFTs. Allocates.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // At most one start or stop per 10 ms hop ended, and one report per interval ended.
  uint32_t MaxEventsPerBlock(uint32_t frames) const override {
    const uint32_t hops = frames / static_cast<uint32_t>(hop_.size()) + 1;
    return hops + (report_hops_ > 0 ? hops / report_hops_ + 1 : 0);
  }
  void Reset() noexcept override;
  // Takes threshold and mute; does not allocate.
  void ApplySettings(const VadRuntimeSettings& settings) noexcept override;
  // The features' history and noise floor, the hop being filled, the decision's memory (its
  // frame counter included: events carry frames), the report interval and the mute gain.
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  bool active() const { return active_; }

 private:
  // Decides on the hop that starts at frame `hop_start`; emits on a change, and a report when
  // the hop ends a report interval.
  void EndHop(uint64_t hop_start) noexcept;
  // The decision on a hop of speech probability `probability` (after the level rules) whose
  // smoothed probability is `mean`; emits a start or stop.
  void Decide(uint64_t hop_start, double probability, double mean) noexcept;
  // Applies the mute gain to frames [offset, offset + frames) of `block`.
  void ApplyMute(AudioBlock& block, uint32_t offset, uint32_t frames) noexcept;

  VadSettings settings_;
  VoiceFeatureExtractor features_;
  uint32_t channels_ = 0;
  uint64_t hangover_frames_ = 0;
  std::vector<float> hop_;  // the channels' average over the current hop
  uint32_t hop_fill_ = 0;
  uint64_t frame_ = 0;  // frames seen since Prepare or Reset

  std::array<double, kVadSmoothingHops> recent_{};  // the last hops' probabilities, a ring
  uint32_t recent_position_ = 0;
  uint32_t speechlike_run_ = 0;  // consecutive hops, up to this one, at or over the threshold
  double speech_level_db_ = -200.0;
  double talker_level_db_ = -200.0;
  bool active_ = false;
  uint64_t start_ = 0;            // frame of the current speech's start
  uint64_t last_speechlike_ = 0;  // first frame of the last speech-like hop
  uint64_t last_stop_ = 0;        // the first frame a new start may take
  uint32_t report_hops_ = 0;      // hops per report; 0: no reports
  uint32_t report_fill_ = 0;      // hops of the current report interval so far
  double report_sum_ = 0.0;       // their probabilities' sum

  float gain_ = 1.0f;  // mute gain, slewing toward 1 or 0
  float attack_step_ = 1.0f;
  float release_step_ = 1.0f;
  std::vector<float> gains_;  // per frame of a run, sized in Prepare
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_VAD_H_
