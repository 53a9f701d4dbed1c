// G.711 mu-law and A-law through the public codec API: decoded levels against values written
// from the standard's tables, decode/encode round trips of all 256 codes, monotonic encoding.
#include "audio_io/g711.h"

#include <cstdint>
#include <string>
#include <vector>

#include "audio_io/codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/audio_io/codec_test_util.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Decode;
using ::audioproc::testing::Encode;

// Reconstruction levels from the G.711 tables (Tables 2a/2b), written from the standard's
// segment structure rather than from the encoder's shifts: code bits are sign (P), segment
// (e) and mantissa (m), after G.711's bit inversions (all bits for mu-law, the even bits for
// A-law).
int UlawLevel(uint8_t code) {
  const int inverted = static_cast<uint8_t>(~code);
  const int e = (inverted >> 4) & 7;
  const int m = inverted & 15;
  const int magnitude = ((2 * m + 33) * (1 << e) - 33) * 4;  // 14-bit level, scaled to 16 bits
  return (inverted & 0x80) ? -magnitude : magnitude;
}

int AlawLevel(uint8_t code) {
  const int value = code ^ 0x55;
  const int e = (value >> 4) & 7;
  const int m = value & 15;
  const int magnitude = (e == 0 ? 2 * m + 1 : (2 * m + 33) * (1 << (e - 1))) * 8;  // 13-bit, x8
  return (value & 0x80) ? magnitude : -magnitude;
}

std::string AllCodes() {
  std::string codes;
  for (int c = 0; c < 256; ++c) codes.push_back(static_cast<char>(c));
  return codes;
}

TEST(G711Test, DecodesKnownCodesToTheStandardsLevels) {
  struct Row {
    SampleEncoding encoding;
    uint8_t code;
    int linear;
  };
  const std::vector<Row> rows = {
      {SampleEncoding::kMulaw, 0x00, -32124}, {SampleEncoding::kMulaw, 0x80, 32124},
      {SampleEncoding::kMulaw, 0xFF, 0},      {SampleEncoding::kMulaw, 0x7F, 0},
      {SampleEncoding::kMulaw, 0xFE, 8},      {SampleEncoding::kMulaw, 0x7E, -8},
      {SampleEncoding::kMulaw, 0xEF, 132},    {SampleEncoding::kAlaw, 0xD5, 8},
      {SampleEncoding::kAlaw, 0x55, -8},      {SampleEncoding::kAlaw, 0xAA, 32256},
      {SampleEncoding::kAlaw, 0x2A, -32256},  {SampleEncoding::kAlaw, 0xD4, 24},
      {SampleEncoding::kAlaw, 0xC5, 264},
  };
  for (const Row& row : rows) {
    const std::string byte(1, static_cast<char>(row.code));
    EXPECT_EQ(Decode(row.encoding, byte)[0] * 32768.0f, row.linear)
        << EncodingName(row.encoding) << " code 0x" << std::hex << int{row.code};
  }
}

TEST(G711Test, DecodesEveryCodeToItsTableLevel) {
  const std::vector<float> mulaw = Decode(SampleEncoding::kMulaw, AllCodes());
  const std::vector<float> alaw = Decode(SampleEncoding::kAlaw, AllCodes());
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(mulaw[c] * 32768.0f, UlawLevel(static_cast<uint8_t>(c))) << "mu-law " << c;
    EXPECT_EQ(alaw[c] * 32768.0f, AlawLevel(static_cast<uint8_t>(c))) << "A-law " << c;
  }
}

TEST(G711Test, EveryCodeSurvivesDecodeThenEncode) {
  for (SampleEncoding encoding : {SampleEncoding::kMulaw, SampleEncoding::kAlaw}) {
    const std::string codes = AllCodes();
    uint32_t clipped = 99;
    const std::string again = Encode(encoding, Decode(encoding, codes), &clipped);
    EXPECT_EQ(clipped, 0u);
    for (int c = 0; c < 256; ++c) {
      // mu-law has two zeros, +0 (0xFF) and -0 (0x7F); zero encodes as +0.
      const int expected = (encoding == SampleEncoding::kMulaw && c == 0x7F) ? 0xFF : c;
      EXPECT_EQ(static_cast<uint8_t>(again[c]), expected)
          << EncodingName(encoding) << " code " << c;
    }
  }
}

TEST(G711Test, EncodingIsMonotonicAndSaturatesAtTheExtremes) {
  std::vector<float> ramp;
  for (int v = -32768; v <= 32767; ++v) ramp.push_back(static_cast<float>(v) / 32768.0f);
  for (SampleEncoding encoding : {SampleEncoding::kMulaw, SampleEncoding::kAlaw}) {
    const std::vector<float> levels = Decode(encoding, Encode(encoding, ramp));
    for (size_t i = 1; i < levels.size(); ++i) {
      ASSERT_GE(levels[i], levels[i - 1]) << EncodingName(encoding) << " at " << ramp[i];
    }
    uint32_t clipped = 0;
    const std::vector<float> extremes =
        Decode(encoding, Encode(encoding, {1.0f, -1.0f, 4.0f}, &clipped));
    const float top = encoding == SampleEncoding::kMulaw ? 32124.0f : 32256.0f;
    EXPECT_THAT(extremes, ::testing::ElementsAre(top / 32768.0f, -top / 32768.0f, top / 32768.0f));
    EXPECT_EQ(clipped, 2u) << "1.0 and 4.0 clip at the 16-bit stage";
  }
}

// The conversions themselves, against reference values from Python's audioop (which implements
// the same Sun reference algorithm independently). These were the client library's tests of
// its own copy of G.711; they keep their names and now hold the one copy.
constexpr auto LinearToMulaw = [](int16_t linear) { return g711::LinearToUlaw(linear); };
constexpr auto MulawToLinear = [](uint8_t code) { return g711::UlawToLinear(code); };
constexpr auto LinearToAlaw = [](int16_t linear) { return g711::LinearToAlaw(linear); };
constexpr auto AlawToLinear = [](uint8_t code) { return g711::AlawToLinear(code); };

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
}  // namespace audioproc
