// Wire encoding sizes and the names people type for them. (G.711 itself is tested with the
// codec it belongs to, in tests/audio_io/g711_test.cc.)
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
  } cases[] = {
      {"PCM_S16LE", v1::PCM_S16LE}, {"pcm_s24le", v1::PCM_S24LE}, {"s32", v1::PCM_S32LE},
      {"F32", v1::PCM_F32LE},       {"mulaw", v1::MULAW},         {"ulaw", v1::MULAW},
      {"MULAW", v1::MULAW},         {"alaw", v1::ALAW},           {"s16le", v1::PCM_S16LE},
      {"S24LE", v1::PCM_S24LE},     {"s32le", v1::PCM_S32LE},     {"f32le", v1::PCM_F32LE}};
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

TEST(PcmTest, ParseRawFormatTakesEncodingRateAndChannels) {
  absl::StatusOr<v1::AudioFormat> format = ParseRawFormat("s16le:16000:1");
  ASSERT_TRUE(format.ok()) << format.status();
  EXPECT_EQ(format->encoding(), v1::PCM_S16LE);
  EXPECT_EQ(format->sample_rate_hz(), 16000u);
  EXPECT_EQ(format->channels(), 1u);
  format = ParseRawFormat("f32le:48000:2");
  ASSERT_TRUE(format.ok()) << format.status();
  EXPECT_EQ(format->encoding(), v1::PCM_F32LE);
  EXPECT_EQ(format->channels(), 2u);
  for (const char* bad : {"s16le:16000", "s16le:16000:1:2", "s16le:0:1", "s16le:16000:0",
                          "s16le:16k:1", "", "s8:16000:1"}) {
    EXPECT_THAT(ParseRawFormat(bad), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_))
        << bad;
  }
}

}  // namespace
}  // namespace audioproc::client
