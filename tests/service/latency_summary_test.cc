// LatencySummary against exact quantiles of the same samples: within one bucket (19%) above,
// never below; empty, tiny and huge latencies.
#include "service/latency_summary.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

double ExactQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(q * values.size())));
  return values[rank - 1];
}

TEST(LatencySummaryTest, QuantilesAreTheBucketAboveTheExactOne) {
  std::mt19937 random(7);
  // Log-normal around 1 ms, with a tail: what chunk latencies look like.
  std::lognormal_distribution<double> latency(std::log(0.001), 1.0);
  for (int n : {1, 2, 10, 1000, 20000}) {
    LatencySummary summary;
    std::vector<double> values;
    for (int i = 0; i < n; ++i) {
      values.push_back(latency(random));
      summary.Record(values.back());
    }
    EXPECT_EQ(summary.count(), static_cast<uint64_t>(n));
    for (double q : {0.5, 0.9, 0.99, 1.0}) {
      const double exact = ExactQuantile(values, q);
      const double estimate = summary.Quantile(q);
      EXPECT_GE(estimate, exact) << "n=" << n << " q=" << q;
      EXPECT_LE(estimate, exact * std::exp2(0.25) * (1 + 1e-12)) << "n=" << n << " q=" << q;
    }
  }
}

TEST(LatencySummaryTest, EmptyTinyAndHuge) {
  LatencySummary summary;
  EXPECT_EQ(summary.Quantile(0.5), 0);
  summary.Record(0);
  summary.Record(1e-9);
  EXPECT_EQ(summary.Quantile(1.0), LatencySummary::kFirstBoundSeconds);
  summary.Record(1e6);  // beyond the last finite bound: reported as that bound
  EXPECT_EQ(summary.Quantile(1.0), LatencySummary::UpperBound(LatencySummary::kBuckets - 2));
  EXPECT_GT(LatencySummary::UpperBound(LatencySummary::kBuckets - 2), 8.0);
}

TEST(LatencySummaryTest, ExactBoundsLandInTheirOwnBucket) {
  for (int bucket = 0; bucket < LatencySummary::kBuckets - 1; ++bucket) {
    LatencySummary summary;
    summary.Record(LatencySummary::UpperBound(bucket));
    EXPECT_EQ(summary.Quantile(0.5), LatencySummary::UpperBound(bucket)) << bucket;
  }
}

}  // namespace
}  // namespace audioproc
