#include "service/executor.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "service/thread_name.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace audioproc {

#if defined(__x86_64__) || defined(__i386__)
namespace {
constexpr unsigned kFlushToZero = 0x8000;       // MXCSR.FTZ
constexpr unsigned kDenormalsAreZero = 0x0040;  // MXCSR.DAZ
}  // namespace
void EnableFlushToZero() { _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero); }
bool FlushToZeroEnabled() {
  return (_mm_getcsr() & (kFlushToZero | kDenormalsAreZero)) == (kFlushToZero | kDenormalsAreZero);
}
#elif defined(__aarch64__)
namespace {
constexpr uint64_t kFpcrFz = uint64_t{1} << 24;
}  // namespace
void EnableFlushToZero() {
  uint64_t fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  asm volatile("msr fpcr, %0" ::"r"(fpcr | kFpcrFz));
}
bool FlushToZeroEnabled() {
  uint64_t fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  return (fpcr & kFpcrFz) != 0;
}
#else
void EnableFlushToZero() {}
bool FlushToZeroEnabled() { return false; }
#endif

Executor::Executor(int workers, size_t capacity, int bulk_workers, std::string_view name)
    : capacity_(capacity), workers_(workers), has_bulk_workers_(bulk_workers > 0) {
  threads_.reserve(workers + bulk_workers);
  for (int i = 0; i < workers; ++i) {
    threads_.emplace_back([this] { WorkerLoop(queue_); });
    NameThread(threads_.back(), name);
  }
  for (int i = 0; i < bulk_workers; ++i) {
    threads_.emplace_back([this] { WorkerLoop(bulk_); });
    NameThread(threads_.back(), std::string(name) + "-bulk");
  }
}

Executor::~Executor() {
  Stop(queue_);
  Stop(bulk_);
  for (std::thread& thread : threads_) thread.join();
}

void Executor::Stop(Queue& queue) {
  absl::MutexLock lock(&queue.mu);
  queue.stopping = true;
}

bool Executor::Submit(Runnable* task, Priority priority) {
  Queue& queue = priority == Priority::kBulk && has_bulk_workers_ ? bulk_ : queue_;
  {
    absl::MutexLock lock(&queue.mu);
    if (queue.stopping) return false;
    if (queued_.fetch_add(1, std::memory_order_relaxed) >= capacity_) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    if (priority == Priority::kRealTime) {
      queue.tasks.insert(queue.tasks.begin() + static_cast<std::ptrdiff_t>(queue.real_time), task);
      ++queue.real_time;
      real_time_queued_.fetch_add(1, std::memory_order_relaxed);
    } else {
      queue.tasks.push_back(task);
    }
  }
  if (depth_observer_) depth_observer_(queued_.load(std::memory_order_relaxed));
  return true;
}

void Executor::RunHere(Runnable* task) {
  // Cheap (one MXCSR read-modify-write), and the calling thread is not one of ours.
  EnableFlushToZero();
  tasks_run_.fetch_add(1, std::memory_order_relaxed);
  task->Run();
}

size_t Executor::queue_depth() const { return queued_.load(std::memory_order_relaxed); }

void Executor::WorkerLoop(Queue& queue) {
  EnableFlushToZero();
  if (&queue == &bulk_) {
    // Relative to the process's own niceness; where setpriority is refused the thread keeps
    // the process's priority.
    const pid_t tid = gettid();
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) setpriority(PRIO_PROCESS, tid, nice + kBulkWorkerNice);
  }
  for (;;) {
    Runnable* task;
    {
      absl::MutexLock lock(&queue.mu);
      queue.mu.Await(absl::Condition(
          +[](Queue* q)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu) { return q->stopping || !q->tasks.empty(); },
          &queue));
      if (queue.tasks.empty()) return;  // stopping, and nothing left to run
      task = queue.tasks.front();
      queue.tasks.pop_front();
      if (queue.real_time > 0) {  // real-time tasks are the front of the queue
        --queue.real_time;
        real_time_queued_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    const size_t depth = queued_.fetch_sub(1, std::memory_order_relaxed) - 1;
    if (depth_observer_) depth_observer_(depth);
    // Counted before Run, so that whoever sees what a task did also sees it counted.
    tasks_run_.fetch_add(1, std::memory_order_relaxed);
    task->Run();
  }
}

}  // namespace audioproc
