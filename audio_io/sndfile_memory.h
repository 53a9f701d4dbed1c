// SndfileMemory: libsndfile's virtual I/O over bytes in memory, so encoded files are read
// from and written into buffers with no temporary file.
//
//   SndfileMemory source(bytes);                       // reading: `bytes` outlives the file
//   SNDFILE* file = source.Open(SFM_READ, &info);
//
//   SndfileMemory sink = SndfileMemory::ForWriting(/*max_bytes=*/1 << 30);
//   SNDFILE* out = sink.Open(SFM_WRITE, &info);        // ... sf_close(out);
//   std::string encoded = sink.TakeWritten();
//
// The object must stay where it is (not moved) while a SNDFILE opened on it is open.
// Thread safety: one thread at a time; the I/O table is immutable.
#ifndef AUDIOPROC_AUDIO_IO_SNDFILE_MEMORY_H_
#define AUDIOPROC_AUDIO_IO_SNDFILE_MEMORY_H_

#include <sndfile.h>

#include <cstddef>
#include <limits>
#include <string>

#include "absl/strings/string_view.h"

namespace audioproc {

class SndfileMemory {
 public:
  // Reading `bytes`; writes fail.
  explicit SndfileMemory(absl::string_view bytes) : read_(bytes) {}

  // Writing into a buffer of its own that grows up to `max_bytes`; a write past that fails
  // (libsndfile reports a write error) and overflowed() says so.
  static SndfileMemory ForWriting(size_t max_bytes = std::numeric_limits<size_t>::max());

  SndfileMemory(SndfileMemory&&) = default;
  SndfileMemory& operator=(SndfileMemory&&) = default;

  // sf_open_virtual on this memory. Null on failure (sf_strerror(nullptr) says why).
  SNDFILE* Open(int mode, SF_INFO* info);

  // For a writer: allocates all of max_bytes now, so the buffer never reallocates as it
  // grows (a reallocation briefly holds the old buffer and one twice its size). Untouched
  // pages cost no resident memory. Allocates.
  void ReserveAll() { written_.reserve(max_bytes_); }

  bool overflowed() const { return overflowed_; }
  size_t max_bytes() const { return max_bytes_; }
  // The bytes written so far; the buffer is left empty.
  std::string TakeWritten() { return std::move(written_); }

 private:
  SndfileMemory() = default;
  absl::string_view Contents() const { return writable_ ? absl::string_view(written_) : read_; }

  static sf_count_t Length(void* user);
  static sf_count_t Seek(sf_count_t offset, int whence, void* user);
  static sf_count_t Read(void* out, sf_count_t count, void* user);
  static sf_count_t Write(const void* in, sf_count_t count, void* user);
  static sf_count_t Tell(void* user);

  absl::string_view read_;
  std::string written_;
  sf_count_t position_ = 0;
  bool writable_ = false;
  size_t max_bytes_ = 0;
  bool overflowed_ = false;
};

}  // namespace audioproc

#endif  // AUDIOPROC_AUDIO_IO_SNDFILE_MEMORY_H_
