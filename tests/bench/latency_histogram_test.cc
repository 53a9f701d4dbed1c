// LatencyHistogram against exact order statistics of the same values.
#include "bench/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc::bench {
namespace {

// The exact value at quantile q: the ceil(q x n)-th smallest (1-based), as Quantile defines it.
double ExactQuantile(std::vector<int64_t> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * values.size())));
  return static_cast<double>(values[rank - 1]);
}

TEST(LatencyHistogramTest, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.Quantile(0.99), 0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int64_t v = 0; v < 100; ++v) h.Record(v);
  EXPECT_EQ(h.Quantile(0.5), 49);
  EXPECT_EQ(h.Quantile(0.99), 98);
  EXPECT_EQ(h.Quantile(1.0), 99);
  EXPECT_EQ(h.max(), 99);
  EXPECT_DOUBLE_EQ(h.mean(), 49.5);
}

TEST(LatencyHistogramTest, QuantilesOfWideValuesAreWithinOnePercent) {
  std::mt19937_64 rng(7);
  // Log-uniform from 1 us to 10 s, the span of chunk latencies under any load.
  std::uniform_real_distribution<double> exponent(0, 7);
  std::vector<int64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<int64_t>(std::pow(10.0, exponent(rng)));
    values.push_back(v);
    h.Record(v);
  }
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) {
    const double exact = ExactQuantile(values, q);
    EXPECT_NEAR(h.Quantile(q), exact, exact * 0.008 + 0.5) << "q=" << q;
  }
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (int64_t v = 1; v < 5000; v += 3) {
    (v % 2 == 0 ? a : b).Record(v * 7);
    all.Record(v * 7);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double q : {0.01, 0.5, 0.99}) EXPECT_EQ(a.Quantile(q), all.Quantile(q));
}

TEST(LatencyHistogramTest, NegativeAndHugeValuesAreClamped) {
  LatencyHistogram h;
  h.Record(-5);
  EXPECT_EQ(h.Quantile(1.0), 0);
  h.Record(int64_t{1} << 50);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_GT(h.Quantile(1.0), 1e12);
}

}  // namespace
}  // namespace audioproc::bench
