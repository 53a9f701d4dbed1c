#include "protos/wire_formats.h"

namespace audioproc {

std::optional<SampleEncoding> FromProtoEncoding(v1::Encoding encoding) {
  switch (encoding) {
    case v1::PCM_S16LE:
      return SampleEncoding::kS16;
    case v1::PCM_S24LE:
      return SampleEncoding::kS24;
    case v1::PCM_S32LE:
      return SampleEncoding::kS32;
    case v1::PCM_F32LE:
      return SampleEncoding::kF32;
    case v1::MULAW:
      return SampleEncoding::kMulaw;
    case v1::ALAW:
      return SampleEncoding::kAlaw;
    default:
      return std::nullopt;
  }
}

v1::Encoding ToProtoEncoding(SampleEncoding encoding) {
  switch (encoding) {
    case SampleEncoding::kS16:
      return v1::PCM_S16LE;
    case SampleEncoding::kS24:
      return v1::PCM_S24LE;
    case SampleEncoding::kS32:
      return v1::PCM_S32LE;
    case SampleEncoding::kF32:
      return v1::PCM_F32LE;
    case SampleEncoding::kMulaw:
      return v1::MULAW;
    case SampleEncoding::kAlaw:
      return v1::ALAW;
  }
  return v1::ENCODING_UNSPECIFIED;
}

uint32_t BytesPerSample(v1::Encoding encoding) {
  const std::optional<SampleEncoding> sample = FromProtoEncoding(encoding);
  return sample ? BytesPerSample(*sample) : 0;
}

uint32_t BytesPerFrame(const v1::AudioFormat& format) {
  return BytesPerSample(format.encoding()) * format.channels();
}

v1::Container ToProtoContainer(Container container) {
  switch (container) {
    case Container::kWav:
      return v1::WAV;
    case Container::kFlac:
      return v1::FLAC;
    case Container::kOggVorbis:
      return v1::OGG_VORBIS;
    case Container::kOggOpus:
      return v1::OGG_OPUS;
    case Container::kAiff:
      return v1::AIFF;
    case Container::kUnspecified:
      break;
  }
  return v1::CONTAINER_UNSPECIFIED;
}

v1::FileFormat DescribeFile(const FileInfo& info) {
  v1::FileFormat format;
  format.set_container(ToProtoContainer(info.container()));
  const std::optional<SampleEncoding> encoding = info.encoding();
  format.set_encoding(encoding ? ToProtoEncoding(*encoding) : v1::ENCODING_UNSPECIFIED);
  format.set_sample_rate_hz(info.sample_rate_hz);
  format.set_channels(info.channels);
  return format;
}

absl::StatusOr<OutputRequest> OutputRequestFromProto(const v1::FileFormat& format) {
  OutputRequest request;
  switch (format.container()) {
    case v1::CONTAINER_UNSPECIFIED:
      break;
    case v1::WAV:
      request.container = Container::kWav;
      break;
    case v1::FLAC:
      request.container = Container::kFlac;
      break;
    case v1::OGG_VORBIS:
      request.container = Container::kOggVorbis;
      break;
    case v1::OGG_OPUS:
      request.container = Container::kOggOpus;
      break;
    case v1::AIFF:
      request.container = Container::kAiff;
      break;
    default:
      return absl::InvalidArgumentError(
          "output.container must be one of WAV, FLAC, OGG_VORBIS, OGG_OPUS, AIFF (or unset: "
          "the input's)");
  }
  if (format.encoding() != v1::ENCODING_UNSPECIFIED) {
    request.encoding = FromProtoEncoding(format.encoding());
    if (!request.encoding) {
      return absl::InvalidArgumentError(
          "output.encoding must be one of PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, "
          "ALAW (or unset: the input's)");
    }
  }
  request.sample_rate_hz = format.sample_rate_hz();
  request.channels = format.channels();
  return request;
}

}  // namespace audioproc
