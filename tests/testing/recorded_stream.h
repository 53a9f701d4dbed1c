// RecordedStream: one Process call driven the way fault and load tests need it (paced or at
// full speed, held at a barrier after `ready`, read slowly, cancelled), recording what
// happened to every chunk: when its write returned, which sequences were answered in which
// order, the output bytes, tail, summary and the final status.
//
//   StreamPlan plan;
//   plan.config = MakeConfig(v1::PCM_S16LE, 16000, 1);
//   plan.chunks = SplitBytes(audio, 640);
//   plan.interval = absl::Milliseconds(20);           // a live source
//   StreamRecord record = RunStream(*stub, plan);
//   EXPECT_TRUE(record.AnsweredInOrder());
//
// RunStream writes on one thread and reads on another, so backpressure in either direction
// never deadlocks it. Every call carries a deadline (plan.deadline), so it always returns.
// Thread safety: RunStream may be called from many threads at once, each with its own plan;
// the hooks run on RunStream's writer and reader threads.
#ifndef AUDIOPROC_TESTS_TESTING_RECORDED_STREAM_H_
#define AUDIOPROC_TESTS_TESTING_RECORDED_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "audioproc/v1/audioproc.grpc.pb.h"

namespace audioproc::testing {

struct StreamPlan {
  v1::StreamConfig config;
  // Written in order with sequences 1..n.
  std::vector<std::string> chunks;
  // The chunks are written this many times over, the sequences going on (1..n x repeat): a
  // flood of large chunks without a copy of each in the client's memory.
  size_t repeat = 1;
  // Zero: as fast as flow control allows. Otherwise chunk i is written at start + i x interval,
  // where start is when the writer is free to send chunks (after ready and before_chunks).
  absl::Duration interval = absl::ZeroDuration();
  // The call's deadline, from its start.
  absl::Duration deadline = absl::Seconds(30);
  // Writer thread, after `ready` arrived and before the first chunk; may block (a barrier
  // holding many streams open at once). Not called if the call ends without `ready`.
  std::function<void()> before_chunks;
  // Reader thread, after each chunk response other than the tail, with the number answered
  // so far; may block (a reader that stops reading) or cancel the call via `context`.
  std::function<void(uint64_t answered, grpc::ClientContext& context)> on_answer;
  // If set, counts the chunks whose Write has returned true, for observers on other threads.
  std::atomic<uint64_t>* written = nullptr;
  // If set, the writer sends no chunk once it is true, and half-closes: a stream that lasts
  // until another thread is done.
  const std::atomic<bool>* stop = nullptr;
};

struct StreamRecord {
  grpc::Status status;
  // The first response was `ready`; its stream id.
  bool ready = false;
  std::string stream_id;
  // metrics.sequence of each chunk response but the tail, in arrival order, and when each
  // arrived.
  std::vector<uint64_t> answered;
  std::vector<absl::Time> answered_at;
  // What the server said each answered chunk waited for a worker (ChunkMetrics.queue_wait_us).
  std::vector<uint32_t> queue_wait_us;
  // Every chunk response's data, the tail's included.
  std::string output;
  bool tail = false;
  std::optional<v1::StreamSummary> summary;
  // When each chunk's Write returned true: written_at[i] is sequence i + 1's.
  std::vector<absl::Time> written_at;
  absl::Time started;
  absl::Time ended;  // when the status arrived
  // The first departure from "ready, chunks, tail, summary"; empty if none.
  std::string protocol_error;

  uint64_t chunks_written() const { return written_at.size(); }
  // True when `answered` is exactly 1, 2, ..., k: in order, no gap, no repeat.
  bool AnsweredInOrder() const;
  // Chunks whose Write returned before `t`.
  uint64_t WrittenBefore(absl::Time t) const;
  // Each answered chunk's round trip: its response's arrival after its Write returned.
  std::vector<absl::Duration> RoundTrips() const;
};

StreamRecord RunStream(v1::AudioProcessor::Stub& stub, const StreamPlan& plan);

// Holds streams (in StreamPlan::before_chunks) until the test releases them, so that many are
// open at once, or mid-stream together.
// Thread safety: thread-safe.
class StreamBarrier {
 public:
  // Counts this stream in and blocks until Release.
  void Arrive();
  // Waits until `n` streams have arrived, or `timeout`; returns how many have.
  int AwaitArrivals(int n, absl::Duration timeout);
  void Release();

 private:
  absl::Mutex mu_;
  int arrived_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// `data` cut into consecutive pieces of `bytes` (the last may be shorter).
std::vector<std::string> SplitBytes(absl::string_view data, size_t bytes);

// `frames` of seeded pseudo-random 16-bit mono samples as PCM_S16LE bytes: audio whose bytes
// differ chunk to chunk, so any lost, repeated or reordered chunk shows in the output.
std::string RandomS16(size_t frames, uint32_t seed);

// `frames` of a voice-like 16 kHz mono signal as PCM_S16LE bytes: harmonics of a gliding pitch
// in syllables at 4 Hz with pauses, over seeded steady noise; a chain of denoise, compressor
// and loudness keeps changing its state on it (what resumed streams must carry).
std::string VoiceLikeS16(size_t frames, uint32_t seed);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_RECORDED_STREAM_H_
