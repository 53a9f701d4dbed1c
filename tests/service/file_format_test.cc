// PlanOutput: what a ProcessFile request's unset output fields become, and what is refused,
// for requests as the wire carries them (protos/wire_formats.h's conversion, then
// audio_io/file_format.h's plan).
#include "audio_io/file_format.h"

#include <sndfile.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protos/wire_formats.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::HasSubstr;
using testing::StatusIs;

FileInfo Input(int sf_format, uint32_t rate = 48000, uint32_t channels = 2) {
  FileInfo info;
  info.sf_format = sf_format;
  info.sample_rate_hz = rate;
  info.channels = channels;
  return info;
}

// The request as the wire carries it, through the one conversion the server makes.
absl::StatusOr<OutputPlan> PlanOutput(const v1::FileFormat& requested, const FileInfo& input) {
  absl::StatusOr<OutputRequest> request = OutputRequestFromProto(requested);
  if (!request.ok()) return request.status();
  return audioproc::PlanOutput(*request, input);
}

v1::FileFormat Output(v1::Container container, v1::Encoding encoding = v1::ENCODING_UNSPECIFIED) {
  v1::FileFormat format;
  format.set_container(container);
  format.set_encoding(encoding);
  return format;
}

TEST(FileFormatTest, UnsetFieldsTakeTheInputsWhereTheContainerHoldsThem) {
  struct Case {
    int input;
    v1::FileFormat requested;
    int planned;
    SampleEncoding pcm;
  };
  const Case cases[] = {
      // Everything unset: the input's container and encoding.
      {SF_FORMAT_WAV | SF_FORMAT_PCM_24,
       {},
       SF_FORMAT_WAV | SF_FORMAT_PCM_24,
       SampleEncoding::kS24},
      {SF_FORMAT_AU | SF_FORMAT_PCM_16, {}, SF_FORMAT_AU | SF_FORMAT_PCM_16, SampleEncoding::kS16},
      {SF_FORMAT_OGG | SF_FORMAT_OPUS, {}, SF_FORMAT_OGG | SF_FORMAT_OPUS, SampleEncoding::kF32},
      {SF_FORMAT_WAV | SF_FORMAT_ULAW, {}, SF_FORMAT_WAV | SF_FORMAT_ULAW, SampleEncoding::kS16},
      // Another container keeps the encoding if it can hold it ...
      {SF_FORMAT_WAV | SF_FORMAT_FLOAT, Output(v1::AIFF), SF_FORMAT_AIFF | SF_FORMAT_FLOAT,
       SampleEncoding::kF32},
      {SF_FORMAT_FLAC | SF_FORMAT_PCM_24, Output(v1::WAV), SF_FORMAT_WAV | SF_FORMAT_PCM_24,
       SampleEncoding::kS24},
      // ... else 24 bits for deep sources, 16 for the rest.
      {SF_FORMAT_WAV | SF_FORMAT_FLOAT, Output(v1::FLAC), SF_FORMAT_FLAC | SF_FORMAT_PCM_24,
       SampleEncoding::kS24},
      {SF_FORMAT_WAV | SF_FORMAT_ALAW, Output(v1::FLAC), SF_FORMAT_FLAC | SF_FORMAT_PCM_16,
       SampleEncoding::kS16},
      {SF_FORMAT_OGG | SF_FORMAT_VORBIS, Output(v1::WAV), SF_FORMAT_WAV | SF_FORMAT_PCM_16,
       SampleEncoding::kS16},
      // Codec containers are their own encoding.
      {SF_FORMAT_WAV | SF_FORMAT_PCM_16, Output(v1::OGG_VORBIS), SF_FORMAT_OGG | SF_FORMAT_VORBIS,
       SampleEncoding::kF32},
      // A set encoding is written as asked.
      {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, Output(v1::WAV, v1::PCM_S32LE),
       SF_FORMAT_WAV | SF_FORMAT_PCM_32, SampleEncoding::kS32},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << std::hex << c.input << " -> " << c.planned);
    const absl::StatusOr<OutputPlan> plan = PlanOutput(c.requested, Input(c.input));
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->sf_format, c.planned);
    EXPECT_EQ(plan->encoding, c.pcm);
    EXPECT_EQ(plan->sample_rate_hz, 48000u);
    EXPECT_EQ(plan->channels, 2u);
  }
}

TEST(FileFormatTest, RefusalsNameTheField) {
  v1::FileFormat bad_rate;
  bad_rate.set_sample_rate_hz(4000);
  v1::FileFormat bad_container;
  bad_container.set_container(static_cast<v1::Container>(99));
  struct Case {
    int input;
    v1::FileFormat requested;
    const char* says;
  };
  const Case cases[] = {
      {SF_FORMAT_WAV | SF_FORMAT_PCM_16, Output(v1::FLAC, v1::MULAW),
       "output.encoding MULAW cannot be stored in output.container FLAC"},
      {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, Output(v1::CONTAINER_UNSPECIFIED, v1::PCM_F32LE),
       "output.container FLAC (unset: the input's)"},
      {SF_FORMAT_OGG | SF_FORMAT_OPUS, Output(v1::CONTAINER_UNSPECIFIED, v1::PCM_S16LE),
       "output.encoding must be unset"},
      {SF_FORMAT_WAV | SF_FORMAT_PCM_16, bad_rate, "output.sample_rate_hz must be in [8000"},
      {SF_FORMAT_WAV | SF_FORMAT_PCM_16, bad_container, "output.container must be one of"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(PlanOutput(c.requested, Input(c.input)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.says)));
  }
  // Opus at a rate it does not take, the input's.
  EXPECT_THAT(PlanOutput(Output(v1::OGG_OPUS), Input(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("output.sample_rate_hz must be 8000, 12000, 16000, 24000 or "
                                 "48000 for output.container OGG_OPUS, got 44100 (the input's)")));
}

TEST(FileFormatTest, DescribeNamesWhatTheApiNames) {
  const v1::FileFormat wav = DescribeFile(Input(SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 1));
  EXPECT_EQ(wav.container(), v1::WAV);
  EXPECT_EQ(wav.encoding(), v1::PCM_S24LE);
  EXPECT_EQ(wav.sample_rate_hz(), 44100u);
  EXPECT_EQ(wav.channels(), 1u);
  const v1::FileFormat au = DescribeFile(Input(SF_FORMAT_AU | SF_FORMAT_PCM_16));
  EXPECT_EQ(au.container(), v1::CONTAINER_UNSPECIFIED);
  EXPECT_EQ(au.encoding(), v1::PCM_S16LE);
  const v1::FileFormat vorbis = DescribeFile(Input(SF_FORMAT_OGG | SF_FORMAT_VORBIS));
  EXPECT_EQ(vorbis.container(), v1::OGG_VORBIS);
  EXPECT_EQ(vorbis.encoding(), v1::ENCODING_UNSPECIFIED);
  EXPECT_EQ(ContainerName(SF_FORMAT_AU | SF_FORMAT_PCM_16), "AU (Sun/NeXT)");
}

}  // namespace
}  // namespace audioproc
