#include "audio_io/file_format.h"

#include <sndfile.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dsp/audio_block.h"

namespace audioproc {
namespace {

constexpr int kOurEncodings[] = {SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_PCM_32,
                                 SF_FORMAT_FLOAT,  SF_FORMAT_ULAW,   SF_FORMAT_ALAW};

int Major(int sf_format) { return sf_format & SF_FORMAT_TYPEMASK; }
int Subtype(int sf_format) { return sf_format & SF_FORMAT_SUBMASK; }

Container ContainerOf(int sf_format) {
  switch (Major(sf_format)) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
    case SF_FORMAT_RF64:
      return Container::kWav;
    case SF_FORMAT_AIFF:
      return Container::kAiff;
    case SF_FORMAT_FLAC:
      return Container::kFlac;
    case SF_FORMAT_OGG:
      if (Subtype(sf_format) == SF_FORMAT_VORBIS) return Container::kOggVorbis;
      if (Subtype(sf_format) == SF_FORMAT_OPUS) return Container::kOggOpus;
      return Container::kUnspecified;
    default:
      return Container::kUnspecified;
  }
}

std::optional<SampleEncoding> EncodingOf(int subtype) {
  switch (subtype) {
    case SF_FORMAT_PCM_16:
      return SampleEncoding::kS16;
    case SF_FORMAT_PCM_24:
      return SampleEncoding::kS24;
    case SF_FORMAT_PCM_32:
      return SampleEncoding::kS32;
    case SF_FORMAT_FLOAT:
      return SampleEncoding::kF32;
    case SF_FORMAT_ULAW:
      return SampleEncoding::kMulaw;
    case SF_FORMAT_ALAW:
      return SampleEncoding::kAlaw;
    default:
      return std::nullopt;
  }
}

int SubtypeOf(SampleEncoding encoding) {
  switch (encoding) {
    case SampleEncoding::kS16:
      return SF_FORMAT_PCM_16;
    case SampleEncoding::kS24:
      return SF_FORMAT_PCM_24;
    case SampleEncoding::kS32:
      return SF_FORMAT_PCM_32;
    case SampleEncoding::kF32:
      return SF_FORMAT_FLOAT;
    case SampleEncoding::kMulaw:
      return SF_FORMAT_ULAW;
    case SampleEncoding::kAlaw:
      return SF_FORMAT_ALAW;
  }
  return 0;
}

// The samples the encoder hands libsndfile for a subtype: the integers it stores (G.711 is
// encoded by libsndfile from 16-bit linear, exactly as it decodes), else float.
SampleEncoding PcmFor(int subtype) {
  switch (subtype) {
    case SF_FORMAT_PCM_16:
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
      return SampleEncoding::kS16;
    case SF_FORMAT_PCM_24:
      return SampleEncoding::kS24;
    case SF_FORMAT_PCM_32:
      return SampleEncoding::kS32;
    default:
      return SampleEncoding::kF32;
  }
}

bool Fits(int sf_format, uint32_t rate, uint32_t channels) {
  SF_INFO info{};
  info.format = sf_format;
  info.samplerate = static_cast<int>(rate);
  info.channels = static_cast<int>(channels);
  return sf_format_check(&info) != 0;
}

}  // namespace

uint32_t StoredBytesPerSample(int sf_format) {
  switch (Subtype(sf_format)) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
      return 1;
    case SF_FORMAT_PCM_16:
      return 2;
    case SF_FORMAT_PCM_24:
      return 3;
    case SF_FORMAT_DOUBLE:
      return 8;
    default:
      return 4;
  }
}

absl::string_view ContainerApiName(Container container) {
  switch (container) {
    case Container::kWav:
      return "WAV";
    case Container::kFlac:
      return "FLAC";
    case Container::kOggVorbis:
      return "OGG_VORBIS";
    case Container::kOggOpus:
      return "OGG_OPUS";
    case Container::kAiff:
      return "AIFF";
    case Container::kUnspecified:
      break;
  }
  return "CONTAINER_UNSPECIFIED";
}

absl::StatusOr<Container> ContainerForPath(absl::string_view path) {
  const std::string lower = absl::AsciiStrToLower(path);
  for (const auto& [extension, container] :
       {std::pair{".wav", Container::kWav}, std::pair{".aif", Container::kAiff},
        std::pair{".aiff", Container::kAiff}, std::pair{".flac", Container::kFlac},
        std::pair{".ogg", Container::kOggVorbis}, std::pair{".oga", Container::kOggVorbis},
        std::pair{".opus", Container::kOggOpus}}) {
    if (absl::EndsWith(lower, extension)) return container;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot tell the container of '", path,
                   "': use .wav, .aif/.aiff, .flac, .ogg/.oga (Vorbis) or .opus"));
}

uint64_t MaxFileBytes(int sf_format, uint64_t samples) {
  constexpr uint64_t kHeaderBytes = 64 << 10;
  const uint64_t pcm_bytes = samples * StoredBytesPerSample(sf_format);
  return pcm_bytes + pcm_bytes / 16 + kHeaderBytes;
}

std::string ContainerName(int sf_format) {
  if (const Container container = ContainerOf(sf_format); container != Container::kUnspecified) {
    return std::string(ContainerApiName(container));
  }
  SF_FORMAT_INFO info{};
  info.format = Major(sf_format);
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) != 0 || info.name == nullptr) {
    return absl::StrCat("format 0x", absl::Hex(Major(sf_format)));
  }
  return info.name;
}

Container FileInfo::container() const { return ContainerOf(sf_format); }

std::optional<SampleEncoding> FileInfo::encoding() const { return EncodingOf(Subtype(sf_format)); }

absl::StatusOr<OutputPlan> PlanOutput(const OutputRequest& requested, const FileInfo& input) {
  OutputPlan plan;
  plan.sample_rate_hz =
      requested.sample_rate_hz != 0 ? requested.sample_rate_hz : input.sample_rate_hz;
  plan.channels = requested.channels != 0 ? requested.channels : input.channels;
  // Checked here (the pipeline checks them too) so that the container's checks below never
  // stand in for these plainer messages.
  if (plan.sample_rate_hz < kMinSampleRateHz || plan.sample_rate_hz > kMaxSampleRateHz) {
    return absl::InvalidArgumentError(absl::StrCat("output.sample_rate_hz must be in [",
                                                   kMinSampleRateHz, ", ", kMaxSampleRateHz,
                                                   "] Hz, got ", plan.sample_rate_hz));
  }
  if (plan.channels < 1 || plan.channels > kMaxChannels) {
    return absl::InvalidArgumentError(
        absl::StrCat("output.channels must be in [1, ", kMaxChannels, "], got ", plan.channels));
  }

  int major = 0;
  int codec = 0;  // the subtype of a container that is its own encoding
  switch (requested.container) {
    case Container::kUnspecified:
      major = Major(input.sf_format);
      if (major == SF_FORMAT_OGG) codec = Subtype(input.sf_format);
      break;
    case Container::kWav:
      major = SF_FORMAT_WAV;
      break;
    case Container::kAiff:
      major = SF_FORMAT_AIFF;
      break;
    case Container::kFlac:
      major = SF_FORMAT_FLAC;
      break;
    case Container::kOggVorbis:
      major = SF_FORMAT_OGG;
      codec = SF_FORMAT_VORBIS;
      break;
    case Container::kOggOpus:
      major = SF_FORMAT_OGG;
      codec = SF_FORMAT_OPUS;
      break;
  }
  const std::string container =
      absl::StrCat("output.container ", ContainerName(major | codec),
                   requested.container == Container::kUnspecified ? " (unset: the input's)" : "");

  int subtype = 0;
  if (codec != 0) {
    if (requested.encoding) {
      return absl::InvalidArgumentError(absl::StrCat("output.encoding must be unset for ",
                                                     container, ", which is its own encoding"));
    }
    subtype = codec;
  } else if (requested.encoding) {
    subtype = SubtypeOf(*requested.encoding);
    if (!Fits(major | subtype, plan.sample_rate_hz, plan.channels)) {
      std::vector<std::string> held;
      for (int candidate : kOurEncodings) {
        if (Fits(major | candidate, plan.sample_rate_hz, plan.channels)) {
          held.push_back(std::string(EncodingApiName(*EncodingOf(candidate))));
        }
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "output.encoding ", EncodingApiName(*requested.encoding), " cannot be stored in ",
          container, ", which holds ",
          held.empty() ? std::string("none of the API's encodings") : absl::StrJoin(held, ", ")));
    }
  } else {
    const int from = Subtype(input.sf_format);
    const bool deep = from == SF_FORMAT_PCM_24 || from == SF_FORMAT_PCM_32 ||
                      from == SF_FORMAT_FLOAT || from == SF_FORMAT_DOUBLE;
    const int fallback = deep ? SF_FORMAT_PCM_24 : SF_FORMAT_PCM_16;
    for (int candidate : {from, fallback, int{SF_FORMAT_PCM_16}}) {
      if (Fits(major | candidate, plan.sample_rate_hz, plan.channels)) {
        subtype = candidate;
        break;
      }
    }
  }

  if (subtype == SF_FORMAT_OPUS) {
    constexpr uint32_t kOpusRates[] = {8000, 12000, 16000, 24000, 48000};
    if (std::find(std::begin(kOpusRates), std::end(kOpusRates), plan.sample_rate_hz) ==
        std::end(kOpusRates)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output.sample_rate_hz must be 8000, 12000, 16000, 24000 or 48000 for ", container,
          ", got ", plan.sample_rate_hz, requested.sample_rate_hz == 0 ? " (the input's)" : ""));
    }
  }
  if (subtype == 0 || !Fits(major | subtype, plan.sample_rate_hz, plan.channels)) {
    return absl::InvalidArgumentError(absl::StrCat(container, " cannot hold ", plan.sample_rate_hz,
                                                   " Hz audio of ", plan.channels, " channels"));
  }
  plan.sf_format = major | subtype;
  plan.encoding = PcmFor(subtype);
  return plan;
}

absl::StatusOr<OutputPlan> PlanOutput(const OutputRequest& requested, const StreamFormat& source) {
  if (requested.container == Container::kUnspecified) {
    return absl::InvalidArgumentError(
        "output.container must be set: PCM has no container of its own to keep");
  }
  // Headerless raw PCM stands for a file of the source's samples; the requested container
  // replaces it, so only its subtype matters.
  FileInfo input;
  input.sf_format = SF_FORMAT_RAW | SubtypeOf(source.encoding);
  input.sample_rate_hz = source.sample_rate_hz;
  input.channels = source.channels;
  return PlanOutput(requested, input);
}

}  // namespace audioproc
