#include "clients/stream_client.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/pcm.h"

namespace audioproc::client {
namespace {

using Clock = std::chrono::steady_clock;

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (in == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  }
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), in.get())) > 0;) text.append(buffer, n);
  return text;
}

void ApplyOverrides(const StreamClientOptions& options, v1::StreamConfig& config) {
  if (!options.stream_id.empty()) config.set_stream_id(options.stream_id);
  if (options.output.encoding() != v1::ENCODING_UNSPECIFIED) {
    config.mutable_output()->set_encoding(options.output.encoding());
  }
  if (options.output.sample_rate_hz() != 0) {
    config.mutable_output()->set_sample_rate_hz(options.output.sample_rate_hz());
  }
  if (options.output.channels() != 0) {
    config.mutable_output()->set_channels(options.output.channels());
  }
  if (options.dither) config.set_dither(v1::DITHER_TPDF);
}

// What a resumable stream keeps to go on elsewhere: the last checkpoint and the chunks sent
// after it (bounded by the checkpoint interval: a checkpoint drops those it covers).
// Thread safety: the writer adds chunks while the reader records checkpoints; guarded.
class ResumeLog {
 public:
  void Sent(uint64_t sequence, const std::string& data) {
    absl::MutexLock lock(&mu_);
    held_.emplace_back(sequence, data);
  }
  void Checkpointed(v1::Checkpoint& checkpoint) {
    absl::MutexLock lock(&mu_);
    while (!held_.empty() && held_.front().first <= checkpoint.sequence()) held_.pop_front();
    checkpoint_ = std::move(checkpoint);
  }
  std::optional<v1::Checkpoint> checkpoint() const {
    absl::MutexLock lock(&mu_);
    return checkpoint_;
  }
  // The chunks after the checkpoint, to send again, in order.
  std::deque<std::pair<uint64_t, std::string>> held() const {
    absl::MutexLock lock(&mu_);
    return held_;
  }

 private:
  mutable absl::Mutex mu_;
  std::optional<v1::Checkpoint> checkpoint_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<uint64_t, std::string>> held_ ABSL_GUARDED_BY(mu_);
};

// What the reader thread collects, and the send times it shares with the writer. Over a
// resumed stream's calls it delivers each chunk's answer once: an answer for a chunk already
// delivered (the old call answered it after its last checkpoint) is dropped.
// Thread safety: MarkSent is called by the writer while Collect runs on the reader; the send
// times they share are guarded. Resuming and Finish run while no reader runs.
class ResponseCollector {
 public:
  ResponseCollector(StreamResult& result, const StreamClient::OutputSink& sink, ResumeLog& log)
      : result_(result), sink_(sink), log_(log) {}

  // Called by the writer just before it writes chunk `sequence` (from 1, in order).
  void MarkSent(uint64_t sequence) {
    absl::MutexLock lock(&mu_);
    if (sent_at_.size() < sequence) sent_at_.resize(sequence);
    sent_at_[sequence - 1] = Clock::now();
  }

  // The next call resumes from the checkpoint at `sequence`: its `ready` must say so.
  void Resuming(uint64_t sequence) {
    resumed_after_ = sequence;
    leg_ready_ = false;
  }

  // Whether the current resumed call has been answered `ready` (read after the reader ends).
  bool resumed_ready() const { return leg_ready_; }

  // Called by the reader for each response, in order.
  void Collect(v1::ProcessResponse& response) {
    switch (response.response_case()) {
      case v1::ProcessResponse::kReady:
        if (resumed_after_) {
          if (leg_ready_ || response.ready().resumed_after_sequence() != *resumed_after_) {
            Violation(absl::StrCat("a resumed ready after sequence ",
                                   response.ready().resumed_after_sequence(), ", not ",
                                   *resumed_after_));
          }
          leg_ready_ = true;
          break;
        }
        if (result_.ready.has_value() || !result_.chunks.empty()) {
          Violation("a ready that is not the first response");
        }
        result_.ready = std::move(*response.mutable_ready());
        break;
      case v1::ProcessResponse::kChunk:
        CollectChunk(*response.mutable_chunk());
        break;
      case v1::ProcessResponse::kCheckpoint:
        log_.Checkpointed(*response.mutable_checkpoint());
        break;
      case v1::ProcessResponse::kSummary:
        if (!result_.got_tail) Violation("a summary before the tail chunk");
        if (result_.summary.has_value()) Violation("a second summary");
        result_.summary = std::move(*response.mutable_summary());
        break;
      default:
        Violation("an empty response");
        break;
    }
  }

  // Called once the call has ended, with the chunks written.
  void Finish() {
    const uint64_t answered = answered_;
    if (answered > result_.chunks_sent) {
      Violation(absl::StrCat(answered, " chunk responses for ", result_.chunks_sent, " chunks"));
    }
    if (!result_.status.ok()) {
      if (result_.got_tail || result_.summary.has_value()) {
        Violation("a tail or summary before an error status");
      }
      return;
    }
    if (!result_.ready.has_value()) Violation("no ready");
    if (answered != result_.chunks_sent) {
      Violation(absl::StrCat(answered, " chunk responses for ", result_.chunks_sent, " chunks"));
    }
    if (!result_.got_tail) Violation("no tail chunk");
    if (!result_.summary.has_value()) Violation("no summary");
  }

 private:
  void CollectChunk(v1::ProcessedChunk& chunk) {
    if (!result_.ready.has_value()) Violation("a chunk before ready");
    if (result_.got_tail) Violation("a chunk after the tail");
    if (!chunk.tail() && chunk.metrics().sequence() <= answered_) return;  // answered before
    if (sink_) {
      sink_(chunk.data());
    } else {
      result_.output.append(chunk.data());
    }
    for (v1::Event& event : *chunk.mutable_events()) result_.events.push_back(std::move(event));
    result_.chunks.push_back(chunk.metrics());
    if (chunk.tail()) {
      result_.got_tail = true;
      return;
    }
    const uint64_t expected = ++answered_;
    const uint64_t sequence = chunk.metrics().sequence();
    if (sequence != expected) {
      Violation(absl::StrCat("chunk response ", expected, " has sequence ", sequence));
      return;
    }
    Clock::time_point sent;
    {
      absl::MutexLock lock(&mu_);
      if (sequence > sent_at_.size()) return;  // Reported by Finish.
      sent = sent_at_[sequence - 1];
    }
    result_.chunk_latency.push_back(absl::FromChrono(Clock::now() - sent));
  }

  void Violation(absl::string_view what) {
    if (result_.protocol_error.empty()) {
      result_.protocol_error = absl::StrCat("the server sent ", what);
    }
  }

  StreamResult& result_;  // Touched by the reader only until it is joined.
  const StreamClient::OutputSink& sink_;
  ResumeLog& log_;
  uint64_t answered_ = 0;
  // Set while a resumed call runs: the checkpoint it resumed from, and whether its ready came.
  std::optional<uint64_t> resumed_after_;
  bool leg_ready_ = false;
  absl::Mutex mu_;
  std::vector<Clock::time_point> sent_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

StreamClient::StreamClient(const std::shared_ptr<grpc::ChannelInterface>& channel,
                           StreamClientOptions options)
    : options_(std::move(options)),
      stub_(v1::AudioProcessor::NewStub(channel)),
      stub_channel_(channel) {}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const StreamClientOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.use_tls || !options.tls_root_cert_path.empty() || !options.tls_cert_path.empty() ||
      !options.tls_key_path.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_root_cert_path.empty()) {
      absl::StatusOr<std::string> roots = ReadTextFile(options.tls_root_cert_path);
      if (!roots.ok()) return roots.status();
      ssl.pem_root_certs = *std::move(roots);
    }
    if (options.tls_cert_path.empty() != options.tls_key_path.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate needs its key, and a key its "
          "certificate (tls_cert_path and tls_key_path)");
    }
    if (!options.tls_cert_path.empty()) {
      absl::StatusOr<std::string> cert = ReadTextFile(options.tls_cert_path);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadTextFile(options.tls_key_path);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments arguments;
  // A response is as large as the chunk that caused it, and a whole-stream chunk may exceed
  // gRPC's 4 MiB default; the server enforces its own limits.
  arguments.SetMaxReceiveMessageSize(-1);
  if (!options.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.tls_server_name);
  }
  if (!options.service_config_json.empty()) {
    arguments.SetServiceConfigJSON(options.service_config_json);
  }
  return grpc::CreateCustomChannel(options.address, credentials, arguments);
}

absl::StatusOr<std::unique_ptr<StreamClient>> StreamClient::Connect(StreamClientOptions options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options);
  if (!channel.ok()) return channel.status();
  auto client = std::make_unique<StreamClient>(*std::move(channel), std::move(options));
  client->opened_channel_ = true;
  return client;
}

void StreamClient::PrepareContext(grpc::ClientContext& context) const {
  if (!options_.bearer_token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.bearer_token));
  }
  if (options_.timeout > absl::ZeroDuration() && options_.timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  }
}

StreamResult StreamClient::Process(v1::StreamConfig config, absl::string_view audio,
                                   const OutputSink& sink) const {
  size_t offset = 0;
  return ProcessStream(
      std::move(config),
      [&](size_t max_bytes, std::string& chunk) {
        if (offset >= audio.size()) return false;
        const absl::string_view piece = audio.substr(offset, max_bytes);
        chunk.assign(piece.data(), piece.size());
        offset += chunk.size();
        return true;
      },
      sink);
}

StreamResult StreamClient::ProcessStream(v1::StreamConfig config, const ChunkSource& source,
                                         const OutputSink& sink) const {
  StreamResult result;
  ApplyOverrides(options_, config);
  const v1::AudioFormat& input = config.input();
  const uint32_t frame_bytes = BytesPerFrame(input);
  if (frame_bytes == 0 || input.sample_rate_hz() == 0) {
    result.status =
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     "StreamConfig.input needs an encoding, a sample rate and channels");
    return result;
  }
  const uint64_t chunk_frames =
      options_.chunk_frames != 0
          ? options_.chunk_frames
          : std::max<uint64_t>(1, uint64_t{input.sample_rate_hz()} * options_.chunk_ms / 1000);
  const uint64_t chunk_bytes = chunk_frames * frame_bytes;
  const double seconds_per_frame = 1.0 / input.sample_rate_hz();

  ResumeLog log;
  ResponseCollector collector(result, sink, log);
  const bool resumable = config.checkpoint_interval_ms() > 0 && options_.max_resumes > 0;
  v1::ProcessRequest first;
  *first.mutable_config() = std::move(config);
  const Clock::time_point start = Clock::now();
  uint64_t frames_sent = 0;
  bool input_done = false;
  std::unique_ptr<v1::AudioProcessor::Stub> resumed_stub;
  for (;;) {
    v1::AudioProcessor::Stub& stub = resumed_stub != nullptr ? *resumed_stub : *stub_;
    grpc::ClientContext context;
    PrepareContext(context);
    std::unique_ptr<grpc::ClientReaderWriter<v1::ProcessRequest, v1::ProcessResponse>> stream =
        stub.Process(&context);
    std::thread reader([&stream, &collector] {
      v1::ProcessResponse response;
      while (stream->Read(&response)) collector.Collect(response);
    });
    // A failed write means the call is over (the server ended it, or the deadline passed):
    // stop sending; Finish reports why.
    bool open = stream->Write(first);
    if (open && first.has_resume()) {
      v1::ProcessRequest again;
      for (auto& [sequence, data] : log.held()) {
        again.mutable_chunk()->set_sequence(sequence);
        *again.mutable_chunk()->mutable_data() = std::move(data);
        collector.MarkSent(sequence);
        if (!(open = stream->Write(again))) break;
      }
    }
    v1::ProcessRequest request;
    while (open && !input_done) {
      request.Clear();
      std::string& data = *request.mutable_chunk()->mutable_data();
      if (!source(chunk_bytes, data) || data.empty()) {
        input_done = true;
        break;
      }
      if (options_.realtime) {
        const double due = static_cast<double>(frames_sent) * seconds_per_frame;
        std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(due)));
      }
      frames_sent += data.size() / frame_bytes;
      const uint64_t sequence = ++result.chunks_sent;
      request.mutable_chunk()->set_sequence(sequence);
      // Kept until a checkpoint covers it: a resumed call sends it again.
      if (resumable) log.Sent(sequence, data);
      collector.MarkSent(sequence);
      open = stream->Write(request);
    }
    if (open) stream->WritesDone();
    reader.join();
    result.status = stream->Finish();
    const std::optional<v1::Checkpoint> checkpoint = log.checkpoint();
    // A replica that shuts down as a resume reaches it cancels the call before `ready` (gRPC's
    // Shutdown): like UNAVAILABLE, try another.
    const bool refused_resume = first.has_resume() && !collector.resumed_ready() &&
                                result.status.error_code() == grpc::StatusCode::CANCELLED;
    if ((result.status.error_code() != grpc::StatusCode::UNAVAILABLE && !refused_resume) ||
        !resumable || !checkpoint.has_value() || result.resumes >= options_.max_resumes ||
        result.got_tail) {
      break;
    }
    // Resume elsewhere: a new channel, the token first, then what the checkpoint left out. A
    // resume that a replica refused before `ready` (it was draining too) waits a little more
    // each time, so the balancer can see it go.
    if (first.has_resume() && !collector.resumed_ready()) {
      absl::SleepFor(absl::Milliseconds(50) * (1 << std::min(result.resumes, 5)));
    }
    ++result.resumes;
    resumed_stub = ResumeStub();
    collector.Resuming(checkpoint->sequence());
    first.Clear();
    first.mutable_resume()->set_token(checkpoint->token());
  }
  collector.Finish();
  return result;
}

std::unique_ptr<v1::AudioProcessor::Stub> StreamClient::ResumeStub() const {
  if (opened_channel_) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options_);
    if (channel.ok()) return v1::AudioProcessor::NewStub(*channel);
  }
  return v1::AudioProcessor::NewStub(stub_channel_);
}

absl::StatusOr<v1::ListProcessorsResponse> StreamClient::ListProcessors() const {
  grpc::ClientContext context;
  PrepareContext(context);
  v1::ListProcessorsResponse response;
  const grpc::Status status = stub_->ListProcessors(&context, {}, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

}  // namespace audioproc::client
