#include "audio_io/sndfile_memory.h"

#include <algorithm>
#include <cstring>

namespace audioproc {

SndfileMemory SndfileMemory::ForWriting(size_t max_bytes) {
  SndfileMemory memory;
  memory.writable_ = true;
  memory.max_bytes_ = max_bytes;
  return memory;
}

SNDFILE* SndfileMemory::Open(int mode, SF_INFO* info) {
  static SF_VIRTUAL_IO io{Length, Seek, Read, Write, Tell};
  position_ = 0;
  return sf_open_virtual(&io, mode, info, this);
}

sf_count_t SndfileMemory::Length(void* user) {
  return static_cast<sf_count_t>(static_cast<SndfileMemory*>(user)->Contents().size());
}

sf_count_t SndfileMemory::Seek(sf_count_t offset, int whence, void* user) {
  auto* self = static_cast<SndfileMemory*>(user);
  const auto size = static_cast<sf_count_t>(self->Contents().size());
  const sf_count_t target = offset + (whence == SEEK_CUR   ? self->position_
                                      : whence == SEEK_END ? size
                                                           : 0);
  // A writer may seek past the end (the next write fills the gap); a reader may not.
  if (target < 0 || (!self->writable_ && target > size)) return -1;
  return self->position_ = target;
}

sf_count_t SndfileMemory::Read(void* out, sf_count_t count, void* user) {
  auto* self = static_cast<SndfileMemory*>(user);
  const absl::string_view contents = self->Contents();
  const sf_count_t n =
      std::clamp<sf_count_t>(static_cast<sf_count_t>(contents.size()) - self->position_, 0, count);
  std::memcpy(out, contents.data() + self->position_, static_cast<size_t>(n));
  self->position_ += n;
  return n;
}

sf_count_t SndfileMemory::Write(const void* in, sf_count_t count, void* user) {
  auto* self = static_cast<SndfileMemory*>(user);
  if (!self->writable_) return 0;
  const auto end = static_cast<size_t>(self->position_ + count);
  if (end > self->max_bytes_) {
    self->overflowed_ = true;
    return 0;
  }
  if (end > self->written_.size()) self->written_.resize(end);
  std::memcpy(self->written_.data() + self->position_, in, static_cast<size_t>(count));
  self->position_ += count;
  return count;
}

sf_count_t SndfileMemory::Tell(void* user) { return static_cast<SndfileMemory*>(user)->position_; }

}  // namespace audioproc
