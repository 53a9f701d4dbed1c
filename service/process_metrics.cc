#include "service/process_metrics.h"

#include <prometheus/client_metric.h>

#include <string>

#include "absl/status/statusor.h"
#include "procfs/proc_stats.h"

namespace audioproc {
namespace {

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {std::move(name), std::move(help), type, {metric}};
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  absl::StatusOr<ProcessStats> stats = ReadProcessStats(0);
  if (!stats.ok()) return {};
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families = {
      Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
             MetricType::Counter, stats->usage.cpu_seconds),
      Family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
             static_cast<double>(stats->usage.rss_kib) * 1024),
      Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
             static_cast<double>(stats->virtual_bytes)),
      Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
             static_cast<double>(stats->open_fds)),
      Family("process_threads", "Number of OS threads in the process.", MetricType::Gauge,
             static_cast<double>(stats->threads)),
      Family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             MetricType::Gauge, stats->start_time_seconds),
  };
  // Unlimited: no maximum to report (Prometheus' own collector leaves it out as well).
  if (stats->max_fds >= 0) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(stats->max_fds)));
  }
  return families;
}

}  // namespace audioproc
