// Sample codecs: interleaved stream bytes <-> planar float.
//
// Integer PCM maps full scale to +-1.0 with 2^(bits-1) (s16: 32768), rounding to nearest and
// clipping on the way out, so s16 -> float -> s16 is bit-exact. s24 is packed in 3 bytes,
// little-endian. mu-law and A-law follow ITU-T G.711 (through 16-bit linear). Float input's
// NaN and +-Inf become 0 and are counted.
// Thread safety: stateless functions; TpdfDither is immutable after construction.
#ifndef AUDIOPROC_AUDIO_IO_CODEC_H_
#define AUDIOPROC_AUDIO_IO_CODEC_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "dsp/audio_block.h"

namespace audioproc {

enum class SampleEncoding { kS16, kS24, kS32, kF32, kMulaw, kAlaw };

// A stream's samples on the wire: encoding, rate and interleaved channels.
struct StreamFormat {
  SampleEncoding encoding = SampleEncoding::kS16;
  uint32_t sample_rate_hz = 0;
  uint32_t channels = 0;

  friend bool operator==(const StreamFormat&, const StreamFormat&) = default;
};

inline constexpr uint32_t kMinSampleRateHz = 8000;
inline constexpr uint32_t kMaxSampleRateHz = 192000;

// Bytes one sample takes on the wire: 2, 3, 4, 4, 1, 1.
uint32_t BytesPerSample(SampleEncoding encoding);

// "s16", "s24", "s32", "f32", "mulaw", "alaw".
absl::string_view EncodingName(SampleEncoding encoding);

// The API's name: "PCM_S16LE", "PCM_S24LE", "PCM_S32LE", "PCM_F32LE", "MULAW", "ALAW".
absl::string_view EncodingApiName(SampleEncoding encoding);

// TPDF dither of +-1 LSB, from a generator keyed by a seed (the stream id's hash) and the
// frame index, so that a stream's output does not depend on how it was chunked.
class TpdfDither {
 public:
  explicit TpdfDither(uint64_t seed) : seed_(seed) {}
  // A triangular value in (-1, 1), in LSBs, for `channel` of frame `frame`. Deterministic.
  float Sample(uint64_t frame, uint32_t channel) const noexcept;

 private:
  uint64_t seed_;
};

// A stable 64-bit hash of a stream id, for keying TpdfDither.
uint64_t DitherSeed(absl::string_view stream_id);

// Decodes `out.num_frames()` interleaved frames of `out.num_channels()` channels from `in`
// (which holds at least that many frames) into `out`. Returns how many non-finite samples
// were replaced by 0 (only kF32 can carry them).
uint32_t DecodeInterleaved(SampleEncoding encoding, const uint8_t* in,
                           const AudioBlock& out) noexcept;

// Encodes `in` as interleaved samples into `out`, which has room for
// in.num_frames() x in.num_channels() x BytesPerSample bytes. With `dither`, integer
// encodings get TPDF dither, the first frame of `in` being stream frame `first_frame`.
// Returns how many samples were clipped to full scale (integer encodings only).
uint32_t EncodeInterleaved(SampleEncoding encoding, const AudioBlock& in, uint8_t* out,
                           const TpdfDither* dither, uint64_t first_frame) noexcept;

}  // namespace audioproc

#endif  // AUDIOPROC_AUDIO_IO_CODEC_H_
