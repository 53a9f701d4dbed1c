// ServerOptions: everything that configures a running audioproc server. Filled from flags by
// main (flags.h) and directly by in-process tests.
#ifndef AUDIOPROC_SERVICE_SERVER_OPTIONS_H_
#define AUDIOPROC_SERVICE_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "service/tls_credentials.h"

namespace audioproc {

struct ServerOptions {
  std::string host = "[::]";  // service/listen_address.h
  int port = 50051;           // 0 = any free port
  int metrics_port = 9090;    // 0 = any free port; -1 = no metrics listener (tests)
  int health_port = 0;        // 0 = off
  std::string port_file;      // JSON of the bound ports, written once all are bound
  int workers = 0;            // 0 = the cgroup's CPU quota rounded up (at most the usable CPUs)
  int cq_threads = 0;         // 0 = as workers
  int max_streams = 1000;
  int max_chain_length = 32;
  int64_t max_chunk_bytes = 1048576;
  int64_t max_message_bytes = 34603008;
  int64_t max_file_bytes = 33554432;  // ProcessFile: encoded bytes per file
  double max_file_seconds = 3600;     // ProcessFile: audio seconds per file
  int file_workers = 1;               // ProcessFile's own DSP pool, apart from the streams'
  int stream_queue_chunks = 8;
  double max_stream_seconds = 14400;
  double idle_timeout_seconds = 60;
  double drain_seconds = 30;
  bool reflection = true;

  // Security: TLS (mutual with a client CA) from PEM files, re-read every
  // tls_refresh_seconds; bearer tokens from a file, re-read every second.
  TlsFiles tls;
  unsigned int tls_refresh_seconds = 10;
  std::string auth_tokens_file;
  // The Admin service's own tokens; empty: auth_tokens_file's.
  std::string admin_tokens_file;

  // Resumable streams (issue 14): the HMAC-SHA256 key the replicas share, re-read every
  // second (the previous key keeps verifying after a rotation); empty: no checkpoints, and a
  // ResumeStream is FAILED_PRECONDITION. Tokens expire after resume_token_ttl_seconds and are
  // at most max_resume_token_bytes (a chain whose state cannot fit is not resumable).
  std::string resume_key_file;
  double resume_token_ttl_seconds = 300;
  int64_t max_resume_token_bytes = int64_t{1} << 20;

  // Connections: keepalive pings, and a maximum age after which a connection is closed
  // gracefully (GOAWAY) so that clients reconnect and rebalance; 0 = off / unbounded grace.
  double keepalive_time_seconds = 60;
  double keepalive_timeout_seconds = 20;
  double max_connection_age_seconds = 0;
  double max_connection_age_grace_seconds = 0;
  // gRPC's ResourceQuota for the transport's buffers, across all connections: slow or
  // stalled peers cannot grow the server's memory past it (grpc/grpc#37715). This is its
  // base (connections, handshakes, unary calls, what arrives before a stream is admitted);
  // each admitted stream adds its largest message while it runs (service/transport_quota.h).
  // It comes out of the memory budget; 0 = an eighth of it, and at least two of the largest
  // messages (a ProcessFile request is received whole).
  int64_t resource_quota_bytes = 0;

  // Budgets (service/resource_budget.h): everything the server holds for clients is charged
  // against memory_budget_bytes, and every stream's and file's CPU against cpu_budget (in
  // cores), before it is spent. 0 = from the cgroup (cgroup_root): 75% of its memory limit
  // (else 1 GiB), and 85% of its CPU quota (else of the CPUs this process may use).
  int64_t memory_budget_bytes = 0;
  double cpu_budget = 0;
  std::string cgroup_root = "/sys/fs/cgroup";
  // A chain costlier than this (cores, by the cost model) could never run in real time and
  // is refused at config.
  double max_stream_cost = 0.5;
  // No Process response is larger (4 MiB: what gRPC clients accept by default); each
  // stream's largest chunk is set so that its responses fit.
  int64_t max_response_bytes = 4194304;
  // Events one response may carry; a chain that could report more even for 10 ms chunks is
  // refused at config.
  int max_events_per_response = 1024;
  // ProcessFile: the largest output file, computed from the input's header before decoding;
  // 0 = max_message_bytes.
  int64_t max_file_output_bytes = 0;
};

// Fills what ServerOptions leave to be derived (the budgets from the cgroup, the transport
// quota, the file output limit) and checks the options against each other: a budget too
// small for the transport's quota, or any response that could reach 2 GiB (which protobuf
// cannot serialize, so gRPC would abort the process), is INVALID_ARGUMENT naming the flags.
absl::StatusOr<ServerOptions> ResolveServerOptions(ServerOptions options);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_SERVER_OPTIONS_H_
