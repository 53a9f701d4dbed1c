// fast_math's Exp and Log against glibc's double exp and log (rounded to float, the correctly
// rounded result but for rare ties), in units in the last place of the float result, over
// their whole domains; and their edges: 0 below Exp's domain, FLT_MIN's log below Log's.
#include "dsp/fast_math.h"

#include <cfloat>
#include <cmath>
#include <cstdio>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

// |got - want| in units of the float ulp at `want`.
double Ulps(float got, double want) {
  const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
  return std::fabs(got - want) / ulp;
}

TEST(FastMathTest, ExpIsWithinTwoUlpOverItsDomain) {
  double worst = 0;
  for (double x = fast_math::kExpMin; x <= fast_math::kExpMax; x += 0.000731) {
    const auto xf = static_cast<float>(x);
    worst = std::max(worst, Ulps(fast_math::Exp(xf), std::exp(static_cast<double>(xf))));
  }
  std::printf("[ measured ] fast_math::Exp: worst %.2f ulp\n", worst);
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(fast_math::Exp(0.0f), 1.0f);
  EXPECT_EQ(fast_math::Exp(-100.0f), 0.0f);
  EXPECT_EQ(fast_math::Exp(-1e30f), 0.0f);
  EXPECT_TRUE(std::isfinite(fast_math::Exp(1000.0f)));
}

TEST(FastMathTest, LogIsWithinTwoUlpOverItsDomain) {
  double worst = 0;
  double worst_near_one = 0;
  for (double log_x = -87.3; log_x <= 88.7; log_x += 0.000731) {
    const auto x = static_cast<float>(std::exp(log_x));
    const double want = std::log(static_cast<double>(x));
    if (std::fabs(want) >= 1e-3) {
      worst = std::max(worst, Ulps(fast_math::Log(x), want));
    } else {
      worst_near_one = std::max(worst_near_one, std::fabs(fast_math::Log(x) - want));
    }
  }
  std::printf("[ measured ] fast_math::Log: worst %.2f ulp, %.2e absolute near 1\n", worst,
              worst_near_one);
  EXPECT_LE(worst, 2.0);
  EXPECT_LE(worst_near_one, 1e-7);
  EXPECT_EQ(fast_math::Log(1.0f), 0.0f);
  // Below FLT_MIN (subnormals, zero, negatives) it is log(FLT_MIN).
  const float log_min = fast_math::Log(FLT_MIN);
  EXPECT_NEAR(log_min, std::log(static_cast<double>(FLT_MIN)), 1e-5);
  EXPECT_EQ(fast_math::Log(0.0f), log_min);
  EXPECT_EQ(fast_math::Log(-1.0f), log_min);
}

}  // namespace
}  // namespace audioproc
