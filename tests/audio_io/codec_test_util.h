// Helpers for the codec tests: encode planar float vectors to interleaved bytes and back
// through the public codec API, and read or write little-endian integers.
#ifndef AUDIOPROC_TESTS_PROCESSORS_CODEC_TEST_UTIL_H_
#define AUDIOPROC_TESTS_PROCESSORS_CODEC_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "audio_io/codec.h"
#include "dsp/audio_block.h"

namespace audioproc::testing {

// Encodes one planar channel per vector (equal lengths) into interleaved bytes.
inline std::string EncodeChannels(SampleEncoding encoding, std::vector<std::vector<float>> channels,
                                  uint32_t* clipped = nullptr, const TpdfDither* dither = nullptr,
                                  uint64_t first_frame = 0) {
  std::vector<float*> pointers;
  for (auto& channel : channels) pointers.push_back(channel.data());
  const auto frames = static_cast<uint32_t>(channels[0].size());
  const AudioBlock block(pointers.data(), static_cast<uint32_t>(channels.size()), frames);
  std::string bytes(size_t{frames} * channels.size() * BytesPerSample(encoding), '\0');
  const uint32_t count = EncodeInterleaved(
      encoding, block, reinterpret_cast<uint8_t*>(bytes.data()), dither, first_frame);
  if (clipped != nullptr) *clipped = count;
  return bytes;
}

inline std::string Encode(SampleEncoding encoding, std::vector<float> samples,
                          uint32_t* clipped = nullptr, const TpdfDither* dither = nullptr,
                          uint64_t first_frame = 0) {
  return EncodeChannels(encoding, {std::move(samples)}, clipped, dither, first_frame);
}

// Decodes interleaved bytes into `channels` planar vectors.
inline std::vector<std::vector<float>> DecodeChannels(SampleEncoding encoding,
                                                      const std::string& bytes, uint32_t channels,
                                                      uint32_t* nonfinite = nullptr) {
  const auto frames = static_cast<uint32_t>(bytes.size() / BytesPerSample(encoding) / channels);
  std::vector<std::vector<float>> out(channels, std::vector<float>(frames, -99.0f));
  std::vector<float*> pointers;
  for (auto& channel : out) pointers.push_back(channel.data());
  const uint32_t count = DecodeInterleaved(encoding, reinterpret_cast<const uint8_t*>(bytes.data()),
                                           AudioBlock(pointers.data(), channels, frames));
  if (nonfinite != nullptr) *nonfinite = count;
  return out;
}

inline std::vector<float> Decode(SampleEncoding encoding, const std::string& bytes,
                                 uint32_t* nonfinite = nullptr) {
  return DecodeChannels(encoding, bytes, 1, nonfinite)[0];
}

// Reads sample `i` of little-endian signed integer bytes of `width` bytes.
inline int64_t IntAt(const std::string& bytes, size_t i, int width) {
  uint64_t value = 0;
  for (int b = 0; b < width; ++b)
    value |= uint64_t{static_cast<uint8_t>(bytes[i * width + b])} << (8 * b);
  const int shift = 64 - 8 * width;
  return static_cast<int64_t>(value << shift) >> shift;
}

inline std::string IntBytes(const std::vector<int64_t>& values, int width) {
  std::string bytes;
  for (int64_t v : values) {
    for (int b = 0; b < width; ++b) bytes.push_back(static_cast<char>((v >> (8 * b)) & 0xFF));
  }
  return bytes;
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_PROCESSORS_CODEC_TEST_UTIL_H_
