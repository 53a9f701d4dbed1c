#include "tests/testing/metrics_scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace audioproc::testing {

std::string ScrapeMetrics(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  const std::string request =
      "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  close(fd);
  return response;
}

std::optional<double> MetricValue(absl::string_view text, absl::string_view series) {
  const std::string needle = absl::StrCat(series, " ");
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + 1)) {
    if (at != 0 && text[at - 1] != '\n') continue;  // a longer name ending in `series`
    const size_t begin = at + needle.size();
    size_t end = text.find_first_of(" \r\n", begin);
    if (end == absl::string_view::npos) end = text.size();
    double value;
    if (absl::SimpleAtod(text.substr(begin, end - begin), &value)) return value;
  }
  return std::nullopt;
}

std::optional<double> WaitForMetric(int port, absl::string_view series,
                                    const std::function<bool(double)>& condition,
                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::optional<double> value;
  while (true) {
    value = MetricValue(ScrapeMetrics(port), series);
    if ((value && condition(*value)) || absl::Now() >= deadline) return value;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace audioproc::testing
