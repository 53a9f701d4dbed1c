// ResourceBudget: the server's memory (bytes) and CPU (cores) for clients, charged before
// they are spent, as Envoy's overload manager and gRPC's ResourceQuota do.
//
// A stream or file states what it will hold and spend (processors/resource_estimate.h plus
// its buffers) and reserves it whole before anything is allocated; what does not fit is
// refused at once with a message naming what it needs and what is left. The Reservation
// gives it back when the stream or file ends. Nothing is charged per chunk.
//
//   ASSIGN_OR_RETURN(ResourceBudget::Reservation held,
//                    budget.Reserve({.memory_bytes = bytes, .cpu_cores = cores}, "the stream"));
//
// Thread safety: thread-safe. Reservations may be released on any thread.
#ifndef AUDIOPROC_SERVICE_RESOURCE_BUDGET_H_
#define AUDIOPROC_SERVICE_RESOURCE_BUDGET_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace audioproc {

struct ResourceAmount {
  int64_t memory_bytes = 0;
  double cpu_cores = 0;
};

class ResourceBudget {
 public:
  // Called with what is committed after every change (the metrics' gauges), under the
  // budget's lock so that the last value set is the current one: it must not call back.
  using Observer = std::function<void(const ResourceAmount& committed)>;

  ResourceBudget(ResourceAmount total, Observer observer = nullptr);
  ResourceBudget(const ResourceBudget&) = delete;
  ResourceBudget& operator=(const ResourceBudget&) = delete;

  // A claim on part of the budget, given back when destroyed (or Release).
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept { *this = std::move(other); }
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation() { Release(); }

    const ResourceAmount& amount() const { return amount_; }
    bool empty() const { return budget_ == nullptr; }
    void Release();

   private:
    friend class ResourceBudget;
    Reservation(ResourceBudget* budget, ResourceAmount amount) : budget_(budget), amount_(amount) {}

    ResourceBudget* budget_ = nullptr;
    ResourceAmount amount_;
  };

  // Reserves `amount` whole, or nothing: RESOURCE_EXHAUSTED naming `what` ("the stream",
  // "the file"), what it needs and what is left of each budget it does not fit, e.g.
  // "the stream needs 4.2 MiB of memory; 1.1 MiB of the server's 768 MiB
  // (--memory_budget_bytes) is left; retry later or on another instance". On refusal,
  // `*exhausted` (if given) is "memory_budget" or "cpu_budget", for the rejections metric.
  absl::StatusOr<Reservation> Reserve(const ResourceAmount& amount, absl::string_view what,
                                      std::string* exhausted = nullptr);

  // Reserves without checking: what must be held whatever the load (gRPC's transport quota
  // at startup).
  Reservation ReserveUnchecked(const ResourceAmount& amount);

  const ResourceAmount& total() const { return total_; }
  ResourceAmount committed() const;

 private:
  void Give(const ResourceAmount& amount);
  void Notify(const ResourceAmount& committed) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ResourceAmount total_;
  const Observer observer_;
  mutable absl::Mutex mu_;
  ResourceAmount committed_ ABSL_GUARDED_BY(mu_);
};

// "4.2 MiB", "768 MiB", "512 B": bytes for people.
std::string FormatBytes(int64_t bytes);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_RESOURCE_BUDGET_H_
