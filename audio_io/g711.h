// ITU-T G.711 mu-law and A-law companding, between 8-bit codes and 16-bit linear PCM.
//
// These are the segment-search conversions of the public-domain reference g711.c (Sun
// Microsystems, as shipped with the ITU-T Software Tools Library): mu-law works on the top
// 14 bits of the linear value, A-law on the top 13, and decoding returns the reconstruction
// level scaled back to 16 bits (mu-law: +-32124 at most, A-law: +-32256). They are constexpr so
// that codec.cc can bake them into lookup tables at compile time; the per-sample path only
// indexes those tables.
// Thread safety: pure functions.
#ifndef AUDIOPROC_AUDIO_IO_G711_H_
#define AUDIOPROC_AUDIO_IO_G711_H_

#include <cstdint>

namespace audioproc::g711 {

namespace internal {

// The first value of each segment that no longer fits it, in the scaled magnitude each law
// searches (A-law: 13-bit, mu-law: biased 14-bit).
inline constexpr int kAlawSegmentEnd[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
inline constexpr int kUlawSegmentEnd[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
inline constexpr int kUlawBias = 0x84;  // 33 in 14-bit units, scaled to 16 bits.
inline constexpr int kUlawClip = 8159;  // The largest 14-bit magnitude mu-law represents.

constexpr int Segment(int value, const int (&segment_end)[8]) {
  for (int i = 0; i < 8; ++i) {
    if (value <= segment_end[i]) return i;
  }
  return 8;
}

}  // namespace internal

// 16-bit linear (any int in [-32768, 32767]) to an A-law code, truncating to 13 bits first.
constexpr uint8_t LinearToAlaw(int pcm) {
  pcm >>= 3;        // Arithmetic shift: the 13-bit value, rounded toward -infinity.
  int mask = 0xD5;  // Even bits inverted, sign bit set for non-negative values.
  if (pcm < 0) {
    mask = 0x55;
    pcm = -pcm - 1;  // Ones' complement: A-law is symmetric around -0.5.
  }
  const int segment = internal::Segment(pcm, internal::kAlawSegmentEnd);
  if (segment >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int code = segment << 4;
  code |= segment < 2 ? (pcm >> 1) & 0xF : (pcm >> segment) & 0xF;
  return static_cast<uint8_t>(code ^ mask);
}

// An A-law code to its 16-bit linear reconstruction level.
constexpr int AlawToLinear(uint8_t code) {
  const int value = code ^ 0x55;
  int magnitude = (value & 0xF) << 4;
  const int segment = (value & 0x70) >> 4;
  if (segment == 0) {
    magnitude += 8;
  } else {
    magnitude = (magnitude + 0x108) << (segment - 1);
  }
  return (value & 0x80) ? magnitude : -magnitude;
}

// 16-bit linear (any int in [-32768, 32767]) to a mu-law code, truncating to 14 bits first.
constexpr uint8_t LinearToUlaw(int pcm) {
  pcm >>= 2;
  int mask = 0xFF;  // All bits inverted; sign bit set for non-negative values.
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7F;
  }
  if (pcm > internal::kUlawClip) pcm = internal::kUlawClip;
  pcm += internal::kUlawBias >> 2;
  const int segment = internal::Segment(pcm, internal::kUlawSegmentEnd);
  if (segment >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  const int code = (segment << 4) | ((pcm >> (segment + 1)) & 0xF);
  return static_cast<uint8_t>(code ^ mask);
}

// A mu-law code to its 16-bit linear reconstruction level.
constexpr int UlawToLinear(uint8_t code) {
  const int value = static_cast<uint8_t>(~code);
  int magnitude = ((value & 0xF) << 3) + internal::kUlawBias;
  magnitude <<= (value & 0x70) >> 4;
  return (value & 0x80) ? internal::kUlawBias - magnitude : magnitude - internal::kUlawBias;
}

}  // namespace audioproc::g711

#endif  // AUDIOPROC_AUDIO_IO_G711_H_
