#include "clients/pcm.h"

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace audioproc::client {
namespace {

constexpr int kQuantMask = 0x0F;
constexpr int kSegMask = 0x70;
constexpr int kSegShift = 4;
constexpr int kSignBit = 0x80;
constexpr int kMulawBias = 0x84;
constexpr int kMulawClip = 8159;  // 14-bit magnitude limit, before the bias.

// The first segment whose end is >= value, or the table size when none is.
int Segment(int value, const std::array<int, 8>& ends) {
  for (int i = 0; i < 8; ++i) {
    if (value <= ends[i]) return i;
  }
  return 8;
}

struct EncodingName {
  absl::string_view short_name;
  v1::Encoding encoding;
};
constexpr EncodingName kShortNames[] = {
    {"s16", v1::PCM_S16LE}, {"s24", v1::PCM_S24LE}, {"s32", v1::PCM_S32LE}, {"f32", v1::PCM_F32LE},
    {"mulaw", v1::MULAW},   {"ulaw", v1::MULAW},    {"alaw", v1::ALAW}};

}  // namespace

uint32_t BytesPerSample(v1::Encoding encoding) {
  switch (encoding) {
    case v1::PCM_S16LE:
      return 2;
    case v1::PCM_S24LE:
      return 3;
    case v1::PCM_S32LE:
    case v1::PCM_F32LE:
      return 4;
    case v1::MULAW:
    case v1::ALAW:
      return 1;
    default:
      return 0;
  }
}

uint32_t BytesPerFrame(const v1::AudioFormat& format) {
  return BytesPerSample(format.encoding()) * format.channels();
}

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

uint8_t LinearToMulaw(int16_t sample) {
  static constexpr std::array<int, 8> kEnds = {0x3F,  0x7F,  0xFF,  0x1FF,
                                               0x3FF, 0x7FF, 0xFFF, 0x1FFF};
  int value = sample >> 2;  // G.711 mu-law works on 14 bits.
  int mask = 0xFF;
  if (value < 0) {
    value = -value;
    mask = 0x7F;
  }
  if (value > kMulawClip) value = kMulawClip;
  value += kMulawBias >> 2;
  const int seg = Segment(value, kEnds);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  return static_cast<uint8_t>(((seg << kSegShift) | ((value >> (seg + 1)) & kQuantMask)) ^ mask);
}

int16_t MulawToLinear(uint8_t code) {
  const int u = ~code & 0xFF;
  int t = ((u & kQuantMask) << 3) + kMulawBias;
  t <<= (u & kSegMask) >> kSegShift;
  return static_cast<int16_t>((u & kSignBit) ? (kMulawBias - t) : (t - kMulawBias));
}

uint8_t LinearToAlaw(int16_t sample) {
  static constexpr std::array<int, 8> kEnds = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
  int value = sample >> 3;  // G.711 A-law works on 13 bits.
  int mask = 0xD5;          // Sign bit set for positive values, even bits inverted.
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const int seg = Segment(value, kEnds);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int code = seg << kSegShift;
  code |= (seg < 2 ? (value >> 1) : (value >> seg)) & kQuantMask;
  return static_cast<uint8_t>(code ^ mask);
}

int16_t AlawToLinear(uint8_t code) {
  const int a = code ^ 0x55;
  int t = (a & kQuantMask) << 4;
  const int seg = (a & kSegMask) >> kSegShift;
  if (seg == 0) {
    t += 8;
  } else {
    t = (t + 0x108) << (seg - 1);
  }
  return static_cast<int16_t>((a & kSignBit) ? t : -t);
}

}  // namespace audioproc::client
