#include "service/listen_address.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace audioproc {
namespace {

// An IPv6 literal without its brackets ("::1"); empty for anything else.
absl::string_view Ipv6Literal(absl::string_view host) {
  absl::string_view bare = host;
  if (absl::ConsumePrefix(&bare, "[") && absl::ConsumeSuffix(&bare, "]")) return bare;
  return absl::StrContains(host, ':') ? host : absl::string_view();
}

}  // namespace

bool IsWildcardHost(absl::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

std::string GrpcListenAddress(absl::string_view host, int port) {
  if (host.empty()) return absl::StrCat("[::]:", port);
  absl::string_view v6 = Ipv6Literal(host);
  if (!v6.empty()) return absl::StrCat("[", v6, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::string> MetricsListenAddress(absl::string_view host, int port) {
  if (IsWildcardHost(host)) return absl::StrCat("0.0.0.0:", port);
  if (!Ipv6Literal(host).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--host=", host,
        " is an IPv6 address, and the metrics listener (Debian's civetweb, built without "
        "IPv6) binds only IPv4: use a wildcard --host ([::] serves gRPC on both families, "
        "metrics on IPv4), or --metrics_port=-1"));
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace audioproc
