// The processors test binary's own allocator functions: malloc, calloc, realloc,
// reallocarray, free and the aligned ones (posix_memalign, aligned_alloc, memalign, valloc,
// pvalloc) are interposed by counting_allocator.cc (glibc lets an executable do so, which also
// catches C libraries such as FFTW, libsoxr and libebur128 that operator new alone would
// miss). Two things are counted, per thread:
//   - allocator calls while an AllocationCounter is in scope ("Process allocates nothing");
//   - the net heap bytes held: malloc_usable_size of every block allocated less that of every
//     block freed, read through HeapBytesCounter (resource estimates against what processors
//     really keep).
// One interposer per binary: every test of processors_test uses this one. Left out of
// sanitizer builds (AUDIOPROC_SANITIZE), whose runtimes own malloc; tests that use it are
// compiled out there too.
// Thread safety: counts are per thread; a block freed by another thread than the one that
// allocated it skews both threads' byte counts (no test here does that).
#ifndef AUDIOPROC_TESTS_PROCESSORS_COUNTING_ALLOCATOR_H_
#define AUDIOPROC_TESTS_PROCESSORS_COUNTING_ALLOCATOR_H_

#ifndef AUDIOPROC_SANITIZE

#include <cstddef>
#include <cstdint>

namespace audioproc::testing {

// Counts allocator calls (free included) on this thread while in scope. Not nestable.
class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  size_t calls() const;
};

// The heap bytes this thread allocated and has not freed since the counter was made (negative
// when it freed more than it allocated), as malloc_usable_size measures blocks: what the heap
// really holds for them, rounding included.
class HeapBytesCounter {
 public:
  HeapBytesCounter();
  int64_t bytes() const;

 private:
  int64_t start_;
};

}  // namespace audioproc::testing

#endif  // AUDIOPROC_SANITIZE

#endif  // AUDIOPROC_TESTS_PROCESSORS_COUNTING_ALLOCATOR_H_
