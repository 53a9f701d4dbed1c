// The stream session's test harness: fakes for the server's side of StreamSession (a
// recording metrics sink, an admission that grants or refuses, a clock that advances one
// millisecond each time it is read), request builders, and SessionHarness, which drives one
// session as ProcessCall does. For tests/service/stream_session_test.cc.
#ifndef AUDIOPROC_TESTS_SERVICE_STREAM_SESSION_HARNESS_H_
#define AUDIOPROC_TESTS_SERVICE_STREAM_SESSION_HARNESS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/stream_session.h"
#include "tests/testing/signals.h"

namespace audioproc::session_testing {

using Clock = StreamSession::Clock;

inline constexpr int64_t kMiB = 1 << 20;

class FakeMetrics final : public SessionMetrics {
 public:
  void Rejected(absl::string_view reason) override { rejections.emplace_back(reason); }
  SecondsObserver ProcessorSeconds(absl::string_view name) override {
    processors.emplace_back(name);
    return [this](double) { ++processor_observations; };
  }
  void ChunkProcessed(double seconds, uint64_t bytes, double queue_wait_seconds) override {
    ++chunks;
    audio_seconds += seconds;
    bytes_out += bytes;
    queue_waits.push_back(queue_wait_seconds);
  }
  void TailProcessed(uint64_t bytes) override { bytes_out += bytes; }
  void EventsDropped(uint64_t events) override { events_dropped += events; }
  void CheckpointSent(uint64_t bytes) override { checkpoint_bytes.push_back(bytes); }
  void Resumed(absl::StatusCode code) override { resumes.push_back(code); }

  std::vector<std::string> rejections;
  std::vector<std::string> processors;
  int processor_observations = 0;
  int chunks = 0;
  double audio_seconds = 0;
  uint64_t bytes_out = 0;
  std::vector<double> queue_waits;
  uint64_t events_dropped = 0;
  std::vector<uint64_t> checkpoint_bytes;
  std::vector<absl::StatusCode> resumes;
};

// Grants everything unless told to refuse; counts the holds alive.
class FakeAdmission final : public SessionAdmission {
 public:
  class CountedHold final : public Hold {
   public:
    explicit CountedHold(int* alive) : alive_(alive) { ++*alive_; }
    ~CountedHold() override { --*alive_; }

   private:
    int* alive_;
  };

  absl::StatusOr<std::unique_ptr<Hold>> Admit(const StreamGrant& grant) override {
    admitted_cost = grant.cost;
    if (!refusal.ok()) return refusal;
    return std::make_unique<CountedHold>(&holds_alive);
  }

  absl::Status refusal;
  int holds_alive = 0;
  ResourceAmount admitted_cost;
};

inline v1::ProcessorSpec Gain(float gain_db) {
  v1::ProcessorSpec spec;
  spec.mutable_gain()->set_gain_db(gain_db);
  return spec;
}

inline v1::ProcessRequest ConfigRequest(v1::Encoding encoding, uint32_t rate, uint32_t channels,
                                        std::vector<v1::ProcessorSpec> chain = {}) {
  v1::ProcessRequest request;
  v1::StreamConfig* config = request.mutable_config();
  config->mutable_input()->set_encoding(encoding);
  config->mutable_input()->set_sample_rate_hz(rate);
  config->mutable_input()->set_channels(channels);
  for (v1::ProcessorSpec& spec : chain) *config->add_chain() = std::move(spec);
  return request;
}

inline v1::ProcessRequest ChunkRequest(std::string data, uint64_t sequence = 0) {
  v1::ProcessRequest request;
  request.mutable_chunk()->set_data(std::move(data));
  request.mutable_chunk()->set_sequence(sequence);
  return request;
}

inline v1::ProcessRequest UpdateRequest(uint32_t index, v1::ProcessorSpec spec) {
  v1::ProcessRequest request;
  v1::ProcessorUpdate* update = request.mutable_update()->add_updates();
  update->set_index(index);
  *update->mutable_spec() = std::move(spec);
  return request;
}

// `frames` of a full-scale 1 kHz sine at 48 kHz (a whole number of periods for multiples of
// 48 frames), as one planar channel.
inline std::vector<float> FullScaleSine(size_t frames) {
  return testing::Sine(1000.0, 48000.0, frames, 1.0);
}

// One stream's session and what ProcessCall would do with its requests; a fixture may run
// several side by side.
class SessionHarness {
 public:
  SessionHarness() {
    limits_.max_chain_length = 4;
    limits_.max_stream_seconds = 3600;
    limits_.grant.max_chunk_bytes = kMiB;
    limits_.grant.max_response_bytes = 4 * kMiB;
    limits_.grant.max_events_per_response = 1024;
    limits_.grant.max_stream_cost = 0.5;
    limits_.grant.memory_budget_bytes = 768 * kMiB;
    limits_.grant.queue_chunks = 8;
  }

  StreamSession& session() {
    if (!session_) {
      session_ = std::make_unique<StreamSession>(
          StreamSession::Deps{.registry = ProcessorRegistry::Default(),
                              .limits = limits_,
                              .metrics = metrics_,
                              .admission = admission_,
                              .new_stream_id = [this] { return absl::StrCat("assigned-", ++ids_); },
                              .now = [this] { return now_ += std::chrono::milliseconds(1); },
                              .resume_keys = resume_keys_.get()});
    }
    return *session_;
  }

  // What ProcessCall does with a request: checks it as it arrives, then has the session
  // handle it (again and again while it stops between slices, when `slice` says to stop).
  absl::Status Send(const v1::ProcessRequest& request, bool slice = false) {
    if (absl::Status refused =
            StreamSession::CheckRequest(request, request.ByteSizeLong(), first_, bounds_, limits_);
        !refused.ok()) {
      return refused;
    }
    first_ = false;
    const Clock::time_point received = now_ += std::chrono::milliseconds(1);
    std::vector<StreamSession::Response> out;
    absl::StatusOr<bool> done;
    do {
      done = session().Handle(
          request, "peer", received, [slice] { return slice; }, &out);
    } while (done.ok() && !*done);
    if (session().configured()) {
      bounds_ = {session().grant().max_chunk_bytes, session().grant().max_message_bytes};
    }
    for (StreamSession::Response& response : out) responses_.push_back(response.response);
    return done.status();
  }

  // The client's half-close.
  absl::Status End() {
    std::vector<StreamSession::Response> out;
    absl::Status status = session().Finish(&out);
    for (StreamSession::Response& response : out) responses_.push_back(response.response);
    return status;
  }

  const v1::ProcessResponse& last() const { return responses_.back(); }

  // Forgets the session and its responses: the next request is a new stream's first.
  void Restart() {
    responses_.clear();
    first_ = true;
    bounds_ = {};
    session_.reset();
  }

  // The audio of every chunk response so far, in order.
  std::string Output() const {
    std::string bytes;
    for (const v1::ProcessResponse& response : responses_) {
      if (response.has_chunk()) bytes += response.chunk().data();
    }
    return bytes;
  }

  // Checkpoints and resumes signed with `key` (before the first request).
  void EnableResume(std::string key) { resume_keys_ = ResumeKeys::ForKey(std::move(key)); }

  SessionLimits limits_;
  std::unique_ptr<ResumeKeys> resume_keys_;
  FakeMetrics metrics_;
  FakeAdmission admission_;
  Clock::time_point now_;
  int ids_ = 0;
  std::unique_ptr<StreamSession> session_;
  bool first_ = true;
  StreamSession::RequestBounds bounds_;
  std::vector<v1::ProcessResponse> responses_;
};

}  // namespace audioproc::session_testing

#endif  // AUDIOPROC_TESTS_SERVICE_STREAM_SESSION_HARNESS_H_
