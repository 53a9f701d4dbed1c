// FFTW (single precision) made safe to share: the process-wide planner mutex, fftwf_malloc'd
// buffers, and real-FFT plans that are created and destroyed under that mutex.
//
// FFTW's planner keeps global state (wisdom, the plan cache): creating or destroying a plan
// from two threads at once corrupts it. Only the new-array execute functions
// (fftwf_execute_dft_r2c, fftwf_execute_dft_c2r, ...) may run concurrently, on plans that
// exist. So (STYLE.md) plans are made only in Prepare, under FftwPlannerMutex(), and Process
// calls only RealFftPlan::Forward/Inverse, which wrap the new-array functions.
//
//   absl::StatusOr<RealFftPlan> fft = RealFftPlan::Create(512);       // in Prepare
//   FftwBuffer<float> frame(512);
//   FftwBuffer<fftwf_complex> spectrum(RealFftPlan::Bins(512));
//   fft->Forward(frame.data(), spectrum.data());                      // in Process
//
// Thread safety: RealFftPlan::Shared's cache has its own mutex, taken before the planner's.
// FftwPlannerMutex() is the one lock every FFTW planner call in the process
// must hold; other code that plans with FFTW directly must take it too. A RealFftPlan's
// Forward and Inverse may be called from any number of threads at once (each with its own
// arrays); creating, moving and destroying a plan locks the planner mutex. An FftwBuffer is
// a plain owned array: one thread at a time.
#ifndef AUDIOPROC_DSP_FFTW_PLAN_H_
#define AUDIOPROC_DSP_FFTW_PLAN_H_

#include <fftw3.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace audioproc {

// Held around every fftwf_plan_* and fftwf_destroy_plan call in the process.
absl::Mutex& FftwPlannerMutex();

// An array of `size` zeroed T from fftwf_malloc, which aligns it for FFTW's SIMD code: plans
// are made on such arrays, and the new-array execute functions require the same alignment.
// Move-only. Allocates on construction only.
template <typename T>
class FftwBuffer {
 public:
  FftwBuffer() = default;
  explicit FftwBuffer(size_t size)
      : data_(static_cast<T*>(fftwf_malloc(sizeof(T) * size))), size_(size) {
    // fftwf_malloc only fails when malloc does; that is fatal anywhere in this service.
    if (data_ == nullptr) std::abort();
    std::memset(static_cast<void*>(data_), 0, sizeof(T) * size);
  }
  FftwBuffer(FftwBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  FftwBuffer& operator=(FftwBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  FftwBuffer(const FftwBuffer&) = delete;
  FftwBuffer& operator=(const FftwBuffer&) = delete;
  ~FftwBuffer() { fftwf_free(data_); }

  T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) const { return data_[i]; }
  // Sets every element to zero. Real-time safe.
  void Clear() { std::memset(static_cast<void*>(data_), 0, sizeof(T) * size_); }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// A pair of out-of-place real FFT plans of one size: forward (n reals to n/2 + 1 complex
// bins) and inverse (n/2 + 1 bins to n reals). Both are unnormalized: Inverse(Forward(x)) is
// n times x. Planned with FFTW_ESTIMATE, which is deterministic (the same plan, hence the same
// rounding, on every run and machine of one build) and does not touch the arrays.
class RealFftPlan {
 public:
  // Plans transforms of `n` points (even, at least 2). Allocates and locks the planner mutex;
  // never call it on the audio path. INVALID_ARGUMENT for an odd or tiny n; INTERNAL if FFTW
  // cannot plan.
  static absl::StatusOr<RealFftPlan> Create(int n);

  // The process-wide plan of `n` points, made on first use and kept for the life of the
  // process: every stream of a size executes the one plan on its own arrays (Forward and
  // Inverse are thread-safe), instead of each keeping its own plans and twiddle tables.
  // Allocates and locks on first use of a size; a size's later calls only lock a mutex (not
  // the planner's) to look it up. Never call it on the audio path. Errors as Create.
  static absl::StatusOr<const RealFftPlan*> Shared(int n);

  // The number of complex bins of a size-n real transform: n / 2 + 1.
  static constexpr size_t Bins(int n) { return static_cast<size_t>(n) / 2 + 1; }

  RealFftPlan() = default;
  RealFftPlan(RealFftPlan&& other) noexcept;
  RealFftPlan& operator=(RealFftPlan&& other) noexcept;
  RealFftPlan(const RealFftPlan&) = delete;
  RealFftPlan& operator=(const RealFftPlan&) = delete;
  ~RealFftPlan();

  int size() const { return n_; }

  // `in` (n reals) to `out` (n/2 + 1 bins). Both fftwf_malloc'd (FftwBuffer) and distinct.
  // Real-time safe; `in` is left intact.
  void Forward(float* in, fftwf_complex* out) const noexcept {
    fftwf_execute_dft_r2c(forward_, in, out);
  }
  // `in` (n/2 + 1 bins) to `out` (n reals). Both fftwf_malloc'd and distinct. Real-time
  // safe; overwrites `in` (FFTW's complex-to-real transforms destroy their input).
  void Inverse(fftwf_complex* in, float* out) const noexcept {
    fftwf_execute_dft_c2r(inverse_, in, out);
  }

 private:
  // Destroys both plans under the planner mutex.
  void Destroy();

  int n_ = 0;
  fftwf_plan forward_ = nullptr;
  fftwf_plan inverse_ = nullptr;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_FFTW_PLAN_H_
