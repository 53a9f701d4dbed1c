// EchoDelayEstimator against echoes of known delay: white noise through a pure delay, speech
// through a reverberant room impulse response, a delay that jumps, a silent reference, hops the
// caller marks as loud near speech, and speech that must neither settle it on its window's edges
// nor start it at a stray lag.
#include "dsp/echo_delay_estimator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/echo_material.h"
#include "tests/testing/signals.h"
#include "tests/testing/speech_material.h"

namespace audioproc {
namespace {

// `x` delayed by `delay` samples, scaled, plus white noise of `noise` RMS.
std::vector<float> Delayed(const std::vector<float>& x, size_t delay, float scale, double noise,
                           uint32_t seed) {
  std::vector<float> y = testing::WhiteNoise(x.size(), noise * std::sqrt(3.0), seed);
  for (size_t i = delay; i < x.size(); ++i) y[i] += scale * x[i - delay];
  return y;
}

// Feeds both signals in blocks of 128 and returns the estimate (in ms) after each block.
std::vector<double> Feed(EchoDelayEstimator& estimator, const std::vector<float>& reference,
                         const std::vector<float>& mic) {
  std::vector<double> estimates;
  for (size_t at = 0; at + 128 <= reference.size(); at += 128) {
    estimator.Update(reference.data() + at, mic.data() + at, 128);
    estimates.push_back(estimator.has_estimate() ? estimator.delay_ms() : -1);
  }
  return estimates;
}

TEST(EchoDelayEstimatorTest, FindsAPureDelayInWhiteNoise) {
  for (const auto& [rate, delay_ms] : {std::pair{16000, 125.0}, std::pair{48000, 300.0},
                                       std::pair{16000, 0.0}, std::pair{48000, 480.0}}) {
    EchoDelayEstimator estimator;
    ASSERT_TRUE(estimator.Init(rate, 0.5).ok());
    const std::vector<float> reference = testing::WhiteNoise(3 * rate, 0.3, 1);
    const auto delay = static_cast<size_t>(delay_ms * rate / 1000);
    const std::vector<float> mic = Delayed(reference, delay, 0.3f, 0.01, 2);
    Feed(estimator, reference, mic);
    ASSERT_TRUE(estimator.has_estimate()) << rate << " " << delay_ms;
    EXPECT_NEAR(estimator.delay_ms(), delay_ms, 0.5) << rate;
  }
}

TEST(EchoDelayEstimatorTest, FindsTheDelayOfSpeechThroughARoom) {
  absl::StatusOr<testing::Talk> talk = testing::MakeTalk(0, 3);
  ASSERT_TRUE(talk.ok()) << talk.status();
  absl::StatusOr<testing::Talk> at16k = testing::Resampled(*talk, 16000);
  ASSERT_TRUE(at16k.ok()) << at16k.status();
  const std::vector<float>& reference = at16k->samples;
  // A room: a direct path, then exponentially decaying noise (RT60 0.3 s).
  const size_t delay = 3200;  // 200 ms
  std::vector<float> room(4800);
  std::mt19937 rng(4);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  room[0] = 1.0f;
  for (size_t i = 1; i < room.size(); ++i) {
    room[i] = 0.3f * gauss(rng) * std::exp(-6.9f * static_cast<float>(i) / (0.3f * 16000));
  }
  std::vector<float> mic = testing::WhiteNoise(reference.size(), 1e-4, 5);
  for (size_t i = delay; i < reference.size(); ++i) {
    double sum = 0;
    for (size_t j = 0; j < room.size() && j + delay <= i; ++j) {
      sum += room[j] * reference[i - delay - j];
    }
    mic[i] += static_cast<float>(0.3 * sum);
  }
  EchoDelayEstimator estimator;
  ASSERT_TRUE(estimator.Init(16000, 0.5).ok());
  const std::vector<double> estimates = Feed(estimator, reference, mic);
  ASSERT_TRUE(estimator.has_estimate());
  // The room's first taps are as strong as its direct path now and then, and the estimate moves
  // among them (measured 200.00 to 213.25 ms, 12 moves over the 17 s): every estimate, from the
  // first, must be the direct path or one of those, well within aec's alignment margin
  // (kAecAlignmentMarginSeconds); a stray elsewhere fails.
  const auto first = std::find_if(estimates.begin(), estimates.end(),
                                  [](double estimate) { return estimate >= 0; });
  for (auto it = first; it != estimates.end(); ++it) {
    ASSERT_GE(*it, 199.5) << "block " << (it - estimates.begin());
    ASSERT_LE(*it, 215.0) << "block " << (it - estimates.begin());
  }
}

TEST(EchoDelayEstimatorTest, FollowsADelayJumpWithinASecondAndHoldsOtherwise) {
  const int rate = 16000;
  const std::vector<float> reference = testing::WhiteNoise(8 * rate, 0.3, 6);
  // 100 ms for 4 s, then 150 ms.
  std::vector<float> mic = testing::WhiteNoise(reference.size(), 0.01, 7);
  for (size_t i = 0; i < reference.size(); ++i) {
    const size_t delay = i < 4u * rate ? 1600 : 2400;
    if (i >= delay) mic[i] += 0.3f * reference[i - delay];
  }
  EchoDelayEstimator estimator;
  ASSERT_TRUE(estimator.Init(rate, 0.5).ok());
  const std::vector<double> estimates = Feed(estimator, reference, mic);
  const size_t blocks_per_second = rate / 128;
  int changes = 0;
  for (size_t b = 1; b < estimates.size(); ++b) changes += estimates[b] != estimates[b - 1];
  EXPECT_EQ(changes, 2);  // the first estimate, and the jump
  EXPECT_NEAR(estimates[4 * blocks_per_second - 1], 100.0, 0.5);
  EXPECT_NEAR(estimates[5 * blocks_per_second], 150.0, 0.5);
}

TEST(EchoDelayEstimatorTest, MakesNoEstimateWithoutAReferenceOrAnEcho) {
  const int rate = 16000;
  EchoDelayEstimator silent;
  ASSERT_TRUE(silent.Init(rate, 0.5).ok());
  const std::vector<float> zeros(3 * rate, 0.0f);
  Feed(silent, zeros, testing::WhiteNoise(3 * rate, 0.3, 8));
  EXPECT_FALSE(silent.has_estimate());
  EchoDelayEstimator unrelated;
  ASSERT_TRUE(unrelated.Init(rate, 0.5).ok());
  Feed(unrelated, testing::WhiteNoise(3 * rate, 0.3, 9), testing::WhiteNoise(3 * rate, 0.3, 10));
  EXPECT_FALSE(unrelated.has_estimate());
}

TEST(EchoDelayEstimatorTest, LearnsNothingFromHopsMarkedLoudNearSpeech) {
  // The echo 100 ms late for 3 s; then, for 3 s marked as loud near speech, a microphone that
  // holds the reference 300 ms late (what a false peak would look like); then the same unmarked.
  const double rate = 16000;
  const std::vector<float> reference = testing::WhiteNoise(9 * 16000, 0.3, 5);
  const std::vector<float> early = Delayed(reference, 1600, 0.3f, 0.01, 6);
  const std::vector<float> late = Delayed(reference, 4800, 0.3f, 0.01, 7);
  EchoDelayEstimator estimator;
  ASSERT_TRUE(estimator.Init(rate, 0.5).ok());
  double before = -1;
  double marked = -1;
  for (size_t at = 0; at + 128 <= reference.size(); at += 128) {
    const bool loud_near = at >= 3 * 16000 && at < 6 * 16000;
    const std::vector<float>& mic = at < 3 * 16000 ? early : late;
    estimator.Update(reference.data() + at, mic.data() + at, 128, loud_near);
    if (at + 128 == 3 * 16000) before = estimator.delay_ms();
    if (at + 128 == 6 * 16000) marked = estimator.delay_ms();
  }
  EXPECT_NEAR(before, 100.0, 0.5);
  EXPECT_NEAR(marked, 100.0, 0.5);                // the marked hops changed nothing
  EXPECT_NEAR(estimator.delay_ms(), 300.0, 0.5);  // and unmarked, the change is found
}

TEST(EchoDelayEstimatorTest, RarelySettlesOnItsWindowsEdgesOrStartsAtAStrayWithSpeech) {
  // At the lags 0 and 500 ms the microphone's hop lines up with an edge of the reference's
  // window, and for a voice the whitening lifted the edges' leakage into a peak there. Six far-end
  // voices through rooms of 30, 100 and 250 ms at 16 and 48 kHz: the share of the hops from 1 s
  // on whose estimate is under 10 ms or over 480 ms. Measured 0.27 %; with the first estimate
  // confirmed as often as a switch (kConfirmations rather than kFirstConfirmations) 0.39 % (9 of
  // the 36 scenes, at most 0.66 s in one), and without the window's edge taper (kEdgeTaper) too
  // 1.58 % (19 scenes, up to 2.2 s). And the scenes whose first estimate is off the echo's delay by
  // over 30 ms: 4 (all 0-3 ms for an echo at 250 ms: the edge still, now and then), 5 with
  // kConfirmations.
  size_t at_edges = 0;
  size_t hops = 0;
  int stray_firsts = 0;
  for (const uint32_t rate : {16000u, 48000u}) {
    for (int voice = 0; voice < 6; ++voice) {
      for (const double delay_ms : {30.0, 100.0, 250.0}) {
        testing::EchoSceneSpec spec;
        spec.sample_rate_hz = rate;
        spec.far_voice = voice;
        spec.near_voice = (voice + 1) % 6;
        spec.delay_ms = delay_ms;
        spec.rt60_s = delay_ms > 200 ? 0.5 : 0.3;
        spec.seed = 500 + static_cast<uint32_t>(7 * voice + delay_ms);
        const absl::StatusOr<testing::EchoScene> scene = testing::MakeEchoScene(spec);
        ASSERT_TRUE(scene.ok()) << scene.status();
        EchoDelayEstimator estimator;
        ASSERT_TRUE(estimator.Init(rate, 0.5).ok());
        const std::vector<double> estimates = Feed(estimator, scene->reference, scene->mic);
        const auto first = std::find_if(estimates.begin(), estimates.end(),
                                        [](double estimate) { return estimate >= 0; });
        ASSERT_NE(first, estimates.end());
        if (std::fabs(*first - delay_ms) > 30) {
          ++stray_firsts;
          std::printf("  first estimate %.2f ms (%u Hz, voice %d, %.0f ms)\n", *first, rate, voice,
                      delay_ms);
        }
        for (size_t hop = rate / 128; hop < estimates.size(); ++hop) {
          if (estimates[hop] < 0) continue;
          ++hops;
          at_edges += estimates[hop] < 10 || estimates[hop] > 480 ? 1 : 0;
        }
      }
    }
  }
  const double share = static_cast<double>(at_edges) / static_cast<double>(hops);
  std::printf(
      "estimates at the window's edges: %.2f %% of %zu hops; first estimates off the "
      "echo's delay by over 30 ms: %d of 36\n",
      100 * share, hops, stray_firsts);
  EXPECT_LT(share, 0.006);
  EXPECT_LE(stray_firsts, 4);
}

}  // namespace
}  // namespace audioproc
