// RealFftPlan::Shared: one plan per size for the process, and the condition under which a
// stream may execute it on its own arrays: FFTW's new-array execute functions need arrays of
// the alignment the plan was made with (fftwf_alignment_of equal), which every FftwBuffer has,
// being fftwf_malloc'd as the planner's arrays were.
#include "dsp/fftw_plan.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

TEST(FftwPlanTest, SharedPlansAreOnePerSize) {
  absl::StatusOr<const RealFftPlan*> a = RealFftPlan::Shared(512);
  absl::StatusOr<const RealFftPlan*> b = RealFftPlan::Shared(512);
  absl::StatusOr<const RealFftPlan*> c = RealFftPlan::Shared(1024);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ((*c)->size(), 1024);
  EXPECT_FALSE(RealFftPlan::Shared(511).ok());
}

TEST(FftwPlanTest, EveryBufferHasThePlannersAlignment) {
  // The planner's arrays were fftwf_malloc'd: alignment_of 0. So is every stream's buffer.
  for (size_t n : {16u, 257u, 512u, 1025u}) {
    FftwBuffer<float> real(n);
    FftwBuffer<fftwf_complex> complex(n);
    EXPECT_EQ(fftwf_alignment_of(real.data()), 0) << n;
    EXPECT_EQ(fftwf_alignment_of(reinterpret_cast<float*>(complex.data())), 0) << n;
  }
}

TEST(FftwPlanTest, StreamsShareAPlanOnTheirOwnArrays) {
  // Two streams' buffers through one shared plan: each gets its own transform.
  const RealFftPlan* plan = *RealFftPlan::Shared(64);
  FftwBuffer<float> x1(64), x2(64), y(64);
  FftwBuffer<fftwf_complex> s1(RealFftPlan::Bins(64)), s2(RealFftPlan::Bins(64));
  for (int i = 0; i < 64; ++i) {
    x1[i] = std::sin(2 * M_PI * 3 * i / 64);
    x2[i] = 1.0f;
  }
  plan->Forward(x1.data(), s1.data());
  plan->Forward(x2.data(), s2.data());
  EXPECT_NEAR(s1[3][1], -32.0f, 1e-4);  // a sine of 3 cycles: bin 3, imaginary, -N/2
  EXPECT_NEAR(s2[0][0], 64.0f, 1e-4);   // a constant: DC, N
  plan->Inverse(s1.data(), y.data());
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(y[i] / 64, x1[i], 1e-6) << i;
}

}  // namespace
}  // namespace audioproc
