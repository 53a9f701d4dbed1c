#include "bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace audioproc::bench {

LatencyHistogram::LatencyHistogram()
    : counts_(static_cast<size_t>(kSubBuckets * (kMaxExponent - kSubBits + 2)), 0) {}

int LatencyHistogram::Index(int64_t micros) {
  const uint64_t v =
      static_cast<uint64_t>(std::clamp<int64_t>(micros, 0, (int64_t{1} << kMaxExponent) - 1));
  if (v < static_cast<uint64_t>(kSubBuckets)) return static_cast<int>(v);
  // v has bit_width >= kSubBits + 1; keep its top kSubBits + 1 bits.
  const int shift = std::bit_width(v) - 1 - kSubBits;
  const int sub = static_cast<int>(v >> shift) - static_cast<int>(kSubBuckets);
  return static_cast<int>(kSubBuckets) * (shift + 1) + sub;
}

int64_t LatencyHistogram::LowerBound(int index) {
  if (index < kSubBuckets) return index;
  const int shift = index / static_cast<int>(kSubBuckets) - 1;
  const int64_t sub = index % kSubBuckets;
  return (kSubBuckets + sub) << shift;
}

int64_t LatencyHistogram::Width(int index) {
  if (index < kSubBuckets) return 1;
  return int64_t{1} << (index / static_cast<int>(kSubBuckets) - 1);
}

void LatencyHistogram::Record(int64_t micros) {
  micros = std::max<int64_t>(micros, 0);
  ++counts_[static_cast<size_t>(Index(micros))];
  ++count_;
  max_ = std::max(max_, micros);
  sum_ += static_cast<double>(micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  // The rank of the wanted value, 1-based: ceil(q x count), at least 1.
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int index = static_cast<int>(i);
      const double mid =
          static_cast<double>(LowerBound(index)) + static_cast<double>(Width(index) - 1) / 2.0;
      return std::min(mid, static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

}  // namespace audioproc::bench
