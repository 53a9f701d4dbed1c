// vad: events at the frames of each change and identical whatever the chunking, pass-through,
// smooth muting, validation, finite output. Its accuracy in noise, on six voices it was not
// tuned on, is vad_noise_test.cc's.
#include "processors/vad.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/chain.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/event_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/noises.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wav.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Proc;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint32_t kRate = 16000;
constexpr size_t kHop = kRate / 100;  // a scored frame: 10 ms

constexpr auto Registry = testing::RegistryOf<VadDefinition>;

enum Label { kSilence, kSpeech, kPink };

// A stream of 10 ms frames, each labelled.
struct Labelled {
  std::vector<float> audio;
  std::vector<Label> labels;
};

// White Gaussian noise at `rms`.
std::vector<float> White(size_t n, double rms, uint32_t seed) {
  std::vector<float> out = testing::MakeNoise(testing::NoiseKind::kWhite, n, kRate, seed);
  for (float& x : out) x *= static_cast<float>(rms);
  return out;
}

// The demo utterance, its 10 ms frames labelled: the span from the first to the last frame
// within 40 dB of its loudest is speech (pauses inside an utterance are speech, which is what
// the hangover is for), the file's lead-in and tail silence.
struct Utterance {
  std::vector<float> samples;
  std::vector<Label> labels;
  double rms = 0;  // over the speech span
};

Utterance LoadUtterance() {
  absl::StatusOr<testing::WavAudio> wav =
      testing::ReadWavS16(testing::SourcePath("clients/demo/speech_16k.wav"));
  EXPECT_TRUE(wav.ok()) << wav.status();
  Utterance u;
  if (!wav.ok()) return u;
  EXPECT_EQ(wav->sample_rate_hz, kRate);
  u.samples = wav->samples;
  u.samples.resize(u.samples.size() / kHop * kHop);
  const size_t frames = u.samples.size() / kHop;
  std::vector<double> energy(frames);
  for (size_t f = 0; f < frames; ++f) {
    for (size_t i = 0; i < kHop; ++i)
      energy[f] += u.samples[f * kHop + i] * u.samples[f * kHop + i];
  }
  const double peak = *std::max_element(energy.begin(), energy.end());
  size_t first = frames, last = 0;
  for (size_t f = 0; f < frames; ++f) {
    if (energy[f] >= peak * 1e-4) {
      first = std::min(first, f);
      last = f;
    }
  }
  double sum = 0;
  u.labels.assign(frames, kSilence);
  for (size_t f = first; f <= last; ++f) {
    u.labels[f] = kSpeech;
    sum += energy[f];
  }
  u.rms = std::sqrt(sum / ((last - first + 1) * kHop));
  return u;
}

// Pink noise 10 dB under the speech's RMS throughout, steady from the first sample (as a
// room's noise is): 2 s of it alone, the utterance in it, 3 s of it alone.
Labelled LabelledSignal() {
  const Utterance speech = LoadUtterance();
  Labelled s;
  const size_t lead = 2 * kRate, tail = 3 * kRate;
  std::vector<float> noise =
      testing::MakeNoise(testing::NoiseKind::kPink, lead + speech.samples.size() + tail, kRate, 2);
  for (float& x : noise) x *= static_cast<float>(speech.rms * 0.316);
  for (size_t i = 0; i < speech.samples.size(); ++i) noise[lead + i] += speech.samples[i];
  s.audio = noise;
  s.labels.assign(lead / kHop, kPink);
  s.labels.insert(s.labels.end(), speech.labels.begin(), speech.labels.end());
  for (Label& label : s.labels) {
    if (label == kSilence) label = kPink;  // the utterance's own lead-in and tail
  }
  s.labels.resize(s.audio.size() / kHop, kPink);
  return s;
}

TEST(VadTest, EventsMarkEachStartAndStopAndDoNotDependOnChunking) {
  // A quiet room (-80 dBFS of noise), an utterance, the room again.
  const Utterance speech = LoadUtterance();
  std::vector<float> audio = White(kRate / 2, 1e-4, 5);
  const size_t speech_start = audio.size();
  audio.insert(audio.end(), speech.samples.begin(), speech.samples.end());
  const std::vector<float> room = White(kRate, 1e-4, 6);
  audio.insert(audio.end(), room.begin(), room.end());
  const PipelineConfig config =
      SameFormat(SampleEncoding::kS16, kRate, 2, {Proc("vad", {{"mute", true}})});
  const testing::StreamResult whole = testing::ExpectEventsChunkingInvariant(
      Registry(), config, testing::ToS16Bytes(testing::Interleave({audio, audio})));
  // Starts and stops alternate, starting with a start and ending with a stop (the pause
  // between the utterance's two sentences may stop it briefly).
  ASSERT_GE(whole.events.size(), 2u);
  ASSERT_EQ(whole.events.size() % 2, 0u);
  for (size_t i = 0; i < whole.events.size(); ++i) {
    const auto& event = std::get<VoiceActivityEvent>(whole.events[i].payload);
    EXPECT_EQ(event.active, i % 2 == 0) << i;
    // The mean probability that crossed the threshold, up or down (with the hysteresis).
    if (event.active) {
      EXPECT_GE(event.probability, 0.5f) << i;
    } else {
      EXPECT_LT(event.probability, 0.5f - kVadHysteresis) << i;
    }
    if (i > 0) {
      EXPECT_GT(whole.events[i].frame, whole.events[i - 1].frame) << i;
    }
  }
  size_t first = 0, last = 0;
  for (size_t f = 0; f < speech.labels.size(); ++f) {
    if (speech.labels[f] != kSpeech) continue;
    if (first == 0) first = f;
    last = f;
  }
  // The start kVadOnsetHops (80 ms) before the utterance's first frame, within 30 ms; the stop
  // about kVadTailHops (100 ms) after its last frame within 30 dB of its speech, which lies a
  // little before its last frame within 40 dB of its loudest (the labels'): where the speech
  // ended, not where the 300 ms hangover ran out.
  const double start_ms = (static_cast<double>(whole.events[0].frame) -
                           static_cast<double>(speech_start + first * kHop)) *
                          1000.0 / kRate;
  const double stop_ms = (static_cast<double>(whole.events.back().frame) -
                          static_cast<double>(speech_start + (last + 1) * kHop)) *
                         1000.0 / kRate;
  std::printf("[ measured ] vad start %+.0f ms from the utterance, stop %+.0f ms after it\n",
              start_ms, stop_ms);
  EXPECT_GE(start_ms, -110.0);
  EXPECT_LE(start_ms, -50.0);
  EXPECT_GE(stop_ms, 0.0);
  EXPECT_LE(stop_ms, 150.0);
}

TEST(VadTest, PassesAudioThroughUnchangedUnlessMuting) {
  const Labelled signal = LabelledSignal();
  const std::string input = testing::ToF32Bytes(signal.audio);
  absl::StatusOr<std::string> output =
      testing::RunInChunks(SameFormat(SampleEncoding::kF32, kRate, 1, {Proc("vad")}), input,
                           {input.size() + 1}, Registry());
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_TRUE(*output == input);
}

TEST(VadTest, MuteFadesNonSpeechOutSmoothlyAndKeepsSpeech) {
  const Labelled signal = LabelledSignal();
  const std::string input = testing::ToF32Bytes(signal.audio);
  absl::StatusOr<std::string> bytes = testing::RunInChunks(
      SameFormat(SampleEncoding::kF32, kRate, 1, {Proc("vad", {{"mute", true}})}), input,
      {input.size() + 1}, Registry());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::vector<float> output = testing::FromF32Bytes(*bytes);
  ASSERT_EQ(output.size(), signal.audio.size());
  double speech_in = 0, speech_out = 0, noise_in = 0, noise_out = 0;
  for (size_t f = 0; f < signal.labels.size(); ++f) {
    // Noise frames well past the hangover of the utterance before them.
    const bool settled_noise =
        signal.labels[f] == kPink && f >= 50 && signal.labels[f - 50] != kSpeech;
    for (size_t i = f * kHop; i < (f + 1) * kHop; ++i) {
      const double in = signal.audio[i] * signal.audio[i], out = output[i] * output[i];
      if (signal.labels[f] == kSpeech) speech_in += in, speech_out += out;
      if (settled_noise) noise_in += in, noise_out += out;
    }
  }
  const double speech_db = 10 * std::log10(speech_out / speech_in);
  const double noise_db = 10 * std::log10(noise_out / noise_in + 1e-30);
  std::printf("[ measured ] vad mute: speech %.2f dB, noise %.1f dB\n", speech_db, noise_db);
  EXPECT_GT(speech_db, -1.0);
  EXPECT_LT(noise_db, -30.0);
  // Smooth: the gain (output over input) moves by at most one attack step per sample.
  const double step = 1000.0 / (kVadMuteAttackMs * kRate) + 1e-4;
  double previous_gain = -1;
  for (size_t i = 0; i < output.size(); ++i) {
    if (std::fabs(signal.audio[i]) < 1e-3) {
      previous_gain = -1;
      continue;
    }
    const double gain = output[i] / signal.audio[i];
    if (previous_gain >= 0) {
      ASSERT_LE(std::fabs(gain - previous_gain), 2 * step) << i;
    }
    previous_gain = gain;
  }
}

// report_interval_ms: one SpeechProbabilityEvent per interval, at its first frame, whatever the
// chunking; high in the utterance, low in the pink noise around it, and its `active` the state
// the start and stop events give at the interval's end, except where an event names a frame
// before the report that decided it: a start at most kVadSmoothingHops + kVadOnsetHops hops
// back, a stop at most the hangover (300 ms) back.
TEST(VadTest, ReportsTheMeanSpeechProbabilityOfEveryInterval) {
  const Labelled signal = LabelledSignal();
  const PipelineConfig config =
      SameFormat(SampleEncoding::kF32, kRate, 1, {Proc("vad", {{"report_interval_ms", 100.0}})});
  const testing::StreamResult whole =
      testing::ExpectEventsChunkingInvariant(Registry(), config, testing::ToF32Bytes(signal.audio));
  constexpr size_t kInterval = 10 * kHop;
  std::vector<ProcessorEvent> transitions;
  std::vector<ProcessorEvent> reports;
  for (const ProcessorEvent& event : whole.events) {
    (std::holds_alternative<SpeechProbabilityEvent>(event.payload) ? reports : transitions)
        .push_back(event);
  }
  ASSERT_EQ(reports.size(), signal.audio.size() / kInterval);
  ASSERT_GE(transitions.size(), 2u);
  double speech_sum = 0, noise_sum = 0;
  size_t speech_reports = 0, noise_reports = 0, disagreements = 0;
  for (size_t r = 0; r < reports.size(); ++r) {
    EXPECT_EQ(reports[r].frame, r * kInterval);
    const auto& report = std::get<SpeechProbabilityEvent>(reports[r].payload);
    EXPECT_GE(report.probability, 0.0f);
    EXPECT_LE(report.probability, 1.0f);
    // Labels of the interval's hops: all speech, or all noise.
    size_t speech = 0;
    for (size_t f = r * 10; f < (r + 1) * 10; ++f) speech += signal.labels[f] == kSpeech;
    if (speech == 10) {
      speech_sum += report.probability;
      ++speech_reports;
    } else if (speech == 0) {
      noise_sum += report.probability;
      ++noise_reports;
    }
    // The state the transitions give at the interval's last frame.
    const uint64_t end = (r + 1) * kInterval - 1;
    bool active = false;
    for (const ProcessorEvent& t : transitions) {
      if (t.frame <= end) active = std::get<VoiceActivityEvent>(t.payload).active;
    }
    disagreements += active != report.active;
  }
  ASSERT_GT(speech_reports, 10u);
  ASSERT_GT(noise_reports, 30u);
  std::printf("[ measured ] vad reports: mean speech probability %.2f in speech, %.3f in noise\n",
              speech_sum / speech_reports, noise_sum / noise_reports);
  // The utterance's labels hold its pauses and unvoiced consonants too.
  EXPECT_GT(speech_sum / speech_reports, 0.5);
  EXPECT_LT(noise_sum / noise_reports, 0.05);
  // Each start can be placed up to 100 ms, two intervals, before the report that decided it,
  // and each stop up to 300 ms, four intervals.
  EXPECT_LE(disagreements, 6 * (transitions.size() / 2));
}

TEST(VadTest, ReportsNothingByDefault) {
  const Labelled signal = LabelledSignal();
  absl::StatusOr<testing::StreamResult> run = testing::RunCollectingEvents(
      Registry(), SameFormat(SampleEncoding::kF32, kRate, 1, {Proc("vad")}),
      testing::ToF32Bytes(signal.audio), {3200});
  ASSERT_TRUE(run.ok()) << run.status();
  for (const ProcessorEvent& event : run->events) {
    EXPECT_TRUE(std::holds_alternative<VoiceActivityEvent>(event.payload));
  }
}

TEST(VadTest, ValidationNamesTheParameterAndItsRange) {
  const ProcessSpec spec{kRate, 1024, 1};
  EXPECT_THAT(Chain::Build(Registry(), {Proc("vad", {{"threshold", 1.5}})}, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("vad.threshold must be in [0, 1], got 1.5")));
  EXPECT_THAT(Chain::Build(Registry(), {Proc("vad", {{"hangover_ms", -1.0}})}, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("vad.hangover_ms must be in [0, 5000] ms")));
  EXPECT_THAT(Chain::Build(Registry(), {Proc("vad", {{"report_interval_ms", 20000.0}})}, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("vad.report_interval_ms must be in [0, 10000] ms")));
  absl::StatusOr<std::unique_ptr<Chain>> chain = Chain::Build(Registry(), {Proc("vad")}, spec);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_TRUE((*chain)->Update(0, Proc("vad", {{"threshold", 0.7}, {"mute", true}})).ok());
  EXPECT_THAT((*chain)->Update(0, Proc("vad", {{"hangover_ms", 100.0}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("vad.hangover_ms cannot be changed while streaming")));
}

TEST(VadTest, ExtremeInputGivesFiniteOutputAndProbabilities) {
  const float huge = std::numeric_limits<float>::max();
  std::vector<float> input = White(kRate, 0.3, 7);
  for (size_t n = 0; n < input.size(); n += 50) input[n] = n % 100 ? huge : -huge;
  absl::StatusOr<testing::StreamResult> run = testing::RunCollectingEvents(
      Registry(), SameFormat(SampleEncoding::kF32, kRate, 1, {Proc("vad", {{"mute", true}})}),
      testing::ToF32Bytes(input), {4000});
  ASSERT_TRUE(run.ok()) << run.status();
  for (float x : testing::FromF32Bytes(run->output)) ASSERT_TRUE(std::isfinite(x));
  for (const ProcessorEvent& event : run->events) {
    EXPECT_TRUE(std::isfinite(std::get<VoiceActivityEvent>(event.payload).probability));
  }
}

}  // namespace
}  // namespace audioproc
