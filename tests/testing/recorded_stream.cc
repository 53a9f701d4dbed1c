#include "tests/testing/recorded_stream.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace audioproc::testing {
namespace {

// What the reader tells the writer: the writer sends chunks only after `ready`, and stops
// waiting for it once the call is over.
struct Progress {
  absl::Mutex mu;
  bool ready ABSL_GUARDED_BY(mu) = false;
  bool reader_done ABSL_GUARDED_BY(mu) = false;
};

// Reads every response into `record`, checking the order of DESIGN.md section 3.
void ReadAll(grpc::ClientReaderWriter<v1::ProcessRequest, v1::ProcessResponse>& stream,
             grpc::ClientContext& context, const StreamPlan& plan, StreamRecord& record,
             Progress& progress) {
  auto violation = [&record](absl::string_view what) {
    if (record.protocol_error.empty()) record.protocol_error = std::string(what);
  };
  v1::ProcessResponse response;
  while (stream.Read(&response)) {
    if (record.summary) violation("a response after the summary");
    switch (response.response_case()) {
      case v1::ProcessResponse::kReady: {
        if (record.ready || !record.answered.empty()) violation("a ready that is not first");
        record.ready = true;
        record.stream_id = response.ready().stream_id();
        absl::MutexLock lock(&progress.mu);
        progress.ready = true;
        break;
      }
      case v1::ProcessResponse::kChunk: {
        if (!record.ready) violation("a chunk before ready");
        if (record.tail) violation("a chunk after the tail");
        const v1::ProcessedChunk& chunk = response.chunk();
        record.output += chunk.data();
        if (chunk.tail()) {
          record.tail = true;
        } else {
          record.answered.push_back(chunk.metrics().sequence());
          record.answered_at.push_back(absl::Now());
          record.queue_wait_us.push_back(chunk.metrics().queue_wait_us());
          if (plan.on_answer) plan.on_answer(record.answered.size(), context);
        }
        break;
      }
      case v1::ProcessResponse::kSummary:
        if (!record.tail) violation("a summary before the tail");
        record.summary = response.summary();
        break;
      default:
        violation("an empty response");
        break;
    }
  }
  absl::MutexLock lock(&progress.mu);
  progress.reader_done = true;
}

}  // namespace

std::vector<absl::Duration> StreamRecord::RoundTrips() const {
  std::vector<absl::Duration> trips;
  for (size_t i = 0; i < answered.size(); ++i) {
    const uint64_t sequence = answered[i];
    if (sequence >= 1 && sequence <= written_at.size()) {
      trips.push_back(answered_at[i] - written_at[sequence - 1]);
    }
  }
  return trips;
}

bool StreamRecord::AnsweredInOrder() const {
  for (size_t i = 0; i < answered.size(); ++i) {
    if (answered[i] != i + 1) return false;
  }
  return true;
}

uint64_t StreamRecord::WrittenBefore(absl::Time t) const {
  uint64_t n = 0;
  for (absl::Time at : written_at) n += at < t;
  return n;
}

StreamRecord RunStream(v1::AudioProcessor::Stub& stub, const StreamPlan& plan) {
  StreamRecord record;
  const size_t total = plan.chunks.size() * plan.repeat;
  record.written_at.reserve(total);
  grpc::ClientContext context;
  record.started = absl::Now();
  context.set_deadline(absl::ToChronoTime(record.started + plan.deadline));
  auto stream = stub.Process(&context);
  Progress progress;
  std::thread reader([&] { ReadAll(*stream, context, plan, record, progress); });

  v1::ProcessRequest request;
  *request.mutable_config() = plan.config;
  if (stream->Write(request)) {
    bool ready;
    {
      absl::MutexLock lock(&progress.mu);
      progress.mu.Await(absl::Condition(
          +[](Progress* p)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu) { return p->ready || p->reader_done; },
          &progress));
      ready = progress.ready;
    }
    if (ready) {
      if (plan.before_chunks) plan.before_chunks();
      const absl::Time start = absl::Now();
      for (size_t i = 0; i < total; ++i) {
        if (plan.stop != nullptr && plan.stop->load(std::memory_order_acquire)) break;
        // Pacing a live source, not waiting for an event: a sleep is what the source does.
        if (plan.interval > absl::ZeroDuration()) {
          const absl::Duration wait = start + i * plan.interval - absl::Now();
          if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
        }
        request.Clear();
        request.mutable_chunk()->set_data(plan.chunks[i % plan.chunks.size()]);
        request.mutable_chunk()->set_sequence(i + 1);
        // A failed write means the call is over; Finish says why.
        if (!stream->Write(request)) break;
        record.written_at.push_back(absl::Now());
        if (plan.written != nullptr) plan.written->fetch_add(1, std::memory_order_release);
      }
    }
  }
  // Half-closed in every case, as clients/stream_client.cc and gRPC's own examples do.
  stream->WritesDone();
  reader.join();
  record.status = stream->Finish();
  record.ended = absl::Now();
  return record;
}

void StreamBarrier::Arrive() {
  absl::MutexLock lock(&mu_);
  ++arrived_;
  mu_.Await(absl::Condition(&released_));
}

int StreamBarrier::AwaitArrivals(int n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return arrived_ >= n; };
  mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  return arrived_;
}

void StreamBarrier::Release() {
  absl::MutexLock lock(&mu_);
  released_ = true;
}

std::vector<std::string> SplitBytes(absl::string_view data, size_t bytes) {
  std::vector<std::string> out;
  for (size_t offset = 0; offset < data.size(); offset += bytes) {
    out.emplace_back(data.substr(offset, bytes));
  }
  return out;
}

std::string RandomS16(size_t frames, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> sample(-20000, 20000);
  std::string out(frames * 2, '\0');
  for (size_t i = 0; i < frames; ++i) {
    const uint16_t x = static_cast<uint16_t>(static_cast<int16_t>(sample(random)));
    out[2 * i] = static_cast<char>(x & 0xff);
    out[2 * i + 1] = static_cast<char>(x >> 8);
  }
  return out;
}

std::string VoiceLikeS16(size_t frames, uint32_t seed) {
  constexpr double kRate = 16000;
  constexpr double kPi = 3.14159265358979;
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> hiss(-0.015, 0.015);
  const double pitch = 110 + 10 * (seed % 8);
  std::string out(frames * 2, '\0');
  double phase = 0;
  for (size_t i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) / kRate;
    phase += 2 * kPi * (pitch + 40 * std::sin(2 * kPi * 0.7 * t)) / kRate;
    const double syllable =
        std::max(0.0, std::sin(2 * kPi * 4 * t)) * (std::fmod(t, 2.0) < 1.4 ? 1.0 : 0.0);
    double voice = 0;
    for (int h = 1; h <= 8; ++h) voice += std::sin(h * phase) / h;
    const double x = std::clamp(0.3 * syllable * voice + hiss(random), -1.0, 1.0);
    const auto sample = static_cast<uint16_t>(static_cast<int16_t>(x * 32767.0));
    out[2 * i] = static_cast<char>(sample & 0xff);
    out[2 * i + 1] = static_cast<char>(sample >> 8);
  }
  return out;
}

}  // namespace audioproc::testing
