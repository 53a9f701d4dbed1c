// Reading a server's Prometheus /metrics endpoint from tests: one scrape over a plain socket
// (the endpoint is plain HTTP/1.1 on loopback), the value of one series, and waiting with a
// deadline until a series satisfies a condition (counters are updated when a call object goes
// away, just after the client has its status, so tests wait rather than assume).
#ifndef AUDIOPROC_TESTS_TESTING_METRICS_SCRAPE_H_
#define AUDIOPROC_TESTS_TESTING_METRICS_SCRAPE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace audioproc::testing {

// GET /metrics on 127.0.0.1:`port`; the whole HTTP response (status line, headers, body), or
// "" if nothing listens there. Blocks.
std::string ScrapeMetrics(int port);

// The value of `series` (a metric name with its labels exactly as exposed, e.g.
// `audioproc_streams_total{code="CANCELLED"}`) in exposition `text`; nullopt if absent.
std::optional<double> MetricValue(absl::string_view text, absl::string_view series);

// Scrapes until `series` exists and `condition` holds for its value, or until `timeout`.
// Returns the last value seen (nullopt if never seen); the caller checks the condition again
// to report a timeout. Blocks; polls every 20 ms (the server's side has no push to wait on).
std::optional<double> WaitForMetric(int port, absl::string_view series,
                                    const std::function<bool(double)>& condition,
                                    absl::Duration timeout);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_METRICS_SCRAPE_H_
