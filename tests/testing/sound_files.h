// Encoded audio files made and read in memory with libsndfile directly (not through the
// service's file_codec), so ProcessFile tests check the service against the library itself.
//
//   std::string wav = MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, samples);
//   SoundFile back = ReadSoundFile(response.file());
//   EXPECT_EQ(back.s16, samples);
//
// Header-only: the functions are small, and only tests that link libsndfile (through
// audioproc_service) include it.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_TESTS_TESTING_SOUND_FILES_H_
#define AUDIOPROC_TESTS_TESTING_SOUND_FILES_H_

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace audioproc::testing {

namespace sound_files_internal {

// Virtual I/O over a string that grows as it is written.
struct Memory {
  std::string bytes;
  sf_count_t position = 0;
};

inline sf_count_t Length(void* user) {
  return static_cast<sf_count_t>(static_cast<Memory*>(user)->bytes.size());
}
inline sf_count_t Seek(sf_count_t offset, int whence, void* user) {
  auto* m = static_cast<Memory*>(user);
  const sf_count_t target =
      offset + (whence == SEEK_CUR   ? m->position
                : whence == SEEK_END ? static_cast<sf_count_t>(m->bytes.size())
                                     : 0);
  if (target < 0) return -1;
  return m->position = target;
}
inline sf_count_t Read(void* out, sf_count_t count, void* user) {
  auto* m = static_cast<Memory*>(user);
  const sf_count_t n =
      std::clamp<sf_count_t>(static_cast<sf_count_t>(m->bytes.size()) - m->position, 0, count);
  std::memcpy(out, m->bytes.data() + m->position, static_cast<size_t>(n));
  m->position += n;
  return n;
}
inline sf_count_t Write(const void* in, sf_count_t count, void* user) {
  auto* m = static_cast<Memory*>(user);
  const auto end = static_cast<size_t>(m->position + count);
  if (end > m->bytes.size()) m->bytes.resize(end);
  std::memcpy(m->bytes.data() + m->position, in, static_cast<size_t>(count));
  m->position += count;
  return count;
}
inline sf_count_t Tell(void* user) { return static_cast<Memory*>(user)->position; }
inline SF_VIRTUAL_IO* Io() {
  static SF_VIRTUAL_IO io{Length, Seek, Read, Write, Tell};
  return &io;
}

template <typename Sample, typename WriteFn>
std::string Make(int sf_format, int rate, int channels, const std::vector<Sample>& interleaved,
                 WriteFn write) {
  Memory memory;
  SF_INFO info{};
  info.format = sf_format;
  info.samplerate = rate;
  info.channels = channels;
  SNDFILE* file = sf_open_virtual(Io(), SFM_WRITE, &info, &memory);
  if (file == nullptr) return "";
  write(file, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / channels));
  sf_close(file);
  return memory.bytes;
}

// Reads every frame (block by block: a header may not give the length).
template <typename Sample, typename ReadFn>
void ReadAll(SNDFILE* file, int channels, std::vector<Sample>* out, ReadFn read) {
  std::vector<Sample> block(size_t{1024} * channels);
  for (sf_count_t n; (n = read(file, block.data(), 1024)) > 0;) {
    out->insert(out->end(), block.begin(), block.begin() + n * channels);
  }
}

}  // namespace sound_files_internal

// `interleaved` s16 samples as a file of `sf_format` (major | subtype). Empty on failure.
inline std::string MakeSoundFile(int sf_format, int rate, int channels,
                                 const std::vector<int16_t>& interleaved) {
  return sound_files_internal::Make(sf_format, rate, channels, interleaved, sf_writef_short);
}
// The same from float samples (full scale +-1).
inline std::string MakeSoundFile(int sf_format, int rate, int channels,
                                 const std::vector<float>& interleaved) {
  return sound_files_internal::Make(sf_format, rate, channels, interleaved, sf_writef_float);
}

// A file read back whole, as libsndfile gives it in each sample type.
struct SoundFile {
  bool ok = false;
  SF_INFO info{};
  std::vector<int16_t> s16;
  std::vector<int32_t> s32;  // libsndfile's full-scale ints (24-bit files: the top 24 bits)
  std::vector<float> f32;
};

inline SoundFile ReadSoundFile(const std::string& bytes) {
  SoundFile result;
  for (int pass = 0; pass < 3; ++pass) {
    sound_files_internal::Memory memory{bytes, 0};
    SF_INFO info{};
    SNDFILE* file = sf_open_virtual(sound_files_internal::Io(), SFM_READ, &info, &memory);
    if (file == nullptr) return result;
    result.info = info;
    if (pass == 0) {
      sound_files_internal::ReadAll(file, info.channels, &result.s16, sf_readf_short);
    } else if (pass == 1) {
      sound_files_internal::ReadAll(file, info.channels, &result.s32, sf_readf_int);
    } else {
      sound_files_internal::ReadAll(file, info.channels, &result.f32, sf_readf_float);
    }
    sf_close(file);
  }
  result.ok = true;
  return result;
}

// What libsndfile says of bytes it cannot open (sf_strerror of the failed open).
inline std::string SoundFileOpenError(const std::string& bytes) {
  sound_files_internal::Memory memory{bytes, 0};
  SF_INFO info{};
  SNDFILE* file = sf_open_virtual(sound_files_internal::Io(), SFM_READ, &info, &memory);
  if (file != nullptr) {
    sf_close(file);
    return "";
  }
  return sf_strerror(nullptr);
}

// Root mean square of `x`, in dBFS.
inline double RmsDbfs(const std::vector<float>& x) {
  double sum = 0;
  for (float v : x) sum += double{v} * v;
  return 10 * std::log10(sum / std::max<size_t>(x.size(), 1) + 1e-30);
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_SOUND_FILES_H_
