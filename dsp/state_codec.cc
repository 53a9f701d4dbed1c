#include "dsp/state_codec.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace audioproc {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the state codec copies little-endian scalars as they are in memory");

std::string TagName(StateTag tag) {
  std::string name(4, '?');
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((tag >> (8 * i)) & 0xff);
    if (c >= 0x20 && c < 0x7f) name[i] = c;
  }
  return name;
}

}  // namespace

StateWriter::StateWriter(size_t capacity_bytes) : buffer_(capacity_bytes) {}

void StateWriter::Clear() noexcept {
  size_ = 0;
  status_ = absl::OkStatus();
}

uint8_t* StateWriter::Grow(size_t bytes) noexcept {
  if (!status_.ok()) return nullptr;
  if (bytes > buffer_.size() - size_) {
    status_ = absl::ResourceExhaustedError(
        absl::StrCat("state: more than the ", buffer_.size(), " bytes a checkpoint may hold"));
    return nullptr;
  }
  uint8_t* at = buffer_.data() + size_;
  size_ += bytes;
  return at;
}

void StateWriter::PutTag(StateTag tag, uint16_t version) noexcept {
  PutU32(tag);
  if (uint8_t* at = Grow(2)) std::memcpy(at, &version, 2);
}

void StateWriter::PutU8(uint8_t value) noexcept {
  if (uint8_t* at = Grow(1)) *at = value;
}

void StateWriter::PutU32(uint32_t value) noexcept {
  if (uint8_t* at = Grow(4)) std::memcpy(at, &value, 4);
}

void StateWriter::PutU64(uint64_t value) noexcept {
  if (uint8_t* at = Grow(8)) std::memcpy(at, &value, 8);
}

void StateWriter::PatchU64(size_t position, uint64_t value) noexcept {
  if (status_.ok() && position + 8 <= size_) std::memcpy(buffer_.data() + position, &value, 8);
}

void StateWriter::PutFloat(float value) noexcept { PutU32(std::bit_cast<uint32_t>(value)); }

void StateWriter::PutDouble(double value) noexcept { PutU64(std::bit_cast<uint64_t>(value)); }

void StateWriter::PutFloats(std::span<const float> values) noexcept {
  PutU64(values.size());
  if (values.size() > buffer_.size() / sizeof(float)) {
    Grow(buffer_.size() + 1);  // fails
    return;
  }
  if (uint8_t* at = Grow(values.size_bytes())) {
    if (!values.empty()) std::memcpy(at, values.data(), values.size_bytes());
  }
}

void StateWriter::PutDoubles(std::span<const double> values) noexcept {
  PutU64(values.size());
  if (values.size() > buffer_.size() / sizeof(double)) {
    Grow(buffer_.size() + 1);
    return;
  }
  if (uint8_t* at = Grow(values.size_bytes())) {
    if (!values.empty()) std::memcpy(at, values.data(), values.size_bytes());
  }
}

void StateWriter::PutBytes(std::span<const uint8_t> bytes) noexcept {
  PutU64(bytes.size());
  if (uint8_t* at = Grow(bytes.size())) {
    if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
  }
}

const uint8_t* StateReader::Take(size_t bytes) noexcept {
  if (!status_.ok()) return nullptr;
  if (bytes > remaining()) {
    status_ = absl::InvalidArgumentError(absl::StrCat("state: truncated (", bytes,
                                                      " bytes wanted at offset ", position_, ", ",
                                                      remaining(), " left)"));
    return nullptr;
  }
  const uint8_t* at = bytes_.data() + position_;
  position_ += bytes;
  return at;
}

void StateReader::Fail(std::string_view what) noexcept {
  if (status_.ok())
    status_ = absl::InvalidArgumentError(
        absl::StrCat("state: ", absl::string_view(what.data(), what.size())));
}

void StateReader::ExpectEnd() noexcept {
  if (status_.ok() && remaining() != 0) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("state: ", remaining(), " unread bytes at offset ", position_));
  }
}

void StateReader::ExpectTag(StateTag tag, uint16_t version) noexcept {
  const uint32_t got_tag = GetU32();
  uint16_t got_version = 0;
  if (const uint8_t* at = Take(2)) std::memcpy(&got_version, at, 2);
  if (!status_.ok()) return;
  if (got_tag != tag) {
    status_ = absl::FailedPreconditionError(
        absl::StrCat("state: the state of '", TagName(got_tag), "', not of '", TagName(tag), "'"));
  } else if (got_version != version) {
    status_ = absl::FailedPreconditionError(absl::StrCat(
        "state: '", TagName(tag), "' version ", got_version, ", this build reads ", version));
  }
}

bool StateReader::GetBool() noexcept {
  const uint8_t value = GetU8();
  if (value > 1) Fail("a bool that is neither 0 nor 1");
  return value == 1;
}

uint8_t StateReader::GetU8() noexcept {
  const uint8_t* at = Take(1);
  return at != nullptr ? *at : 0;
}

uint32_t StateReader::GetU32() noexcept {
  uint32_t value = 0;
  if (const uint8_t* at = Take(4)) std::memcpy(&value, at, 4);
  return value;
}

uint64_t StateReader::GetU64() noexcept {
  uint64_t value = 0;
  if (const uint8_t* at = Take(8)) std::memcpy(&value, at, 8);
  return value;
}

float StateReader::GetFloat() noexcept { return std::bit_cast<float>(GetU32()); }

double StateReader::GetDouble() noexcept { return std::bit_cast<double>(GetU64()); }

float StateReader::GetFiniteFloat() noexcept {
  const float value = GetFloat();
  if (!std::isfinite(value)) {
    Fail("a NaN or Inf where the state must be finite");
    return 0;
  }
  return value;
}

double StateReader::GetFiniteDouble() noexcept {
  const double value = GetDouble();
  if (!std::isfinite(value)) {
    Fail("a NaN or Inf where the state must be finite");
    return 0;
  }
  return value;
}

template <typename T>
T StateReader::AtMost(T value, T max) noexcept {
  if (value <= max) return value;
  if (status_.ok()) {
    status_ =
        absl::InvalidArgumentError(absl::StrCat("state: ", value, " where at most ", max, " fits"));
  }
  return 0;
}

uint32_t StateReader::GetU32AtMost(uint32_t max) noexcept { return AtMost(GetU32(), max); }

uint64_t StateReader::GetU64AtMost(uint64_t max) noexcept { return AtMost(GetU64(), max); }

bool StateReader::ExpectSize(size_t expected) noexcept {
  const uint64_t size = GetU64();
  if (!status_.ok()) return false;
  if (size != expected) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("state: ", size, " values where the prepared processor holds ", expected));
    return false;
  }
  return true;
}

void StateReader::GetFloats(std::span<float> out) noexcept {
  if (!ExpectSize(out.size())) return;
  if (const uint8_t* at = Take(out.size_bytes())) {
    if (!out.empty()) std::memcpy(out.data(), at, out.size_bytes());
  }
}

void StateReader::GetDoubles(std::span<double> out) noexcept {
  if (!ExpectSize(out.size())) return;
  if (const uint8_t* at = Take(out.size_bytes())) {
    if (!out.empty()) std::memcpy(out.data(), at, out.size_bytes());
  }
}

void StateReader::GetFiniteFloats(std::span<float> out) noexcept {
  GetFloats(out);
  if (!status_.ok()) return;
  for (const float value : out) {
    if (!std::isfinite(value)) return Fail("a NaN or Inf where the state must be finite");
  }
}

void StateReader::GetFiniteDoubles(std::span<double> out) noexcept {
  GetDoubles(out);
  if (!status_.ok()) return;
  for (const double value : out) {
    if (!std::isfinite(value)) return Fail("a NaN or Inf where the state must be finite");
  }
}

std::span<const uint8_t> StateReader::GetBytes(size_t max_bytes) noexcept {
  const uint64_t size = GetU64AtMost(max_bytes);
  const uint8_t* at = Take(size);
  if (at == nullptr) return {};
  return {at, static_cast<size_t>(size)};
}

std::string_view StateReader::GetString(size_t max_bytes) noexcept {
  const std::span<const uint8_t> bytes = GetBytes(max_bytes);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

StateReader StateReader::Sub(uint64_t size) noexcept {
  const uint8_t* at = Take(size);
  if (at == nullptr) {
    StateReader failed(std::span<const uint8_t>{});
    failed.status_ = status_;
    return failed;
  }
  return StateReader({at, static_cast<size_t>(size)});
}

}  // namespace audioproc
