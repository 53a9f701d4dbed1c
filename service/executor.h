// Executor: the fixed pool of DSP worker threads behind every stream.
//
// Tasks are Runnable objects (a stream's call object), queued FIFO in a bounded queue and run
// by whichever worker is free. There are two queues, so that streams that keep pace with real
// time are never queued behind streams that send audio faster than it plays: a client
// flooding the server with long chunks goes as fast as the CPU left over allows, not at its
// neighbours' expense. Without bulk workers, a worker takes a real-time task before any bulk
// one. With them, bulk tasks run only on the bulk workers, from a queue with a lock of its
// own, so that real-time work never waits for a worker or a lock that bulk work holds. The
// bulk workers run kBulkWorkerNice (5) nicer than the process: when the cores are full, the
// kernel gives a completion-queue thread or a real-time worker three times a bulk worker's
// share. (BudgetAttackTest's flood, 281 streams of 1 MiB chunks beside a paced bystander,
// alternating runs: the bystander's p99 at most 18 ms in 13 runs at nice 5, against 37 and
// 45 ms among 9 at the process's priority.) Not lower: at nice 19 the kernel would set a bulk
// worker aside while it holds a lock real-time work also takes (the metrics' histograms',
// malloc's), and real-time work would wait behind it; at 5 it waits milliseconds, not
// indefinitely. The executor does not itself
// serialize a stream: each stream keeps at most one task queued or running at a time (see
// ProcessCall), which keeps its chunks in order while different streams run in parallel. Each
// worker sets flush-to-zero and denormals-are-zero on its own thread, as filters decaying to
// silence otherwise crawl through denormal arithmetic. Thread safety: Submit and the observers may
// be called from any thread.
#ifndef AUDIOPROC_SERVICE_EXECUTOR_H_
#define AUDIOPROC_SERVICE_EXECUTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace audioproc {

// How much nicer than the process the bulk workers run (see above).
inline constexpr int kBulkWorkerNice = 5;

class Runnable {
 public:
  virtual ~Runnable() = default;
  // Called on a worker thread.
  virtual void Run() = 0;
};

class Executor {
 public:
  enum class Priority { kRealTime, kBulk };

  // Starts `workers` threads, and `bulk_workers` more for bulk tasks (0: bulk tasks run on
  // the workers, after real-time ones). `capacity` bounds the queues together. The threads are
  // named `name` and `name`-bulk (at most 15 characters in all, as `top -H` and perf show them).
  Executor(int workers, size_t capacity, int bulk_workers = 0, std::string_view name = "worker");
  // Stops accepting work, runs what is queued, joins the workers.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`. Returns false (and does not queue it) when the queues are full or the
  // executor is stopping.
  bool Submit(Runnable* task, Priority priority = Priority::kRealTime);

  // Whether a real-time task may run on the calling thread instead of being queued: only
  // while no real-time task waits, so a task run here never overtakes one of its kind (bulk
  // tasks queued behind busy bulk workers do not count: real-time work goes first anyway). The
  // caller (a completion-queue thread that just read a stream's chunk) then runs it with RunHere,
  // which saves the hand-off to a worker and its wake-up, and keeps the stream's state warm in the
  // cache of the thread that read it.
  bool IdleForRunHere() const { return real_time_queued_.load(std::memory_order_relaxed) == 0; }
  // Runs `task` on the calling thread as a worker would (flush-to-zero set, counted in
  // tasks_run). The executor must outlive the call.
  void RunHere(Runnable* task);

  size_t queue_depth() const;
  int workers() const { return workers_; }
  // Tasks this executor has run so far (tests use it to see which pool ran a call).
  uint64_t tasks_run() const { return tasks_run_.load(std::memory_order_relaxed); }

  // Called with the queue depth after each change (the executor_queue_depth gauge). Set it
  // before the first Submit.
  void set_depth_observer(std::function<void(size_t)> observer) {
    depth_observer_ = std::move(observer);
  }

 private:
  // Tasks waiting for one kind of worker: real-time ones first (the first `real_time` of
  // `tasks`), then bulk ones.
  struct Queue {
    mutable absl::Mutex mu;
    std::deque<Runnable*> tasks ABSL_GUARDED_BY(mu);
    size_t real_time ABSL_GUARDED_BY(mu) = 0;
    bool stopping ABSL_GUARDED_BY(mu) = false;
  };

  // A worker's loop over its queue.
  void WorkerLoop(Queue& queue);
  void Stop(Queue& queue);

  const size_t capacity_;
  const int workers_;
  // The workers' queue; bulk tasks go to bulk_ when there are bulk workers.
  Queue queue_;
  Queue bulk_;
  const bool has_bulk_workers_;
  std::atomic<size_t> queued_{0};            // in both queues, against capacity_
  std::atomic<size_t> real_time_queued_{0};  // real-time tasks waiting (IdleForRunHere)
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
