#include "service/file_format.h"

#include <sndfile.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "processors/stream_pipeline.h"
#include "service/stream_config.h"

namespace audioproc {
namespace {

constexpr int kOurEncodings[] = {SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_PCM_32,
                                 SF_FORMAT_FLOAT,  SF_FORMAT_ULAW,   SF_FORMAT_ALAW};

int Major(int sf_format) { return sf_format & SF_FORMAT_TYPEMASK; }
int Subtype(int sf_format) { return sf_format & SF_FORMAT_SUBMASK; }

v1::Container ContainerOf(int sf_format) {
  switch (Major(sf_format)) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
    case SF_FORMAT_RF64:
      return v1::WAV;
    case SF_FORMAT_AIFF:
      return v1::AIFF;
    case SF_FORMAT_FLAC:
      return v1::FLAC;
    case SF_FORMAT_OGG:
      if (Subtype(sf_format) == SF_FORMAT_VORBIS) return v1::OGG_VORBIS;
      if (Subtype(sf_format) == SF_FORMAT_OPUS) return v1::OGG_OPUS;
      return v1::CONTAINER_UNSPECIFIED;
    default:
      return v1::CONTAINER_UNSPECIFIED;
  }
}

v1::Encoding EncodingOf(int subtype) {
  switch (subtype) {
    case SF_FORMAT_PCM_16:
      return v1::PCM_S16LE;
    case SF_FORMAT_PCM_24:
      return v1::PCM_S24LE;
    case SF_FORMAT_PCM_32:
      return v1::PCM_S32LE;
    case SF_FORMAT_FLOAT:
      return v1::PCM_F32LE;
    case SF_FORMAT_ULAW:
      return v1::MULAW;
    case SF_FORMAT_ALAW:
      return v1::ALAW;
    default:
      return v1::ENCODING_UNSPECIFIED;
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

std::string ContainerName(int sf_format) {
  if (const v1::Container container = ContainerOf(sf_format);
      container != v1::CONTAINER_UNSPECIFIED) {
    return v1::Container_Name(container);
  }
  SF_FORMAT_INFO info{};
  info.format = Major(sf_format);
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) != 0 || info.name == nullptr) {
    return absl::StrCat("format 0x", absl::Hex(Major(sf_format)));
  }
  return info.name;
}

v1::FileFormat FileInfo::Describe() const {
  v1::FileFormat format;
  format.set_container(ContainerOf(sf_format));
  format.set_encoding(EncodingOf(Subtype(sf_format)));
  format.set_sample_rate_hz(sample_rate_hz);
  format.set_channels(channels);
  return format;
}

absl::StatusOr<OutputPlan> PlanOutput(const v1::FileFormat& requested, const FileInfo& input) {
  OutputPlan plan;
  plan.sample_rate_hz =
      requested.sample_rate_hz() != 0 ? requested.sample_rate_hz() : input.sample_rate_hz;
  plan.channels = requested.channels() != 0 ? requested.channels() : input.channels;
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
  switch (requested.container()) {
    case v1::CONTAINER_UNSPECIFIED:
      major = Major(input.sf_format);
      if (major == SF_FORMAT_OGG) codec = Subtype(input.sf_format);
      break;
    case v1::WAV:
      major = SF_FORMAT_WAV;
      break;
    case v1::AIFF:
      major = SF_FORMAT_AIFF;
      break;
    case v1::FLAC:
      major = SF_FORMAT_FLAC;
      break;
    case v1::OGG_VORBIS:
      major = SF_FORMAT_OGG;
      codec = SF_FORMAT_VORBIS;
      break;
    case v1::OGG_OPUS:
      major = SF_FORMAT_OGG;
      codec = SF_FORMAT_OPUS;
      break;
    default:
      return absl::InvalidArgumentError(
          "output.container must be one of WAV, FLAC, OGG_VORBIS, OGG_OPUS, AIFF (or unset: "
          "the input's)");
  }
  const std::string container = absl::StrCat(
      "output.container ", ContainerName(major | codec),
      requested.container() == v1::CONTAINER_UNSPECIFIED ? " (unset: the input's)" : "");

  int subtype = 0;
  if (codec != 0) {
    if (requested.encoding() != v1::ENCODING_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("output.encoding must be unset for ",
                                                     container, ", which is its own encoding"));
    }
    subtype = codec;
  } else if (requested.encoding() != v1::ENCODING_UNSPECIFIED) {
    const std::optional<SampleEncoding> encoding = FromProtoEncoding(requested.encoding());
    if (!encoding) {
      return absl::InvalidArgumentError(
          "output.encoding must be one of PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, "
          "ALAW (or unset: the input's)");
    }
    subtype = SubtypeOf(*encoding);
    if (!Fits(major | subtype, plan.sample_rate_hz, plan.channels)) {
      std::vector<std::string> held;
      for (int candidate : kOurEncodings) {
        if (Fits(major | candidate, plan.sample_rate_hz, plan.channels)) {
          held.push_back(v1::Encoding_Name(EncodingOf(candidate)));
        }
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "output.encoding ", v1::Encoding_Name(requested.encoding()), " cannot be stored in ",
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
          ", got ", plan.sample_rate_hz, requested.sample_rate_hz() == 0 ? " (the input's)" : ""));
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

}  // namespace audioproc
