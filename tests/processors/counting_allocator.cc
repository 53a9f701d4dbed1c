// The interposed allocator functions of counting_allocator.h. Each forwards to glibc's own
// entry points (__libc_malloc and friends, which do not call back into these) and counts.
#ifndef AUDIOPROC_SANITIZE

#include "tests/processors/counting_allocator.h"

#include <errno.h>
#include <malloc.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

// glibc's own entry points, which the interposed functions forward to: reserved names by
// definition.
// NOLINTBEGIN(bugprone-reserved-identifier)
extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void __libc_free(void* pointer);
void* __libc_memalign(size_t alignment, size_t size);
}
// NOLINTEND(bugprone-reserved-identifier)

namespace {

// Initial-exec TLS of the executable: safe to touch from inside malloc.
thread_local bool g_armed = false;
thread_local size_t g_calls = 0;
thread_local int64_t g_live_bytes = 0;

void CountCall() {
  if (g_armed) ++g_calls;
}

void* Allocated(void* pointer) {
  if (pointer != nullptr) g_live_bytes += static_cast<int64_t>(malloc_usable_size(pointer));
  return pointer;
}

void Releasing(void* pointer) {
  if (pointer != nullptr) g_live_bytes -= static_cast<int64_t>(malloc_usable_size(pointer));
}

bool IsPowerOfTwo(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace

extern "C" {

void* malloc(size_t size) {
  CountCall();
  return Allocated(__libc_malloc(size));
}

void* calloc(size_t count, size_t size) {
  CountCall();
  return Allocated(__libc_calloc(count, size));
}

void* realloc(void* pointer, size_t size) {
  CountCall();
  const int64_t before = pointer != nullptr ? static_cast<int64_t>(malloc_usable_size(pointer)) : 0;
  void* result = __libc_realloc(pointer, size);
  // A failed realloc leaves the old block in place; realloc(p, 0) frees it.
  if (result != nullptr) {
    g_live_bytes += static_cast<int64_t>(malloc_usable_size(result)) - before;
  } else if (size == 0) {
    g_live_bytes -= before;
  }
  return result;
}

void free(void* pointer) {
  if (pointer == nullptr) return;
  CountCall();
  Releasing(pointer);
  __libc_free(pointer);
}

void* reallocarray(void* pointer, size_t count, size_t size) {
  size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(pointer, bytes);
}

void* memalign(size_t alignment, size_t size) {
  CountCall();
  return Allocated(__libc_memalign(alignment, size));
}

void* aligned_alloc(size_t alignment, size_t size) {
  CountCall();
  return Allocated(__libc_memalign(alignment, size));
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  CountCall();
  if (!IsPowerOfTwo(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  void* pointer = Allocated(__libc_memalign(alignment, size));
  if (pointer == nullptr) return ENOMEM;
  *out = pointer;
  return 0;
}

void* valloc(size_t size) {
  CountCall();
  return Allocated(__libc_memalign(static_cast<size_t>(sysconf(_SC_PAGESIZE)), size));
}

void* pvalloc(size_t size) {
  CountCall();
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return Allocated(__libc_memalign(page, (size + page - 1) / page * page));
}

}  // extern "C"

namespace audioproc::testing {

AllocationCounter::AllocationCounter() {
  g_calls = 0;
  g_armed = true;
}

AllocationCounter::~AllocationCounter() { g_armed = false; }

size_t AllocationCounter::calls() const { return g_calls; }

HeapBytesCounter::HeapBytesCounter() : start_(g_live_bytes) {}

int64_t HeapBytesCounter::bytes() const { return g_live_bytes - start_; }

}  // namespace audioproc::testing

#endif  // AUDIOPROC_SANITIZE
