// StreamConfig validation: each bad field gets INVALID_ARGUMENT naming the field.
#include "service/stream_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;

v1::StreamConfig Valid() {
  v1::StreamConfig config;
  config.mutable_input()->set_encoding(v1::PCM_S16LE);
  config.mutable_input()->set_sample_rate_hz(16000);
  config.mutable_input()->set_channels(1);
  return config;
}

TEST(StreamConfigTest, UnsetOutputFieldsAreTheInputs) {
  v1::StreamConfig config = Valid();
  config.mutable_output()->set_encoding(v1::PCM_F32LE);
  absl::StatusOr<PipelineConfig> pipeline = ToPipelineConfig(config, {}, "assigned");
  ASSERT_THAT(pipeline, IsOk());
  EXPECT_EQ(pipeline->output.encoding, SampleEncoding::kF32);
  EXPECT_EQ(pipeline->output.sample_rate_hz, 16000u);
  EXPECT_EQ(pipeline->output.channels, 1u);
  EXPECT_EQ(pipeline->stream_id, "assigned");
  EXPECT_FALSE(pipeline->dither);
}

TEST(StreamConfigTest, GivenStreamIdAndDitherAreKept) {
  v1::StreamConfig config = Valid();
  config.set_stream_id("call-42:leg.A_1");
  config.set_dither(v1::DITHER_TPDF);
  absl::StatusOr<PipelineConfig> pipeline = ToPipelineConfig(config, {}, "assigned");
  ASSERT_THAT(pipeline, IsOk());
  EXPECT_EQ(pipeline->stream_id, "call-42:leg.A_1");
  EXPECT_TRUE(pipeline->dither);
}

struct BadConfigCase {
  const char* name;
  void (*mutate)(v1::StreamConfig*);
  const char* field;
};

class BadStreamConfigTest : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadStreamConfigTest, IsInvalidArgumentNamingTheField) {
  v1::StreamConfig config = Valid();
  GetParam().mutate(&config);
  EXPECT_THAT(ToPipelineConfig(config, {.max_chain_length = 2}, "id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().field)));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadStreamConfigTest,
    ::testing::Values(
        BadConfigCase{"NoInput", [](v1::StreamConfig* c) { c->clear_input(); }, "config.input"},
        BadConfigCase{"NoEncoding",
                      [](v1::StreamConfig* c) { c->mutable_input()->clear_encoding(); },
                      "config.input.encoding"},
        BadConfigCase{"UnknownEncoding",
                      [](v1::StreamConfig* c) {
                        c->mutable_input()->set_encoding(static_cast<v1::Encoding>(99));
                      },
                      "config.input.encoding"},
        BadConfigCase{"UnknownOutputEncoding",
                      [](v1::StreamConfig* c) {
                        c->mutable_output()->set_encoding(static_cast<v1::Encoding>(42));
                      },
                      "config.output.encoding"},
        BadConfigCase{"ChainTooLong",
                      [](v1::StreamConfig* c) {
                        for (int i = 0; i < 3; ++i) c->add_chain()->mutable_gain();
                      },
                      "--max_chain_length=2"},
        BadConfigCase{"EmptyProcessor", [](v1::StreamConfig* c) { c->add_chain(); },
                      "config.chain[0]"},
        BadConfigCase{"StreamIdWithSpace",
                      [](v1::StreamConfig* c) { c->set_stream_id("has space"); },
                      "config.stream_id"},
        BadConfigCase{"StreamIdTooLong",
                      [](v1::StreamConfig* c) { c->set_stream_id(std::string(129, 'a')); },
                      "config.stream_id"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(StreamConfigTest, StreamIdSyntax) {
  EXPECT_TRUE(IsValidStreamId("a"));
  EXPECT_TRUE(IsValidStreamId(std::string(128, 'z')));
  EXPECT_TRUE(IsValidStreamId("A-Z.a_z:0-9"));
  EXPECT_FALSE(IsValidStreamId(""));
  EXPECT_FALSE(IsValidStreamId("slash/"));
  EXPECT_FALSE(IsValidStreamId("uni\xc3\xa9"));
}

TEST(StreamConfigTest, EncodingsMapBothWays) {
  for (v1::Encoding encoding :
       {v1::PCM_S16LE, v1::PCM_S24LE, v1::PCM_S32LE, v1::PCM_F32LE, v1::MULAW, v1::ALAW}) {
    std::optional<SampleEncoding> sample = FromProtoEncoding(encoding);
    ASSERT_TRUE(sample.has_value()) << encoding;
    EXPECT_EQ(ToProtoEncoding(*sample), encoding);
  }
  EXPECT_FALSE(FromProtoEncoding(v1::ENCODING_UNSPECIFIED).has_value());
}

}  // namespace
}  // namespace audioproc
