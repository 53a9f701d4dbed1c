#include "dsp/fftw_plan.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace audioproc {

absl::Mutex& FftwPlannerMutex() {
  static absl::Mutex* const mutex = new absl::Mutex();
  return *mutex;
}

absl::StatusOr<RealFftPlan> RealFftPlan::Create(int n) {
  if (n < 2 || n % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("real FFT size must be even, got ", n));
  }
  // Planned on arrays of the alignment every FftwBuffer has, out of place, as Forward and
  // Inverse will be executed.
  FftwBuffer<float> real(static_cast<size_t>(n));
  FftwBuffer<fftwf_complex> complex(Bins(n));
  RealFftPlan plan;
  plan.n_ = n;
  {
    absl::MutexLock lock(&FftwPlannerMutex());
    plan.forward_ = fftwf_plan_dft_r2c_1d(n, real.data(), complex.data(), FFTW_ESTIMATE);
    plan.inverse_ = fftwf_plan_dft_c2r_1d(n, complex.data(), real.data(), FFTW_ESTIMATE);
  }
  if (plan.forward_ == nullptr || plan.inverse_ == nullptr) {
    return absl::InternalError(absl::StrCat("FFTW could not plan a real FFT of size ", n));
  }
  return plan;
}

absl::StatusOr<const RealFftPlan*> RealFftPlan::Shared(int n) {
  static absl::Mutex* const mutex = new absl::Mutex();
  // Never destroyed: plans of a handful of sizes, alive as long as any stream might run.
  static auto* const plans = new std::map<int, std::unique_ptr<RealFftPlan>>();
  absl::MutexLock lock(mutex);
  auto it = plans->find(n);
  if (it == plans->end()) {
    absl::StatusOr<RealFftPlan> plan = Create(n);
    if (!plan.ok()) return plan.status();
    it = plans->emplace(n, std::make_unique<RealFftPlan>(*std::move(plan))).first;
  }
  return it->second.get();
}

RealFftPlan::RealFftPlan(RealFftPlan&& other) noexcept
    : n_(std::exchange(other.n_, 0)),
      forward_(std::exchange(other.forward_, nullptr)),
      inverse_(std::exchange(other.inverse_, nullptr)) {}

RealFftPlan& RealFftPlan::operator=(RealFftPlan&& other) noexcept {
  if (this != &other) {
    Destroy();
    n_ = std::exchange(other.n_, 0);
    forward_ = std::exchange(other.forward_, nullptr);
    inverse_ = std::exchange(other.inverse_, nullptr);
  }
  return *this;
}

RealFftPlan::~RealFftPlan() { Destroy(); }

void RealFftPlan::Destroy() {
  if (forward_ == nullptr && inverse_ == nullptr) return;
  absl::MutexLock lock(&FftwPlannerMutex());
  if (forward_ != nullptr) fftwf_destroy_plan(forward_);
  if (inverse_ != nullptr) fftwf_destroy_plan(inverse_);
  forward_ = nullptr;
  inverse_ = nullptr;
}

}  // namespace audioproc
