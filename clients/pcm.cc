#include "clients/pcm.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace audioproc::client {
namespace {

struct EncodingName {
  absl::string_view short_name;
  v1::Encoding encoding;
};
constexpr EncodingName kShortNames[] = {
    {"s16", v1::PCM_S16LE}, {"s24", v1::PCM_S24LE}, {"s32", v1::PCM_S32LE}, {"f32", v1::PCM_F32LE},
    {"mulaw", v1::MULAW},   {"ulaw", v1::MULAW},    {"alaw", v1::ALAW}};

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
      "' (PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, ALAW, or s16, s24, s32, f32, "
      "mulaw, alaw)"));
}

std::string FormatToString(const v1::AudioFormat& format) {
  return absl::StrCat(format.sample_rate_hz(), " Hz, ", format.channels(), " ch, ",
                      v1::Encoding_Name(format.encoding()));
}

}  // namespace audioproc::client
