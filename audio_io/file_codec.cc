#include "audio_io/file_codec.h"

#include <sndfile.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace audioproc {

namespace {

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  return uint32_t{static_cast<uint8_t>(bytes[at])} << 24 |
         uint32_t{static_cast<uint8_t>(bytes[at + 1])} << 16 |
         uint32_t{static_cast<uint8_t>(bytes[at + 2])} << 8 | static_cast<uint8_t>(bytes[at + 3]);
}

void PutBigEndian32(uint32_t value, size_t at, std::string* bytes) {
  for (int i = 0; i < 4; ++i) (*bytes)[at + i] = static_cast<char>(value >> (24 - 8 * i));
}

int Subtype(int sf_format) { return sf_format & SF_FORMAT_SUBMASK; }

SampleEncoding DecodedEncoding(int sf_format, FileDecoder::Output output) {
  switch (Subtype(sf_format)) {
    case SF_FORMAT_PCM_16:
      return SampleEncoding::kS16;
    case SF_FORMAT_PCM_32:
      return output == FileDecoder::Output::kExact ? SampleEncoding::kS32 : SampleEncoding::kF32;
    default:
      return SampleEncoding::kF32;
  }
}

}  // namespace

void UncountAiffPadByte(uint64_t samples, std::string* aiff) {
  if (samples % 2 == 0 || aiff->size() < 12) return;
  size_t comm = 0, ssnd = 0;
  // FORM header, then chunks: a 4-byte id, a big-endian size, the data, a pad to even.
  for (size_t at = 12; at + 8 <= aiff->size();) {
    const uint32_t size = BigEndian32(*aiff, at + 4);
    if (aiff->compare(at, 4, "COMM") == 0) comm = at;
    if (aiff->compare(at, 4, "SSND") == 0) ssnd = at;
    at += 8 + size + (size & 1);
  }
  // Only libsndfile's padded form: SSND's offset and block size (8 bytes), the samples, and
  // the pad byte counted in; COMM's frame count after its 2-byte channel count.
  if (comm == 0 || ssnd == 0 || comm + 14 > aiff->size() ||
      BigEndian32(*aiff, ssnd + 4) != 8 + samples + 1) {
    return;
  }
  const uint32_t channels = uint32_t{static_cast<uint8_t>((*aiff)[comm + 8])} << 8 |
                            static_cast<uint8_t>((*aiff)[comm + 9]);
  if (channels == 0) return;
  PutBigEndian32(static_cast<uint32_t>(samples / channels), comm + 10, aiff);
  PutBigEndian32(static_cast<uint32_t>(8 + samples), ssnd + 4, aiff);
}

// PCM views are handed to libsndfile as native samples, and the service's encodings are
// little-endian.
static_assert(std::endian::native == std::endian::little, "audioproc assumes a little-endian host");

FileDecoder::FileDecoder(std::unique_ptr<SndfileMemory> reader, sf_private_tag* file,
                         const FileInfo& info, Output output)
    : reader_(std::move(reader)),
      file_(file),
      info_(info),
      encoding_(DecodedEncoding(info.sf_format, output)) {}

FileDecoder::~FileDecoder() { sf_close(file_); }

absl::StatusOr<std::unique_ptr<FileDecoder>> FileDecoder::Open(absl::string_view bytes,
                                                               Output output) {
  auto reader = std::make_unique<SndfileMemory>(bytes);
  SF_INFO sf_info{};
  SNDFILE* file = reader->Open(SFM_READ, &sf_info);
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an audio file libsndfile reads: ", sf_strerror(nullptr)));
  }
  FileInfo info;
  info.sf_format = sf_info.format;
  info.sample_rate_hz = static_cast<uint32_t>(std::max(sf_info.samplerate, 0));
  info.channels = static_cast<uint32_t>(std::max(sf_info.channels, 0));
  // libsndfile says SF_COUNT_MAX when the header does not give the length.
  if (sf_info.frames > 0 && sf_info.frames != SF_COUNT_MAX) {
    info.frames = static_cast<uint64_t>(sf_info.frames);
  }
  return std::unique_ptr<FileDecoder>(new FileDecoder(std::move(reader), file, info, output));
}

absl::StatusOr<absl::string_view> FileDecoder::Read(uint32_t max_frames) {
  const size_t samples = size_t{max_frames} * info_.channels;
  sf_count_t frames;
  const char* data;
  size_t sample_bytes;
  if (encoding_ == SampleEncoding::kS16) {
    shorts_.resize(samples);
    frames = sf_readf_short(file_, shorts_.data(), max_frames);
    data = reinterpret_cast<const char*>(shorts_.data());
    sample_bytes = sizeof(int16_t);
  } else if (encoding_ == SampleEncoding::kS32) {
    ints_.resize(samples);
    frames = sf_readf_int(file_, ints_.data(), max_frames);
    data = reinterpret_cast<const char*>(ints_.data());
    sample_bytes = sizeof(int32_t);
  } else {
    floats_.resize(samples);
    frames = sf_readf_float(file_, floats_.data(), max_frames);
    data = reinterpret_cast<const char*>(floats_.data());
    sample_bytes = sizeof(float);
  }
  if (sf_error(file_) != SF_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(
        absl::StrCat("file could not be decoded: ", sf_strerror(file_)));
  }
  return absl::string_view(
      data, static_cast<size_t>(std::max<sf_count_t>(frames, 0)) * info_.channels * sample_bytes);
}

FileEncoder::FileEncoder(std::unique_ptr<SndfileMemory> writer, sf_private_tag* file,
                         const OutputPlan& plan)
    : writer_(std::move(writer)), file_(file), plan_(plan) {}

FileEncoder::~FileEncoder() {
  if (file_ != nullptr) sf_close(file_);
}

absl::StatusOr<std::unique_ptr<FileEncoder>> FileEncoder::Open(const OutputPlan& plan,
                                                               size_t max_bytes) {
  auto writer = std::make_unique<SndfileMemory>(SndfileMemory::ForWriting(max_bytes));
  writer->ReserveAll();
  SF_INFO info{};
  info.format = plan.sf_format;
  info.samplerate = static_cast<int>(plan.sample_rate_hz);
  info.channels = static_cast<int>(plan.channels);
  SNDFILE* file = writer->Open(SFM_WRITE, &info);
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output: ", ContainerName(plan.sf_format), " at ", plan.sample_rate_hz, " Hz, ",
        plan.channels, " channels cannot be written: ", sf_strerror(nullptr)));
  }
  // Floats reaching an integer codec (ADPCM, say) must saturate rather than wrap.
  const int subtype = Subtype(plan.sf_format);
  if (plan.encoding == SampleEncoding::kF32 && subtype != SF_FORMAT_FLOAT &&
      subtype != SF_FORMAT_DOUBLE) {
    sf_command(file, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  }
  return std::unique_ptr<FileEncoder>(new FileEncoder(std::move(writer), file, plan));
}

absl::Status FileEncoder::WriteError(absl::string_view what) const {
  if (writer_->overflowed()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the processed file is larger than a response may carry (", writer_->max_bytes(),
        " bytes); ask for a more compact output (output.container FLAC or OGG_*)"));
  }
  return absl::InternalError(
      absl::StrCat(what, " the output failed: ", file_ != nullptr ? sf_strerror(file_) : "closed"));
}

absl::Status FileEncoder::Write(absl::string_view pcm) {
  const uint32_t frame_bytes = plan_.channels * BytesPerSample(plan_.encoding);
  const size_t frames = pcm.size() / frame_bytes;
  const size_t samples = frames * plan_.channels;
  // Nothing to store (a block the chain answered with no frames): the buffers may still be
  // empty, and memcpy from or to their null data is undefined even for 0 bytes.
  if (frames == 0) return absl::OkStatus();
  sf_count_t written = 0;
  switch (plan_.encoding) {
    case SampleEncoding::kS16:
      shorts_.resize(samples);
      std::memcpy(shorts_.data(), pcm.data(), samples * sizeof(int16_t));
      written = sf_writef_short(file_, shorts_.data(), static_cast<sf_count_t>(frames));
      break;
    case SampleEncoding::kS24:
      // libsndfile's ints are full-scale 32-bit: the 24 bits go on top, and it stores them
      // back as they were.
      ints_.resize(samples);
      for (size_t i = 0; i < samples; ++i) {
        const auto* p = reinterpret_cast<const uint8_t*>(pcm.data()) + 3 * i;
        ints_[i] =
            static_cast<int32_t>(uint32_t{p[0]} << 8 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 24);
      }
      written = sf_writef_int(file_, ints_.data(), static_cast<sf_count_t>(frames));
      break;
    case SampleEncoding::kS32:
      ints_.resize(samples);
      std::memcpy(ints_.data(), pcm.data(), samples * sizeof(int32_t));
      written = sf_writef_int(file_, ints_.data(), static_cast<sf_count_t>(frames));
      break;
    case SampleEncoding::kF32:
      floats_.resize(samples);
      std::memcpy(floats_.data(), pcm.data(), samples * sizeof(float));
      written = sf_writef_float(file_, floats_.data(), static_cast<sf_count_t>(frames));
      break;
    case SampleEncoding::kMulaw:
    case SampleEncoding::kAlaw:
      return absl::InternalError("G.711 is written from s16");  // PcmFor never plans it
  }
  if (written != static_cast<sf_count_t>(frames)) return WriteError("writing");
  frames_written_ += frames;
  return absl::OkStatus();
}

absl::StatusOr<std::string> FileEncoder::Finish() {
  // Closing writes what is left: headers with the final sizes, the last Ogg pages, the FLAC
  // stream info.
  const int error = sf_close(std::exchange(file_, nullptr));
  if (writer_->overflowed() || error != 0) {
    if (!writer_->overflowed()) {
      return absl::InternalError(
          absl::StrCat("finishing the output failed: ", sf_error_number(error)));
    }
    return WriteError("finishing");
  }
  std::string bytes = writer_->TakeWritten();
  if ((plan_.sf_format & SF_FORMAT_TYPEMASK) == SF_FORMAT_AIFF) {
    UncountAiffPadByte(frames_written_ * plan_.channels, &bytes);
  }
  return bytes;
}

}  // namespace audioproc
