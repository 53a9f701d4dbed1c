#include "service/resource_budget.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace audioproc {

std::string FormatBytes(int64_t bytes) {
  const double value = static_cast<double>(bytes);
  if (bytes >= (int64_t{1} << 30)) return absl::StrFormat("%.3g GiB", value / (1 << 30));
  if (bytes >= (int64_t{1} << 20)) return absl::StrFormat("%.3g MiB", value / (1 << 20));
  if (bytes >= (int64_t{1} << 10)) return absl::StrFormat("%.3g KiB", value / (1 << 10));
  return absl::StrCat(bytes, " B");
}

ResourceBudget::ResourceBudget(ResourceAmount total, Observer observer)
    : total_(total), observer_(std::move(observer)) {
  absl::MutexLock lock(&mu_);
  Notify(committed_);
}

ResourceBudget::Reservation& ResourceBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    amount_ = std::exchange(other.amount_, {});
  }
  return *this;
}

void ResourceBudget::Reservation::Release() {
  if (budget_ == nullptr) return;
  std::exchange(budget_, nullptr)->Give(amount_);
  amount_ = {};
}

absl::StatusOr<ResourceBudget::Reservation> ResourceBudget::Reserve(const ResourceAmount& amount,
                                                                    absl::string_view what,
                                                                    std::string* exhausted) {
  {
    absl::MutexLock lock(&mu_);
    const int64_t memory_left = total_.memory_bytes - committed_.memory_bytes;
    const double cpu_left = total_.cpu_cores - committed_.cpu_cores;
    // A little tolerance, so that cores added and removed in any order add up.
    const bool memory_fits = amount.memory_bytes <= memory_left;
    const bool cpu_fits = amount.cpu_cores <= cpu_left + 1e-9;
    if (!memory_fits || !cpu_fits) {
      std::string message = absl::StrCat(what, " needs");
      if (!memory_fits) {
        absl::StrAppend(&message, " ", FormatBytes(amount.memory_bytes), " of memory; ",
                        FormatBytes(std::max<int64_t>(memory_left, 0)), " of the server's ",
                        FormatBytes(total_.memory_bytes), " (--memory_budget_bytes) is left");
      }
      if (!cpu_fits) {
        absl::StrAppend(
            &message, memory_fits ? "" : ", and",
            absl::StrFormat(" %.3g cores of CPU; %.3g of the server's %.3g "
                            "(--cpu_budget) are left",
                            amount.cpu_cores, std::max(cpu_left, 0.0), total_.cpu_cores));
      }
      absl::StrAppend(&message, "; retry later or on another instance");
      if (exhausted != nullptr) *exhausted = memory_fits ? "cpu_budget" : "memory_budget";
      return absl::ResourceExhaustedError(message);
    }
    committed_.memory_bytes += amount.memory_bytes;
    committed_.cpu_cores += amount.cpu_cores;
    Notify(committed_);
  }
  return Reservation(this, amount);
}

ResourceBudget::Reservation ResourceBudget::ReserveUnchecked(const ResourceAmount& amount) {
  absl::MutexLock lock(&mu_);
  committed_.memory_bytes += amount.memory_bytes;
  committed_.cpu_cores += amount.cpu_cores;
  Notify(committed_);
  return Reservation(this, amount);
}

void ResourceBudget::Give(const ResourceAmount& amount) {
  {
    absl::MutexLock lock(&mu_);
    committed_.memory_bytes -= amount.memory_bytes;
    committed_.cpu_cores -= amount.cpu_cores;
    // Cores come back in another order than they went out: float rounding may leave a
    // trace once everything is released.
    if (committed_.cpu_cores < 1e-9) committed_.cpu_cores = 0;
    Notify(committed_);
  }
}

ResourceAmount ResourceBudget::committed() const {
  absl::MutexLock lock(&mu_);
  return committed_;
}

void ResourceBudget::Notify(const ResourceAmount& committed) const {
  if (observer_) observer_(committed);
}

}  // namespace audioproc
