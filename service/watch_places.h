// WatchPlaces: a fixed number of places for long-lived watch calls (Admin.WatchStreams,
// grpc.health.v1.Health/Watch), each of which holds a timer: a call takes one or is refused,
// and gives it back when it ends. Thread safety: thread-safe (one atomic count).
#ifndef AUDIOPROC_SERVICE_WATCH_PLACES_H_
#define AUDIOPROC_SERVICE_WATCH_PLACES_H_

#include <atomic>

namespace audioproc {

class WatchPlaces {
 public:
  // Takes a place when fewer than `max` are taken.
  bool TryTake(int max) {
    int taken = taken_.load(std::memory_order_relaxed);
    do {
      if (taken >= max) return false;
    } while (!taken_.compare_exchange_weak(taken, taken + 1, std::memory_order_relaxed));
    return true;
  }
  void GiveBack() { taken_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  std::atomic<int> taken_{0};
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_WATCH_PLACES_H_
