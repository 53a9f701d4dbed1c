// ProcessFile (DESIGN §3): containers and encodings in and out, against an in-process server.
// Files are made and read back with libsndfile directly, never through the service's codec.
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/file_exchange.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/signals.h"
#include "tests/testing/sound_files.h"

namespace audioproc {
namespace {

using testing::CallProcessFile;
using testing::FileRequest;
using testing::FileResult;
using ::testing::HasSubstr;
using testing::MakeSoundFile;
using testing::ReadSoundFile;
using testing::SoundFile;

class ProcessFileTest : public testing::InProcessServerTest {};

// A second of a tone in noise: every sample value differs, so a reordering would show.
std::vector<int16_t> TestSignal(int rate, int channels, double seconds = 1.0) {
  const size_t frames = static_cast<size_t>(rate * seconds);
  std::vector<std::vector<float>> planar;
  for (int c = 0; c < channels; ++c) {
    std::vector<float> x = testing::Sine(440 * (c + 1), rate, frames, 0.3);
    const std::vector<float> noise = testing::WhiteNoise(frames, 0.05, 7 + c);
    for (size_t i = 0; i < frames; ++i) x[i] += noise[i];
    planar.push_back(std::move(x));
  }
  return testing::FromS16Bytes(testing::ToS16Bytes(testing::Interleave(planar)));
}

std::vector<float> ToFloat(const std::vector<int16_t>& x) {
  std::vector<float> out;
  for (int16_t v : x) out.push_back(v / 32768.0f);
  return out;
}

TEST_F(ProcessFileTest, WavS16ThroughAnEmptyChainComesBackBitExact) {
  for (int channels : {1, 2}) {
    const std::vector<int16_t> samples = TestSignal(16000, channels);
    const std::string wav =
        MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, channels, samples);
    const FileResult result = CallProcessFile(*stub_, FileRequest(wav));
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    const SoundFile out = ReadSoundFile(result.response.file());
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    EXPECT_EQ(out.info.samplerate, 16000);
    EXPECT_EQ(out.info.channels, channels);
    EXPECT_EQ(out.s16, samples);
    // Header included: the same library writes the same WAV.
    EXPECT_EQ(result.response.file(), wav);
    const v1::FileFormat& input = result.response.input();
    EXPECT_EQ(input.container(), v1::WAV);
    EXPECT_EQ(input.encoding(), v1::PCM_S16LE);
    EXPECT_EQ(input.sample_rate_hz(), 16000u);
    EXPECT_EQ(input.channels(), static_cast<uint32_t>(channels));
    const v1::StreamSummary& summary = result.response.summary();
    EXPECT_EQ(summary.frames_in(), 16000u);
    EXPECT_EQ(summary.frames_out(), 16000u);
    EXPECT_EQ(summary.chunks(), 1u);
    EXPECT_DOUBLE_EQ(summary.audio_seconds(), 1.0);
    EXPECT_GT(summary.wall_seconds(), 0.0);
  }
}

TEST_F(ProcessFileTest, FlacInFlacOutIsLosslessAt16And24Bits) {
  const std::vector<int16_t> samples = TestSignal(44100, 2);
  const std::string flac16 = MakeSoundFile(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, samples);
  const std::string flac24 =
      MakeSoundFile(SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 44100, 2, ToFloat(samples));
  for (const std::string* file : {&flac16, &flac24}) {
    const FileResult result = CallProcessFile(*stub_, FileRequest(*file));
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    const SoundFile in = ReadSoundFile(*file);
    const SoundFile out = ReadSoundFile(result.response.file());
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.info.format, in.info.format);
    EXPECT_EQ(result.response.input().container(), v1::FLAC);
    EXPECT_EQ(result.response.input().encoding(), file == &flac16 ? v1::PCM_S16LE : v1::PCM_S24LE);
    EXPECT_EQ(out.s32, in.s32);
  }
}

TEST_F(ProcessFileTest, AiffInAiffOutIsBitExact) {
  const std::vector<int16_t> samples = TestSignal(48000, 2);
  const std::string aiff = MakeSoundFile(SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 48000, 2, samples);
  const FileResult result = CallProcessFile(*stub_, FileRequest(aiff));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.response.input().container(), v1::AIFF);
  const SoundFile out = ReadSoundFile(result.response.file());
  EXPECT_EQ(out.info.format, SF_FORMAT_AIFF | SF_FORMAT_PCM_16);
  EXPECT_EQ(out.s16, samples);
}

// Lossy input: decoded by libsndfile, processed (-6 dB), written where asked.
TEST_F(ProcessFileTest, OggVorbisAndOpusAreDecodedAndProcessed) {
  const std::vector<int16_t> samples = TestSignal(48000, 2);
  struct Case {
    int sf_format;
    v1::Container container;
  };
  for (const Case& c : {Case{SF_FORMAT_OGG | SF_FORMAT_VORBIS, v1::OGG_VORBIS},
                        Case{SF_FORMAT_OGG | SF_FORMAT_OPUS, v1::OGG_OPUS}}) {
    SCOPED_TRACE(v1::Container_Name(c.container));
    const std::string ogg = MakeSoundFile(c.sf_format, 48000, 2, samples);
    ASSERT_FALSE(ogg.empty());
    const SoundFile in = ReadSoundFile(ogg);
    // To WAV (the encoding unset: a lossy source becomes PCM_S16LE), and as it came.
    for (const char* output : {R"({"container":"WAV"})", "{}"}) {
      const FileResult result = CallProcessFile(
          *stub_, FileRequest(ogg, absl::StrCat(R"({"chain":[{"gain":{"gainDb":-6}}],"output":)",
                                                output, "}")));
      ASSERT_TRUE(result.status.ok()) << result.status.error_message();
      const v1::FileFormat& input = result.response.input();
      EXPECT_EQ(input.container(), c.container);
      EXPECT_EQ(input.encoding(), v1::ENCODING_UNSPECIFIED);
      EXPECT_EQ(input.sample_rate_hz(), 48000u);
      EXPECT_EQ(input.channels(), 2u);
      EXPECT_EQ(result.response.summary().frames_in(), static_cast<uint64_t>(in.info.frames));
      const SoundFile out = ReadSoundFile(result.response.file());
      ASSERT_TRUE(out.ok);
      EXPECT_EQ(out.info.format,
                std::string(output) == "{}" ? c.sf_format : SF_FORMAT_WAV | SF_FORMAT_PCM_16);
      EXPECT_EQ(out.info.channels, 2);
      EXPECT_NEAR(testing::RmsDbfs(out.f32), testing::RmsDbfs(in.f32) - 6.02, 0.5);
    }
  }
}

// Each output is read back with libsndfile and compared with what libsndfile itself makes of
// the input samples in that encoding.
TEST_F(ProcessFileTest, OutputContainerAndEncodingAreConverted) {
  const std::vector<int16_t> samples = TestSignal(16000, 1);
  const std::string wav = MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, samples);
  struct Case {
    const char* output;
    int sf_format;
  };
  for (const Case& c :
       {Case{R"({"container":"FLAC"})", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
        Case{R"({"container":"FLAC","encoding":"PCM_S24LE"})", SF_FORMAT_FLAC | SF_FORMAT_PCM_24},
        Case{R"({"encoding":"PCM_F32LE"})", SF_FORMAT_WAV | SF_FORMAT_FLOAT},
        Case{R"({"encoding":"MULAW"})", SF_FORMAT_WAV | SF_FORMAT_ULAW},
        Case{R"({"container":"WAV","encoding":"ALAW"})", SF_FORMAT_WAV | SF_FORMAT_ALAW},
        Case{R"({"container":"AIFF","encoding":"PCM_S32LE"})",
             SF_FORMAT_AIFF | SF_FORMAT_PCM_32}}) {
    SCOPED_TRACE(c.output);
    const FileResult result =
        CallProcessFile(*stub_, FileRequest(wav, absl::StrCat(R"({"output":)", c.output, "}")));
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    const SoundFile out = ReadSoundFile(result.response.file());
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.info.format, c.sf_format);
    if ((c.sf_format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT) {
      // libsndfile reads float files as integers unscaled; the floats are what count.
      EXPECT_EQ(out.f32, ToFloat(samples));  // s16 / 32768, exactly
    } else {
      const SoundFile expected = ReadSoundFile(MakeSoundFile(c.sf_format, 16000, 1, samples));
      EXPECT_EQ(out.s16, expected.s16);
    }
  }
}

TEST_F(ProcessFileTest, AnEncodingTheContainerCannotHoldIsRefusedNamingBoth) {
  const std::string wav =
      MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, TestSignal(44100, 1, 0.1));
  struct Case {
    const char* output;
    std::vector<const char*> says;
  };
  for (const Case& c :
       {Case{R"({"container":"FLAC","encoding":"PCM_F32LE"})",
             {"output.encoding PCM_F32LE", "output.container FLAC", "PCM_S16LE, PCM_S24LE"}},
        Case{R"({"container":"OGG_VORBIS","encoding":"PCM_S16LE"})",
             {"output.encoding must be unset", "OGG_VORBIS"}},
        Case{R"({"container":"OGG_OPUS"})", {"output.sample_rate_hz", "48000", "got 44100"}},
        Case{R"({"container":"FLAC","channels":9})", {"output.channels"}}}) {
    SCOPED_TRACE(c.output);
    const FileResult result =
        CallProcessFile(*stub_, FileRequest(wav, absl::StrCat(R"({"output":)", c.output, "}")));
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    for (const char* text : c.says) EXPECT_THAT(result.status.error_message(), HasSubstr(text));
  }
}

TEST_F(ProcessFileTest, OutputChannelsGoThroughTheMix) {
  const std::vector<int16_t> samples = TestSignal(16000, 2);
  const std::string wav = MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, samples);
  const FileResult result =
      CallProcessFile(*stub_, FileRequest(wav, R"({"output":{"channels":1}})"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const SoundFile out = ReadSoundFile(result.response.file());
  EXPECT_EQ(out.info.channels, 1);
  EXPECT_EQ(out.info.frames, 16000);
  ASSERT_GE(result.response.summary().processors_size(), 1);
  EXPECT_EQ(result.response.summary().processors(0).name(), "mix");
}

// Until a resample processor is registered the pipeline refuses another rate; once it is,
// the file comes back at the new rate with the exact length.
TEST_F(ProcessFileTest, AnOutputRateIsResampledOrRefusedIfThereIsNoResampler) {
  const std::string wav =
      MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, TestSignal(16000, 1));
  const FileResult result =
      CallProcessFile(*stub_, FileRequest(wav, R"({"output":{"sampleRateHz":8000}})"));
  if (ProcessorRegistry::Default().Find("resample") == nullptr) {
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(result.status.error_message(), HasSubstr("output.sample_rate_hz"));
  } else {
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    const SoundFile out = ReadSoundFile(result.response.file());
    EXPECT_EQ(out.info.samplerate, 8000);
    EXPECT_EQ(out.info.frames, 8000);
  }
}

TEST_F(ProcessFileTest, SummaryHasEveryProcessorsTimeAndTheChainRuns) {
  const std::vector<int16_t> samples = TestSignal(16000, 1);
  const std::string wav = MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, samples);
  const FileResult result = CallProcessFile(
      *stub_, FileRequest(wav, R"({"chain":[{"gain":{"gainDb":-6}},{"limiter":{}}]})"));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  const v1::StreamSummary& summary = result.response.summary();
  ASSERT_EQ(summary.processors_size(), 2);
  EXPECT_EQ(summary.processors(0).name(), "gain");
  EXPECT_EQ(summary.processors(1).name(), "limiter");
  EXPECT_GT(summary.processors(0).seconds(), 0.0);
  EXPECT_GT(summary.real_time_factor(), 0.0);
  // The limiter's lookahead is compensated: same length, aligned with the input.
  EXPECT_EQ(summary.frames_out(), 16000u);
  const SoundFile out = ReadSoundFile(result.response.file());
  ASSERT_EQ(out.s16.size(), samples.size());
  for (size_t i = 0; i < samples.size(); i += 997) {
    EXPECT_NEAR(out.s16[i], samples[i] * 0.501187, 1.0) << i;
  }
}

}  // namespace
}  // namespace audioproc
