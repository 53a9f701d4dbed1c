#include "clients/audio_file.h"

#include <sndfile.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/pcm.h"
#include "audio_io/sndfile_memory.h"

namespace audioproc::client {
namespace {

// The wire is little-endian and the sample buffers are copied as is.
static_assert(std::endian::native == std::endian::little,
              "audioproc clients assume a little-endian host");

constexpr sf_count_t kBlockFrames = 4096;


struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using Sndfile = std::unique_ptr<SNDFILE, SndfileCloser>;

sf_count_t ReadFrames(SNDFILE* file, int16_t* out, sf_count_t frames) {
  return sf_readf_short(file, out, frames);
}
sf_count_t ReadFrames(SNDFILE* file, int32_t* out, sf_count_t frames) {
  return sf_readf_int(file, out, frames);
}
sf_count_t ReadFrames(SNDFILE* file, float* out, sf_count_t frames) {
  return sf_readf_float(file, out, frames);
}
sf_count_t WriteFrames(SNDFILE* file, const int16_t* in, sf_count_t frames) {
  return sf_writef_short(file, in, frames);
}
sf_count_t WriteFrames(SNDFILE* file, const int32_t* in, sf_count_t frames) {
  return sf_writef_int(file, in, frames);
}
sf_count_t WriteFrames(SNDFILE* file, const float* in, sf_count_t frames) {
  return sf_writef_float(file, in, frames);
}

// Reads every frame as `Sample`s and hands each sample to `emit`, which appends its wire form.
template <typename Sample, typename Emit>
void ReadAll(SNDFILE* file, int channels, Emit emit) {
  std::vector<Sample> block(static_cast<size_t>(kBlockFrames * channels));
  for (;;) {
    const sf_count_t frames = ReadFrames(file, block.data(), kBlockFrames);
    if (frames <= 0) break;
    for (sf_count_t i = 0; i < frames * channels; ++i) emit(block[static_cast<size_t>(i)]);
  }
}

template <typename T>
void AppendRaw(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

absl::StatusOr<PcmAudio> Decode(SNDFILE* file, const SF_INFO& info, v1::Encoding encoding) {
  if (encoding == v1::ENCODING_UNSPECIFIED) {
    encoding =
        (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16 ? v1::PCM_S16LE : v1::PCM_F32LE;
  }
  if (BytesPerSample(encoding) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode to encoding ", encoding));
  }
  PcmAudio audio;
  audio.format.set_encoding(encoding);
  audio.format.set_sample_rate_hz(static_cast<uint32_t>(info.samplerate));
  audio.format.set_channels(static_cast<uint32_t>(info.channels));
  if (info.frames > 0 && info.frames != SF_COUNT_MAX) {
    audio.data.reserve(static_cast<size_t>(info.frames) * BytesPerFrame(audio.format));
  }
  std::string& out = audio.data;
  const int channels = info.channels;
  switch (encoding) {
    case v1::PCM_S16LE:
      ReadAll<int16_t>(file, channels, [&](int16_t s) { AppendRaw(out, s); });
      break;
    case v1::PCM_S24LE:
      // libsndfile's ints are full-scale 32-bit; keep the top 24 bits, rounded.
      ReadAll<int32_t>(file, channels, [&](int32_t s) {
        const int32_t v =
            static_cast<int32_t>(std::min<int64_t>((static_cast<int64_t>(s) + 128) >> 8, 0x7FFFFF));
        const char bytes[3] = {static_cast<char>(v), static_cast<char>(v >> 8),
                               static_cast<char>(v >> 16)};
        out.append(bytes, 3);
      });
      break;
    case v1::PCM_S32LE:
      ReadAll<int32_t>(file, channels, [&](int32_t s) { AppendRaw(out, s); });
      break;
    case v1::PCM_F32LE:
      ReadAll<float>(file, channels, [&](float s) { AppendRaw(out, s); });
      break;
    case v1::MULAW:
      ReadAll<int16_t>(file, channels,
                       [&](int16_t s) { out.push_back(static_cast<char>(LinearToMulaw(s))); });
      break;
    case v1::ALAW:
      ReadAll<int16_t>(file, channels,
                       [&](int16_t s) { out.push_back(static_cast<char>(LinearToAlaw(s))); });
      break;
    default:
      break;
  }
  if (sf_error(file) != SF_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat("decoding failed: ", sf_strerror(file)));
  }
  return audio;
}

int MajorFormat(Container container) {
  switch (container) {
    case Container::kWav:
      return SF_FORMAT_WAV;
    case Container::kAiff:
      return SF_FORMAT_AIFF;
    case Container::kFlac:
      return SF_FORMAT_FLAC;
    case Container::kOggVorbis:
    case Container::kOggOpus:
      return SF_FORMAT_OGG;
  }
  return 0;
}

int SubFormat(Container container, v1::Encoding encoding) {
  if (container == Container::kOggVorbis) return SF_FORMAT_VORBIS;
  if (container == Container::kOggOpus) return SF_FORMAT_OPUS;
  if (container == Container::kFlac) {
    // FLAC holds integers of up to 24 bits: G.711 is 16-bit linear underneath.
    const bool narrow = encoding == v1::PCM_S16LE || encoding == v1::MULAW || encoding == v1::ALAW;
    return narrow ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24;
  }
  switch (encoding) {
    case v1::PCM_S16LE:
      return SF_FORMAT_PCM_16;
    case v1::PCM_S24LE:
      return SF_FORMAT_PCM_24;
    case v1::PCM_S32LE:
      return SF_FORMAT_PCM_32;
    case v1::PCM_F32LE:
      return SF_FORMAT_FLOAT;
    case v1::MULAW:
      return SF_FORMAT_ULAW;
    case v1::ALAW:
      return SF_FORMAT_ALAW;
    default:
      return 0;
  }
}

// Converts whole frames of wire bytes into `Sample`s block by block and writes them.
template <typename Sample, typename Convert>
bool WriteAll(SNDFILE* file, const PcmAudio& audio, Convert convert) {
  const uint32_t sample_bytes = BytesPerSample(audio.format.encoding());
  const uint32_t channels = audio.format.channels();
  const uint64_t frames = audio.frames();
  std::vector<Sample> block(static_cast<size_t>(kBlockFrames) * channels);
  const auto* in = reinterpret_cast<const uint8_t*>(audio.data.data());
  for (uint64_t done = 0; done < frames;) {
    const uint64_t n = std::min<uint64_t>(frames - done, kBlockFrames);
    for (uint64_t i = 0; i < n * channels; ++i) {
      block[i] = convert(in + (done * channels + i) * sample_bytes);
    }
    if (WriteFrames(file, block.data(), static_cast<sf_count_t>(n)) != static_cast<sf_count_t>(n)) {
      return false;
    }
    done += n;
  }
  return true;
}

template <typename T>
T LoadRaw(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace

uint64_t PcmAudio::frames() const {
  const uint32_t frame_bytes = BytesPerFrame(format);
  return frame_bytes == 0 ? 0 : data.size() / frame_bytes;
}

absl::StatusOr<PcmAudio> DecodeAudio(absl::string_view file_bytes, v1::Encoding encoding) {
  SndfileMemory memory(file_bytes);
  SF_INFO info{};
  Sndfile file(memory.Open(SFM_READ, &info));
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an audio file libsndfile reads: ", sf_strerror(nullptr)));
  }
  return Decode(file.get(), info, encoding);
}

absl::StatusOr<PcmAudio> ReadAudioFile(const std::string& path, v1::Encoding encoding) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (in == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  }
  std::string bytes;
  char buffer[1 << 16];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), in.get())) > 0;)
    bytes.append(buffer, n);
  if (std::ferror(in.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read '", path, "': ", std::strerror(errno)));
  }
  absl::StatusOr<PcmAudio> audio = DecodeAudio(bytes, encoding);
  if (!audio.ok()) {
    return absl::Status(audio.status().code(), absl::StrCat(path, ": ", audio.status().message()));
  }
  return audio;
}

absl::StatusOr<Container> ContainerForPath(absl::string_view path) {
  const std::string lower = absl::AsciiStrToLower(path);
  struct Extension {
    absl::string_view suffix;
    Container container;
  };
  static constexpr Extension kExtensions[] = {
      {".wav", Container::kWav},       {".aif", Container::kAiff},
      {".aiff", Container::kAiff},     {".flac", Container::kFlac},
      {".ogg", Container::kOggVorbis}, {".oga", Container::kOggVorbis},
      {".opus", Container::kOggOpus}};
  for (const Extension& extension : kExtensions) {
    if (absl::EndsWith(lower, extension.suffix)) return extension.container;
  }
  return absl::InvalidArgumentError(absl::StrCat("cannot tell the container of '", path,
                                                 "': use .wav, .flac, .ogg, .opus, .aif or .aiff"));
}

absl::Status WriteAudioFile(const std::string& path, const PcmAudio& audio) {
  absl::StatusOr<Container> container = ContainerForPath(path);
  if (!container.ok()) return container.status();
  const v1::AudioFormat& format = audio.format;
  const uint32_t frame_bytes = BytesPerFrame(format);
  if (frame_bytes == 0 || format.sample_rate_hz() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("incomplete audio format: ", FormatToString(format)));
  }
  if (audio.data.size() % frame_bytes != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        audio.data.size(), " bytes is not a whole number of ", frame_bytes, "-byte frames"));
  }
  SF_INFO info{};
  info.samplerate = static_cast<int>(format.sample_rate_hz());
  info.channels = static_cast<int>(format.channels());
  info.format = MajorFormat(*container) | SubFormat(*container, format.encoding());
  if (!sf_format_check(&info)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' cannot hold ", FormatToString(format), " in this container"));
  }
  Sndfile file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create '", path, "': ", sf_strerror(nullptr)));
  }
  // Out-of-range floats must saturate rather than wrap when stored as integers; float files
  // keep them as they are.
  const int stored = info.format & SF_FORMAT_SUBMASK;
  if (stored != SF_FORMAT_FLOAT && stored != SF_FORMAT_VORBIS && stored != SF_FORMAT_OPUS) {
    sf_command(file.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
  }
  bool written = false;
  switch (format.encoding()) {
    case v1::PCM_S16LE:
      written = WriteAll<int16_t>(file.get(), audio, LoadRaw<int16_t>);
      break;
    case v1::PCM_S24LE:
      written = WriteAll<int32_t>(file.get(), audio, [](const uint8_t* p) {
        // Sign-extend by placing the 24 bits at the top of a 32-bit int: libsndfile's
        // full-scale int.
        return static_cast<int32_t>(static_cast<uint32_t>(p[0]) << 8 |
                                    static_cast<uint32_t>(p[1]) << 16 |
                                    static_cast<uint32_t>(p[2]) << 24);
      });
      break;
    case v1::PCM_S32LE:
      written = WriteAll<int32_t>(file.get(), audio, LoadRaw<int32_t>);
      break;
    case v1::PCM_F32LE:
      written = WriteAll<float>(file.get(), audio, LoadRaw<float>);
      break;
    case v1::MULAW:
      written =
          WriteAll<int16_t>(file.get(), audio, [](const uint8_t* p) { return MulawToLinear(*p); });
      break;
    case v1::ALAW:
      written =
          WriteAll<int16_t>(file.get(), audio, [](const uint8_t* p) { return AlawToLinear(*p); });
      break;
    default:
      break;
  }
  if (!written) {
    return absl::InvalidArgumentError(
        absl::StrCat("writing '", path, "' failed: ", sf_strerror(file.get())));
  }
  if (const int error = sf_close(file.release()); error != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("finishing '", path, "' failed: ", sf_error_number(error)));
  }
  return absl::OkStatus();
}

}  // namespace audioproc::client
