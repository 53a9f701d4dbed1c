#include "audio_io/impulse_file.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "audio_io/sndfile_memory.h"

namespace audioproc {
namespace {

// Closes the SNDFILE on every path out of DecodeImpulseFile.
struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};

using SndfilePointer = std::unique_ptr<SNDFILE, SndfileCloser>;

// The most frames of a file at `file_rate` that still fit in max_taps once resampled.
size_t MaxFrames(double sample_rate_hz, int file_rate, size_t max_taps) {
  const double ratio = sample_rate_hz / file_rate;
  return static_cast<size_t>(std::floor(static_cast<double>(max_taps) / ratio));
}

absl::Status TooLong(absl::string_view field, double sample_rate_hz, size_t max_taps, size_t frames,
                     int file_rate) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must hold at most ", max_taps, " taps at the stream's ", sample_rate_hz,
                   " Hz; it holds at least ", frames, " frames at ", file_rate, " Hz"));
}

// Opens `memory` and checks what the header says: the one place both the header-only reader
// and the decoder refuse a file from, so they refuse alike.
absl::StatusOr<SndfilePointer> OpenChecked(SndfileMemory& memory, double sample_rate_hz,
                                           size_t max_taps, absl::string_view field,
                                           SF_INFO* info) {
  *info = SF_INFO{};
  SndfilePointer file(memory.Open(SFM_READ, info));
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not an audio file libsndfile can read: ", sf_strerror(nullptr)));
  }
  if (info->channels < 1 || info->samplerate < 1) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has no channels or no sample rate"));
  }
  if (info->frames > 0 &&
      static_cast<size_t>(info->frames) > MaxFrames(sample_rate_hz, info->samplerate, max_taps)) {
    return TooLong(field, sample_rate_hz, max_taps, static_cast<size_t>(info->frames),
                   info->samplerate);
  }
  return file;
}

}  // namespace

absl::StatusOr<ImpulseFileHeader> ReadImpulseFileHeader(absl::string_view bytes,
                                                        double sample_rate_hz, size_t max_taps,
                                                        absl::string_view field) {
  SndfileMemory memory(bytes);
  SF_INFO info;
  absl::StatusOr<SndfilePointer> file = OpenChecked(memory, sample_rate_hz, max_taps, field, &info);
  if (!file.ok()) return file.status();
  return ImpulseFileHeader{info.frames > 0 ? info.frames : 0, info.samplerate, info.channels};
}

size_t ImpulseFileTaps(const ImpulseFileHeader& header, double sample_rate_hz, size_t max_taps) {
  if (header.frames <= 0) return max_taps;
  const auto frames = static_cast<size_t>(header.frames);
  if (header.sample_rate_hz == sample_rate_hz) return std::min(frames, max_taps);
  const double ratio = sample_rate_hz / header.sample_rate_hz;
  return std::max<size_t>(
      1,
      std::min(max_taps, static_cast<size_t>(std::llround(static_cast<double>(frames) * ratio))));
}

absl::StatusOr<std::vector<float>> DecodeImpulseFile(absl::string_view bytes, double sample_rate_hz,
                                                     size_t max_taps, absl::string_view field) {
  SndfileMemory memory(bytes);
  SF_INFO info;
  absl::StatusOr<SndfilePointer> opened =
      OpenChecked(memory, sample_rate_hz, max_taps, field, &info);
  if (!opened.ok()) return opened.status();
  SndfilePointer file = *std::move(opened);
  const double ratio = sample_rate_hz / info.samplerate;
  const size_t max_frames = MaxFrames(sample_rate_hz, info.samplerate, max_taps);
  auto too_long = [&](size_t frames) {
    return TooLong(field, sample_rate_hz, max_taps, frames, info.samplerate);
  };

  // Read in pieces rather than trusting info.frames, which some containers only estimate.
  constexpr sf_count_t kPieceFrames = 4096;
  const auto channels = static_cast<size_t>(info.channels);
  std::vector<float> piece(kPieceFrames * channels);
  std::vector<float> impulse;
  for (;;) {
    const sf_count_t got = sf_readf_float(file.get(), piece.data(), kPieceFrames);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      const float sample = piece[static_cast<size_t>(i) * channels];
      if (!std::isfinite(sample) || std::fabs(sample) > kMaxImpulseTap) {
        return absl::InvalidArgumentError(absl::StrCat(field, " sample ", impulse.size(),
                                                       " must be a number in [-", kMaxImpulseTap,
                                                       ", ", kMaxImpulseTap, "], got ", sample));
      }
      impulse.push_back(sample);
    }
    if (impulse.size() > max_frames) return too_long(impulse.size());
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " could not be decoded: ", sf_strerror(file.get())));
  }
  if (impulse.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " holds no audio frames"));
  }
  if (info.samplerate == sample_rate_hz) return impulse;

  const size_t taps = std::max<size_t>(
      1, std::min(max_taps,
                  static_cast<size_t>(std::llround(static_cast<double>(impulse.size()) * ratio))));
  std::vector<float> resampled(taps, 0.0f);
  const soxr_io_spec_t io_spec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t done = 0;
  const soxr_error_t error =
      soxr_oneshot(info.samplerate, sample_rate_hz, 1, impulse.data(), impulse.size(), nullptr,
                   resampled.data(), resampled.size(), &done, &io_spec, &quality, nullptr);
  if (error != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " could not be resampled to ", sample_rate_hz, " Hz: ", error));
  }
  const auto gain = static_cast<float>(1.0 / ratio);
  for (float& tap : resampled) tap *= gain;
  return resampled;
}

}  // namespace audioproc
