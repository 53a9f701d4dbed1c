// aec against issue 15's bars on speech material made in the build
// (tests/testing/echo_material.h: espeak-ng voices, synthetic rooms, a microphone floor), at
// 16 and 48 kHz: single-talk ERLE, double-talk near-end fidelity, recovery after an echo path
// change and a delay jump, delay reports, a young filter's loud onset not taken for the near end,
// and a mid-stream suppression update.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "chain/chain.h"
#include "gtest/gtest.h"
#include "processors/aec.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/echo_material.h"
#include "tests/testing/speech_material.h"

namespace audioproc {
namespace {

using testing::EchoChange;
using testing::EchoScene;
using testing::EchoSceneSpec;
using testing::Proc;

constexpr auto Registry = testing::RegistryOf<AecDefinition>;

struct AecRun {
  std::vector<float> out;  // latency dropped, as long as the scene
  std::vector<ProcessorEvent> events;
};

// The scene's (mic, reference) through aec; `update` (if any) applied at `update_sample`.
AecRun RunScene(const EchoScene& scene, double suppression = 1.0,
                const ProcessorConfig* update = nullptr, size_t update_sample = 0) {
  AecRun run;
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(Registry(), {Proc("aec", {{"suppression", suppression}})},
                   ProcessSpec{scene.sample_rate_hz, kDefaultMaxBlockFrames, 2});
  EXPECT_TRUE(chain.ok()) << chain.status();
  if (!chain.ok()) return run;
  auto emit = [&](const AudioBlock& block) {
    run.out.insert(run.out.end(), block.channel(0), block.channel(0) + block.num_frames());
  };
  auto drain = [&] {
    run.events.insert(run.events.end(), (*chain)->events().begin(), (*chain)->events().end());
    (*chain)->ClearEvents();
  };
  const size_t n = scene.mic.size();
  bool updated = update == nullptr;
  for (size_t at = 0; at < n;) {
    size_t frames = std::min<size_t>(kDefaultMaxBlockFrames, n - at);
    if (!updated) {
      if (at == update_sample) {
        EXPECT_TRUE((*chain)->Update(0, *update).ok());
        updated = true;
      } else if (at + frames > update_sample) {
        frames = update_sample - at;
      }
    }
    AudioBlock in = (*chain)->input_buffer().Block(static_cast<uint32_t>(frames));
    std::copy(scene.mic.begin() + at, scene.mic.begin() + at + frames, in.channel(0));
    std::copy(scene.reference.begin() + at, scene.reference.begin() + at + frames, in.channel(1));
    (*chain)->Process(in, emit);
    drain();
    at += frames;
  }
  (*chain)->Flush(emit);
  drain();
  return run;
}

// Near-end fidelity over the frames where the near end speaks, from `from` on.
struct Fidelity {
  double sdr_db = 0;
  double level_db = 0;
};
Fidelity NearEnd(const EchoScene& scene, const std::vector<float>& out, size_t from) {
  const auto frame = static_cast<size_t>(std::lround(scene.sample_rate_hz / 100));
  double near = 0;
  double error = 0;
  double output = 0;
  for (size_t f = 0; f < scene.near_active.size(); ++f) {
    if (!scene.near_active[f] || f * frame < from) continue;
    for (size_t i = f * frame; i < (f + 1) * frame && i < out.size(); ++i) {
      near += double{scene.near[i]} * scene.near[i];
      const double d = double{out[i]} - scene.near[i];
      error += d * d;
      output += double{out[i]} * out[i];
    }
  }
  return {10 * std::log10(near / error), 10 * std::log10(output / near)};
}

// Issue 15's bars.
constexpr double kErleBarDb = 30;
constexpr double kSdrBarDb = 10;
constexpr double kLevelBarDb = 1;
constexpr double kRecoveredErleBarDb = 20;

struct Case {
  uint32_t rate;
  int far_voice;
  int near_voice;
  double delay_ms;
  double rt60_s;
  double echo_level_db;
  uint32_t seed;
  // Where a bar is not reached, what is held against regressions instead (the measurement, less
  // a margin); each printed beside the bar.
  double erle_held_db;
  double sdr_held_db;
  double level_held_db;
};

std::string Name(const Case& c) {
  return absl::StrFormat("%u Hz voices %d/%d delay %.0f ms RT60 %.1f s echo %.0f dB", c.rate,
                         c.far_voice, c.near_voice, c.delay_ms, c.rt60_s, c.echo_level_db);
}

EchoSceneSpec SpecOf(const Case& c) {
  EchoSceneSpec spec;
  spec.sample_rate_hz = c.rate;
  spec.far_voice = c.far_voice;
  spec.near_voice = c.near_voice;
  spec.delay_ms = c.delay_ms;
  spec.rt60_s = c.rt60_s;
  spec.echo_level_db = c.echo_level_db;
  spec.seed = c.seed;
  return spec;
}

const std::vector<Case>& Cases() {
  // Measured (ERLE, SDR, level): 45.8, 23.9, -0.03 | 56.1, 14.3, -0.25 | 34.8, 33.1, -0.01 | 49.2,
  // 12.7, -0.45 | 40.4, 29.5, -0.04 (in double talk a frame the detector missed at the near end's
  // level believed unless aec's probe predicts it, double talk ending only by
  // EchoSuppressor::kDoubleTalkEndSeconds, and the flags the probe predicts not starting it,
  // kPredictableShare: before, 45.8, 23.9, -0.03 | 56.1, 14.1, -0.27 | 34.8, 33.1, -0.01 | 49.2,
  // 11.9, -0.49 | 40.4, 29.6, -0.03; a frame the detector missed at the near end's level left out
  // of the suppressor's reference floor in double talk, EchoSuppressor::kHeldNearShare: before, the
  // 48 kHz 1/0 scene's 11.7, -0.50, the others the same; the suppressor's echo path gain the larger
  // of its recent and its lasting average, EchoSuppressor's kLastingGainSeconds: before, 45.8,
  // 23.9, -0.03 | 56.0, 14.5, -0.25 | 34.5, 33.1, -0.01 | 48.3, 11.9, -0.49 | 40.3, 29.6, -0.03;
  // the adaptive filter's double-talk step where the suppressor believes a near end,
  // BlockAdaptiveFilter::Process's near_elsewhere: before, 45.8, 23.2, -0.04 | 56.0, 13.9, -0.22 |
  // 34.5, 32.9, -0.01 | 48.3, 11.2, -0.49 | 40.3, 29.6, -0.03, the filter alone's SDR 23.0 / 16.1 /
  // 35.0 / 11.1 / 33.3 -> 23.6 / 19.0 / 35.6 / 12.9 / 33.3 dB; a flag the detector holds believed
  // in double talk over a frame about as loud as the near end, EchoSuppressor::kHeldNearShare:
  // before, 45.8, 23.1, -0.04 | 56.0, 13.0, -0.31 | 34.5, 32.9, -0.01 | 48.3, 10.7, -0.56 | 40.3,
  // 29.6, -0.03; the suppressor's double talk a state of the stream,
  // EchoSuppressor::kDoubleTalkExplainedShare, and aec's alignment waiting it out for a far
  // estimate: before, 45.8, 23.0, -0.04 | 56.0, 12.3, -0.38 | 34.5, 32.4, -0.01 | 48.3, 9.3, -0.83
  // | 40.3, 28.7, -0.04, the 48 kHz 1/0 scene short of the SDR bar and held at 9 dB since a lone
  // weak detection was held 5 blocks rather than 30, BlockAdaptiveFilter::kWeakNearHangover, 10.5
  // -> 9.6 dB alone, and the delay estimator's first estimate waited for
  // EchoDelayEstimator::kFirstConfirmations, 10.5 -> 10.0 alone; before both, 45.9, 23.1, -0.04 |
  // 55.0, 12.5, -0.37 | 34.5, 32.3, -0.01 | 41.5, 10.5, -0.69 | 40.3, 28.6, -0.04; the delay
  // estimator's window tapered at its edges, EchoDelayEstimator::kEdgeTaper: before, 34.6, 32.4 |
  // 44.4, 10.9, -0.57 | 40.3, 28.2, the others the same; the near-end detector waiting for its
  // gain's BlockAdaptiveFilter::kLearningBlocks updates: before, 31.6, 22.9, -0.05 | 55.1, 12.0,
  // -0.41, the others the same; the NLMS denominator's floor from the neighbouring bins,
  // dsp/block_adaptive_filter.cc: before, 43.7, 22.1, -0.04 | 55.6, 12.2, -0.38 | 34.7, 32.4, -0.01
  // | 48.7, 9.6, -0.75 | 40.3, 28.5, -0.04; the suppressor over-subtracting a quarter as much where
  // it believes a near end: before, 19.4, -0.15 | 11.7, -0.51 | 28.3, -0.03 | 8.6, -1.17 | 22.8,
  // -0.11 double talk, and 1-3 s after a path change, +50 and -50 ms at 16 / 48 kHz 32.3/43.4/38.4
  // and 30.7/22.8/29.2 dB, now 22.8/43.4/23.6 and 30.7/20.8/24.0; the suppressor's cold start and
  // earlier reference: before, 41.8, 19.5 | 55.1, 12.2 | 33.2, 28.4 | 35.7, 8.8 | 39.8, 23.0; the
  // background's adaptation held under sustained loud near speech: before, 41.8, 20.0 | 55.5, 12.4
  // | 33.2, 28.4 | 35.7, 8.5 | 39.8, 19.3; the suppressor believing a detected near end only where
  // the reference cannot explain the frame, and the detector's prediction held 64 ms: before, 35.6,
  // 20.0 | 53.1, 14.3 | 32.6, 28.4 | 35.3, 8.9 | 36.7, 19.3; the adaptive filter's leak and step
  // held under loud near speech, and the delay estimator not learning from it: before, 19.0 | 14.3
  // | 28.7 | 8.2 | 16.8 dB double talk; the reference floor held as a 0.5 s room decays: before,
  // 35.1 | 51.7 | 31.2 | 35.3 | 36.5 dB single talk). Before the near-end detector on the echo the
  // filter's energy profile predicts (dsp/block_adaptive_filter.cc) and the suppressor's reference
  // floor and stronger over-subtraction without near speech (dsp/echo_suppressor.cc): 30.4, 10.5,
  // -0.77 | 39.5, 14.0, -0.36 | 25.9, 14.4, -0.31 | 24.2, 6.6, -1.97 | 34.3, 13.4, -0.37. The 48
  // kHz 1/0 scene's near end starts 0.3 s after its far end's first words, before the filter has
  // learned the room.
  static const std::vector<Case> cases = {
      {16000, 0, 1, 100, 0.3, -10, 1, kErleBarDb, kSdrBarDb, kLevelBarDb},
      {16000, 2, 3, 30, 0.2, 0, 2, kErleBarDb, kSdrBarDb, kLevelBarDb},
      {16000, 4, 5, 300, 0.5, -20, 3, kErleBarDb, kSdrBarDb, kLevelBarDb},
      {48000, 1, 0, 200, 0.4, -6, 4, kErleBarDb, kSdrBarDb, kLevelBarDb},
      {48000, 3, 2, 50, 0.3, -15, 5, kErleBarDb, kSdrBarDb, kLevelBarDb},
  };
  return cases;
}

// `c`'s single-talk scene through aec into `run`; its ERLE from 2 s, printed.
double SingleTalkErle(const Case& c, AecRun& run) {
  absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(SpecOf(c));
  EXPECT_TRUE(scene.ok()) << scene.status();
  if (!scene.ok()) return 0;
  run = RunScene(*scene);
  EXPECT_EQ(run.out.size(), scene->mic.size());
  if (run.out.size() != scene->mic.size()) return 0;
  const double erle = testing::Erle(*scene, run.out, 2 * size_t{c.rate}, run.out.size());
  std::printf("%s: ERLE %.1f dB\n", Name(c).c_str(), erle);
  return erle;
}

TEST(AecEchoTest, SingleTalkErleAndDelayReports) {
  for (const Case& c : Cases()) {
    absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(SpecOf(c));
    ASSERT_TRUE(scene.ok()) << scene.status();
    const AecRun run = RunScene(*scene);
    ASSERT_EQ(run.out.size(), scene->mic.size());
    const size_t start = 2 * size_t{c.rate};
    const double erle = testing::Erle(*scene, run.out, start, run.out.size());
    std::string delays;
    for (const ProcessorEvent& e : run.events) {
      absl::StrAppendFormat(&delays, " %.2f@%.2fs", std::get<EchoDelayEvent>(e.payload).delay_ms,
                            static_cast<double>(e.frame) / c.rate);
    }
    // Beside it, from 2 s after the far end's first words (the material's talks start 0.7 to
    // 1.7 s in), for the report.
    size_t onset = 0;
    while (onset < scene->far_only.size() && !scene->far_only[onset]) ++onset;
    onset *= testing::FrameSamples(c.rate);
    std::printf(
        "%s: ERLE %.1f dB (from 2 s after the far end's first words at %.2f s: %.1f dB), "
        "delays%s\n",
        Name(c).c_str(), erle, static_cast<double>(onset) / c.rate,
        testing::Erle(*scene, run.out, onset + start, run.out.size()), delays.c_str());
    if (erle < kErleBarDb) {
      std::printf("  short of the %.0f dB bar by %.1f dB\n", kErleBarDb, kErleBarDb - erle);
    }
    EXPECT_GE(erle, std::min(kErleBarDb, c.erle_held_db)) << Name(c);
    // The delay reports: the last within 10 ms of the direct path (measured: 0 to 8.5 ms late,
    // on the room's strongest early reflection), every one within the search range.
    ASSERT_FALSE(run.events.empty()) << Name(c);
    const float last = std::get<EchoDelayEvent>(run.events.back().payload).delay_ms;
    EXPECT_NEAR(last, c.delay_ms + 5, 5.0) << Name(c);
    for (const ProcessorEvent& e : run.events) {
      const float delay = std::get<EchoDelayEvent>(e.payload).delay_ms;
      EXPECT_GE(delay, 0.0f);
      EXPECT_LE(delay, 1000 * kAecMaxDelaySeconds);
    }
  }
}

// A scene of bench-dsp's other material (dsp-echo-material --voice_shift=1 --seed_offset=1000:
// single_16k_p2_r1, not one the canceller was tuned on) where the delay estimator, 9.3 s in and
// with the filter long converged, settled on its longest lag (500 ms) for 0.13 s: realigning
// there took the filter off the room, and the single-talk ERLE was 14.5 dB. Held by the
// converged filter (kAecHoldErleDb): 32.8 dB (35.0 since the NLMS denominator's floor, 33.7 since
// the delay estimator's edge taper, 34.0 since its first estimate's kFirstConfirmations), and no
// report off the room's delay once it is learned.
TEST(AecEchoTest, AConvergedFilterKeepsItsAlignmentThroughAStrayDelayEstimate) {
  const Case c{16000, 5, 0, 250, 0.5, 0, 1029, kErleBarDb, kSdrBarDb, kLevelBarDb};
  AecRun run;
  EXPECT_GE(SingleTalkErle(c, run), kErleBarDb);
  // From 3 s on (the estimator's first guesses come before the filter has learned anything).
  for (const ProcessorEvent& e : run.events) {
    if (e.frame < 3 * size_t{c.rate}) continue;
    EXPECT_NEAR(std::get<EchoDelayEvent>(e.payload).delay_ms, c.delay_ms + 10, 20.0)
        << "at " << static_cast<double>(e.frame) / c.rate << " s";
  }
}

// A scene of bench-dsp's own material (single_48k_p0_r1: 250 ms, RT60 0.5 s, 0 dB) where the
// near-end detector, deciding from its echo gain's first value and 10 updates while the filter
// was young, took a far end's loud onset 2.13 s in for the near end; its hangover held the
// suppressor off 0.16 s of echo, and the single-talk ERLE from 2 s was 25.6 dB. Waiting for
// BlockAdaptiveFilter::kLearningBlocks updates: 47.8 dB (45.8 with the delay estimator's edge
// taper, 44.2 with its first estimate's kFirstConfirmations).
TEST(AecEchoTest, AYoungFiltersLoudOnsetIsNotTakenForTheNearEnd) {
  const Case c{48000, 0, 1, 250, 0.5, 0, 41, kErleBarDb, kSdrBarDb, kLevelBarDb};
  AecRun run;
  EXPECT_GE(SingleTalkErle(c, run), kErleBarDb);
}

TEST(AecEchoTest, DoubleTalkKeepsTheNearEnd) {
  for (const Case& c : Cases()) {
    EchoSceneSpec spec = SpecOf(c);
    spec.double_talk = true;
    absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(spec);
    ASSERT_TRUE(scene.ok()) << scene.status();
    const AecRun run = RunScene(*scene);
    const Fidelity fidelity = NearEnd(*scene, run.out, 2 * c.rate);
    const Fidelity unprocessed = NearEnd(*scene, scene->mic, 2 * c.rate);
    // The adaptive filter alone (suppression 0): what its double-talk control keeps of the near
    // end, before the suppressor takes its share of the residual echo and of the near end.
    const Fidelity linear = NearEnd(*scene, RunScene(*scene, 0.0).out, 2 * c.rate);
    std::printf(
        "%s: double talk SDR %.1f dB (mic %.1f, the adaptive filter alone %.1f), level %+.2f dB "
        "(the filter alone %+.2f)\n",
        Name(c).c_str(), fidelity.sdr_db, unprocessed.sdr_db, linear.sdr_db, fidelity.level_db,
        linear.level_db);
    if (fidelity.sdr_db < kSdrBarDb || std::fabs(fidelity.level_db) > kLevelBarDb) {
      std::printf("  short of the bars (SDR %.0f dB, level within %.0f dB)\n", kSdrBarDb,
                  kLevelBarDb);
    }
    EXPECT_GE(fidelity.sdr_db, std::min(kSdrBarDb, c.sdr_held_db)) << Name(c);
    EXPECT_NEAR(fidelity.level_db, 0.0, std::max(kLevelBarDb, c.level_held_db)) << Name(c);
    // The filter alone meets both bars in every scene (measured 23.0 / 16.1 / 35.0 / 11.1 / 33.3
    // dB, levels +0.00 to +0.29 dB): where the canceller falls short, the suppressor costs the
    // near end more than the echo it removes; a filter the near end had driven off the room
    // would fail here.
    EXPECT_GE(linear.sdr_db, kSdrBarDb) << Name(c);
    EXPECT_NEAR(linear.level_db, 0.0, kLevelBarDb) << Name(c);
  }
}

// A double-talk scene of bench-dsp's other material (double_16k_p2_r1: 250 ms, RT60 0.5 s, 0 dB)
// where the delay estimator, correlating the far end with a near end too, settles on its longest
// lag (497.5 ms) for 0.7 s, 15 s in. Realigning there shifted the filter's taps off the room (and
// back): the filter alone was at -0.7 dB of SDR from 15 s (3.5 dB from 2 s; the canceller 4.1).
// Waiting out the double talk for an estimate further than the alignment margin
// (kAecAlignmentMarginSeconds): 8.1 dB from 15 s (9.0 from 2 s; the canceller 7.9, 8.5 with
// EchoSuppressor::kHeldNearShare, still short of the bar), and no report off the room's delay
// from 3 s on. With the filter's double-talk step where the suppressor believes a near end
// (BlockAdaptiveFilter::Process's near_elsewhere): 9.2 dB from 15 s (9.7 from 2 s; the canceller
// 8.6; 9.2 with the reference floor off a missed near end at its level, 9.8 with the far end's
// over-subtraction off it too where the filter removes the echo). With such a frame believed a
// near end unless aec's probe predicts it, and double talk ending only by
// EchoSuppressor::kDoubleTalkEndSeconds (kHeldNearShare, kPredictableShare): the canceller 10.6
// dB, at the bar.
TEST(AecEchoTest, DoubleTalkDoesNotMoveTheAlignmentFar) {
  const Case c{16000, 5, 0, 250, 0.5, 0, 1030, kErleBarDb, kSdrBarDb, kLevelBarDb};
  EchoSceneSpec spec = SpecOf(c);
  spec.double_talk = true;
  absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(spec);
  ASSERT_TRUE(scene.ok()) << scene.status();
  const AecRun run = RunScene(*scene);
  const AecRun linear = RunScene(*scene, 0.0);
  const Fidelity late = NearEnd(*scene, linear.out, 15 * size_t{c.rate});
  const double canceller = NearEnd(*scene, run.out, 2 * c.rate).sdr_db;
  std::printf("%s: double talk SDR %.1f dB, the filter alone %.1f dB (from 15 s %.1f dB)\n",
              Name(c).c_str(), canceller, NearEnd(*scene, linear.out, 2 * c.rate).sdr_db,
              late.sdr_db);
  EXPECT_GE(late.sdr_db, 6.0);
  EXPECT_GE(canceller, kSdrBarDb);
  for (const ProcessorEvent& e : run.events) {
    if (e.frame < 3 * size_t{c.rate}) continue;
    EXPECT_NEAR(std::get<EchoDelayEvent>(e.payload).delay_ms, c.delay_ms + 10, 30.0)
        << "at " << static_cast<double>(e.frame) / c.rate << " s";
  }
}

// bench-dsp's delay_16k_p2_r1 (250 ms, RT60 0.5 s, 0 dB; 50 ms later at 8 s): the near-end
// detector flags echo the filter leaves, before the jump too, and the reference cannot explain
// all of it. Counted, those flags made the suppressor find double talk (from 6 s) with the near
// end's level at the echo's, and the jump's echo at that level then passed for a near end. aec's
// probe predicts those frames (EchoSuppressor::kPredictableShare), so they do not start double
// talk. Measured 1 to 3 s after the jump 43.9 dB (the first second 14.0). Before, in that false
// double talk: 25.9 dB (13.9) with the far end's over-subtraction kept on the frames the
// detector missed at the near end's level where the filter did not remove the echo, 15.7 dB
// (12.4) with it off every such frame; such frames believed a near end, recovery to 20 dB in
// 4.1 s.
TEST(AecEchoTest, EchoTheProbePredictsDoesNotStartDoubleTalkBeforeADelayJump) {
  const Case c{16000, 4, 5, 250, 0.5, 0, 32, kErleBarDb, kSdrBarDb, kLevelBarDb};
  EchoSceneSpec spec = SpecOf(c);
  spec.change = EchoChange::kDelayJump;
  spec.delay_jump_ms = 50;
  absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(spec);
  ASSERT_TRUE(scene.ok()) << scene.status();
  const AecRun run = RunScene(*scene);
  const size_t at = scene->change_sample;
  const auto second = static_cast<size_t>(c.rate);
  const double first = testing::Erle(*scene, run.out, at, at + second);
  const double after = testing::Erle(*scene, run.out, at + second, at + 3 * second);
  std::printf("%s, delay jump +50 ms: ERLE first second %.1f, after %.1f dB\n", Name(c).c_str(),
              first, after);
  EXPECT_GE(after, kRecoveredErleBarDb);
}

TEST(AecEchoTest, RecoversWithinASecondOfAPathChangeOrADelayJump) {
  for (const Case& c : {Cases()[0], Cases()[3]}) {
    for (EchoChange change : {EchoChange::kPathChange, EchoChange::kDelayJump}) {
      for (double jump : {50.0, -50.0}) {
        if (change == EchoChange::kPathChange && jump < 0) continue;
        EchoSceneSpec spec = SpecOf(c);
        spec.change = change;
        spec.delay_jump_ms = jump;
        absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(spec);
        ASSERT_TRUE(scene.ok()) << scene.status();
        const AecRun run = RunScene(*scene);
        const size_t at = scene->change_sample;
        const auto second = static_cast<size_t>(c.rate);
        const double before = testing::Erle(*scene, run.out, at - 2 * second, at);
        const double first = testing::Erle(*scene, run.out, at, at + second);
        const double after = testing::Erle(*scene, run.out, at + second, at + 3 * second);
        std::printf(
            "%s, %s%s: ERLE before %.1f, first second %.1f, after %.1f dB\n", Name(c).c_str(),
            change == EchoChange::kPathChange ? "path change" : "delay jump",
            change == EchoChange::kPathChange ? "" : absl::StrFormat(" %+.0f ms", jump).c_str(),
            before, first, after);
        // Measured 27.0 to 44.2 dB (16 kHz path change 40.3, delay jump 44.2, 50 ms earlier
        // 43.9; 48 kHz 28.9, 27.0 and 34.5; before aec's probe filter (kAecProbeSeconds) the 16
        // kHz earlier jump's 30.5 (its first second 15.6, now 23.5) and the 48 kHz later one's
        // 23.7; before the suppressor's lasting echo path gain 40.0,
        // 33.0, 21.9 and 27.5, 22.2, 21.2; before the filter's double-talk step followed the
        // suppressor's near end, 40.1 and 27.5, 22.1, 21.4; before the delay estimator's first
        // estimate waited for kFirstConfirmations and the near-end detector held a lone weak
        // detection briefly (kWeakNearHangover), 39.5, 32.6, 21.8 and 27.3, 22.8, 35.1, and with
        // the first alone the 16 kHz path change 13.4: its detector held stray weak detections 30
        // blocks; before the delay estimator's edge taper 29.7, 23.0 and 21.3 at 48 kHz; the 16 kHz
        // path change 24.3 before the near-end detector waited for its gain's updates; before the
        // NLMS denominator's floor from the neighbouring bins 22.8, 43.4, 23.6
        // and 30.7, 20.8, 24.0; before the suppressor's lighter over-subtraction where it believes
        // a near end, 32.3, 43.4, 38.4 and 30.7, 22.8, 29.2: a changed room's echo the detector
        // takes for a near end). Without the suppressor's earlier reference the earlier jumps' 38.2
        // and 20.0 dB (their first seconds 5.1 and 2.5 dB, now 15.6 and 22.4).
        EXPECT_GE(after, kRecoveredErleBarDb) << Name(c);
      }
    }
  }
}

}  // namespace
}  // namespace audioproc

namespace audioproc {
namespace {

TEST(AecEchoTest, ASuppressionUpdateMidStreamApplies) {
  // From suppression 0 (the linear filter alone) to 1 at 8 s: from then on the output is the
  // full-strength run's, to within the ramp and the suppressor's own smoothing.
  EchoSceneSpec spec = SpecOf(Cases()[0]);
  absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(spec);
  ASSERT_TRUE(scene.ok()) << scene.status();
  const ProcessorConfig update = Proc("aec", {{"suppression", 1.0}});
  const size_t at = 8 * 16000;
  const AecRun updated = RunScene(*scene, 0.0, &update, at);
  const AecRun linear = RunScene(*scene, 0.0);
  const AecRun full = RunScene(*scene, 1.0);
  const size_t end = scene->mic.size();
  const double before_updated = testing::Erle(*scene, updated.out, 2 * 16000, at);
  const double before_linear = testing::Erle(*scene, linear.out, 2 * 16000, at);
  const double after_updated = testing::Erle(*scene, updated.out, at + 16000, end);
  const double after_linear = testing::Erle(*scene, linear.out, at + 16000, end);
  const double after_full = testing::Erle(*scene, full.out, at + 16000, end);
  std::printf("ERLE before the update %.1f (linear %.1f); after %.1f (linear %.1f, full %.1f)\n",
              before_updated, before_linear, after_updated, after_linear, after_full);
  EXPECT_NEAR(before_updated, before_linear, 0.01);
  EXPECT_GT(after_updated, after_linear + 1.5);
  EXPECT_NEAR(after_updated, after_full, 0.5);
}

}  // namespace
}  // namespace audioproc
