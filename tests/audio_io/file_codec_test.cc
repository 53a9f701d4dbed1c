// FileEncoder and FileDecoder round trips that libsndfile alone gets wrong.
#include "audio_io/file_codec.h"

#include <sndfile.h>

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

// Encodes `frames` frames of a ramp as `sf_format` from s16 and decodes them again, as
// 16-bit values (the decoder gives G.711 as floats).
std::vector<double> RoundTrip(int sf_format, uint32_t channels, uint32_t frames) {
  std::vector<int16_t> ramp(size_t{frames} * channels);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<int16_t>(1000 + 50 * i);
  const OutputPlan plan{sf_format, SampleEncoding::kS16, 8000, channels};
  absl::StatusOr<std::unique_ptr<FileEncoder>> encoder = FileEncoder::Open(plan, 1 << 20);
  EXPECT_TRUE(encoder.ok()) << encoder.status();
  if (!encoder.ok()) return {};
  EXPECT_TRUE((*encoder)
                  ->Write(absl::string_view(reinterpret_cast<const char*>(ramp.data()),
                                            ramp.size() * sizeof(int16_t)))
                  .ok());
  absl::StatusOr<std::string> file = (*encoder)->Finish();
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return {};
  absl::StatusOr<std::unique_ptr<FileDecoder>> decoder = FileDecoder::Open(*file);
  EXPECT_TRUE(decoder.ok()) << decoder.status();
  if (!decoder.ok()) return {};
  EXPECT_EQ((*decoder)->info().frames, frames);
  EXPECT_EQ((*decoder)->encoding(), SampleEncoding::kF32);
  std::vector<double> out;
  for (;;) {
    absl::StatusOr<absl::string_view> pcm = (*decoder)->Read(64);
    EXPECT_TRUE(pcm.ok()) << pcm.status();
    if (!pcm.ok() || pcm->empty()) break;
    for (size_t at = 0; at + sizeof(float) <= pcm->size(); at += sizeof(float)) {
      float x;
      std::memcpy(&x, pcm->data() + at, sizeof(float));
      out.push_back(x * 32768.0);
    }
  }
  return out;
}

TEST(FileCodecTest, AnOddLengthG711AiffHoldsExactlyTheFramesWritten) {
  // libsndfile counts the pad byte of an odd-sized AIFF as a frame: for mu-law a sample of
  // -32124. Every frame written, and nothing after them, must come back.
  for (const int subtype : {SF_FORMAT_ULAW, SF_FORMAT_ALAW}) {
    for (const auto& [channels, frames] : {std::pair{1u, 227u}, {3u, 5u}, {1u, 226u}}) {
      SCOPED_TRACE(testing::Message() << "subtype " << subtype << ", " << channels << " channels, "
                                      << frames << " frames");
      const std::vector<double> out = RoundTrip(SF_FORMAT_AIFF | subtype, channels, frames);
      ASSERT_EQ(out.size(), size_t{frames} * channels);
      // G.711 keeps these levels within 4% (one step of its 16 per segment).
      for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_NEAR(out[i], 1000 + 50 * static_cast<double>(i), 0.04 * (1000 + 50 * i)) << i;
      }
    }
  }
}

}  // namespace
}  // namespace audioproc
