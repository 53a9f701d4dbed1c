// The echo scenes the canceller's bars are measured on (tests/testing/echo_material.h): the
// room's level and decay, the echo's delay, the change mid-scene, the labels and the ERLE
// measure, each checked against what the scene claims.
#include "tests/testing/echo_material.h"

#include <algorithm>
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/signals.h"
#include "tests/testing/speech_material.h"

namespace audioproc::testing {
namespace {

double FractionTrue(const std::vector<bool>& labels) {
  return labels.empty() ? 0.0
                        : static_cast<double>(std::count(labels.begin(), labels.end(), true)) /
                              static_cast<double>(labels.size());
}

TEST(RoomResponseTest, HasTheLevelAndDecayAsked) {
  for (double rt60 : {0.2, 0.5}) {
    const std::vector<float> room = RoomResponse(16000, rt60, -12.0, 3);
    EXPECT_EQ(room.size(), static_cast<size_t>(std::lround(rt60 * 16000)));
    EXPECT_NEAR(10.0 * std::log10(Energy(room, 0, room.size())), -12.0, 1e-4);
    // The diffuse tail falls 60 dB over rt60, 6 dB a tenth: 18 dB from the first tenth to the
    // fourth.
    const size_t tenth = room.size() / 10;
    const double early = Energy(room, 1, tenth + 1);
    const double later = Energy(room, 3 * tenth + 1, 4 * tenth + 1);
    EXPECT_NEAR(10.0 * std::log10(early / later), 18.0, 2.0) << rt60;
  }
  EXPECT_EQ(RoomResponse(16000, 0.3, 0, 5), RoomResponse(16000, 0.3, 0, 5));
  EXPECT_NE(RoomResponse(16000, 0.3, 0, 5), RoomResponse(16000, 0.3, 0, 6));
}

TEST(EchoSceneTest, EchoIsTheReferenceThroughTheRoomAfterTheDelay) {
  EchoSceneSpec spec;
  spec.delay_ms = 120;
  spec.echo_level_db = -6;
  absl::StatusOr<EchoScene> scene = MakeEchoScene(spec);
  ASSERT_TRUE(scene.ok()) << scene.status();
  const size_t delay = 120 * 16;
  ASSERT_EQ(scene->mic.size(), scene->reference.size());
  ASSERT_EQ(scene->echo.size(), scene->reference.size());
  EXPECT_EQ(scene->far_only.size(), scene->mic.size() / FrameSamples(16000));
  EXPECT_GT(scene->mic.size(), 10u * 16000);
  // Nothing before the direct path; at it, the direct tap times the reference's first sample.
  EXPECT_EQ(Energy(scene->echo, 0, delay), 0.0);
  const std::vector<float> room = RoomResponse(16000, spec.rt60_s, spec.echo_level_db, 8);
  EXPECT_NEAR(scene->echo[delay], room[0] * scene->reference[0],
              1e-3 * std::abs(room[0] * scene->reference[0]) + 1e-9);
  // Speech through the diffuse room keeps about the level asked.
  const double level = 10.0 * std::log10(Energy(scene->echo, delay, scene->echo.size()) /
                                         Energy(scene->reference, 0, scene->echo.size() - delay));
  EXPECT_NEAR(level, -6.0, 1.5);
  // Single talk: no near end; the mic is the echo over a floor at -80 dBFS.
  EXPECT_EQ(Energy(scene->near, 0, scene->near.size()), 0.0);
  EXPECT_EQ(FractionTrue(scene->near_active), 0.0);
  std::vector<float> floor(scene->mic.size());
  for (size_t i = 0; i < floor.size(); ++i) floor[i] = scene->mic[i] - scene->echo[i];
  EXPECT_NEAR(10.0 * std::log10(Energy(floor, 0, floor.size()) / floor.size()), -80.0, 0.2);
  // The far end talks about half the time: its pauses are 0.6-1.6 s.
  EXPECT_GT(FractionTrue(scene->far_only), 0.3);
  EXPECT_LT(FractionTrue(scene->far_only), 0.9);
}

TEST(EchoSceneTest, DoubleTalkAddsTheNearEndFromTwoSeconds) {
  EchoSceneSpec spec;
  spec.double_talk = true;
  spec.far_voice = 2;
  spec.near_voice = 3;
  absl::StatusOr<EchoScene> scene = MakeEchoScene(spec);
  ASSERT_TRUE(scene.ok()) << scene.status();
  EXPECT_EQ(Energy(scene->near, 0, 2 * 16000), 0.0);
  EXPECT_GT(FractionTrue(scene->near_active), 0.2);
  // The echo's level over its far-only frames; a frame whose echo is within 30 dB of it
  // while the near end talks is double talk.
  double far_only_energy = 0.0;
  size_t far_only_frames = 0;
  for (size_t f = 0; f < scene->far_only.size(); ++f) {
    if (!scene->far_only[f]) continue;
    far_only_energy += Energy(scene->echo, f * 160, (f + 1) * 160);
    ++far_only_frames;
  }
  ASSERT_GT(far_only_frames, 0u);
  size_t overlap = 0;
  for (size_t f = 0; f < scene->near_active.size(); ++f) {
    EXPECT_FALSE(scene->far_only[f] && scene->near_active[f]);
    if (scene->near_active[f] &&
        Energy(scene->echo, f * 160, (f + 1) * 160) > 1e-3 * far_only_energy / far_only_frames) {
      ++overlap;
    }
  }
  EXPECT_GT(overlap, 100u);  // at least a second of both talking at once
}

TEST(EchoSceneTest, ChangesStartAtTheirSample) {
  EchoSceneSpec spec;
  spec.sample_rate_hz = 48000;
  spec.delay_ms = 40;
  absl::StatusOr<EchoScene> steady = MakeEchoScene(spec);
  ASSERT_TRUE(steady.ok()) << steady.status();

  spec.change = EchoChange::kPathChange;
  absl::StatusOr<EchoScene> moved = MakeEchoScene(spec);
  ASSERT_TRUE(moved.ok()) << moved.status();
  const size_t change = 8 * 48000;
  EXPECT_EQ(moved->change_sample, change);
  EXPECT_TRUE(std::equal(moved->echo.begin(), moved->echo.begin() + change, steady->echo.begin()));
  // Another room of the same statistics: a different signal at about the same level.
  double difference = 0.0;
  for (size_t i = change; i < moved->echo.size(); ++i) {
    difference += std::pow(moved->echo[i] - steady->echo[i], 2);
  }
  const double after = Energy(steady->echo, change, steady->echo.size());
  EXPECT_GT(difference, 0.5 * after);
  EXPECT_NEAR(10.0 * std::log10(Energy(moved->echo, change, moved->echo.size()) / after), 0.0, 2.0);

  spec.change = EchoChange::kDelayJump;
  absl::StatusOr<EchoScene> jumped = MakeEchoScene(spec);
  ASSERT_TRUE(jumped.ok()) << jumped.status();
  const size_t jump = 50 * 48;
  for (size_t i = change; i < jumped->echo.size(); i += 997) {
    ASSERT_EQ(jumped->echo[i], steady->echo[i - jump]) << i;
  }
}

TEST(EchoSceneTest, ErleIsTheEnergyRatioOverFarOnlyFrames) {
  absl::StatusOr<EchoScene> scene = MakeEchoScene({});
  ASSERT_TRUE(scene.ok()) << scene.status();
  std::vector<float> out = scene->mic;
  EXPECT_NEAR(Erle(*scene, out, 0, out.size()), 0.0, 1e-9);
  for (float& x : out) x *= 0.01f;
  EXPECT_NEAR(Erle(*scene, out, 2 * 16000, out.size()), 40.0, 1e-3);
  // Frames outside the far-only stretches do not count.
  for (size_t f = 0; f < scene->far_only.size(); ++f) {
    if (!scene->far_only[f]) std::fill_n(out.begin() + f * 160, 160, 1.0f);
  }
  EXPECT_NEAR(Erle(*scene, out, 2 * 16000, out.size()), 40.0, 1e-3);
}

TEST(EchoSceneTest, RejectsOutOfRangeSpecs) {
  EchoSceneSpec spec;
  spec.far_voice = 6;
  EXPECT_FALSE(MakeEchoScene(spec).ok());
  spec.far_voice = 0;
  spec.rt60_s = 0;
  EXPECT_FALSE(MakeEchoScene(spec).ok());
}

}  // namespace
}  // namespace audioproc::testing
