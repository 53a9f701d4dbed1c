// NoiseTracker (IMCRA) on synthetic periodograms: the periodogram of Gaussian noise of power
// mu in a bin is mu times an exponential variable, so the truth is known exactly.
#include "dsp/noise_tracker.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

constexpr size_t kBins = 257;
constexpr double kFrameRate = 125;  // 16 kHz, hop 128

class NoiseTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override { tracker_.Init(kBins, kFrameRate, {0, kBins}); }

  // One frame of noise with power `level` x mu(k), mu falling 20 dB across the band, plus
  // `speech` (added power) in bins [speech_from, speech_to).
  void Frame(double level, double speech = 0, size_t speech_from = 0, size_t speech_to = 0) {
    std::vector<float> power(kBins);
    std::vector<float> xi(kBins);
    for (size_t k = 0; k < kBins; ++k) {
      double p = level * Mu(k) * exponential_(rng_);
      if (k >= speech_from && k < speech_to) p += speech * Mu(k) * exponential_(rng_);
      power[k] = static_cast<float>(p);
      // The a priori SNR a gain rule would have estimated.
      xi[k] = static_cast<float>(std::max(power[k] / tracker_.noise()[k] - 1.0, 0.003));
    }
    tracker_.Update(power.data(), xi.data());
  }

  // One frame whose power in bin k is mean[k] times an exponential variable.
  void FrameOfMeans(const std::vector<double>& mean) {
    std::vector<float> power(kBins);
    std::vector<float> xi(kBins);
    for (size_t k = 0; k < kBins; ++k) {
      power[k] = static_cast<float>(mean[k] * exponential_(rng_));
      xi[k] = static_cast<float>(std::max(power[k] / tracker_.noise()[k] - 1.0, 0.003));
    }
    tracker_.Update(power.data(), xi.data());
  }

  static double Mu(size_t k) { return std::pow(10.0, -2.0 * k / kBins); }

  // Mean over bins [from, to) of 10 log10(estimate / truth).
  double ErrorDb(double level, size_t from = 0, size_t to = kBins) const {
    double sum = 0;
    for (size_t k = from; k < to; ++k)
      sum += 10 * std::log10(tracker_.noise()[k] / (level * Mu(k)));
    return sum / static_cast<double>(to - from);
  }

  double MeanPresence(size_t from, size_t to) const {
    double sum = 0;
    for (size_t k = from; k < to; ++k) sum += tracker_.speech_presence()[k];
    return sum / static_cast<double>(to - from);
  }

  NoiseTracker tracker_;
  std::mt19937 rng_{42};
  std::exponential_distribution<double> exponential_{1.0};
};

TEST_F(NoiseTrackerTest, EstimatesStationaryNoiseWithinOneDbFromTheStart) {
  Frame(1.0);
  EXPECT_NEAR(ErrorDb(1.0), 0.0, 3.0);  // one periodogram: right on average, not per bin
  for (int i = 0; i < 25; ++i) Frame(1.0);
  EXPECT_NEAR(ErrorDb(1.0), 0.0, 1.0) << "after 0.2 s";
  double sum = 0;
  for (int i = 0; i < 500; ++i) {
    Frame(1.0);
    sum += ErrorDb(1.0);
  }
  EXPECT_NEAR(sum / 500, 0.0, 1.0) << "mean error over 4 s";
}

TEST_F(NoiseTrackerTest, FollowsNoiseThatRisesOrFallsTenDb) {
  for (int i = 0; i < 250; ++i) Frame(1.0);
  // Up 10 dB: the first minimum rises once the quieter frames leave its window (about 1 s),
  // the second once they leave its own (measured: followed after 2.1 s).
  for (int i = 0; i < 250; ++i) Frame(10.0);
  EXPECT_LT(ErrorDb(10.0), -5.0) << "2 s after a rise: still the old level";
  for (int i = 0; i < 70; ++i) Frame(10.0);
  EXPECT_NEAR(ErrorDb(10.0), 0.0, 1.0) << "2.56 s after a rise";
  // Down 10 dB: followed within a fraction of a second: the quieter frames are below the minimum.
  for (int i = 0; i < 63; ++i) Frame(1.0);
  EXPECT_NEAR(ErrorDb(1.0), 0.0, 1.0) << "0.5 s after a fall";
}

TEST_F(NoiseTrackerTest, HoldsTheEstimateThroughSpeechAndDetectsIt) {
  for (int i = 0; i < 125; ++i) Frame(1.0);
  // "Speech" 20 dB above the noise in bins 10 to 60, 0.3 s on and 0.3 s off, for 3 s.
  double presence_in_speech = 0;
  double presence_elsewhere = 0;
  int frames_on = 0;
  for (int i = 0; i < 375; ++i) {
    const bool on = (i / 38) % 2 == 0;
    Frame(1.0, on ? 100.0 : 0.0, 10, 60);
    if (on && i % 38 > 5) {
      presence_in_speech += MeanPresence(10, 60);
      presence_elsewhere += MeanPresence(100, 250);
      ++frames_on;
    }
  }
  EXPECT_GT(presence_in_speech / frames_on, 0.95);
  EXPECT_LT(presence_elsewhere / frames_on, 0.3);
  // The estimate under the speech stays near the noise, not the speech 20 dB above it.
  EXPECT_LT(ErrorDb(1.0, 10, 60), 3.0);
  EXPECT_NEAR(ErrorDb(1.0, 100, 250), 0.0, 1.0);
}

TEST_F(NoiseTrackerTest, ATalkerWhoPausesInStationaryNoiseIsNotACrowd) {
  // Sentences 20 dB above the noise over most of the band, 1.6 s long with 0.4 s pauses, for
  // 10 s: the crowd bias never engages, and in the pauses the estimate is the noise's.
  for (int i = 0; i < 1250; ++i) {
    const bool talking = i % 250 >= 50;
    Frame(1.0, talking ? 100.0 : 0.0, 5, 240);
    ASSERT_LT(tracker_.crowd_bias(), 1.001f) << "frame " << i;
    if (i % 250 == 49) {
      // IMCRA after 1.6 s of speech: the estimate has not quite come down (measured 1.1 dB)
      EXPECT_NEAR(ErrorDb(1.0), 0.0, 1.5) << "end of the pause at frame " << i;
    }
  }
}

TEST_F(NoiseTrackerTest, ACrowdRaisesTheEstimateTowardItsMeanPower) {
  // Babble: eight talkers, each a run of 100 ms syllables of random level (log-normal, 8 dB)
  // with short gaps, its harmonics and formants (log-normal per bin, 10 dB) moving from frame
  // to frame as a voice's do; the crowd's mean power per bin is the sum of theirs.
  constexpr int kTalkers = 8;
  constexpr int kSyllableFrames = 12;
  std::normal_distribution<double> level_db(0.0, 8.0);
  std::bernoulli_distribution gap(0.1);
  std::normal_distribution<double> shape_db(0.0, 10.0);
  std::vector<double> level(kTalkers, 0.0);
  std::vector<double> crowd(kBins);
  const auto next_crowd = [&](int frame) {
    for (int t = 0; t < kTalkers; ++t) {
      // Each talker starts its syllables on its own frames.
      if ((frame + t * kSyllableFrames / kTalkers) % kSyllableFrames != 0) continue;
      level[t] = gap(rng_) ? 0.0 : std::pow(10.0, level_db(rng_) / 10.0);
    }
    for (size_t k = 0; k < kBins; ++k) {
      crowd[k] = 0;
      for (int t = 0; t < kTalkers; ++t)
        crowd[k] += level[t] * Mu(k) * std::pow(10.0, shape_db(rng_) / 10.0);
    }
  };
  // 10 s of it, the crowd's mean per bin measured on the way.
  constexpr int kFrames = 1250;
  std::vector<double> mean(kBins, 0.0);
  for (int i = 0; i < kFrames; ++i) {
    next_crowd(i);
    for (size_t k = 0; k < kBins; ++k) mean[k] += crowd[k] / kFrames;
    FrameOfMeans(crowd);
  }
  EXPECT_GT(tracker_.crowd_bias(), 3.5f);
  // Over 2 s more: the estimate against the crowd's mean, with and without the bias.
  double estimate_db = 0;
  double unbiased_db = 0;
  constexpr int kLast = 250;
  for (int i = kFrames; i < kFrames + kLast; ++i) {
    next_crowd(i);
    FrameOfMeans(crowd);
    double error = 0;
    for (size_t k = 0; k < kBins; ++k) error += 10 * std::log10(tracker_.noise()[k] / mean[k]);
    estimate_db += error / kBins / kLast;
    unbiased_db += (error / kBins - 10 * std::log10(tracker_.crowd_bias())) / kLast;
  }
  std::printf("[ measured ] crowd: estimate %+.1f dB against its mean, %+.1f dB without the bias\n",
              estimate_db, unbiased_db);
  // The minima of so fluctuating a noise lie far below its mean (measured: 11 dB); the bias
  // takes back 6 of them, and never overshoots the mean.
  EXPECT_LT(unbiased_db, -6.0) << "the test's crowd is not one";
  EXPECT_GT(estimate_db - unbiased_db, 5.4);
  EXPECT_LT(estimate_db, 0.0);
}

TEST_F(NoiseTrackerTest, DigitalSilenceGivesASmallPositiveEstimate) {
  const std::vector<float> zeros(kBins, 0.0f);
  const std::vector<float> xi(kBins, 0.003f);
  for (int i = 0; i < 300; ++i) tracker_.Update(zeros.data(), xi.data());
  for (size_t k = 0; k < kBins; ++k) {
    EXPECT_GT(tracker_.noise()[k], 0.0);
    EXPECT_LT(tracker_.noise()[k], 1e-15);
    EXPECT_TRUE(std::isfinite(tracker_.speech_presence()[k]));
  }
  // Reset forgets: the next frame initializes the estimate again.
  tracker_.Reset();
  Frame(1.0);
  EXPECT_NEAR(ErrorDb(1.0), 0.0, 3.0);
}

}  // namespace
}  // namespace audioproc
