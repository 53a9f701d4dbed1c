// StateWriter and StateReader: the versioned binary form of a processor's state (issue 14's
// checkpoints), written on one replica and read back on another.
//
// Everything is little-endian and fixed-width; doubles and floats travel as their IEEE bit
// patterns, so a restored state is bit-identical to the saved one. A processor's state starts
// with a tag (four characters naming the form) and a version; a reader refuses another tag or
// another version precisely (FAILED_PRECONDITION), so an old form is never misread.
//
//   absl::Status FooProcessor::SaveState(StateWriter& writer) const {
//     writer.PutTag(kFooStateTag, kFooStateVersion);
//     writer.PutDouble(envelope_);
//     writer.PutFloats(delay_);               // a size, then the samples
//     return writer.status();
//   }
//   absl::Status FooProcessor::RestoreState(StateReader& reader) {
//     reader.ExpectTag(kFooStateTag, kFooStateVersion);
//     envelope_ = reader.GetFiniteDouble();
//     reader.GetFiniteFloats(delay_);         // the size must be delay_.size(): never trusted
//     return FinishRestore(reader);           // Reset()s on failure (chain/processor.h)
//   }
//
// The reader never trusts the blob: it never reads past the end, never sizes anything from a
// length it read (a length is only compared with the size the prepared processor expects),
// and turns every failure into a sticky status, after which every Get returns zero. A blob
// comes from the network eventually; a corrupt or hostile one fails with a status.
//
// Errors: a truncated or malformed blob, a size or value the prepared processor cannot take,
// or a NaN or Inf where the state must be finite is INVALID_ARGUMENT; another tag or version is
// FAILED_PRECONDITION; a writer that ran out of its capacity is RESOURCE_EXHAUSTED.
//
// The writer allocates only in its constructor (the capacity is reserved there), so saving a
// state on the audio thread allocates nothing; a state that does not fit fails instead of
// growing the buffer.
// Thread safety: a writer or reader is used by one thread at a time.
#ifndef AUDIOPROC_DSP_STATE_CODEC_H_
#define AUDIOPROC_DSP_STATE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace audioproc {

// The four characters naming a state's form ("gain", "bqd1"), packed little-endian.
using StateTag = uint32_t;
constexpr StateTag MakeStateTag(const char (&name)[5]) {
  return static_cast<uint32_t>(static_cast<uint8_t>(name[0])) |
         static_cast<uint32_t>(static_cast<uint8_t>(name[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(name[2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(name[3])) << 24;
}

// The default capacity of a StateWriter: issue 14's default --max_resume_token_bytes.
inline constexpr size_t kDefaultStateCapacityBytes = size_t{1} << 20;

class StateWriter {
 public:
  // Reserves `capacity_bytes` (allocates, once); writing more fails with RESOURCE_EXHAUSTED.
  explicit StateWriter(size_t capacity_bytes = kDefaultStateCapacityBytes);

  void PutTag(StateTag tag, uint16_t version) noexcept;
  void PutBool(bool value) noexcept { PutU8(value ? 1 : 0); }
  void PutU8(uint8_t value) noexcept;
  void PutU32(uint32_t value) noexcept;
  void PutU64(uint64_t value) noexcept;
  void PutI32(int32_t value) noexcept { PutU32(static_cast<uint32_t>(value)); }
  void PutI64(int64_t value) noexcept { PutU64(static_cast<uint64_t>(value)); }
  void PutFloat(float value) noexcept;
  void PutDouble(double value) noexcept;
  // A size (u64), then the values.
  void PutFloats(std::span<const float> values) noexcept;
  void PutDoubles(std::span<const double> values) noexcept;
  // A size (u64), then the bytes.
  void PutBytes(std::span<const uint8_t> bytes) noexcept;
  // A size (u64), then the characters.
  void PutString(std::string_view text) noexcept { PutBytes(AsBytes(text)); }

  // Where the next byte goes; with PatchU64, a length written once what follows is known.
  size_t position() const { return size_; }
  // Overwrites the u64 at `position` (written earlier with PutU64).
  void PatchU64(size_t position, uint64_t value) noexcept;

  // OK, or why a Put failed (every later Put is then ignored).
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  // The bytes written so far.
  std::span<const uint8_t> bytes() const { return {buffer_.data(), size_}; }
  // Back to empty (the capacity is kept).
  void Clear() noexcept;

 private:
  static std::span<const uint8_t> AsBytes(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
  }
  // Reserves `bytes` more and returns where they go, or null (and fails) past the capacity.
  uint8_t* Grow(size_t bytes) noexcept;

  std::vector<uint8_t> buffer_;  // sized once, to the capacity
  size_t size_ = 0;
  absl::Status status_;
};

class StateReader {
 public:
  // Reads `bytes`, which must outlive the reader.
  explicit StateReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  // Reads a tag and a version and fails unless they are `tag` and `version`.
  void ExpectTag(StateTag tag, uint16_t version) noexcept;
  bool GetBool() noexcept;
  uint8_t GetU8() noexcept;
  uint32_t GetU32() noexcept;
  uint64_t GetU64() noexcept;
  int32_t GetI32() noexcept { return static_cast<int32_t>(GetU32()); }
  int64_t GetI64() noexcept { return static_cast<int64_t>(GetU64()); }
  float GetFloat() noexcept;
  double GetDouble() noexcept;
  // The same, failing on NaN or Inf.
  float GetFiniteFloat() noexcept;
  double GetFiniteDouble() noexcept;
  // A u32 that must be at most `max` (an index, a count, a position in a buffer).
  uint32_t GetU32AtMost(uint32_t max) noexcept;
  uint64_t GetU64AtMost(uint64_t max) noexcept;
  // Reads a size, which must be out.size(), then that many values into `out`. On failure
  // `out` is left as it was or partly written; the caller Resets.
  void GetFloats(std::span<float> out) noexcept;
  void GetDoubles(std::span<double> out) noexcept;
  void GetFiniteFloats(std::span<float> out) noexcept;
  void GetFiniteDoubles(std::span<double> out) noexcept;
  // Reads a size (at most `max_bytes`) and returns a view of that many bytes of the blob.
  std::span<const uint8_t> GetBytes(size_t max_bytes) noexcept;
  std::string_view GetString(size_t max_bytes) noexcept;
  // A reader of the next `size` bytes (a size read with GetU64AtMost(remaining())), which
  // this reader skips; on failure, an empty reader that has failed too.
  StateReader Sub(uint64_t size) noexcept;

  // Fails with INVALID_ARGUMENT "state: <what>" (a value the processor cannot take), unless
  // the reader has already failed.
  void Fail(std::string_view what) noexcept;
  // Fails unless every byte was read (trailing bytes mean another form).
  void ExpectEnd() noexcept;

  size_t remaining() const { return bytes_.size() - position_; }
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  // The next `bytes` bytes, or null (and fails) past the end.
  const uint8_t* Take(size_t bytes) noexcept;
  // Reads a size and fails unless it is `expected`.
  bool ExpectSize(size_t expected) noexcept;
  // `value`, or 0 and a failure if it exceeds `max`.
  template <typename T>
  T AtMost(T value, T max) noexcept;

  std::span<const uint8_t> bytes_;
  size_t position_ = 0;
  absl::Status status_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_STATE_CODEC_H_
