// ProcessMetrics: Prometheus' standard process_* metrics for this process (resident and
// virtual memory, CPU seconds, open and allowed file descriptors, threads, start time), read
// from /proc at every scrape (procfs/proc_stats.h) rather than sampled by a thread of ours,
// so they cost nothing between scrapes and are never stale.
//
//   exposer.RegisterCollectable(std::make_shared<ProcessMetrics>());
//
// Thread safety: Collect may run on any thread (civetweb's); it keeps no state.
#ifndef AUDIOPROC_SERVICE_PROCESS_METRICS_H_
#define AUDIOPROC_SERVICE_PROCESS_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace audioproc {

class ProcessMetrics final : public prometheus::Collectable {
 public:
  // Nothing when /proc cannot be read (the scrape then has the other metrics).
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_PROCESS_METRICS_H_
