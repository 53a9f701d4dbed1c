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
#include <limits>
#include <vector>

#include "dsp/cost_model.h"
#include "dsp/state_codec.h"

namespace audioproc {

class SlidingMin {
 public:
  // Sets the window length (at least 1) and empties the window. Allocates.
  void Init(uint32_t window) {
    window_ = window < 1 ? 1 : window;
    ring_.assign(window_ + 1, Entry{});
    Reset();
  }

  // The heap bytes Init(window) allocates.
  static uint64_t InitBytes(uint32_t window) {
    return cost::VectorBytes<Entry>(uint64_t{window < 1 ? 1 : window} + 1);
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

  // The minimum of the newest `window` values pushed; +infinity before the first.
  double Min() const {
    return size_ > 0 ? ring_[head_].value : std::numeric_limits<double>::infinity();
  }

  uint32_t window() const { return window_; }

  // The window's entries, for a checkpoint. Does not allocate.
  void SaveState(StateWriter& writer) const noexcept {
    writer.PutU32(window_);
    writer.PutU32(head_);
    writer.PutU32(size_);
    writer.PutU64(next_index_);
    for (uint32_t i = 0; i < size_; ++i) {
      const Entry& entry = ring_[Wrap(head_ + i)];
      writer.PutU64(entry.index);
      writer.PutDouble(entry.value);
    }
  }
  // Reads what SaveState wrote into a SlidingMin Init'ed with the same window. On failure
  // the reader fails; the caller Resets. Does not allocate.
  void RestoreState(StateReader& reader) noexcept {
    const uint32_t window = reader.GetU32();
    if (reader.ok() && window != window_) return reader.Fail("a sliding window of another length");
    const uint32_t head = reader.GetU32AtMost(window_);
    const uint32_t size = reader.GetU32AtMost(window_);
    const uint64_t next_index = reader.GetU64();
    if (!reader.ok()) return;
    head_ = head;
    size_ = size;
    next_index_ = next_index;
    for (uint32_t i = 0; i < size_; ++i) {
      Entry& entry = ring_[Wrap(head_ + i)];
      entry.index = reader.GetU64();
      entry.value = reader.GetFiniteDouble();
    }
  }

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
