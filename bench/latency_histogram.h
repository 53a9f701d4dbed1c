// LatencyHistogram: durations in microseconds, recorded in O(1) into a fixed log-linear
// bucket array (HdrHistogram's layout, 128 sub-buckets per power of two), so a load run of
// millions of chunks needs a few tens of KiB and no per-sample storage. Quantiles are exact
// below 128 us and within 0.8% above.
//
//   LatencyHistogram h;
//   h.Record(1234);                 // microseconds
//   double p99 = h.Quantile(0.99);  // microseconds
//
// Thread safety: none; each thread records into its own histogram and Merge combines them
// once the threads are joined.
#ifndef AUDIOPROC_BENCH_LATENCY_HISTOGRAM_H_
#define AUDIOPROC_BENCH_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace audioproc::bench {

class LatencyHistogram {
 public:
  // Allocates the bucket array (about 36 KiB).
  LatencyHistogram();

  // Counts one duration. Negative values count as 0; values past about 12 days as that.
  void Record(int64_t micros);
  // Adds every count of `other` to this histogram.
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // The largest value recorded (exact), 0 when empty.
  int64_t max() const { return max_; }
  // The mean of the recorded values (exact), 0 when empty.
  double mean() const;
  // The smallest recorded value v such that a fraction `q` (0..1) of the values are <= v, as
  // the midpoint of its bucket (capped at max()); 0 when empty.
  double Quantile(double q) const;

 private:
  static constexpr int kSubBits = 7;
  static constexpr int64_t kSubBuckets = int64_t{1} << kSubBits;
  static constexpr int kMaxExponent = 40;  // 2^40 us: about 12.7 days

  static int Index(int64_t micros);
  // The smallest value and the width of bucket `index`.
  static int64_t LowerBound(int index);
  static int64_t Width(int index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_LATENCY_HISTOGRAM_H_
