// LatencySummary: a stream's chunk latencies in a fixed log-spaced histogram, for the p50 and
// p99 that Admin.ListStreams reports per stream. 80 buckets of 2^(1/4) (19%) from 10 us to
// about 10 s, plus one for anything longer: 324 bytes per stream, no allocation, and a
// quantile is the upper bound of the bucket that holds it (at most 19% above the truth).
//
//   LatencySummary latency;
//   latency.Record(0.0042);
//   double p99 = latency.Quantile(0.99);
//
// Thread safety: none; the owner guards it (ProcessCall records and reads it under its lock).
#ifndef AUDIOPROC_SERVICE_LATENCY_SUMMARY_H_
#define AUDIOPROC_SERVICE_LATENCY_SUMMARY_H_

#include <array>
#include <cstdint>

namespace audioproc {

class LatencySummary {
 public:
  static constexpr int kBuckets = 81;  // 80 finite, then +Inf
  static constexpr double kFirstBoundSeconds = 10e-6;

  void Record(double seconds);
  // The upper bound of the bucket holding quantile q (0 < q <= 1) of what was recorded; 0
  // when nothing was; the largest finite bound when it falls in the last bucket.
  double Quantile(double q) const;
  uint64_t count() const { return count_; }

  // Bucket i holds latencies in (UpperBound(i - 1), UpperBound(i)].
  static double UpperBound(int bucket);

 private:
  std::array<uint32_t, kBuckets> counts_{};
  uint64_t count_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_LATENCY_SUMMARY_H_
