#include "audio_io/codec.h"

#include <array>
#include <cstring>

#include "audio_io/g711.h"

namespace audioproc {
namespace {

// Every per-sample loop below walks one planar channel at a time (contiguous floats) and
// strides through the interleaved bytes; the format and the dither switch are template
// parameters so that the inner loops carry no per-sample dispatch.

// ---- Quantization ----------------------------------------------------------------------

// Adding and subtracting 1.5 x 2^52 rounds a double of magnitude below 2^51 to the nearest
// integer (ties to even) with two plain additions: no libm call and no SSE4.1 needed, which
// std::nearbyint and std::lrint would otherwise cost on baseline x86-64.
constexpr double kRoundMagic = 0x1.8p52;

// Scales `x` to a signed `kBits`-bit integer with full scale 2^(kBits-1), adds `dither` (in
// LSBs), rounds to nearest and clips, counting clipped samples in `clipped`. NaN, which no
// processor emits, quantizes to 0 rather than to undefined behaviour.
template <int kBits>
inline int32_t Quantize(float x, float dither, uint32_t& clipped) {
  constexpr double kScale = static_cast<double>(int64_t{1} << (kBits - 1));
  constexpr double kMax = kScale - 1;
  constexpr double kMin = -kScale;
  double s = static_cast<double>(x) * kScale + dither;
  s = s == s ? s : 0.0;
  // Pre-clamp just past the rounding boundaries: keeps the magic rounding in its range while
  // still letting the clip test below see every sample that rounds out of range.
  s = s < kMin - 1 ? kMin - 1 : s;
  s = s > kMax + 1 ? kMax + 1 : s;
  double r = (s + kRoundMagic) - kRoundMagic;
  clipped += static_cast<uint32_t>(r > kMax) + static_cast<uint32_t>(r < kMin);
  r = r > kMax ? kMax : r;
  r = r < kMin ? kMin : r;
  return static_cast<int32_t>(r);
}

// splitmix64's output function (Steele, Lea, Flood 2014): a strong 64-bit mixer.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

// The (frame x kMaxChannels + channel + 1)-th output of splitmix64 seeded with `seed`, split
// into two independent 24-bit uniforms whose difference is triangular on (-1, 1) LSB. 24 bits
// keep the result exact in a float.
inline float TriangularLsb(uint64_t seed, uint64_t frame, uint32_t channel) {
  const uint64_t z = Mix64(seed + (frame * kMaxChannels + channel + 1) * 0x9E3779B97F4A7C15u);
  const auto a = static_cast<int32_t>(z >> 40);
  const auto b = static_cast<int32_t>((z >> 16) & 0xFFFFFF);
  return static_cast<float>(a - b) * 0x1p-24f;
}

// ---- G.711 tables, built at compile time from the reference conversions ----------------

constexpr std::array<float, 256> MakeDecodeTable(int (*to_linear)(uint8_t)) {
  std::array<float, 256> table{};
  for (int code = 0; code < 256; ++code) {
    table[code] = static_cast<float>(to_linear(static_cast<uint8_t>(code))) / 32768.0f;
  }
  return table;
}

// Indexed by the 16-bit linear value's top `kBits` bits (as unsigned): mu-law reads 14 of
// them, A-law 13, so this is the whole encoder.
template <int kBits>
constexpr std::array<uint8_t, (1 << kBits)> MakeEncodeTable(uint8_t (*to_code)(int)) {
  std::array<uint8_t, (1 << kBits)> table{};
  for (int i = 0; i < (1 << kBits); ++i) {
    table[i] = to_code(static_cast<int16_t>(i << (16 - kBits)));
  }
  return table;
}

constexpr std::array<float, 256> kUlawDecode = MakeDecodeTable(g711::UlawToLinear);
constexpr std::array<float, 256> kAlawDecode = MakeDecodeTable(g711::AlawToLinear);
constexpr std::array<uint8_t, 16384> kUlawEncode = MakeEncodeTable<14>(g711::LinearToUlaw);
constexpr std::array<uint8_t, 8192> kAlawEncode = MakeEncodeTable<13>(g711::LinearToAlaw);

// ---- Formats: one struct per wire format, with Read and Write of one sample ------------

struct S16 {
  static constexpr uint32_t kBytes = 2;
  static float Read(const uint8_t* p, uint32_t&) {
    const auto v = static_cast<int16_t>(p[0] | (p[1] << 8));
    return static_cast<float>(v) * 0x1p-15f;
  }
  static void Write(float x, float dither, uint8_t* p, uint32_t& clipped) {
    const int32_t v = Quantize<16>(x, dither, clipped);
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
  }
};

struct S24 {
  static constexpr uint32_t kBytes = 3;
  static float Read(const uint8_t* p, uint32_t&) {
    // Assemble in the top three bytes, then an arithmetic shift sign-extends.
    const auto v =
        static_cast<int32_t>(uint32_t{p[0]} << 8 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 24) >>
        8;
    return static_cast<float>(v) * 0x1p-23f;
  }
  static void Write(float x, float dither, uint8_t* p, uint32_t& clipped) {
    const int32_t v = Quantize<24>(x, dither, clipped);
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v >> 16);
  }
};

struct S32 {
  static constexpr uint32_t kBytes = 4;
  static float Read(const uint8_t* p, uint32_t&) {
    const auto v = static_cast<int32_t>(uint32_t{p[0]} | uint32_t{p[1]} << 8 |
                                        uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    return static_cast<float>(v) * 0x1p-31f;
  }
  static void Write(float x, float dither, uint8_t* p, uint32_t& clipped) {
    const int32_t v = Quantize<32>(x, dither, clipped);
    const auto u = static_cast<uint32_t>(v);
    p[0] = static_cast<uint8_t>(u);
    p[1] = static_cast<uint8_t>(u >> 8);
    p[2] = static_cast<uint8_t>(u >> 16);
    p[3] = static_cast<uint8_t>(u >> 24);
  }
};

struct F32 {
  static constexpr uint32_t kBytes = 4;
  static constexpr uint32_t kExponent = 0x7F800000;
  static float Read(const uint8_t* p, uint32_t& nonfinite) {
    uint32_t bits =
        uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    const bool bad = (bits & kExponent) == kExponent;  // NaN or +-Inf
    nonfinite += bad;
    bits = bad ? 0 : bits;
    float x;
    std::memcpy(&x, &bits, sizeof x);
    return x;
  }
  // Float output is neither clipped nor dithered; a non-finite value (which no processor
  // emits) is written as 0 so that a client never receives one.
  static void Write(float x, float, uint8_t* p, uint32_t&) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    bits = (bits & kExponent) == kExponent ? 0 : bits;
    p[0] = static_cast<uint8_t>(bits);
    p[1] = static_cast<uint8_t>(bits >> 8);
    p[2] = static_cast<uint8_t>(bits >> 16);
    p[3] = static_cast<uint8_t>(bits >> 24);
  }
};

// G.711 encodes through 16-bit linear (dither and clipping happen there, as when a 16-bit
// source feeds the reference encoder), then one table lookup.
struct Mulaw {
  static constexpr uint32_t kBytes = 1;
  static float Read(const uint8_t* p, uint32_t&) { return kUlawDecode[*p]; }
  static void Write(float x, float dither, uint8_t* p, uint32_t& clipped) {
    const int32_t v = Quantize<16>(x, dither, clipped);
    *p = kUlawEncode[static_cast<uint16_t>(v) >> 2];
  }
};

struct Alaw {
  static constexpr uint32_t kBytes = 1;
  static float Read(const uint8_t* p, uint32_t&) { return kAlawDecode[*p]; }
  static void Write(float x, float dither, uint8_t* p, uint32_t& clipped) {
    const int32_t v = Quantize<16>(x, dither, clipped);
    *p = kAlawEncode[static_cast<uint16_t>(v) >> 3];
  }
};

template <typename Format>
uint32_t Decode(const uint8_t* in, const AudioBlock& out) {
  const uint32_t channels = out.num_channels();
  const uint32_t frames = out.num_frames();
  const size_t stride = size_t{channels} * Format::kBytes;
  uint32_t nonfinite = 0;
  for (uint32_t c = 0; c < channels; ++c) {
    float* x = out.channel(c);
    const uint8_t* p = in + size_t{c} * Format::kBytes;
    for (uint32_t i = 0; i < frames; ++i, p += stride) x[i] = Format::Read(p, nonfinite);
  }
  return nonfinite;
}

template <typename Format, bool kDither>
uint32_t Encode(const AudioBlock& in, uint8_t* out, const TpdfDither* dither,
                uint64_t first_frame) {
  const uint32_t channels = in.num_channels();
  const uint32_t frames = in.num_frames();
  const size_t stride = size_t{channels} * Format::kBytes;
  uint32_t clipped = 0;
  for (uint32_t c = 0; c < channels; ++c) {
    const float* x = in.channel(c);
    uint8_t* p = out + size_t{c} * Format::kBytes;
    for (uint32_t i = 0; i < frames; ++i, p += stride) {
      const float d = kDither ? dither->Sample(first_frame + i, c) : 0.0f;
      Format::Write(x[i], d, p, clipped);
    }
  }
  return clipped;
}

template <typename Format>
uint32_t EncodeMaybeDithered(const AudioBlock& in, uint8_t* out, const TpdfDither* dither,
                             uint64_t first_frame) {
  return dither != nullptr ? Encode<Format, true>(in, out, dither, first_frame)
                           : Encode<Format, false>(in, out, nullptr, first_frame);
}

}  // namespace

float TpdfDither::Sample(uint64_t frame, uint32_t channel) const noexcept {
  return TriangularLsb(seed_, frame, channel);
}

uint64_t DitherSeed(absl::string_view stream_id) {
  // FNV-1a, 64-bit: stable across builds and platforms, unlike std::hash.
  uint64_t hash = 0xCBF29CE484222325u;
  for (const char c : stream_id) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001B3u;
  }
  return hash;
}

uint32_t BytesPerSample(SampleEncoding encoding) {
  switch (encoding) {
    case SampleEncoding::kS16:
      return 2;
    case SampleEncoding::kS24:
      return 3;
    case SampleEncoding::kS32:
    case SampleEncoding::kF32:
      return 4;
    case SampleEncoding::kMulaw:
    case SampleEncoding::kAlaw:
      return 1;
  }
  return 0;
}

absl::string_view EncodingName(SampleEncoding encoding) {
  switch (encoding) {
    case SampleEncoding::kS16:
      return "s16";
    case SampleEncoding::kS24:
      return "s24";
    case SampleEncoding::kS32:
      return "s32";
    case SampleEncoding::kF32:
      return "f32";
    case SampleEncoding::kMulaw:
      return "mulaw";
    case SampleEncoding::kAlaw:
      return "alaw";
  }
  return "unknown";
}

absl::string_view EncodingApiName(SampleEncoding encoding) {
  switch (encoding) {
    case SampleEncoding::kS16:
      return "PCM_S16LE";
    case SampleEncoding::kS24:
      return "PCM_S24LE";
    case SampleEncoding::kS32:
      return "PCM_S32LE";
    case SampleEncoding::kF32:
      return "PCM_F32LE";
    case SampleEncoding::kMulaw:
      return "MULAW";
    case SampleEncoding::kAlaw:
      return "ALAW";
  }
  return "ENCODING_UNSPECIFIED";
}

uint32_t DecodeInterleaved(SampleEncoding encoding, const uint8_t* in,
                           const AudioBlock& out) noexcept {
  switch (encoding) {
    case SampleEncoding::kS16:
      return Decode<S16>(in, out);
    case SampleEncoding::kS24:
      return Decode<S24>(in, out);
    case SampleEncoding::kS32:
      return Decode<S32>(in, out);
    case SampleEncoding::kF32:
      return Decode<F32>(in, out);
    case SampleEncoding::kMulaw:
      return Decode<Mulaw>(in, out);
    case SampleEncoding::kAlaw:
      return Decode<Alaw>(in, out);
  }
  return 0;
}

uint32_t EncodeInterleaved(SampleEncoding encoding, const AudioBlock& in, uint8_t* out,
                           const TpdfDither* dither, uint64_t first_frame) noexcept {
  switch (encoding) {
    case SampleEncoding::kS16:
      return EncodeMaybeDithered<S16>(in, out, dither, first_frame);
    case SampleEncoding::kS24:
      return EncodeMaybeDithered<S24>(in, out, dither, first_frame);
    case SampleEncoding::kS32:
      return EncodeMaybeDithered<S32>(in, out, dither, first_frame);
    case SampleEncoding::kF32:
      return Encode<F32, false>(in, out, nullptr, first_frame);
    case SampleEncoding::kMulaw:
      return EncodeMaybeDithered<Mulaw>(in, out, dither, first_frame);
    case SampleEncoding::kAlaw:
      return EncodeMaybeDithered<Alaw>(in, out, dither, first_frame);
  }
  return 0;
}

}  // namespace audioproc
