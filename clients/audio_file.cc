#include "clients/audio_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "audio_io/codec.h"
#include "audio_io/file_codec.h"
#include "audio_io/file_format.h"
#include "clients/pcm.h"
#include "common/status_macros.h"
#include "dsp/audio_block.h"
#include "protos/wire_formats.h"

namespace audioproc::client {
namespace {

// Frames converted at a time: the scratch buffer is 8 channels x 4096 floats at most.
constexpr uint32_t kBlockFrames = 4096;

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Appends the whole frames of interleaved `in`, in `from`, to `out` in `to`, through the
// service's codecs (via planar float, which holds every integer encoding up to 24 bits and
// G.711 exactly).
class SampleConverter {
 public:
  SampleConverter(SampleEncoding from, SampleEncoding to, uint32_t channels)
      : from_(from), to_(to), channels_(channels) {
    if (from_ != to_) scratch_ = AudioBuffer(channels_, kBlockFrames);
  }

  void Append(absl::string_view in, std::string& out) {
    if (from_ == to_) {
      out.append(in.data(), in.size());
      return;
    }
    const size_t in_frame = size_t{BytesPerSample(from_)} * channels_;
    const size_t out_frame = size_t{BytesPerSample(to_)} * channels_;
    const auto* bytes = reinterpret_cast<const uint8_t*>(in.data());
    for (size_t frame = 0, frames = in.size() / in_frame; frame < frames;) {
      const auto n = static_cast<uint32_t>(std::min<size_t>(frames - frame, kBlockFrames));
      const AudioBlock block = scratch_.Block(n);
      DecodeInterleaved(from_, bytes + frame * in_frame, block);
      const size_t at = out.size();
      out.resize(at + n * out_frame);
      EncodeInterleaved(to_, block, reinterpret_cast<uint8_t*>(out.data() + at),
                        /*dither=*/nullptr, /*first_frame=*/0);
      frame += n;
    }
  }

 private:
  SampleEncoding from_;
  SampleEncoding to_;
  uint32_t channels_;
  AudioBuffer scratch_;
};

absl::Status CheckChannels(uint32_t channels) {
  if (channels >= 1 && channels <= kMaxChannels) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(channels, " channels: the service takes 1 to ", kMaxChannels));
}

}  // namespace

uint64_t PcmAudio::frames() const {
  const uint32_t frame_bytes = BytesPerFrame(format);
  return frame_bytes == 0 ? 0 : data.size() / frame_bytes;
}

absl::StatusOr<PcmAudio> DecodeAudio(absl::string_view file_bytes, v1::Encoding encoding) {
  std::optional<SampleEncoding> wanted;
  if (encoding != v1::ENCODING_UNSPECIFIED) {
    wanted = FromProtoEncoding(encoding);
    if (!wanted)
      return absl::InvalidArgumentError(absl::StrCat("cannot decode to encoding ", encoding));
  }
  // Unasked, 32-bit PCM comes as float like every other deep source; asked for an encoding,
  // every stored bit is read before it is converted.
  ASSIGN_OR_RETURN(std::unique_ptr<FileDecoder> decoder,
                   FileDecoder::Open(file_bytes, wanted ? FileDecoder::Output::kExact
                                                        : FileDecoder::Output::kS16OrF32));
  const FileInfo& info = decoder->info();
  const SampleEncoding decoded = decoder->encoding();
  const SampleEncoding target = wanted.value_or(decoded);
  if (decoded != target) RETURN_IF_ERROR(CheckChannels(info.channels));

  PcmAudio audio;
  audio.format.set_encoding(ToProtoEncoding(target));
  audio.format.set_sample_rate_hz(info.sample_rate_hz);
  audio.format.set_channels(info.channels);
  if (info.frames) audio.data.reserve(*info.frames * BytesPerFrame(audio.format));
  SampleConverter converter(decoded, target, info.channels);
  for (;;) {
    ASSIGN_OR_RETURN(absl::string_view block, decoder->Read(kBlockFrames));
    if (block.empty()) break;
    converter.Append(block, audio.data);
  }
  return audio;
}

absl::StatusOr<PcmAudio> ReadAudioFile(const std::string& path, v1::Encoding encoding) {
  File in(std::fopen(path.c_str(), "rb"), &std::fclose);
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

absl::Status WriteAudioFile(const std::string& path, const PcmAudio& audio) {
  ASSIGN_OR_RETURN(const Container container, ContainerForPath(path));
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
  const StreamFormat source{*FromProtoEncoding(format.encoding()), format.sample_rate_hz(),
                            format.channels()};
  OutputRequest request;
  request.container = container;
  absl::StatusOr<OutputPlan> plan = PlanOutput(request, source);
  if (!plan.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' cannot hold ", FormatToString(format), ": ", plan.status().message()));
  }
  const uint64_t frames = audio.frames();
  absl::StatusOr<std::unique_ptr<FileEncoder>> encoder =
      FileEncoder::Open(*plan, MaxFileBytes(plan->sf_format, frames * source.channels));
  if (!encoder.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': ", encoder.status().message()));
  }

  // The file is made in memory, block by block in the encoding its samples are stored in.
  SampleConverter converter(source.encoding, plan->encoding, source.channels);
  std::string block;
  for (uint64_t done = 0; done < frames;) {
    const uint64_t n = std::min<uint64_t>(frames - done, kBlockFrames);
    block.clear();
    converter.Append(absl::string_view(audio.data).substr(done * frame_bytes, n * frame_bytes),
                     block);
    if (absl::Status written = (*encoder)->Write(block); !written.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("writing '", path, "' failed: ", written.message()));
    }
    done += n;
  }
  absl::StatusOr<std::string> bytes = (*encoder)->Finish();
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("finishing '", path, "' failed: ", bytes.status().message()));
  }

  File out(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (out == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create '", path, "': ", std::strerror(errno)));
  }
  if (std::fwrite(bytes->data(), 1, bytes->size(), out.get()) != bytes->size() ||
      std::fclose(out.release()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("writing '", path, "' failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace audioproc::client
