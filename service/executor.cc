#include "service/executor.h"

#include <sys/resource.h>
#include <unistd.h>

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

Executor::Executor(int workers, size_t capacity, int bulk_workers)
    : capacity_(capacity), workers_(workers), bulk_workers_(bulk_workers > 0) {
  threads_.reserve(workers + bulk_workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(false); });
  for (int i = 0; i < bulk_workers; ++i) threads_.emplace_back([this] { WorkerLoop(true); });
}

Executor::~Executor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool Executor::Submit(Runnable* task, Priority priority) {
  size_t depth;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || real_time_.size() + bulk_.size() >= capacity_) return false;
    (priority == Priority::kRealTime ? real_time_ : bulk_).push_back(task);
    depth = real_time_.size() + bulk_.size();
  }
  if (depth_observer_) depth_observer_(depth);
  return true;
}

size_t Executor::queue_depth() const {
  absl::MutexLock lock(&mu_);
  return real_time_.size() + bulk_.size();
}

void Executor::WorkerLoop(bool bulk) {
  EnableFlushToZero();
  // Raising one's own nice value needs no privilege; it applies to this thread only.
  if (bulk) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
  // Which queues this worker serves: bulk workers the bulk queue; the others the real-time
  // queue, and the bulk one too when no bulk worker does.
  const bool takes_real_time = !bulk;
  const bool takes_bulk = bulk || !bulk_workers_;
  struct Wait {
    Executor* self;
    bool real_time, bulk;
  };
  Wait wait{this, takes_real_time, takes_bulk};
  for (;;) {
    Runnable* task;
    size_t depth;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->self->stopping_ || (w->real_time && !w->self->real_time_.empty()) ||
                   (w->bulk && !w->self->bulk_.empty());
          },
          &wait));
      std::deque<Runnable*>& queue =
          takes_real_time && !real_time_.empty() ? real_time_ : bulk_;
      if (queue.empty() || (&queue == &bulk_ && !takes_bulk)) return;  // stopping, all run
      task = queue.front();
      queue.pop_front();
      depth = real_time_.size() + bulk_.size();
    }
    if (depth_observer_) depth_observer_(depth);
    // Counted before Run, so that whoever sees what a task did also sees it counted.
    tasks_run_.fetch_add(1, std::memory_order_relaxed);
    task->Run();
  }
}

}  // namespace audioproc
