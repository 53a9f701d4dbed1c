// Encoding sizes and names, and G.711 against reference values (Python audioop, which
// implements the same Sun reference algorithm independently).
#include "clients/pcm.h"

#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc::client {
namespace {

using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PcmTest, BytesPerSampleMatchesTheWireEncodings) {
  const struct {
    v1::Encoding encoding;
    uint32_t bytes;
  } cases[] = {{v1::PCM_S16LE, 2},           {v1::PCM_S24LE, 3}, {v1::PCM_S32LE, 4},
               {v1::PCM_F32LE, 4},           {v1::MULAW, 1},     {v1::ALAW, 1},
               {v1::ENCODING_UNSPECIFIED, 0}};
  for (const auto& c : cases) {
    EXPECT_EQ(BytesPerSample(c.encoding), c.bytes) << v1::Encoding_Name(c.encoding);
  }
  v1::AudioFormat format;
  format.set_encoding(v1::PCM_S24LE);
  format.set_channels(2);
  EXPECT_EQ(BytesPerFrame(format), 6u);
  format.set_channels(0);
  EXPECT_EQ(BytesPerFrame(format), 0u);
}

TEST(PcmTest, ParseEncodingTakesProtoAndShortNames) {
  const struct {
    std::string name;
    v1::Encoding want;
  } cases[] = {{"PCM_S16LE", v1::PCM_S16LE}, {"pcm_s24le", v1::PCM_S24LE},
               {"s32", v1::PCM_S32LE},       {"F32", v1::PCM_F32LE},
               {"mulaw", v1::MULAW},         {"ulaw", v1::MULAW},
               {"MULAW", v1::MULAW},         {"alaw", v1::ALAW}};
  for (const auto& c : cases) {
    absl::StatusOr<v1::Encoding> got = ParseEncoding(c.name);
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.name;
  }
  EXPECT_THAT(ParseEncoding("s8"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("unknown encoding 's8' (PCM_S16LE")));
  EXPECT_THAT(ParseEncoding("ENCODING_UNSPECIFIED"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown encoding")));
}

TEST(PcmTest, G711EncodesReferenceValues) {
  const struct {
    int16_t linear;
    uint8_t mulaw;
    uint8_t alaw;
  } cases[] = {
      {0, 0xFF, 0xD5},      {-1, 0x7E, 0x55},   {32767, 0x80, 0xAA},
      {-32768, 0x00, 0x2A}, {1000, 0xCE, 0xFA}, {-1000, 0x4E, 0x7A},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(LinearToMulaw(c.linear), c.mulaw) << c.linear;
    EXPECT_EQ(LinearToAlaw(c.linear), c.alaw) << c.linear;
  }
  EXPECT_EQ(MulawToLinear(0x80), 32124);
  EXPECT_EQ(MulawToLinear(0x00), -32124);
  EXPECT_EQ(MulawToLinear(0xFF), 0);
  EXPECT_EQ(AlawToLinear(0xAA), 32256);
  EXPECT_EQ(AlawToLinear(0x2A), -32256);
  EXPECT_EQ(AlawToLinear(0xD5), 8);
}

TEST(PcmTest, G711DecodeThenEncodeGivesBackEveryCode) {
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<uint8_t>(code);
    // mu-law's negative zero decodes to 0, whose code is positive zero.
    EXPECT_EQ(LinearToMulaw(MulawToLinear(c)), code == 0x7F ? 0xFF : c) << code;
    EXPECT_EQ(LinearToAlaw(AlawToLinear(c)), c) << code;
  }
}

TEST(PcmTest, G711IsMonotonic) {
  for (int v = -32768; v < 32767; ++v) {
    const auto a = static_cast<int16_t>(v);
    const auto b = static_cast<int16_t>(v + 1);
    ASSERT_LE(MulawToLinear(LinearToMulaw(a)), MulawToLinear(LinearToMulaw(b))) << v;
    ASSERT_LE(AlawToLinear(LinearToAlaw(a)), AlawToLinear(LinearToAlaw(b))) << v;
  }
}

}  // namespace
}  // namespace audioproc::client
