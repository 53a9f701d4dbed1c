// SlidingMin: the minimum of the last `window` values of a stream, in O(1) amortized time per
// value and without allocating after Init.
//
// The classic monotonic deque (values increasing from front to back; a new value evicts every
// larger one from the back, and the front leaves once it is older than the window), kept in a
// ring buffer of window + 1 entries, which is the most it can ever hold.
// Thread safety: one thread at a time.
#ifndef AUDIOPROC_DSP_SLIDING_MIN_H_
#define AUDIOPROC_DSP_SLIDING_MIN_H_

#include <cstdint>
#include <vector>

namespace audioproc {

class SlidingMin {
 public:
  // Sets the window length (at least 1) and empties the window. Allocates.
  void Init(uint32_t window) {
    window_ = window < 1 ? 1 : window;
    ring_.assign(window_ + 1, Entry{});
    Reset();
  }

  // Forgets every value, as if none had been pushed since Init.
  void Reset() {
    head_ = 0;
    size_ = 0;
    next_index_ = 0;
  }

  // Adds `value` as the newest and returns the minimum of the newest `window` values (of all
  // values, before `window` have been pushed).
  double Push(double value) {
    while (size_ > 0 && ring_[Wrap(head_ + size_ - 1)].value >= value) --size_;
    ring_[Wrap(head_ + size_)] = {next_index_, value};
    ++size_;
    // Indices rise by one per push, so at most the front entry has just left the window.
    if (ring_[head_].index + window_ <= next_index_) {
      head_ = Wrap(head_ + 1);
      --size_;
    }
    ++next_index_;
    return ring_[head_].value;
  }

  uint32_t window() const { return window_; }

 private:
  struct Entry {
    uint64_t index = 0;
    double value = 0;
  };

  uint32_t Wrap(uint32_t i) const {
    const auto capacity = static_cast<uint32_t>(ring_.size());
    return i >= capacity ? i - capacity : i;
  }

  std::vector<Entry> ring_;
  uint32_t window_ = 1;
  uint32_t head_ = 0;
  uint32_t size_ = 0;
  uint64_t next_index_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_SLIDING_MIN_H_
