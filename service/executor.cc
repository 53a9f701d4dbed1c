#include "service/executor.h"

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

Executor::Executor(int workers, size_t capacity) : capacity_(capacity) {
  threads_.reserve(workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

Executor::~Executor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool Executor::Submit(Runnable* task) {
  size_t depth;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || queue_.size() >= capacity_) return false;
    queue_.push_back(task);
    depth = queue_.size();
  }
  if (depth_observer_) depth_observer_(depth);
  return true;
}

size_t Executor::queue_depth() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void Executor::WorkerLoop() {
  EnableFlushToZero();
  for (;;) {
    Runnable* task;
    size_t depth;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Executor* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = queue_.front();
      queue_.pop_front();
      depth = queue_.size();
    }
    if (depth_observer_) depth_observer_(depth);
    // Counted before Run, so that whoever sees what a task did also sees it counted.
    tasks_run_.fetch_add(1, std::memory_order_relaxed);
    task->Run();
  }
}

}  // namespace audioproc
