// Listen addresses from --host and a port, for gRPC and for the metrics listener (civetweb).
//
// --host is an IPv4 address, an IPv6 address (with or without brackets) or a wildcard:
// "[::]" (the default), "::" or "0.0.0.0", which gRPC binds dual-stack (IPv6 and IPv4 on one
// socket, IPv4 alone where the machine has no IPv6). Debian's civetweb is built without IPv6,
// so the metrics listener binds the IPv4 wildcard for any wildcard host and refuses an IPv6
// address with an explanation (a cluster scraping over IPv6 needs --metrics_port on a host
// that has IPv4, or a sidecar).
#ifndef AUDIOPROC_SERVICE_LISTEN_ADDRESS_H_
#define AUDIOPROC_SERVICE_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace audioproc {

// True for "", "0.0.0.0", "::" and "[::]".
bool IsWildcardHost(absl::string_view host);

// "host:port" as gRPC takes it: "[::]:50051", "[::1]:50051", "10.0.0.7:50051".
std::string GrpcListenAddress(absl::string_view host, int port);

// civetweb's listening_ports entry: "0.0.0.0:9090" for a wildcard host, "127.0.0.1:9090" for
// an IPv4 address; INVALID_ARGUMENT for an IPv6 address (see above).
absl::StatusOr<std::string> MetricsListenAddress(absl::string_view host, int port);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_LISTEN_ADDRESS_H_
