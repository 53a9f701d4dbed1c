#include "service/latency_summary.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace audioproc {

double LatencySummary::UpperBound(int bucket) {
  return kFirstBoundSeconds * std::exp2(bucket / 4.0);
}

void LatencySummary::Record(double seconds) {
  int bucket = 0;
  if (seconds > kFirstBoundSeconds) {
    // The smallest i with 10 us x 2^(i/4) >= seconds; the comparison below settles rounding.
    bucket = static_cast<int>(std::ceil(4.0 * std::log2(seconds / kFirstBoundSeconds)));
    bucket = std::clamp(bucket, 0, kBuckets - 1);
    if (bucket > 0 && bucket < kBuckets - 1 && UpperBound(bucket - 1) >= seconds) --bucket;
  }
  // Saturates rather than wraps: 2^32 chunks is years of 20 ms chunks.
  if (counts_[bucket] != std::numeric_limits<uint32_t>::max()) ++counts_[bucket];
  ++count_;
}

double LatencySummary::Quantile(double q) const {
  if (count_ == 0) return 0;
  const double rank = std::max(1.0, std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (static_cast<double>(seen) >= rank) return UpperBound(std::min(i, kBuckets - 2));
  }
  return UpperBound(kBuckets - 2);
}

}  // namespace audioproc
