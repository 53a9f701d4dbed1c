// LoadStream: one Process call of the load generator, driven by gRPC's asynchronous client
// API on its LoadWorker's completion queue: config, then 20 ms chunks (paced: chunk i due at
// start + i x chunk duration; unpaced: each as soon as the previous write completes) until the
// run's stop time, half-close, and reads until the status. Unpaced streams keep at most
// Schedule::max_in_flight chunks unanswered. At most one read and one write are
// outstanding, as gRPC requires.
//
// Added latency of a chunk: from its reference time to its response, where the reference is
// its send time, or, paced, its due time if it went out late (a live source's chunk exists at
// its due time, so time spent waiting behind an unfinished write or a busy load generator
// counts; a chunk sent up to Schedule::early_ns early is timed from its send). Chunks whose
// reference falls before the run's measurement window are answered and checked but not timed.
//
// Thread safety: none. A LoadStream is touched only by the thread polling its worker's queue.
#ifndef AUDIOPROC_BENCH_LOAD_STREAM_H_
#define AUDIOPROC_BENCH_LOAD_STREAM_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "audioproc/v1/audioproc.grpc.pb.h"
#include "bench/latency_histogram.h"
#include "bench/workload.h"
#include "grpcpp/grpcpp.h"

namespace audioproc::bench {

// Nanoseconds on the steady clock.
int64_t NowNs();

// The run's timeline, in NowNs() nanoseconds, shared by every stream.
struct Schedule {
  bool paced = true;
  int64_t chunk_ns = 0;      // audio duration of one chunk
  int64_t measure_from = 0;  // start of the measurement window
  int64_t stop = 0;          // no chunk is due or sent from here on; end of the window
  int64_t deadline_ns = 0;   // calls end DEADLINE_EXCEEDED this long after `stop`
  int64_t early_ns = 0;      // paced chunks may go out this much before they are due
  // Unpaced: a stream sends only while fewer of its chunks than this await an answer (0: no
  // limit). gRPC completes a write once the transport has taken it, so without a window a
  // stream would queue seconds of audio in HTTP/2 buffers.
  size_t max_in_flight = 0;
};

class LoadStream;

// What one polling thread owns: its completion queue, its timers and its measurements.
struct LoadWorker {
  struct Timer {
    int64_t due;
    LoadStream* stream;
    bool operator>(const Timer& other) const { return due > other.due; }
  };

  grpc::CompletionQueue cq;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  int active = 0;                 // streams whose call has not ended
  LatencyHistogram latency;       // added latency, us
  LatencyHistogram send_lag;      // paced: how late chunks went out, us
  LatencyHistogram queue_wait;    // server's ChunkMetrics.queue_wait_us
  LatencyHistogram process;       // server's ChunkMetrics.process_us
  LatencyHistogram ready;         // call start to StreamReady, us
  uint64_t window_responses = 0;  // chunk responses received inside the window

  // Polls the queue and fires timers until every stream's call has ended.
  void Run();
};

class LoadStream {
 public:
  // The stream starts its call at `start_ns`, sending the workload's audio from byte
  // `audio_offset` (a multiple of the chunk size) on. Registers its start timer with `worker`.
  LoadStream(LoadWorker* worker, v1::AudioProcessor::Stub* stub, const Workload* workload,
             const Schedule* schedule, int64_t start_ns, size_t audio_offset);

  // A timer of this stream fired: start the call, or send the chunk now due.
  void OnTimer(int64_t now);
  // A completion of this stream's call: `tag` is one of its Tag members.
  static void OnCompletion(void* tag, bool ok, int64_t now);

  // Results, once the call has ended.
  const grpc::Status& status() const { return status_; }
  uint64_t chunks_sent() const { return sent_; }
  uint64_t chunks_answered() const { return answered_; }
  bool complete() const { return got_ready_ && got_tail_ && got_summary_; }
  bool got_ready() const { return got_ready_; }
  // The first departure from DESIGN.md section 3's message order; empty if none.
  const std::string& protocol_error() const { return protocol_error_; }

 private:
  enum class Op { kStart, kRead, kWrite, kWritesDone, kFinish };
  struct Tag {
    LoadStream* stream;
    Op op;
  };
  struct Pending {
    int64_t reference;  // what the latency is measured from
    bool measured;      // inside the window
  };

  void OnEvent(Op op, bool ok, int64_t now);
  void OnRead(bool ok, int64_t now);
  void OnChunk(const v1::ProcessedChunk& chunk, int64_t now);
  void TrySend(int64_t now);
  void PostRead();
  void MaybeFinish();
  void Violation(const std::string& what);

  LoadWorker* const worker_;
  v1::AudioProcessor::Stub* const stub_;
  const Workload* const workload_;
  const Schedule* const schedule_;
  const int64_t start_ns_;
  size_t audio_offset_;

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::ProcessRequest, v1::ProcessResponse>> call_;
  v1::ProcessRequest request_;
  v1::ProcessResponse response_;
  Tag start_tag_{this, Op::kStart};
  Tag read_tag_{this, Op::kRead};
  Tag write_tag_{this, Op::kWrite};
  Tag writes_done_tag_{this, Op::kWritesDone};
  Tag finish_tag_{this, Op::kFinish};

  bool started_ = false;
  bool config_sent_ = false;
  bool write_pending_ = false;
  bool timer_armed_ = false;
  bool closed_ = false;  // WritesDone posted, or sending abandoned
  bool reads_done_ = false;
  bool finish_started_ = false;
  int64_t next_due_ = 0;
  std::deque<Pending> pending_;
  uint64_t sent_ = 0;
  uint64_t answered_ = 0;
  bool got_ready_ = false;
  bool got_tail_ = false;
  bool got_summary_ = false;
  grpc::Status status_;
  std::string protocol_error_;
};

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_LOAD_STREAM_H_
