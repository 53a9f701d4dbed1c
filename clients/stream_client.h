// StreamClient: streams one buffer of audio through AudioProcessor.Process and collects
// everything the server sends back (DESIGN.md section 3, "Process, message by message").
//
//   StreamClientOptions options;
//   options.address = "localhost:50051";
//   options.realtime = true;                       // pace like a live source
//   ASSIGN_OR_RETURN(std::unique_ptr<StreamClient> client, StreamClient::Connect(options));
//   v1::StreamConfig config;                       // input format and chain
//   StreamResult result = client->Process(config, audio.data);
//   if (!result.status.ok()) ...                   // also set for a mid-stream server error
//
// Process uses gRPC's synchronous API with two threads: the calling thread writes the config
// and the chunks and half-closes; a reader thread collects responses as they come, so a slow
// reader never stalls the writer and HTTP/2 flow control works both ways. A resumable stream
// (StreamConfig.checkpoint_interval_ms) survives its server draining or going away: the caller
// sees one stream, each chunk's output once and in order (StreamClientOptions.max_resumes).
//
// Thread safety: a StreamClient is immutable after construction; any number of threads may
// call Process and ListProcessors at once, each call with its own stream and result.
#ifndef AUDIOPROC_CLIENTS_STREAM_CLIENT_H_
#define AUDIOPROC_CLIENTS_STREAM_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "audioproc/v1/audioproc.pb.h"
#include "grpcpp/grpcpp.h"

namespace audioproc::client {

struct StreamClientOptions {
  // Server address, host:port (any gRPC target, e.g. dns:///audioproc:50051).
  std::string address = "localhost:50051";

  // Input audio per AudioChunk, in milliseconds (at least one frame).
  uint32_t chunk_ms = 20;
  // Input frames per AudioChunk; when non-zero it overrides chunk_ms (1 or 7 exercise the
  // server's chunking invariance).
  uint32_t chunk_frames = 0;
  // Pace the chunks like a live source: chunk i is sent at start + i x chunk duration.
  // Otherwise they go as fast as flow control lets them.
  bool realtime = false;

  // Overrides applied to the StreamConfig given to Process, where set.
  std::string stream_id;   // Non-empty: replaces StreamConfig.stream_id.
  v1::AudioFormat output;  // Each non-zero field replaces the config's output field.
  bool dither = false;     // True: DITHER_TPDF.

  // Sent as `authorization: Bearer <token>` metadata on every call when non-empty.
  std::string bearer_token;
  // TLS, verifying the server against the PEM roots in tls_root_cert_path (empty: the system's
  // roots). Setting tls_root_cert_path turns TLS on.
  bool use_tls = false;
  std::string tls_root_cert_path;
  // Mutual TLS: the PEM certificate chain and private key this client presents (both or
  // neither). Setting them turns TLS on.
  std::string tls_cert_path;
  std::string tls_key_path;
  // The name the server's certificate is checked against (and sent as SNI) instead of the
  // address's host, e.g. the Service's DNS name when dialling a pod IP or a port-forward.
  std::string tls_server_name;

  // Deadline of each call, from its start; zero or infinite: none.
  absl::Duration timeout = absl::ZeroDuration();

  // gRPC service config of the channel, e.g. R"({"loadBalancingConfig":[{"round_robin":{}}]})"
  // with an address that names several servers (ipv4:10.0.0.1:50051,10.0.0.2:50051, or a
  // headless Service's dns:///...). Empty: gRPC's default (pick_first).
  std::string service_config_json;

  // Automatic resume (issue 14), for a config with checkpoint_interval_ms > 0 on a resumable
  // stream: the client keeps the last Checkpoint and the chunks sent after it; when the call
  // ends UNAVAILABLE (a drained or lost replica) it opens a new channel (so balancing picks
  // another replica), resumes from the token, sends those chunks again and goes on, dropping
  // answers it already had. At most max_resumes times per stream; 0: never.
  int max_resumes = 8;
};

// Everything one Process call produced.
struct StreamResult {
  // The call's final status: OK after the summary, or the server's error (also mid-stream,
  // after the chunks it answered), or a local INVALID_ARGUMENT for an unusable config.
  grpc::Status status;
  // The first response, if it came.
  std::optional<v1::StreamReady> ready;
  // Every chunk response's data, in order, the tail's included: the whole processed stream
  // (empty when ProcessStream handed it to an OutputSink instead).
  std::string output;
  // One entry per chunk response, in order; the tail's last.
  std::vector<v1::ChunkMetrics> chunks;
  // Every event of every chunk response, in order.
  std::vector<v1::Event> events;
  bool got_tail = false;
  std::optional<v1::StreamSummary> summary;
  // AudioChunks written (not counting the config).
  uint64_t chunks_sent = 0;
  // For each answered input chunk, in order: from just before its write to its response.
  // With realtime pacing this is the added latency a live source sees.
  std::vector<absl::Duration> chunk_latency;
  // How often the stream was resumed on another call (StreamClientOptions.max_resumes).
  int resumes = 0;
  // The first departure from the message order of DESIGN.md section 3 (ready first, one chunk
  // per input chunk with its sequence, tail, summary); empty if none. Does not alter status.
  std::string protocol_error;
};

class StreamClient {
 public:
  // Uses an existing channel (e.g. an in-process server's); `options.address` and the TLS
  // options are ignored.
  StreamClient(const std::shared_ptr<grpc::ChannelInterface>& channel, StreamClientOptions options);

  // Opens a channel as `options` say. NOT_FOUND if a TLS file cannot be read, INVALID_ARGUMENT
  // for a client certificate without its key or the reverse. The channel connects lazily: an
  // unreachable server shows as UNAVAILABLE from the first call.
  static absl::StatusOr<std::unique_ptr<StreamClient>> Connect(StreamClientOptions options);

  // Supplies input as it comes (a pipe, a microphone): fills `chunk` with at most `max_bytes`
  // (one chunk's worth; fewer only at the end) and returns true, or returns false at the end
  // of the input. May block; called on the calling thread.
  using ChunkSource = std::function<bool(size_t max_bytes, std::string& chunk)>;
  // Takes each response's audio as it arrives, in order, on the reader thread.
  using OutputSink = std::function<void(absl::string_view data)>;

  // Streams `audio` (interleaved bytes in config.input's format) as one Process call: the
  // config with the options' overrides applied, the audio in chunks with sequence numbers
  // from 1, then a half-close. Blocks until the call ends (in real time when pacing: about
  // the audio's duration). Starts one thread. With `sink`, the output goes to it as it
  // arrives, as ProcessStream's does.
  StreamResult Process(v1::StreamConfig config, absl::string_view audio,
                       const OutputSink& sink = nullptr) const;

  // Process for live input: chunks from `source` until it ends, each processed chunk handed to
  // `sink` (when set; then StreamResult.output stays empty, so an endless stream keeps no
  // audio in memory).
  StreamResult ProcessStream(v1::StreamConfig config, const ChunkSource& source,
                             const OutputSink& sink = nullptr) const;

  // The server's processor catalogue. Blocks.
  absl::StatusOr<v1::ListProcessorsResponse> ListProcessors() const;

  const StreamClientOptions& options() const { return options_; }

 private:
  void PrepareContext(grpc::ClientContext& context) const;
  // The stub for a resumed call: on a new channel when this client opened its own (Connect),
  // else on the channel it was given.
  std::unique_ptr<v1::AudioProcessor::Stub> ResumeStub() const;

  StreamClientOptions options_;
  std::unique_ptr<v1::AudioProcessor::Stub> stub_;
  std::shared_ptr<grpc::ChannelInterface> stub_channel_;
  bool opened_channel_ = false;  // by Connect, from options_
};

// The channel StreamClient::Connect opens for `options` (address, TLS files, no receive size
// limit), for other stubs on the same terms (the health probe's). Errors as Connect's.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const StreamClientOptions& options);

// The same code and message as an absl::Status (the codes match one to one).
absl::Status ToAbslStatus(const grpc::Status& status);

}  // namespace audioproc::client

#endif  // AUDIOPROC_CLIENTS_STREAM_CLIENT_H_
