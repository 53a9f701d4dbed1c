// audioproc-echo-peer: the floor of `make bench` (issue 12). A plain gRPC server that answers
// audioproc.v1.AudioProcessor/Process the way audioproc-server does (ready, one ProcessedChunk
// per chunk with its sequence, a tail, a summary, OK) but returns every chunk's bytes
// unchanged and runs no chain. Measured with audioproc-loadgen beside audioproc-server, it
// shows what gRPC alone costs per stream on this machine, written the plain way: gRPC's
// callback API, one reactor per stream, no executor of our own.
//
//   audioproc-echo-peer --port=0 --port_file=/tmp/ports.json    # {"grpc":P,"metrics":0}
//
// It has no metrics listener ("metrics": 0 in the port file), no TLS, no auth, no budgets.
// SIGTERM or SIGINT stops it (streams still open get 1 s, then are cancelled); exit code 0.
//
// Thread safety: gRPC runs the reactions of a stream on its own threads, a read's and a
// write's possibly at the same time; each reactor guards its state with its own mutex.
#include <grpc/impl/codegen/grpc_types.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fstream>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "common/command_line.h"
#include "protos/wire_formats.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(int, port, 0, "gRPC port; 0 picks a free one (see --port_file).");
ABSL_FLAG(std::string, port_file, "", "Once listening, write {\"grpc\":<port>,\"metrics\":0}.");
ABSL_FLAG(int, max_message_bytes, 34603008,
          "Bytes per gRPC message received (audioproc-server's default).");

namespace audioproc::bench {
namespace {

using v1::ProcessRequest;
using v1::ProcessResponse;

// What audioproc-server grants a stream whose config leaves max_chunk_bytes at 0 (its
// --max_chunk_bytes default), so that a client sizing its chunks by `ready` sees the same.
constexpr uint32_t kDefaultMaxChunkBytes = 1 << 20;
// Responses queued behind the write in flight before the stream stops reading: a client that
// does not read its answers is held back by HTTP/2 flow control instead of growing the queue.
constexpr size_t kMaxQueuedResponses = 4;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One Process stream. Phases: kAwaitingConfig -> kStreaming -> kFlushing (tail and summary
// queued after the half-close, or an error) -> Finish once the queue is written.
class EchoReactor : public grpc::ServerBidiReactor<ProcessRequest, ProcessResponse> {
 public:
  EchoReactor() : started_(std::chrono::steady_clock::now()) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    bool read_again = false;
    {
      absl::MutexLock lock(&mu_);
      read_pending_ = false;
      if (phase_ != Phase::kFlushing) {  // else an error or a failed write ended it already
        if (!ok) {
          EndStreamLocked();  // the client's half-close (a cancel fails the writes as well)
        } else if (phase_ == Phase::kAwaitingConfig) {
          StartStreamLocked();
        } else {
          AnswerLocked();
        }
      }
      read_again = TakeReadLocked();
    }
    if (read_again) StartRead(&request_);
    Pump();
  }

  void OnWriteDone(bool ok) override {
    bool read_again = false;
    {
      absl::MutexLock lock(&mu_);
      queue_.pop_front();
      write_pending_ = false;
      if (!ok) {  // the call is broken (cancelled, deadline): nothing more will be sent
        queue_.clear();
        if (!finish_status_) finish_status_ = grpc::Status::CANCELLED;
        phase_ = Phase::kFlushing;
      }
      read_again = TakeReadLocked();
    }
    if (read_again) StartRead(&request_);
    Pump();
  }

  void OnDone() override { delete this; }

 private:
  enum class Phase { kAwaitingConfig, kStreaming, kFlushing };

  // Whether to post the next read now (and notes it posted): not after the end, not twice,
  // and not while the client is kMaxQueuedResponses answers behind.
  bool TakeReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (phase_ == Phase::kFlushing || read_pending_ || queue_.size() >= kMaxQueuedResponses) {
      return false;
    }
    read_pending_ = true;
    return true;
  }

  void StartStreamLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!request_.has_config()) {
      return FailLocked(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message must be a config (StreamConfig)");
    }
    const v1::StreamConfig& config = request_.config();
    frame_bytes_ = BytesPerFrame(config.input());
    if (frame_bytes_ == 0 || config.input().sample_rate_hz() == 0) {
      return FailLocked(grpc::StatusCode::INVALID_ARGUMENT,
                        "config.input needs an encoding, a sample rate and channels");
    }
    sample_rate_hz_ = config.input().sample_rate_hz();
    v1::StreamReady& ready = *queue_.emplace_back().mutable_ready();
    // Echo: the output is the input, whatever the config asked; the chain is not run.
    *ready.mutable_output() = config.input();
    ready.set_stream_id(config.stream_id().empty() ? "echo" : config.stream_id());
    ready.set_max_chunk_bytes(config.max_chunk_bytes() > 0 ? config.max_chunk_bytes()
                                                           : kDefaultMaxChunkBytes);
    phase_ = Phase::kStreaming;
  }

  void AnswerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!request_.has_chunk()) {
      return FailLocked(grpc::StatusCode::UNIMPLEMENTED,
                        "the echo peer takes only chunks after the config");
    }
    v1::AudioChunk& in = *request_.mutable_chunk();
    ++chunks_;
    const auto frames = static_cast<uint32_t>(in.data().size() / frame_bytes_);
    frames_ += frames;
    v1::ProcessedChunk& out = *queue_.emplace_back().mutable_chunk();
    out.mutable_data()->swap(*in.mutable_data());  // the bytes unchanged, not copied
    v1::ChunkMetrics& metrics = *out.mutable_metrics();
    metrics.set_sequence(in.sequence() != 0 ? in.sequence() : chunks_);  // 0: we number them
    metrics.set_frames_in(frames);
    metrics.set_frames_out(frames);
  }

  // After the half-close: an empty tail (nothing buffered) and the summary, then OK.
  void EndStreamLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (phase_ == Phase::kAwaitingConfig) {
      return FailLocked(grpc::StatusCode::INVALID_ARGUMENT,
                        "the stream ended before its first message, which must be a config");
    }
    queue_.emplace_back().mutable_chunk()->set_tail(true);
    v1::StreamSummary& summary = *queue_.emplace_back().mutable_summary();
    summary.set_frames_in(frames_);
    summary.set_frames_out(frames_);
    summary.set_chunks(chunks_);
    summary.set_audio_seconds(static_cast<double>(frames_) / sample_rate_hz_);
    summary.set_wall_seconds(SecondsSince(started_));
    finish_status_ = grpc::Status::OK;
    phase_ = Phase::kFlushing;
  }

  // Answers already queued are still sent, then the stream ends with `code`.
  void FailLocked(grpc::StatusCode code, const std::string& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finish_status_ = grpc::Status(code, message);
    phase_ = Phase::kFlushing;
  }

  // Starts the next write, or the Finish once everything is written. gRPC allows one write
  // in flight per stream; the queue's front is the response being written (a deque keeps it
  // where it is while others are appended).
  void Pump() {
    const ProcessResponse* to_write = nullptr;
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      if (write_pending_ || finished_) return;
      if (!queue_.empty()) {
        write_pending_ = true;
        to_write = &queue_.front();
      } else if (phase_ == Phase::kFlushing && !read_pending_) {
        finished_ = true;
        finish = finish_status_.value_or(grpc::Status::OK);
      }
    }
    if (to_write != nullptr) StartWrite(to_write);
    if (finish) Finish(*finish);
  }

  const std::chrono::steady_clock::time_point started_;
  ProcessRequest request_;  // the read in flight's destination; touched only between reads
  absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kAwaitingConfig;
  std::deque<ProcessResponse> queue_ ABSL_GUARDED_BY(mu_);
  bool read_pending_ ABSL_GUARDED_BY(mu_) = true;  // the constructor's read
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
  uint32_t frame_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t sample_rate_hz_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t chunks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t frames_ ABSL_GUARDED_BY(mu_) = 0;
};

class EchoService final : public v1::AudioProcessor::CallbackService {
  grpc::ServerBidiReactor<ProcessRequest, ProcessResponse>* Process(
      grpc::CallbackServerContext* /*context*/) override {
    return new EchoReactor();  // deletes itself in OnDone
  }
};

bool WritePortFile(const std::string& path, int port) {
  const std::string temporary = path + ".tmp";  // renamed: a reader never sees half a file
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "{\"grpc\":" << port << ",\"metrics\":0}\n";
    if (!out) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

int Main() {
  // Taken by sigwait on this thread: blocked before gRPC starts any thread, which inherit it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string host = absl::GetFlag(FLAGS_host);
  const std::string address = absl::StrCat(
      absl::StrContains(host, ':') && !absl::StartsWith(host, "[") ? absl::StrCat("[", host, "]")
                                                                   : host,
      ":", absl::GetFlag(FLAGS_port));
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  // audioproc-server's transport settings where they change what a stream costs: the same
  // message limit, no SO_REUSEPORT, and HTTP/2 windows that stay at 64 KiB (no BDP probing).
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "audioproc-echo-peer: could not listen on %s\n", address.c_str());
    return 1;
  }
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() && !WritePortFile(port_file, port)) {
    std::fprintf(stderr, "audioproc-echo-peer: could not write %s\n", port_file.c_str());
    return 1;
  }
  std::fprintf(stderr, "audioproc-echo-peer: listening on %s, port %d\n", host.c_str(), port);
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}

}  // namespace
}  // namespace audioproc::bench

int main(int argc, char** argv) {
  audioproc::SetUpCommandLine(
      "audioproc-echo-peer",
      "Echo peer of audioproc-server for `make bench`: Process answered with the input bytes, "
      "over gRPC's callback API.");
  absl::ParseCommandLine(argc, argv);
  return audioproc::bench::Main();
}
