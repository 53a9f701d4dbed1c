// Fuzzes the sample codecs (processors/codec.h) with every encoding, channel count and dither
// setting, on arbitrary bytes and on arbitrary floats (NaN, +-Inf, huge and subnormal values).
//
// Input: [encoding][channels][8 bytes: dither seed][samples]. Byte 0 picks the wire encoding
// (mod 6), byte 1 the channel count (1 + mod 8); the samples are read both as wire bytes of
// that encoding and as raw float32 to encode.
//
// Invariants (DESIGN.md section 3, "Samples"):
// - decoding gives finite samples, within [-1, 1] for the integer and G.711 encodings, and
//   counts exactly the non-finite float32 inputs;
// - encode(decode(x)) is x for s16, s24 and A-law; for mu-law too except that its negative
//   zero (0x7F) comes back as positive zero (0xFF); for f32 except that NaN and +-Inf come
//   back as 0; s32 is within float's precision (128 LSB);
// - TPDF dither moves an integer sample by at most 1 LSB;
// - encoding any float to an integer encoding rounds x * 2^(bits-1) to nearest (ties to even)
//   and clips to full scale, counting the clipped samples; NaN becomes 0.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audio_io/codec.h"
#include "dsp/audio_block.h"
#include "fuzz/fuzz_input.h"

namespace audioproc::fuzz {
namespace {

constexpr uint32_t kMaxFrames = 4096;
constexpr SampleEncoding kEncodings[] = {SampleEncoding::kS16,   SampleEncoding::kS24,
                                         SampleEncoding::kS32,   SampleEncoding::kF32,
                                         SampleEncoding::kMulaw, SampleEncoding::kAlaw};

int Bits(SampleEncoding encoding) {
  switch (encoding) {
    case SampleEncoding::kS16:
      return 16;
    case SampleEncoding::kS24:
      return 24;
    case SampleEncoding::kS32:
      return 32;
    default:
      return 0;
  }
}

// The signed integer sample `index` of `bytes` in a PCM encoding of `bits` bits.
int64_t ReadInt(const uint8_t* bytes, size_t index, int bits) {
  const size_t width = static_cast<size_t>(bits / 8);
  uint64_t u = 0;
  for (size_t b = 0; b < width; ++b) u |= uint64_t{bytes[index * width + b]} << (8 * b);
  const uint64_t sign = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>(u ^ sign) - static_cast<int64_t>(sign);
}

uint32_t FloatBits(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return bits;
}

bool NonFinite(uint32_t bits) { return (bits & 0x7F800000u) == 0x7F800000u; }

void CheckDecodeEncode(SampleEncoding encoding, uint32_t channels, uint32_t frames,
                       const uint8_t* wire, const TpdfDither& dither, uint64_t first_frame) {
  const size_t samples = size_t{frames} * channels;
  const size_t size = samples * BytesPerSample(encoding);
  AudioBuffer buffer(channels, frames);
  const AudioBlock block = buffer.Block(frames);
  const uint32_t nonfinite = DecodeInterleaved(encoding, wire, block);

  uint32_t expected_nonfinite = 0;
  if (encoding == SampleEncoding::kF32) {
    for (size_t i = 0; i < samples; ++i) expected_nonfinite += NonFinite(FloatBits(wire + 4 * i));
  }
  AUDIOPROC_FUZZ_CHECK(nonfinite == expected_nonfinite);
  for (uint32_t c = 0; c < channels; ++c) {
    for (uint32_t i = 0; i < frames; ++i) {
      const float x = block.channel(c)[i];
      AUDIOPROC_FUZZ_CHECK(std::isfinite(x));
      if (encoding != SampleEncoding::kF32) AUDIOPROC_FUZZ_CHECK(std::fabs(x) <= 1.0f);
    }
  }

  std::string plain(size, '\0');
  auto* out = reinterpret_cast<uint8_t*>(plain.data());
  const uint32_t clipped = EncodeInterleaved(encoding, block, out, nullptr, first_frame);
  const std::string name(EncodingName(encoding));
  for (size_t i = 0; i < samples; ++i) {
    switch (encoding) {
      case SampleEncoding::kS16:
      case SampleEncoding::kS24:
        AUDIOPROC_FUZZ_CHECK(ReadInt(out, i, Bits(encoding)) == ReadInt(wire, i, Bits(encoding)),
                             name);
        break;
      case SampleEncoding::kS32:
        AUDIOPROC_FUZZ_CHECK(std::llabs(ReadInt(out, i, 32) - ReadInt(wire, i, 32)) <= 128);
        break;
      case SampleEncoding::kF32: {
        const uint32_t in_bits = FloatBits(wire + 4 * i);
        AUDIOPROC_FUZZ_CHECK(FloatBits(out + 4 * i) == (NonFinite(in_bits) ? 0 : in_bits));
        break;
      }
      case SampleEncoding::kMulaw:
        AUDIOPROC_FUZZ_CHECK(out[i] == wire[i] || (wire[i] == 0x7F && out[i] == 0xFF),
                             absl::StrCat("mu-law ", wire[i], " -> ", out[i]));
        break;
      case SampleEncoding::kAlaw:
        AUDIOPROC_FUZZ_CHECK(out[i] == wire[i], absl::StrCat("A-law ", wire[i], " -> ", out[i]));
        break;
    }
  }
  // Only s32's top values, which round up to 2^31 as floats, can clip.
  if (encoding != SampleEncoding::kS32) AUDIOPROC_FUZZ_CHECK(clipped == 0, name);

  std::string dithered(size, '\0');
  auto* out_dithered = reinterpret_cast<uint8_t*>(dithered.data());
  const uint32_t clipped_dithered =
      EncodeInterleaved(encoding, block, out_dithered, &dither, first_frame);
  AUDIOPROC_FUZZ_CHECK(clipped_dithered <= samples);
  if (const int bits = Bits(encoding); bits != 0) {
    const int64_t tolerance = bits == 32 ? 129 : 1;
    for (size_t i = 0; i < samples; ++i) {
      AUDIOPROC_FUZZ_CHECK(
          std::llabs(ReadInt(out_dithered, i, bits) - ReadInt(wire, i, bits)) <= tolerance, name);
    }
  } else if (encoding == SampleEncoding::kF32) {
    AUDIOPROC_FUZZ_CHECK(dithered == plain, "f32 is never dithered");
  }
}

// Encodes arbitrary floats (the input's bytes as float32) into every encoding.
void CheckEncodeFloats(uint32_t channels, uint32_t frames, const uint8_t* raw,
                       const TpdfDither& dither, uint64_t first_frame) {
  const size_t samples = size_t{frames} * channels;
  AudioBuffer buffer(channels, frames);
  const AudioBlock block = buffer.Block(frames);
  for (uint32_t c = 0; c < channels; ++c) {
    for (uint32_t i = 0; i < frames; ++i) {
      std::memcpy(&block.channel(c)[i], raw + 4 * (size_t{i} * channels + c), sizeof(float));
    }
  }
  for (const SampleEncoding encoding : kEncodings) {
    std::string bytes(samples * BytesPerSample(encoding), '\0');
    auto* out = reinterpret_cast<uint8_t*>(bytes.data());
    const uint32_t clipped = EncodeInterleaved(encoding, block, out, nullptr, first_frame);
    AUDIOPROC_FUZZ_CHECK(clipped <= samples);
    if (const int bits = Bits(encoding); bits != 0) {
      const double scale = std::ldexp(1.0, bits - 1);
      uint32_t expected_clipped = 0;
      for (uint32_t c = 0; c < channels; ++c) {
        for (uint32_t i = 0; i < frames; ++i) {
          const float x = block.channel(c)[i];
          // std::nearbyint rounds ties to even in the default rounding mode.
          double r = std::isnan(x) ? 0.0 : std::nearbyint(static_cast<double>(x) * scale);
          if (r > scale - 1 || r < -scale) {
            ++expected_clipped;
            r = r > 0 ? scale - 1 : -scale;
          }
          const int64_t got = ReadInt(out, size_t{i} * channels + c, bits);
          AUDIOPROC_FUZZ_CHECK(got == static_cast<int64_t>(r),
                               absl::StrCat(EncodingName(encoding), " of ", x, " gave ", got));
        }
      }
      AUDIOPROC_FUZZ_CHECK(clipped == expected_clipped);
    } else if (encoding == SampleEncoding::kF32) {
      for (size_t i = 0; i < samples; ++i) AUDIOPROC_FUZZ_CHECK(!NonFinite(FloatBits(out + 4 * i)));
    }
    const uint32_t clipped_dithered = EncodeInterleaved(encoding, block, out, &dither, first_frame);
    AUDIOPROC_FUZZ_CHECK(clipped_dithered <= samples);
  }
}

}  // namespace
}  // namespace audioproc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace audioproc;
  if (size < 10) return 0;
  const SampleEncoding encoding = fuzz::kEncodings[data[0] % 6];
  const uint32_t channels = 1 + data[1] % kMaxChannels;
  uint64_t seed;
  std::memcpy(&seed, data + 2, sizeof seed);
  const TpdfDither dither(seed);
  // Far into a stream as well as at its start: the dither is keyed by the frame index.
  const uint64_t first_frame = seed >> 40;
  const uint8_t* samples = data + 10;
  const size_t bytes = size - 10;

  const uint32_t wire_frames = static_cast<uint32_t>(
      std::min<size_t>(bytes / (channels * BytesPerSample(encoding)), fuzz::kMaxFrames));
  if (wire_frames > 0) {
    fuzz::CheckDecodeEncode(encoding, channels, wire_frames, samples, dither, first_frame);
  }
  const uint32_t float_frames =
      static_cast<uint32_t>(std::min<size_t>(bytes / (channels * 4), fuzz::kMaxFrames));
  if (float_frames > 0)
    fuzz::CheckEncodeFloats(channels, float_frames, samples, dither, first_frame);
  return 0;
}
