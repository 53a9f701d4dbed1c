// TrackFluctuations: the regression of the error's power fluctuations on the echo estimate's
// reads the leak, the share of the estimate left in the error, even when uncorrelated near
// speech makes the error far louder than that share; and the means it keeps follow the powers.
#include "dsp/power_fluctuations.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

constexpr uint32_t kBins = 65;
constexpr int kFrames = 4000;
constexpr double kMeanWeight = 0.05;

struct Regression {
  double leak = 0;         // sum of the covariances over sum of the variances
  double power_ratio = 0;  // mean |E|^2 over mean |Y|^2, what a plain ratio would read
  std::vector<float> error_mean = std::vector<float>(kBins, 0.0f);
  std::vector<float> echo_mean = std::vector<float>(kBins, 0.0f);
};

// Frames whose echo power per bin is exponential (a power spectrum's spread) about a level
// that varies by bin; the error holds `leak` of it plus independent near speech `near` times
// as loud as the echo.
Regression Regress(double leak, double near, uint32_t seed) {
  std::mt19937 random(seed);
  std::exponential_distribution<float> spread(1.0f);
  Regression result;
  std::vector<float> error(kBins);
  std::vector<float> echo(kBins);
  double covariance = 0;
  double variance = 0;
  double error_total = 0;
  double echo_total = 0;
  for (int frame = 0; frame < kFrames; ++frame) {
    for (uint32_t k = 0; k < kBins; ++k) {
      const float level = 1.0f + static_cast<float>(k % 7);
      echo[k] = level * spread(random);
      error[k] =
          static_cast<float>(leak) * echo[k] + static_cast<float>(near) * level * spread(random);
      error_total += error[k];
      echo_total += echo[k];
    }
    const PowerFluctuations sums =
        TrackFluctuations(error, echo, result.error_mean, result.echo_mean, kMeanWeight);
    if (frame >= 100) {  // the means settled
      covariance += sums.covariance;
      variance += sums.variance;
    }
  }
  result.leak = covariance / variance;
  result.power_ratio = error_total / echo_total;
  return result;
}

TEST(PowerFluctuationsTest, ReadsTheLeakUnderUncorrelatedNearSpeech) {
  for (const double leak : {0.01, 0.1, 0.5}) {
    for (const double near : {0.0, 1.0, 10.0}) {
      const Regression r = Regress(leak, near, 7);
      // Near speech adds noise to the regression, not bias: the error over the estimate.
      const double tolerance = 0.005 + 0.01 * near;
      EXPECT_NEAR(r.leak, leak, tolerance) << "leak " << leak << ", near " << near;
      if (near > 0) {
        EXPECT_GT(r.power_ratio, leak + near / 2) << "leak " << leak;
      }
    }
  }
}

TEST(PowerFluctuationsTest, TheMeansFollowThePowers) {
  const double leak = 0.2;
  const double near = 0.5;
  const Regression r = Regress(leak, near, 11);
  for (uint32_t k = 0; k < kBins; ++k) {
    const double level = 1.0 + k % 7;
    // An exponential moving average of kMeanWeight over exponentials: relative spread
    // sqrt(w / (2 - w)), about 0.16; 4 of them.
    EXPECT_NEAR(r.echo_mean[k], level, 0.65 * level) << k;
    EXPECT_NEAR(r.error_mean[k], (leak + near) * level, 0.65 * (leak + near) * level) << k;
  }
}

TEST(PowerFluctuationsTest, ConstantPowersHaveNoFluctuation) {
  std::vector<float> error(kBins, 2.0f);
  std::vector<float> echo(kBins, 3.0f);
  std::vector<float> error_mean(error);
  std::vector<float> echo_mean(echo);
  const PowerFluctuations sums = TrackFluctuations(error, echo, error_mean, echo_mean, 0.1);
  EXPECT_EQ(sums.covariance, 0.0);
  EXPECT_EQ(sums.variance, 0.0);
  EXPECT_EQ(error_mean[0], 2.0f);
  EXPECT_EQ(echo_mean[kBins - 1], 3.0f);
}

}  // namespace
}  // namespace audioproc
