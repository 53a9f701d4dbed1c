// loudness: the output's integrated loudness from 3 s on is within 1 LU of the target by the
// tests' own BS.1770 meter (tests/testing/loudness_meter.h, independent of libebur128), for
// speech, noise and music-like material at -30 and -10 LUFS; the gain glides (bounded change
// per 100 ms), stops at max_gain_db, holds through silence; events; chunking; validation.
#include "processors/loudness.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "chain/chain.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/event_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/loudness_meter.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wav.h"

namespace audioproc {
namespace {

using ::audioproc::testing::IntegratedLufs;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint32_t kRate = 16000;

constexpr auto LoudnessRegistry = testing::RegistryOf<LoudnessDefinition>;

ProcessorConfig Loudness(double target_lufs, double max_gain_db = 20.0) {
  ProcessorConfig config{"loudness", {}};
  config.params.Set("target_lufs", target_lufs);
  config.params.Set("max_gain_db", max_gain_db);
  return config;
}

// `mono` scaled so that the reference meter reads `lufs`.
std::vector<float> AtLoudness(std::vector<float> mono, double lufs) {
  const double gain = std::pow(10.0, (lufs - IntegratedLufs({mono}, kRate)) / 20.0);
  for (float& x : mono) x = static_cast<float>(x * gain);
  return mono;
}

// The demo utterance (5.4 s, with its pauses) repeated to `seconds`.
std::vector<float> Speech(double seconds) {
  absl::StatusOr<testing::WavAudio> wav =
      testing::ReadWavS16(testing::SourcePath("clients/demo/speech_16k.wav"));
  EXPECT_TRUE(wav.ok()) << wav.status();
  if (!wav.ok() || wav->samples.empty()) return {};
  std::vector<float> out(static_cast<size_t>(seconds * kRate));
  for (size_t i = 0; i < out.size(); ++i) out[i] = wav->samples[i % wav->samples.size()];
  return out;
}

// White noise through a one-pole low pass: a steady, broadband hiss.
std::vector<float> Noise(double seconds) {
  std::vector<float> out = testing::WhiteNoise(static_cast<size_t>(seconds * kRate), 0.5, 17);
  float state = 0;
  for (float& x : out) x = state = 0.7f * state + 0.3f * x;
  return out;
}

// Chords of harmonic tones with a beat (2 Hz) and phrases 6 dB apart every 4 s: music-like
// dynamics that a normalizer must not follow.
std::vector<float> MusicLike(double seconds) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> pick(0, 1);
  const size_t frames = static_cast<size_t>(seconds * kRate);
  std::vector<float> out(frames);
  constexpr double kRoots[] = {110.0, 146.8, 164.8, 130.8};
  for (size_t i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) / kRate;
    const size_t phrase = static_cast<size_t>(t / 4);
    const double root = kRoots[phrase % 4];
    const double level = phrase % 2 == 0 ? 1.0 : 0.5;
    const double beat = 0.6 + 0.4 * std::pow(std::sin(M_PI * 2 * t), 2);
    double x = 0;
    for (int h = 1; h <= 6; ++h) {
      x +=
          std::sin(2 * M_PI * root * h * t) / h + 0.5 * std::sin(2 * M_PI * root * 1.5 * h * t) / h;
    }
    out[i] = static_cast<float>(0.1 * level * beat * x + 0.002 * (pick(rng) - 0.5));
  }
  return out;
}

struct StreamRun {
  std::vector<float> output;
  std::vector<LoudnessEvent> events;
  std::vector<uint64_t> event_frames;
};

// Streams mono f32 `input` through `chain` in 20 ms chunks, collecting loudness events.
StreamRun Stream(const std::vector<float>& input, std::vector<ProcessorConfig> chain) {
  const PipelineConfig config =
      testing::SameFormat(SampleEncoding::kF32, kRate, 1, std::move(chain));
  absl::StatusOr<testing::StreamResult> result = testing::RunCollectingEvents(
      LoudnessRegistry(), config, testing::ToF32Bytes(input), {kRate / 50 * 4});
  EXPECT_TRUE(result.ok()) << result.status();
  StreamRun run;
  if (!result.ok()) return run;
  run.output = testing::FromF32Bytes(result->output);
  for (const ProcessorEvent& event : result->events) {
    if (const auto* loudness = std::get_if<LoudnessEvent>(&event.payload)) {
      run.events.push_back(*loudness);
      run.event_frames.push_back(event.frame);
    }
  }
  return run;
}

struct Case {
  const char* material;
  double input_lufs;
  double target_lufs;
};

class LoudnessTargetTest : public ::testing::TestWithParam<Case> {};

TEST_P(LoudnessTargetTest, OutputFrom3SecondsOnIsWithin1LuOfTheTarget) {
  const Case c = GetParam();
  const std::string material = c.material;
  constexpr double kSeconds = 30;
  const std::vector<float> source = material == "speech"  ? Speech(kSeconds)
                                    : material == "noise" ? Noise(kSeconds)
                                                          : MusicLike(kSeconds);
  const std::vector<float> input = AtLoudness(source, c.input_lufs);
  const StreamRun run = Stream(input, {Loudness(c.target_lufs)});
  ASSERT_EQ(run.output.size(), input.size());
  const double output_lufs = IntegratedLufs({run.output}, kRate, 3.0);
  EXPECT_NEAR(output_lufs, c.target_lufs, 1.0);
  RecordProperty("output_lufs", std::to_string(output_lufs));

  // No pumping: the gain never moves more than kMaxGainStepDb per 100 ms, and once settled
  // (from 10 s on) it stays within a narrow band (the music-like phrases are 6 dB apart),
  // moving by hundredths of a dB per 100 ms.
  ASSERT_GT(run.events.size(), 250u);
  double settled_min = 1e9, settled_max = -1e9, settled_step = 0;
  for (size_t i = 1; i < run.events.size(); ++i) {
    const double step = std::abs(run.events[i].gain_db - run.events[i - 1].gain_db);
    EXPECT_LE(step, kMaxGainStepDb + 1e-4) << "event " << i;
    if (i >= 100) {
      settled_min = std::min<double>(settled_min, run.events[i].gain_db);
      settled_max = std::max<double>(settled_max, run.events[i].gain_db);
      settled_step = std::max(settled_step, step);
    }
  }
  EXPECT_LT(settled_max - settled_min, 1.5);
  EXPECT_LT(settled_step, 0.05);
  RecordProperty("settled_gain_range_db", std::to_string(settled_max - settled_min));
  RecordProperty("settled_max_step_db", std::to_string(settled_step));
}

INSTANTIATE_TEST_SUITE_P(Materials, LoudnessTargetTest,
                         ::testing::Values(Case{"speech", -30, -23}, Case{"speech", -10, -16},
                                           Case{"speech", -30, -16}, Case{"speech", -10, -23},
                                           Case{"noise", -30, -23}, Case{"noise", -10, -16},
                                           Case{"music", -30, -23}, Case{"music", -10, -16}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.material) + "At" +
                                  std::to_string(static_cast<int>(-info.param.input_lufs)) + "To" +
                                  std::to_string(static_cast<int>(-info.param.target_lufs));
                         });

TEST(LoudnessTest, GainStopsAtMaxGainDb) {
  const std::vector<float> input = AtLoudness(Speech(20), -60);
  const StreamRun run = Stream(input, {Loudness(-16, 20)});
  double most = -1e9;
  for (const LoudnessEvent& event : run.events) most = std::max<double>(most, event.gain_db);
  EXPECT_LE(most, 20.0);
  EXPECT_GT(most, 19.9);  // it does get there
  EXPECT_NEAR(IntegratedLufs({run.output}, kRate, 10.0), -40.0, 1.0);
}

TEST(LoudnessTest, SilenceDoesNotPushTheGainUp) {
  std::vector<float> input = AtLoudness(Speech(15), -30);
  input.resize(input.size() + 15 * kRate, 0.0f);  // 15 s of silence after the speech
  const StreamRun run = Stream(input, {Loudness(-16)});
  ASSERT_EQ(run.events.size(), 300u);
  // 0.5 s after the speech its last block has left the meter. From then on the estimate
  // holds: the gain only finishes its glide to where the speech put it (+14 dB), instead of
  // climbing toward max_gain_db as an ungated normalizer would.
  const float at_silence = run.events[155].gain_db;
  EXPECT_NEAR(at_silence, 14.0f, 1.0f);
  for (size_t i = 155; i < run.events.size(); ++i) {
    EXPECT_NEAR(run.events[i].gain_db, at_silence, 0.2) << "event " << i;
  }
  EXPECT_NEAR(run.events.back().gain_db, run.events[250].gain_db, 0.01);
}

TEST(LoudnessTest, TargetUpdateGlidesToTheNewTarget) {
  const std::vector<float> input = AtLoudness(Speech(40), -20);
  const PipelineConfig config =
      testing::SameFormat(SampleEncoding::kF32, kRate, 1, {Loudness(-16)});
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(LoudnessRegistry(), config);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const std::string bytes = testing::ToF32Bytes(input);
  const size_t half = bytes.size() / 2;  // 20 s, a whole number of frames
  std::string output;
  (*pipeline)->ProcessChunk(absl::string_view(bytes).substr(0, half), &output);
  ProcessorConfig update{"loudness", {}};
  update.params.Set("target_lufs", -26.0);
  ASSERT_THAT((*pipeline)->chain().Update(0, update), testing::IsOk());
  (*pipeline)->ProcessChunk(absl::string_view(bytes).substr(half), &output);
  (*pipeline)->Finish(&output);
  const std::vector<float> out = testing::FromF32Bytes(output);
  std::vector<float> first(out.begin(), out.begin() + out.size() / 2);
  std::vector<float> second(out.begin() + out.size() / 2, out.end());
  EXPECT_NEAR(IntegratedLufs({first}, kRate, 3.0), -16.0, 1.0);
  EXPECT_NEAR(IntegratedLufs({second}, kRate, 8.0), -26.0, 1.0);

  std::vector<float> gains;
  for (const ProcessorEvent& event : (*pipeline)->TakeEvents()) {
    gains.push_back(std::get<LoudnessEvent>(event.payload).gain_db);
  }
  ASSERT_EQ(gains.size(), 400u);
  // A glide of about 10 dB: no step above kMaxGainStepDb, and it takes seconds.
  for (size_t i = 201; i < gains.size(); ++i) {
    EXPECT_LE(std::abs(gains[i] - gains[i - 1]), kMaxGainStepDb + 1e-4) << "event " << i;
  }
  EXPECT_GT(gains[205], gains[199] - 3.0f);
  EXPECT_NEAR(gains.back(), gains[199] - 10.0f, 1.5f);
}

TEST(LoudnessTest, EventsEvery100MsReportTheInputsLoudness) {
  // A steady stereo tone whose loudness the reference meter knows block by block, at 48 kHz,
  // where BS.1770 fixes the K-weighting coefficients for both meters.
  constexpr uint32_t kToneRate = 48000;
  const std::vector<float> tone =
      testing::Sine(1000, kToneRate, 4 * kToneRate, std::pow(10.0, -23 / 20.0));
  const PipelineConfig config =
      testing::SameFormat(SampleEncoding::kF32, kToneRate, 2, {Loudness(-23)});
  absl::StatusOr<testing::StreamResult> result = testing::RunCollectingEvents(
      LoudnessRegistry(), config, testing::ToF32Bytes(testing::Interleave({tone, tone})), {4000});
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<double> blocks = testing::BlockLoudness({tone, tone}, kToneRate);
  ASSERT_EQ(result->events.size(), 40u);
  for (size_t k = 0; k < result->events.size(); ++k) {
    EXPECT_EQ(result->events[k].frame, (k + 1) * kToneRate / 10);
    const auto& event = std::get<LoudnessEvent>(result->events[k].payload);
    if (k >= 3) {
      // The 400 ms block that ends at this event's frame.
      EXPECT_NEAR(event.momentary_lufs, blocks[k - 3], 0.01) << "event " << k;
      // libebur128 keeps integrated loudness in a histogram of 0.1 LU bins.
      EXPECT_NEAR(event.integrated_lufs, -23.0, 0.1) << "event " << k;
    }
    if (k >= 29) {
      EXPECT_NEAR(event.short_term_lufs, -23.0, 0.01) << "event " << k;
    }
  }
}

TEST(LoudnessTest, ShortTermLoudnessIsTheLast3SecondsOfTheReferenceMeter) {
  // A tone whose level steps every 700 ms, so each 3 s window holds a different mix; the
  // events' short-term reading is checked against K-weighted energy over exactly that window.
  constexpr uint32_t kToneRate = 48000;
  std::vector<float> left = testing::Sine(1000, kToneRate, 6 * kToneRate, 1.0);
  std::vector<float> right = testing::Sine(300, kToneRate, 6 * kToneRate, 1.0);
  for (size_t i = 0; i < left.size(); ++i) {
    const float level = std::pow(10.0f, (-40.0f + 5.0f * static_cast<float>(i / 33600 % 5)) / 20);
    left[i] *= level;
    right[i] *= level;
  }
  const PipelineConfig config =
      testing::SameFormat(SampleEncoding::kF32, kToneRate, 2, {Loudness(-23)});
  absl::StatusOr<testing::StreamResult> result = testing::RunCollectingEvents(
      LoudnessRegistry(), config, testing::ToF32Bytes(testing::Interleave({left, right})),
      {4000, 333});
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<double> k_left = testing::KWeighted(left, kToneRate);
  const std::vector<double> k_right = testing::KWeighted(right, kToneRate);
  ASSERT_EQ(result->events.size(), 60u);
  for (size_t k = 29; k < result->events.size(); ++k) {
    const uint64_t end = result->events[k].frame;
    double energy = 0;
    for (uint64_t i = end - 3 * kToneRate; i < end; ++i) {
      energy += k_left[i] * k_left[i] + k_right[i] * k_right[i];
    }
    const double reference = -0.691 + 10 * std::log10(energy / (3 * kToneRate));
    EXPECT_NEAR(std::get<LoudnessEvent>(result->events[k].payload).short_term_lufs, reference, 0.01)
        << "event " << k;
  }
}

TEST(LoudnessTest, SilenceReadsTheFloorInEvents) {
  const StreamRun run = Stream(std::vector<float>(kRate, 0.0f), {Loudness(-16)});
  ASSERT_EQ(run.events.size(), 10u);
  EXPECT_EQ(run.events.back().momentary_lufs, kLoudnessFloorLufs);
  EXPECT_EQ(run.events.back().integrated_lufs, kLoudnessFloorLufs);
  EXPECT_EQ(run.events.back().gain_db, 0.0f);
}

TEST(LoudnessTest, OutputAndEventsDoNotDependOnChunking) {
  const std::vector<float> input = AtLoudness(Speech(3), -30);
  const PipelineConfig config =
      testing::SameFormat(SampleEncoding::kF32, kRate, 1, {Loudness(-16)});
  const std::string bytes = testing::ToF32Bytes(input);
  testing::ExpectChunkingInvariant(config, bytes, LoudnessRegistry());
  absl::StatusOr<testing::StreamResult> whole =
      testing::RunCollectingEvents(LoudnessRegistry(), config, bytes, {bytes.size()});
  ASSERT_TRUE(whole.ok()) << whole.status();
  for (const std::vector<size_t>& chunking :
       {std::vector<size_t>{4}, std::vector<size_t>{28}, std::vector<size_t>{4 * 1777 + 3}}) {
    absl::StatusOr<testing::StreamResult> run =
        testing::RunCollectingEvents(LoudnessRegistry(), config, bytes, chunking);
    ASSERT_TRUE(run.ok()) << run.status();
    ASSERT_EQ(run->events.size(), whole->events.size());
    for (size_t i = 0; i < run->events.size(); ++i) {
      const auto& a = std::get<LoudnessEvent>(run->events[i].payload);
      const auto& b = std::get<LoudnessEvent>(whole->events[i].payload);
      EXPECT_EQ(run->events[i].frame, whole->events[i].frame);
      EXPECT_EQ(a.momentary_lufs, b.momentary_lufs);
      EXPECT_EQ(a.short_term_lufs, b.short_term_lufs);
      EXPECT_EQ(a.integrated_lufs, b.integrated_lufs);
      EXPECT_EQ(a.gain_db, b.gain_db);
    }
  }
}

TEST(LoudnessTest, RefusesParametersOutOfRangeNamingThem) {
  const ProcessSpec input{48000, 1024, 2};
  EXPECT_THAT(LoudnessRegistry().Resolve(Loudness(-70), input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("loudness.target_lufs must be in [-60, -5] LUFS, got -70")));
  EXPECT_THAT(LoudnessRegistry().Resolve(Loudness(-3), input),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("loudness.target_lufs")));
  EXPECT_THAT(LoudnessRegistry().Resolve(Loudness(-16, 61), input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("loudness.max_gain_db must be in [0, 60] dB, got 61")));
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(LoudnessRegistry(), {Loudness(-16)}, input);
  ASSERT_TRUE(chain.ok()) << chain.status();
  ProcessorConfig update{"loudness", {}};
  update.params.Set("max_gain_db", 10.0);
  EXPECT_THAT((*chain)->ValidateUpdate(0, update),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_gain_db")));
}

TEST(LoudnessTest, DefaultsAreMinus16LufsAnd20Db) {
  absl::StatusOr<ParamValues> resolved =
      LoudnessRegistry().Resolve({"loudness", {}}, ProcessSpec{48000, 1024, 2});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->Number("target_lufs"), -16.0);
  EXPECT_EQ(resolved->Number("max_gain_db"), 20.0);
}

}  // namespace
}  // namespace audioproc
