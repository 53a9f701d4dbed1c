// Impulse responses from encoded audio files held in memory, for convolve's impulse_file.
//
// libsndfile reads the bytes through its virtual I/O interface (no temporary file), so any
// container it knows works: WAV, FLAC, Ogg Vorbis/Opus, AIFF, ... The first channel is the
// impulse. A file at another sample rate than the stream is resampled with libsoxr (high
// quality) and scaled by file_rate / stream_rate, which keeps the filter's frequency response
// (a one-tap identity impulse stays an identity at any rate, not a 1/ratio attenuation).
// The resampler's linear-phase filter rings on both sides of each tap; what would come before
// the first tap is dropped (keeping it would need latency), which changes a full-band click
// by about 2% (48 to 16 kHz); smooth, band-limited impulses lose less.
//
// Thread safety: pure functions, safe from any thread.
#ifndef AUDIOPROC_AUDIO_IO_IMPULSE_FILE_H_
#define AUDIOPROC_AUDIO_IO_IMPULSE_FILE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace audioproc {

// The largest tap magnitude an impulse may have (+60 dB, as gain allows): a bound on what
// convolution can multiply the signal by, so that no finite input overflows.
inline constexpr float kMaxImpulseTap = 1000.0f;

// What an impulse file's header says, read without decoding its samples.
struct ImpulseFileHeader {
  int64_t frames = 0;  // 0 when the container does not say
  int sample_rate_hz = 0;
  int channels = 0;
};

// Reads the header of `bytes` with libsndfile, nothing more (for resource estimates, before
// anything is built). Refuses what DecodeImpulseFile refuses from the header alone, with the
// same INVALID_ARGUMENT: a file libsndfile cannot read (with its reason), one with no
// channels or sample rate, or one whose header says it holds more than `max_taps` taps at
// `sample_rate_hz`. Allocates only libsndfile's reader, freed before it returns.
absl::StatusOr<ImpulseFileHeader> ReadImpulseFileHeader(absl::string_view bytes,
                                                        double sample_rate_hz, size_t max_taps,
                                                        absl::string_view field);

// How many taps DecodeImpulseFile returns for a file with `header` at `sample_rate_hz`: its
// frames, resampled (at most `max_taps`, at least 1); `max_taps` when the header gives no
// length.
size_t ImpulseFileTaps(const ImpulseFileHeader& header, double sample_rate_hz, size_t max_taps);

// Decodes `bytes` and returns the first channel's samples at `sample_rate_hz`. Errors are
// INVALID_ARGUMENT and start with `field` ("convolve.impulse_file"): a file libsndfile cannot
// read (with its reason), one with no frames or non-finite samples, or one that would give more
// than `max_taps` taps at `sample_rate_hz`. Allocates; decodes the whole file, so it belongs in
// Prepare, never on the audio path.
absl::StatusOr<std::vector<float>> DecodeImpulseFile(absl::string_view bytes, double sample_rate_hz,
                                                     size_t max_taps, absl::string_view field);

}  // namespace audioproc

#endif  // AUDIOPROC_AUDIO_IO_IMPULSE_FILE_H_
