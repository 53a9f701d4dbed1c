#include "clients/pcm.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace audioproc::client {
namespace {

struct EncodingName {
  absl::string_view short_name;
  v1::Encoding encoding;
};
// The short names, and the same with the byte order spelled out as arecord and sox write them
// ("s16le").
constexpr EncodingName kShortNames[] = {
    {"s16", v1::PCM_S16LE},   {"s24", v1::PCM_S24LE},   {"s32", v1::PCM_S32LE},
    {"f32", v1::PCM_F32LE},   {"s16le", v1::PCM_S16LE}, {"s24le", v1::PCM_S24LE},
    {"s32le", v1::PCM_S32LE}, {"f32le", v1::PCM_F32LE}, {"mulaw", v1::MULAW},
    {"ulaw", v1::MULAW},      {"alaw", v1::ALAW}};

}  // namespace

absl::StatusOr<v1::Encoding> ParseEncoding(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const EncodingName& entry : kShortNames) {
    if (lower == entry.short_name) return entry.encoding;
  }
  v1::Encoding encoding;
  if (v1::Encoding_Parse(absl::AsciiStrToUpper(name), &encoding) &&
      encoding != v1::ENCODING_UNSPECIFIED) {
    return encoding;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown encoding '", name,
      "' (PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, ALAW, or s16le, s24le, s32le, "
      "f32le, mulaw, alaw)"));
}

absl::StatusOr<v1::AudioFormat> ParseRawFormat(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  v1::AudioFormat format;
  uint32_t rate = 0;
  uint32_t channels = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &rate) ||
      !absl::SimpleAtoi(parts[2], &channels) || rate == 0 || channels == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw format '", text, "' is not ENCODING:RATE:CHANNELS, e.g. s16le:16000:1"));
  }
  absl::StatusOr<v1::Encoding> encoding = ParseEncoding(parts[0]);
  if (!encoding.ok()) return encoding.status();
  format.set_encoding(*encoding);
  format.set_sample_rate_hz(rate);
  format.set_channels(channels);
  return format;
}

std::string FormatToString(const v1::AudioFormat& format) {
  return absl::StrCat(format.sample_rate_hz(), " Hz, ", format.channels(), " ch, ",
                      v1::Encoding_Name(format.encoding()));
}

}  // namespace audioproc::client
