// ServerOptions: everything that configures a running audioproc server. Filled from flags by
// main (flags.h) and directly by in-process tests.
#ifndef AUDIOPROC_SERVICE_SERVER_OPTIONS_H_
#define AUDIOPROC_SERVICE_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "service/tls_credentials.h"

namespace audioproc {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 50051;          // 0 = any free port
  int metrics_port = 9090;   // 0 = any free port; -1 = no metrics listener (tests)
  int health_port = 0;       // 0 = off
  std::string port_file;     // JSON of the bound ports, written once all are bound
  int workers = 0;           // 0 = one per core
  int cq_threads = 0;        // 0 = one per core
  int max_streams = 1000;
  int max_chain_length = 32;
  int64_t max_chunk_bytes = 1048576;
  int64_t max_message_bytes = 34603008;
  int64_t max_file_bytes = 33554432;   // ProcessFile: encoded bytes per file
  double max_file_seconds = 3600;      // ProcessFile: audio seconds per file
  int file_workers = 1;                // ProcessFile's own DSP pool, apart from the streams'
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

  // Connections: keepalive pings, and a maximum age after which a connection is closed
  // gracefully (GOAWAY) so that clients reconnect and rebalance; 0 = off / unbounded grace.
  double keepalive_time_seconds = 60;
  double keepalive_timeout_seconds = 20;
  double max_connection_age_seconds = 0;
  double max_connection_age_grace_seconds = 0;
  // gRPC's ResourceQuota for the transport's buffers, across all connections: slow or
  // stalled peers cannot grow the server's memory past it (grpc/grpc#37715).
  int64_t resource_quota_bytes = 536870912;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_SERVER_OPTIONS_H_
