#include "processors/impulse_file.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "processors/sndfile_memory.h"

namespace audioproc {
namespace {

// Closes the SNDFILE on every path out of DecodeImpulseFile.
struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};

}  // namespace

absl::StatusOr<std::vector<float>> DecodeImpulseFile(absl::string_view bytes, double sample_rate_hz,
                                                     size_t max_taps, absl::string_view field) {
  SndfileMemory memory(bytes);
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> file(memory.Open(SFM_READ, &info));
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not an audio file libsndfile can read: ", sf_strerror(nullptr)));
  }
  if (info.channels < 1 || info.samplerate < 1) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has no channels or no sample rate"));
  }
  const double ratio = sample_rate_hz / info.samplerate;
  // The most frames of the file that still fit in max_taps once resampled.
  const auto max_frames = static_cast<size_t>(std::floor(static_cast<double>(max_taps) / ratio));
  auto too_long = [&](size_t frames) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must hold at most ", max_taps, " taps at the stream's ", sample_rate_hz,
        " Hz; it holds at least ", frames, " frames at ", info.samplerate, " Hz"));
  };
  if (info.frames > 0 && static_cast<size_t>(info.frames) > max_frames) {
    return too_long(static_cast<size_t>(info.frames));
  }

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
