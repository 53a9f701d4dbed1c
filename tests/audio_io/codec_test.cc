// Sample codecs: integer PCM round trips, rounding and clipping, float sanitizing and TPDF
// dither. G.711: g711_test.cc.
#include "audio_io/codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/audio_io/codec_test_util.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Decode;
using ::audioproc::testing::DecodeChannels;
using ::audioproc::testing::Encode;
using ::audioproc::testing::EncodeChannels;
using ::audioproc::testing::IntAt;
using ::audioproc::testing::IntBytes;

TEST(CodecTest, BytesPerSampleAndNamesFollowTheWireFormats) {
  struct Row {
    SampleEncoding encoding;
    uint32_t bytes;
    const char* name;
  };
  for (const Row& row : std::vector<Row>{{SampleEncoding::kS16, 2, "s16"},
                                         {SampleEncoding::kS24, 3, "s24"},
                                         {SampleEncoding::kS32, 4, "s32"},
                                         {SampleEncoding::kF32, 4, "f32"},
                                         {SampleEncoding::kMulaw, 1, "mulaw"},
                                         {SampleEncoding::kAlaw, 1, "alaw"}}) {
    EXPECT_EQ(BytesPerSample(row.encoding), row.bytes) << row.name;
    EXPECT_EQ(EncodingName(row.encoding), row.name);
  }
}

TEST(CodecTest, EveryS16ValueRoundTripsBitExactly) {
  std::vector<int64_t> all;
  for (int v = -32768; v <= 32767; ++v) all.push_back(v);
  const std::string bytes = IntBytes(all, 2);
  const std::vector<float> decoded = Decode(SampleEncoding::kS16, bytes);
  EXPECT_EQ(decoded.front(), -1.0f);
  EXPECT_EQ(decoded[32768], 0.0f);
  EXPECT_EQ(decoded.back(), 32767.0f / 32768.0f);
  uint32_t clipped = 99;
  EXPECT_TRUE(Encode(SampleEncoding::kS16, decoded, &clipped) == bytes);
  EXPECT_EQ(clipped, 0u);
}

TEST(CodecTest, EveryS24ValueRoundTripsBitExactly) {
  // All 2^24 values, a slice at a time.
  constexpr int64_t kSlice = 1 << 16;
  for (int64_t start = -(1 << 23); start < (1 << 23); start += kSlice) {
    std::vector<int64_t> values;
    for (int64_t v = start; v < start + kSlice; ++v) values.push_back(v);
    const std::string bytes = IntBytes(values, 3);
    const std::vector<float> decoded = Decode(SampleEncoding::kS24, bytes);
    ASSERT_EQ(decoded[0], static_cast<float>(start) / 8388608.0f);
    uint32_t clipped = 99;
    ASSERT_TRUE(Encode(SampleEncoding::kS24, decoded, &clipped) == bytes) << "from " << start;
    ASSERT_EQ(clipped, 0u);
  }
}

TEST(CodecTest, S32RoundTripsBitExactlyWhereFloatHoldsTheValue) {
  // A float holds any integer of at most 24 significant bits: random 24-bit mantissas at
  // every shift that stays in range, plus the extremes.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> mantissa(-(1 << 23), (1 << 23) - 1);
  std::vector<int64_t> values = {0, 1, -1, INT32_MIN, -(1 << 30), 1 << 30, (1 << 24) - 1};
  for (int shift = 0; shift <= 8; ++shift) {
    for (int i = 0; i < 2000; ++i) values.push_back(int64_t{mantissa(rng)} * (int64_t{1} << shift));
  }
  const std::string bytes = IntBytes(values, 4);
  uint32_t clipped = 99;
  EXPECT_TRUE(Encode(SampleEncoding::kS32, Decode(SampleEncoding::kS32, bytes), &clipped) == bytes);
  EXPECT_EQ(clipped, 0u);
}

TEST(CodecTest, FiniteF32RoundTripsBitExactly) {
  std::mt19937 rng(11);
  std::vector<float> values = {0.0f, -0.0f, 1.0f, -1.0f, 1e-40f /* denormal */, 3.0e38f, -7.5f};
  for (int i = 0; i < 10000; ++i) {
    uint32_t bits = static_cast<uint32_t>(rng());
    if ((bits & 0x7F800000) == 0x7F800000) bits &= ~0x00800000u;  // keep it finite
    float x;
    std::memcpy(&x, &bits, sizeof x);
    values.push_back(x);
  }
  const std::string bytes = Encode(SampleEncoding::kF32, values);
  uint32_t nonfinite = 99;
  EXPECT_TRUE(Encode(SampleEncoding::kF32, Decode(SampleEncoding::kF32, bytes, &nonfinite)) ==
              bytes);
  EXPECT_EQ(nonfinite, 0u);
}

TEST(CodecTest, NonFiniteF32InputBecomesZeroAndIsCounted) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::string bytes;
  for (float x : {0.25f, nan, inf, -inf, -0.5f, -nan}) {
    bytes.append(reinterpret_cast<const char*>(&x), sizeof x);  // the test host is little-endian
  }
  uint32_t nonfinite = 0;
  EXPECT_THAT(Decode(SampleEncoding::kF32, bytes, &nonfinite),
              ::testing::ElementsAre(0.25f, 0.0f, 0.0f, 0.0f, -0.5f, 0.0f));
  EXPECT_EQ(nonfinite, 4u);
}

TEST(CodecTest, IntegerEncodingRoundsToNearestAndClipsAtFullScale) {
  struct Row {
    SampleEncoding encoding;
    double lsbs;  // input in LSBs of the encoding (x = lsbs / 2^(bits-1))
    int64_t expected;
    uint32_t clipped;
  };
  const std::vector<Row> rows = {
      {SampleEncoding::kS16, 0.4, 0, 0},
      {SampleEncoding::kS16, 0.6, 1, 0},
      {SampleEncoding::kS16, -0.6, -1, 0},
      {SampleEncoding::kS16, 1234.49, 1234, 0},
      {SampleEncoding::kS16, 0.5, 0, 0},
      {SampleEncoding::kS16, 1.5, 2, 0},  // ties to even
      {SampleEncoding::kS16, 32767.4, 32767, 0},
      {SampleEncoding::kS16, 32767.6, 32767, 1},
      {SampleEncoding::kS16, 32768, 32767, 1},
      {SampleEncoding::kS16, -32768, -32768, 0},
      {SampleEncoding::kS16, -32768.4, -32768, 0},
      {SampleEncoding::kS16, -32768.6, -32768, 1},
      {SampleEncoding::kS16, 65536, 32767, 1},
      {SampleEncoding::kS16, -1e9, -32768, 1},
      {SampleEncoding::kS24, 8388608, 8388607, 1},
      {SampleEncoding::kS24, -8388608, -8388608, 0},
      {SampleEncoding::kS24, 100.7, 101, 0},
      {SampleEncoding::kS24, -1e12, -8388608, 1},
      {SampleEncoding::kS32, 2147483648.0, 2147483647, 1},
      {SampleEncoding::kS32, -2147483648.0, INT32_MIN, 0},
      {SampleEncoding::kS32, 1073741824.0, 1073741824, 0},
      {SampleEncoding::kS32, 1e12, 2147483647, 1},
  };
  for (const Row& row : rows) {
    const int width = static_cast<int>(BytesPerSample(row.encoding));
    const double full_scale = std::ldexp(1.0, 8 * width - 1);
    const auto x = static_cast<float>(row.lsbs / full_scale);
    uint32_t clipped = 99;
    const std::string bytes = Encode(row.encoding, {x}, &clipped);
    EXPECT_EQ(IntAt(bytes, 0, width), row.expected)
        << EncodingName(row.encoding) << " of " << row.lsbs << " LSB";
    EXPECT_EQ(clipped, row.clipped) << EncodingName(row.encoding) << " of " << row.lsbs << " LSB";
  }
}

TEST(CodecTest, FullScaleFloatMapsToTheIntegerExtremes) {
  uint32_t clipped = 0;
  const std::string bytes = Encode(SampleEncoding::kS16, {1.0f, -1.0f, 0.5f, -0.5f}, &clipped);
  EXPECT_EQ(IntAt(bytes, 0, 2), 32767);
  EXPECT_EQ(IntAt(bytes, 1, 2), -32768);
  EXPECT_EQ(IntAt(bytes, 2, 2), 16384);
  EXPECT_EQ(IntAt(bytes, 3, 2), -16384);
  EXPECT_EQ(clipped, 1u);  // only +1.0, which has no s16 code
}

TEST(CodecTest, InterleavedFramesPutChannelZeroFirst) {
  const std::string bytes = IntBytes({100, -200, 300, -400, 500, -600}, 2);
  const auto channels = DecodeChannels(SampleEncoding::kS16, bytes, 2);
  EXPECT_THAT(channels[0], ::testing::ElementsAre(100 / 32768.0f, 300 / 32768.0f, 500 / 32768.0f));
  EXPECT_THAT(channels[1],
              ::testing::ElementsAre(-200 / 32768.0f, -400 / 32768.0f, -600 / 32768.0f));
  EXPECT_TRUE(EncodeChannels(SampleEncoding::kS16, channels) == bytes);
}

// ---- Dither ----------------------------------------------------------------------------

TEST(CodecTest, DitherSeedIsFnv1a64) {
  EXPECT_EQ(DitherSeed(""), 0xCBF29CE484222325u);
  EXPECT_EQ(DitherSeed("a"), 0xAF63DC4C8601EC8Cu);
  EXPECT_EQ(DitherSeed("foobar"), 0x85944171F73967E8u);
}

TEST(CodecTest, WithoutDitherExactValuesEncodeExactly) {
  std::vector<float> values;
  for (int v = -300; v <= 300; ++v) values.push_back(static_cast<float>(v) / 32768.0f);
  const std::string bytes = Encode(SampleEncoding::kS16, values, nullptr, nullptr);
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(IntAt(bytes, i, 2), int(i) - 300);
}

TEST(CodecTest, DitherIsTriangularWithinOneLsbAndZeroMean) {
  const TpdfDither dither(DitherSeed("stream-1"));
  constexpr int kBins = 20;
  std::vector<int> histogram(kBins, 0);
  double sum = 0, sum_squares = 0;
  int samples = 0;
  for (uint64_t frame = 0; frame < 250000; ++frame) {
    for (uint32_t channel = 0; channel < 2; ++channel) {
      const float d = dither.Sample(frame, channel);
      ASSERT_GT(d, -1.0f);
      ASSERT_LT(d, 1.0f);
      sum += d;
      sum_squares += double{d} * d;
      ++histogram[static_cast<int>((d + 1.0f) / 2.0f * kBins)];
      ++samples;
    }
  }
  EXPECT_NEAR(sum / samples, 0.0, 0.003);
  EXPECT_NEAR(sum_squares / samples, 1.0 / 6.0, 0.002);  // variance of a +-1 triangle
  for (int b = 0; b < kBins; ++b) {
    // The triangle's probability mass over [lo, hi).
    const double lo = -1.0 + 2.0 * b / kBins;
    const double hi = lo + 2.0 / kBins;
    auto cdf = [](double x) { return x < 0 ? (1 + x) * (1 + x) / 2 : 1 - (1 - x) * (1 - x) / 2; };
    EXPECT_NEAR(static_cast<double>(histogram[b]) / samples, cdf(hi) - cdf(lo), 0.002)
        << "bin " << b;
  }
}

TEST(CodecTest, DitherIsDeterministicAndIndependentOfChunking) {
  std::vector<float> signal(3000);
  for (size_t i = 0; i < signal.size(); ++i) signal[i] = 0.3f * std::sin(0.01f * i);
  const TpdfDither dither(DitherSeed("call-42"));
  const std::string whole = Encode(SampleEncoding::kS16, signal, nullptr, &dither, 1000);
  EXPECT_TRUE(whole == Encode(SampleEncoding::kS16, signal, nullptr, &dither, 1000));
  std::string pieces;
  for (size_t start = 0; start < signal.size(); start += 7) {
    const size_t end = std::min(signal.size(), start + 7);
    pieces += Encode(SampleEncoding::kS16, {signal.begin() + start, signal.begin() + end}, nullptr,
                     &dither, 1000 + start);
  }
  EXPECT_TRUE(pieces == whole);
  const TpdfDither other(DitherSeed("call-43"));
  EXPECT_FALSE(Encode(SampleEncoding::kS16, signal, nullptr, &other, 1000) == whole);
  EXPECT_FALSE(Encode(SampleEncoding::kS16, signal, nullptr, &dither, 1001) == whole);
}

TEST(CodecTest, DitheredQuantizationIsUnbiasedAndWithinOneLsb) {
  // 0.3 LSB rounds to 0 every time without dither; with TPDF dither the average output is
  // the input.
  const TpdfDither dither(DitherSeed("bias"));
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kS24}) {
    const int width = static_cast<int>(BytesPerSample(encoding));
    const double lsb = std::ldexp(1.0, -(8 * width - 1));
    const std::vector<float> input(200000, static_cast<float>(0.3 * lsb));
    const std::string bytes = Encode(encoding, input, nullptr, &dither);
    double sum = 0;
    for (size_t i = 0; i < input.size(); ++i) {
      const int64_t v = IntAt(bytes, i, width);
      ASSERT_GE(v, -1);
      ASSERT_LE(v, 1);
      sum += static_cast<double>(v);
    }
    EXPECT_NEAR(sum / input.size(), 0.3, 0.01) << EncodingName(encoding);
    EXPECT_EQ(IntAt(Encode(encoding, input), 0, width), 0);
  }
}

}  // namespace
}  // namespace audioproc
