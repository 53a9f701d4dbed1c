#include "tests/testing/wav.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace audioproc::testing {
namespace {

uint32_t Le32(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

uint16_t Le16(const std::string& bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1])
                                                                     << 8);
}

}  // namespace

absl::StatusOr<WavAudio> ReadWavS16(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WAVE") != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not RIFF/WAVE"));
  }
  WavAudio audio;
  bool have_format = false;
  // Chunks follow the 12-byte header, each an id, a length and a body padded to even size.
  for (size_t at = 12; at + 8 <= bytes.size();) {
    const std::string id = bytes.substr(at, 4);
    const size_t size = Le32(bytes, at + 4);
    const size_t body = at + 8;
    if (body + size > bytes.size()) break;
    if (id == "fmt " && size >= 16) {
      const uint16_t format = Le16(bytes, body);
      audio.channels = Le16(bytes, body + 2);
      audio.sample_rate_hz = Le32(bytes, body + 4);
      const uint16_t bits = Le16(bytes, body + 14);
      if (format != 1 || bits != 16 || audio.channels == 0) {
        return absl::InvalidArgumentError(absl::StrCat(path, " is not 16-bit PCM"));
      }
      have_format = true;
    } else if (id == "data" && have_format) {
      audio.samples.resize(size / 2);
      for (size_t i = 0; i < audio.samples.size(); ++i) {
        audio.samples[i] = static_cast<int16_t>(Le16(bytes, body + 2 * i)) / 32768.0f;
      }
      return audio;
    }
    at = body + size + (size & 1);
  }
  return absl::InvalidArgumentError(absl::StrCat(path, " has no PCM data chunk"));
}

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(AUDIOPROC_SOURCE_DIR, "/", relative);
}

}  // namespace audioproc::testing
