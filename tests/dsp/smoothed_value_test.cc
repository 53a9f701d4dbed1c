// SmoothedValue: the exact ramp length, landing exactly on the target, the shape of each law
// against its formula computed here, a new target mid-ramp, Skip and Reset.
#include "dsp/smoothed_value.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

template <typename Smoothed>
std::vector<double> Ramp(Smoothed& value, uint32_t steps) {
  std::vector<double> out;
  for (uint32_t i = 0; i < steps; ++i) out.push_back(value.GetNextValue());
  return out;
}

TEST(SmoothedValueTest, RampSteps) {
  EXPECT_EQ(RampSteps(48000, kParameterRampMs), 480u);
  EXPECT_EQ(RampSteps(44100, kParameterRampMs), 441u);
  EXPECT_EQ(RampSteps(22050, kParameterRampMs), 221u);  // 220.5 rounds away from zero
  EXPECT_EQ(RampSteps(50, kParameterRampMs), 1u);       // never shorter than a step
}

TEST(SmoothedValueTest, HoldsItsValueUntilGivenATarget) {
  SmoothedValue<float> value(0.25f);
  value.Reset(10);
  EXPECT_FALSE(value.IsSmoothing());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(value.GetNextValue(), 0.25f);
  EXPECT_EQ(value.GetCurrentValue(), 0.25f);
}

TEST(SmoothedValueTest, EveryLawReachesTheTargetExactlyAtTheLastStepAndHolds) {
  constexpr uint32_t kSteps = 441;
  SmoothedValue<float, RampLaw::kLinear> linear(1.0f);
  SmoothedValue<float, RampLaw::kLinearByReciprocal> reciprocal(1.0f);
  SmoothedValue<double, RampLaw::kLinearBySteps> steps(1.0);
  SmoothedValue<double, RampLaw::kMultiplicative> multiplicative(1.0);
  linear.Reset(kSteps);
  reciprocal.Reset(kSteps);
  steps.Reset(kSteps);
  multiplicative.Reset(kSteps);
  // 0.1 is not a float or double: no law reaches it by rounding luck.
  linear.SetTargetValue(0.1f);
  reciprocal.SetTargetValue(0.1f);
  steps.SetTargetValue(0.1);
  multiplicative.SetTargetValue(0.1);
  for (uint32_t i = 1; i < kSteps; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NE(linear.GetNextValue(), 0.1f);
    ASSERT_NE(reciprocal.GetNextValue(), 0.1f);
    ASSERT_NE(steps.GetNextValue(), 0.1);
    ASSERT_NE(multiplicative.GetNextValue(), 0.1);
    ASSERT_TRUE(linear.IsSmoothing() && reciprocal.IsSmoothing() && steps.IsSmoothing() &&
                multiplicative.IsSmoothing());
  }
  EXPECT_EQ(linear.GetNextValue(), 0.1f);
  EXPECT_EQ(reciprocal.GetNextValue(), 0.1f);
  EXPECT_EQ(steps.GetNextValue(), 0.1);
  EXPECT_EQ(multiplicative.GetNextValue(), 0.1);
  EXPECT_FALSE(linear.IsSmoothing() || reciprocal.IsSmoothing() || steps.IsSmoothing() ||
               multiplicative.IsSmoothing());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(linear.GetNextValue(), 0.1f);
    EXPECT_EQ(multiplicative.GetNextValue(), 0.1);
  }
}

TEST(SmoothedValueTest, LinearLawsFollowTheStraightLine) {
  constexpr uint32_t kSteps = 480;
  SmoothedValue<double, RampLaw::kLinear> linear(2.0);
  SmoothedValue<float, RampLaw::kLinearByReciprocal> reciprocal(2.0f);
  SmoothedValue<double, RampLaw::kLinearBySteps> steps(2.0);
  linear.Reset(kSteps);
  reciprocal.Reset(kSteps);
  steps.Reset(kSteps);
  linear.SetTargetValue(-1.0);
  reciprocal.SetTargetValue(-1.0f);
  steps.SetTargetValue(-1.0);
  for (uint32_t p = 1; p <= kSteps; ++p) {
    const double line = 2.0 - 3.0 * p / kSteps;
    ASSERT_NEAR(linear.GetNextValue(), line, 1e-14) << p;
    ASSERT_NEAR(reciprocal.GetNextValue(), line, 1e-6) << p;
    ASSERT_NEAR(steps.GetNextValue(), line, 1e-12) << p;
  }
}

TEST(SmoothedValueTest, MultiplicativeLawMovesByEqualRatios) {
  constexpr uint32_t kSteps = 100;
  SmoothedValue<double, RampLaw::kMultiplicative> frequency(100.0);
  frequency.Reset(kSteps);
  frequency.SetTargetValue(10000.0);
  double previous = 100.0;
  for (uint32_t p = 1; p <= kSteps; ++p) {
    const double value = frequency.GetNextValue();
    ASSERT_NEAR(value, 100.0 * std::pow(100.0, static_cast<double>(p) / kSteps), 1e-9 * value);
    ASSERT_NEAR(value / previous, std::pow(100.0, 1.0 / kSteps), 1e-12) << p;
    previous = value;
  }
}

TEST(SmoothedValueTest, NewTargetMidRampStartsAFullRampFromTheValueReached) {
  constexpr uint32_t kSteps = 100;
  SmoothedValue<double> value(0.0);
  value.Reset(kSteps);
  value.SetTargetValue(1.0);
  const std::vector<double> first = Ramp(value, 40);
  EXPECT_EQ(value.GetCurrentValue(), first.back());
  value.SetTargetValue(-1.0);
  EXPECT_EQ(value.GetCurrentValue(), first.back());  // no jump
  const double from = first.back();
  for (uint32_t p = 1; p < kSteps; ++p) {
    ASSERT_EQ(value.GetNextValue(), from + (-1.0 - from) * (static_cast<double>(p) / kSteps)) << p;
  }
  EXPECT_EQ(value.GetNextValue(), -1.0);
}

TEST(SmoothedValueTest, ReciprocalLawRetargetsFromTheQuotient) {
  // As gain and convolve computed it before SmoothedValue: the ramp's values by p * (1 / N),
  // the start of a new ramp by p / N.
  constexpr uint32_t kSteps = 480;
  SmoothedValue<float, RampLaw::kLinearByReciprocal> gain(1.0f);
  gain.Reset(kSteps);
  gain.SetTargetValue(0.1f);
  const float delta = 0.1f - 1.0f;
  const float inverse = 1.0f / static_cast<float>(kSteps);
  for (uint32_t p = 1; p <= 123; ++p) {
    ASSERT_EQ(gain.GetNextValue(), 1.0f + delta * (static_cast<float>(p) * inverse)) << p;
  }
  EXPECT_EQ(gain.GetCurrentValue(), 1.0f + delta * (123.0f / static_cast<float>(kSteps)));
}

TEST(SmoothedValueTest, StepsLawAccumulatesItsStep) {
  SmoothedValue<double, RampLaw::kLinearBySteps> floor(24.0);
  floor.Reset(3);
  floor.SetTargetValue(40.0);
  const double step = (40.0 - 24.0) / 3;
  EXPECT_EQ(floor.GetNextValue(), 24.0 + step);
  EXPECT_EQ(floor.GetNextValue(), 24.0 + step + step);
  EXPECT_EQ(floor.GetNextValue(), 40.0);
}

TEST(SmoothedValueTest, SkipLandsWhereAsManyStepsWould) {
  constexpr uint32_t kSteps = 50;
  SmoothedValue<double, RampLaw::kMultiplicative> stepped(1.0), skipped(1.0);
  SmoothedValue<double, RampLaw::kLinearBySteps> accumulated(1.0), jumped(1.0);
  for (auto* v : {&stepped, &skipped}) {
    v->Reset(kSteps);
    v->SetTargetValue(8.0);
  }
  for (auto* v : {&accumulated, &jumped}) {
    v->Reset(kSteps);
    v->SetTargetValue(8.0);
  }
  Ramp(stepped, 17);
  skipped.Skip(17);
  Ramp(accumulated, 17);
  jumped.Skip(17);
  EXPECT_EQ(skipped.GetCurrentValue(), stepped.GetCurrentValue());
  EXPECT_EQ(jumped.GetCurrentValue(), accumulated.GetCurrentValue());
  skipped.Skip(0);
  EXPECT_EQ(skipped.GetNextValue(), stepped.GetNextValue());
  skipped.Skip(1000);
  EXPECT_FALSE(skipped.IsSmoothing());
  EXPECT_EQ(skipped.GetCurrentValue(), 8.0);
}

TEST(SmoothedValueTest, ResetEndsARampAtItsTargetAndSetsTheLength) {
  SmoothedValue<float> value(0.0f);
  value.Reset(10);
  value.SetTargetValue(1.0f);
  value.GetNextValue();
  value.Reset(4);
  EXPECT_FALSE(value.IsSmoothing());
  EXPECT_EQ(value.GetCurrentValue(), 1.0f);
  value.SetTargetValue(0.0f);
  EXPECT_EQ(Ramp(value, 4), (std::vector<double>{0.75, 0.5, 0.25, 0.0}));
}

TEST(SmoothedValueTest, SettingTheCurrentValueEndsTheRamp) {
  SmoothedValue<double> value(0.0);
  value.Reset(10);
  value.SetTargetValue(1.0);
  value.GetNextValue();
  value.SetCurrentAndTargetValue(-3.0);
  EXPECT_FALSE(value.IsSmoothing());
  EXPECT_EQ(value.GetNextValue(), -3.0);
  EXPECT_EQ(value.GetTargetValue(), -3.0);
}

}  // namespace
}  // namespace audioproc
