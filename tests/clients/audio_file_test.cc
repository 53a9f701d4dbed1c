// ReadAudioFile / DecodeAudio / WriteAudioFile: every encoding written and read back through
// every container in a temporary directory (bit-exact where the container stores the
// encoding), the default encoding choice, reading from memory, the bundled demo sample, and
// each error.
#include "clients/audio_file.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "clients/pcm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/audio_io/codec_test_util.h"
#include "tests/testing/status_matchers.h"

namespace audioproc::client {
namespace {

using ::audioproc::testing::IsOk;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

v1::AudioFormat Format(v1::Encoding encoding, uint32_t rate, uint32_t channels) {
  v1::AudioFormat format;
  format.set_encoding(encoding);
  format.set_sample_rate_hz(rate);
  format.set_channels(channels);
  return format;
}

// Seeded noise covering each encoding's whole range (G.711: every code but mu-law's negative
// zero, which cannot survive a decode and re-encode).
PcmAudio Noise(v1::Encoding encoding, uint32_t rate, uint32_t channels, uint64_t frames) {
  PcmAudio audio{"", Format(encoding, rate, channels)};
  std::mt19937 random(1234);
  const uint64_t samples = frames * channels;
  for (uint64_t i = 0; i < samples; ++i) {
    if (encoding == v1::PCM_F32LE) {
      const float value = std::uniform_real_distribution<float>(-1.0f, 1.0f)(random);
      audio.data.append(reinterpret_cast<const char*>(&value), sizeof(value));
      continue;
    }
    for (uint32_t b = 0; b < BytesPerSample(encoding); ++b) {
      char byte = static_cast<char>(random());
      if (encoding == v1::MULAW && byte == 0x7F) byte = 0x7E;
      audio.data.push_back(byte);
    }
  }
  return audio;
}

std::vector<float> Floats(const std::string& data) {
  std::vector<float> values(data.size() / sizeof(float));
  std::memcpy(values.data(), data.data(), values.size() * sizeof(float));
  return values;
}

std::vector<int32_t> Int32s(const std::string& data) {
  std::vector<int32_t> values(data.size() / sizeof(int32_t));
  std::memcpy(values.data(), data.data(), values.size() * sizeof(int32_t));
  return values;
}

class AudioFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("audio_file_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

struct RoundTripCase {
  std::string extension;
  v1::Encoding encoding;
  bool exact;
};

TEST_F(AudioFileTest, EveryEncodingRoundTripsThroughEveryLosslessContainer) {
  const RoundTripCase cases[] = {
      {"wav", v1::PCM_S16LE, true},  {"wav", v1::PCM_S24LE, true},   {"wav", v1::PCM_S32LE, true},
      {"wav", v1::PCM_F32LE, true},  {"wav", v1::MULAW, true},       {"wav", v1::ALAW, true},
      {"aiff", v1::PCM_S16LE, true}, {"aif", v1::PCM_S24LE, true},   {"aiff", v1::PCM_S32LE, true},
      {"aiff", v1::PCM_F32LE, true}, {"aiff", v1::MULAW, true},      {"aiff", v1::ALAW, true},
      {"flac", v1::PCM_S16LE, true}, {"flac", v1::PCM_S24LE, true},  {"flac", v1::MULAW, true},
      {"flac", v1::ALAW, true},      {"flac", v1::PCM_S32LE, false}, {"flac", v1::PCM_F32LE, false},
  };
  for (const RoundTripCase& c : cases) {
    SCOPED_TRACE(c.extension + " " + v1::Encoding_Name(c.encoding));
    const PcmAudio written = Noise(c.encoding, 22050, 3, 5000);
    const std::string path = Path("round_trip." + c.extension);
    ASSERT_THAT(WriteAudioFile(path, written), IsOk());
    absl::StatusOr<PcmAudio> read = ReadAudioFile(path, c.encoding);
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(read->format.SerializeAsString(), written.format.SerializeAsString())
        << read->format.ShortDebugString();
    ASSERT_EQ(read->frames(), written.frames());
    if (c.exact) {
      EXPECT_TRUE(read->data == written.data);
    } else if (c.encoding == v1::PCM_S32LE) {
      // FLAC keeps 24 of the 32 bits.
      const std::vector<int32_t> got = Int32s(read->data), want = Int32s(written.data);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 256.0) << i;
    } else {
      const std::vector<float> got = Floats(read->data), want = Floats(written.data);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 3e-7) << i;
    }
  }
}

TEST_F(AudioFileTest, FloatBeyondFullScaleIsKeptInWavAndClippedInFlac) {
  PcmAudio audio{"", Format(v1::PCM_F32LE, 48000, 1)};
  for (float value : {1.5f, -2.0f, 0.25f}) {
    audio.data.append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  ASSERT_THAT(WriteAudioFile(Path("loud.wav"), audio), IsOk());
  absl::StatusOr<PcmAudio> wav = ReadAudioFile(Path("loud.wav"));
  ASSERT_THAT(wav, IsOk());
  EXPECT_THAT(Floats(wav->data), ::testing::ElementsAre(1.5f, -2.0f, 0.25f));

  ASSERT_THAT(WriteAudioFile(Path("loud.flac"), audio), IsOk());
  absl::StatusOr<PcmAudio> flac = ReadAudioFile(Path("loud.flac"));
  ASSERT_THAT(flac, IsOk());
  const std::vector<float> clipped = Floats(flac->data);
  ASSERT_EQ(clipped.size(), 3u);
  EXPECT_NEAR(clipped[0], 1.0f, 1e-6);
  EXPECT_NEAR(clipped[1], -1.0f, 1e-6);
  EXPECT_NEAR(clipped[2], 0.25f, 1e-6);
}

TEST_F(AudioFileTest, LossyContainersKeepFormatAndLength) {
  const struct {
    std::string name;
    uint32_t rate;
  } cases[] = {{"tone.ogg", 44100}, {"tone.opus", 48000}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PcmAudio audio{"", Format(v1::PCM_F32LE, c.rate, 2)};
    const uint64_t frames = c.rate;  // One second of a 1 kHz tone.
    for (uint64_t i = 0; i < frames * 2; ++i) {
      const uint64_t frame = i / 2;  // Two channels, the same tone.
      const float value =
          0.5f *
          static_cast<float>(std::sin(2 * M_PI * 1000.0 * static_cast<double>(frame) / c.rate));
      audio.data.append(reinterpret_cast<const char*>(&value), sizeof(value));
    }
    ASSERT_THAT(WriteAudioFile(Path(c.name), audio), IsOk());
    absl::StatusOr<PcmAudio> read = ReadAudioFile(Path(c.name));
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(read->format.encoding(), v1::PCM_F32LE);
    EXPECT_EQ(read->format.sample_rate_hz(), c.rate);
    EXPECT_EQ(read->format.channels(), 2u);
    EXPECT_EQ(read->frames(), frames);
  }
}

TEST_F(AudioFileTest, DefaultEncodingIsS16For16BitPcmAndF32Otherwise) {
  const PcmAudio s16 = Noise(v1::PCM_S16LE, 16000, 1, 100);
  ASSERT_THAT(WriteAudioFile(Path("s16.wav"), s16), IsOk());
  absl::StatusOr<PcmAudio> read = ReadAudioFile(Path("s16.wav"));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->format.encoding(), v1::PCM_S16LE);
  EXPECT_TRUE(read->data == s16.data);

  // 24-bit PCM comes as float, scaled by 2^23: nothing is lost.
  PcmAudio s24{"", Format(v1::PCM_S24LE, 16000, 1)};
  s24.data = std::string("\x00\x00\x40\x00\x00\xC0\x01\x00\x00", 9);  // 0.5, -0.5, 2^-23
  ASSERT_THAT(WriteAudioFile(Path("s24.wav"), s24), IsOk());
  read = ReadAudioFile(Path("s24.wav"));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->format.encoding(), v1::PCM_F32LE);
  EXPECT_THAT(Floats(read->data), ::testing::ElementsAre(0.5f, -0.5f, std::ldexp(1.0f, -23)));

  ASSERT_THAT(WriteAudioFile(Path("mulaw.wav"), Noise(v1::MULAW, 8000, 1, 10)), IsOk());
  read = ReadAudioFile(Path("mulaw.wav"));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->format.encoding(), v1::PCM_F32LE);
}

// Asked for another encoding, the client converts with the server's codecs: a 16-bit file
// read as mu-law is what the server's encoder makes of the same samples, and 16-bit samples
// read as s24 are exact.
TEST_F(AudioFileTest, OtherEncodingsAreConvertedByTheServersCodecs) {
  const PcmAudio s16 = Noise(v1::PCM_S16LE, 16000, 1, 4000);
  ASSERT_THAT(WriteAudioFile(Path("s16.wav"), s16), IsOk());
  const std::vector<float> samples = audioproc::testing::Decode(SampleEncoding::kS16, s16.data);

  absl::StatusOr<PcmAudio> mulaw = ReadAudioFile(Path("s16.wav"), v1::MULAW);
  ASSERT_THAT(mulaw, IsOk());
  EXPECT_EQ(mulaw->format.encoding(), v1::MULAW);
  EXPECT_TRUE(mulaw->data == audioproc::testing::Encode(SampleEncoding::kMulaw, samples));

  absl::StatusOr<PcmAudio> s24 = ReadAudioFile(Path("s16.wav"), v1::PCM_S24LE);
  ASSERT_THAT(s24, IsOk());
  EXPECT_TRUE(s24->data == audioproc::testing::Encode(SampleEncoding::kS24, samples));
  EXPECT_EQ(audioproc::testing::Decode(SampleEncoding::kS24, s24->data), samples);
}

TEST_F(AudioFileTest, DecodeAudioFromMemoryMatchesTheFile) {
  const PcmAudio audio = Noise(v1::PCM_S24LE, 32000, 2, 3000);
  ASSERT_THAT(WriteAudioFile(Path("memory.flac"), audio), IsOk());
  std::ifstream in(Path("memory.flac"), std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  absl::StatusOr<PcmAudio> from_memory = DecodeAudio(bytes.str(), v1::PCM_S24LE);
  ASSERT_THAT(from_memory, IsOk());
  EXPECT_EQ(from_memory->format.SerializeAsString(), audio.format.SerializeAsString());
  EXPECT_TRUE(from_memory->data == audio.data);
}

TEST_F(AudioFileTest, BundledDemoSampleIsShort16kHzMonoSpeech) {
  const std::string path =
      (std::filesystem::path(__FILE__).parent_path() / "../../clients/demo/speech_16k.wav")
          .string();
  EXPECT_LE(std::filesystem::file_size(path), 200u * 1000u);
  absl::StatusOr<PcmAudio> demo = ReadAudioFile(path);
  ASSERT_THAT(demo, IsOk());
  EXPECT_EQ(demo->format.ShortDebugString(), Format(v1::PCM_S16LE, 16000, 1).ShortDebugString());
  EXPECT_GE(demo->frames(), 3u * 16000u);
  EXPECT_LE(demo->frames(), 6u * 16000u);
}

TEST_F(AudioFileTest, ReadErrorsSayWhatIsWrong) {
  EXPECT_THAT(ReadAudioFile(Path("missing.wav")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.wav")));
  std::ofstream(Path("garbage.wav")) << "this is not audio at all, not even a little";
  EXPECT_THAT(ReadAudioFile(Path("garbage.wav")),
              StatusIs(kInvalid, HasSubstr("not an audio file libsndfile reads")));
  EXPECT_THAT(DecodeAudio(""), StatusIs(kInvalid, HasSubstr("not an audio file")));
}

TEST_F(AudioFileTest, WriteErrorsSayWhatIsWrong) {
  const PcmAudio good = Noise(v1::PCM_S16LE, 16000, 1, 10);
  EXPECT_THAT(WriteAudioFile(Path("out.mp4"), good),
              StatusIs(kInvalid, HasSubstr("cannot tell the container of")));
  PcmAudio partial = good;
  partial.data.pop_back();
  EXPECT_THAT(WriteAudioFile(Path("out.wav"), partial),
              StatusIs(kInvalid, HasSubstr("19 bytes is not a whole number of 2-byte frames")));
  PcmAudio no_rate = good;
  no_rate.format.set_sample_rate_hz(0);
  EXPECT_THAT(WriteAudioFile(Path("out.wav"), no_rate),
              StatusIs(kInvalid, HasSubstr("incomplete audio format")));
  PcmAudio no_encoding = good;
  no_encoding.format.set_encoding(v1::ENCODING_UNSPECIFIED);
  EXPECT_THAT(WriteAudioFile(Path("out.wav"), no_encoding),
              StatusIs(kInvalid, HasSubstr("incomplete audio format")));
  EXPECT_THAT(WriteAudioFile(Path("no/such/dir/out.wav"), good),
              StatusIs(kInvalid, HasSubstr("cannot create")));
  EXPECT_THAT(WriteAudioFile(Path("out.opus"), Noise(v1::PCM_F32LE, 44100, 1, 10)),
              StatusIs(kInvalid, HasSubstr("out.opus")));
}

TEST(ContainerForPathTest, PicksTheContainerByExtension) {
  const struct {
    std::string path;
    Container want;
  } cases[] = {{"a.wav", Container::kWav},       {"dir.x/A.WAV", Container::kWav},
               {"a.aif", Container::kAiff},      {"a.aiff", Container::kAiff},
               {"a.flac", Container::kFlac},     {"a.ogg", Container::kOggVorbis},
               {"a.oga", Container::kOggVorbis}, {"a.opus", Container::kOggOpus}};
  for (const auto& c : cases) {
    absl::StatusOr<Container> got = ContainerForPath(c.path);
    ASSERT_THAT(got, IsOk()) << c.path;
    EXPECT_EQ(*got, c.want) << c.path;
  }
  for (const std::string path : {"a.mp3", "wav", "a.wav.gz", ""}) {
    EXPECT_THAT(ContainerForPath(path), StatusIs(kInvalid, HasSubstr("use .wav"))) << path;
  }
}

}  // namespace
}  // namespace audioproc::client
