// Executor: the fixed pool of DSP worker threads behind every stream.
//
// Tasks are Runnable objects (a stream's call object), queued FIFO in a bounded queue and run
// by whichever worker is free. The executor does not itself serialize a stream: each stream
// keeps at most one task queued or running at a time (see ProcessCall), which keeps its chunks
// in order while different streams run in parallel. Each worker sets flush-to-zero and
// denormals-are-zero on its own thread, as filters decaying to silence otherwise crawl
// through denormal arithmetic.
// Thread safety: Submit and the observers may be called from any thread.
#ifndef AUDIOPROC_SERVICE_EXECUTOR_H_
#define AUDIOPROC_SERVICE_EXECUTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace audioproc {

class Runnable {
 public:
  virtual ~Runnable() = default;
  // Called on a worker thread.
  virtual void Run() = 0;
};

class Executor {
 public:
  // Starts `workers` threads. `capacity` bounds the queue.
  Executor(int workers, size_t capacity);
  // Stops accepting work, runs what is queued, joins the workers.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`. Returns false (and does not queue it) when the queue is full or the
  // executor is stopping.
  bool Submit(Runnable* task);

  size_t queue_depth() const;
  int workers() const { return static_cast<int>(threads_.size()); }
  // Tasks this executor has run so far (tests use it to see which pool ran a call).
  uint64_t tasks_run() const { return tasks_run_.load(std::memory_order_relaxed); }

  // Called with the queue depth after each change (the executor_queue_depth gauge). Set it
  // before the first Submit.
  void set_depth_observer(std::function<void(size_t)> observer) { depth_observer_ = std::move(observer); }

 private:
  void WorkerLoop();

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<Runnable*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(size_t)> depth_observer_;
  std::atomic<uint64_t> tasks_run_{0};
  std::vector<std::thread> threads_;
};

// Sets flush-to-zero and denormals-are-zero for the calling thread.
void EnableFlushToZero();
// Whether both are set on the calling thread.
bool FlushToZeroEnabled();

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_EXECUTOR_H_
