// Audio files for the client tools: decoding any container libsndfile reads into the
// interleaved little-endian PCM bytes that AudioProcessor.Process streams, and writing such
// bytes (in a StreamReady's output format) back out as a WAV, FLAC, Ogg or AIFF file. The
// files, formats and sample conversions are the server's own (audio_io/): a file the client
// writes is the file ProcessFile would write from the same samples.
//
//   ASSIGN_OR_RETURN(PcmAudio input, ReadAudioFile("speech.flac"));
//   ... stream input.data, described by input.format ...
//   RETURN_IF_ERROR(WriteAudioFile("out.wav", PcmAudio{result.output, ready.output()}));
//
// Everything is decoded into memory: these are tools for files of minutes, not hours.
// Thread safety: stateless functions, safe to call from any thread.
#ifndef AUDIOPROC_CLIENTS_AUDIO_FILE_H_
#define AUDIOPROC_CLIENTS_AUDIO_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audio_io/file_format.h"
#include "audioproc/v1/audioproc.pb.h"

namespace audioproc::client {

// Interleaved audio as it travels on the wire.
struct PcmAudio {
  // Samples in `format.encoding`, little-endian, channels interleaved, whole frames.
  std::string data;
  v1::AudioFormat format;

  // Whole frames in `data`; 0 when the format is incomplete.
  uint64_t frames() const;
};

// Decodes the file at `path` (read whole into memory). `encoding` picks the sample encoding
// of the result; ENCODING_UNSPECIFIED takes PCM_S16LE for 16-bit PCM sources, so they pass
// through bit-exact, and PCM_F32LE for everything else, so nothing is lost. Asking for
// another encoding converts as the server's codecs do (full scale is 2^(bits-1); rounded to
// nearest and clipped on the way to integers; G.711 through 16-bit linear): exact wherever
// the asked-for encoding holds the file's samples.
// NOT_FOUND if the file cannot be opened; INVALID_ARGUMENT with libsndfile's reason if it is
// not audio libsndfile can read.
absl::StatusOr<PcmAudio> ReadAudioFile(const std::string& path,
                                       v1::Encoding encoding = v1::ENCODING_UNSPECIFIED);

// The same for an encoded file already in memory, through libsndfile's virtual I/O (no copy,
// no temporary file). `file_bytes` only needs to outlive the call.
absl::StatusOr<PcmAudio> DecodeAudio(absl::string_view file_bytes,
                                     v1::Encoding encoding = v1::ENCODING_UNSPECIFIED);

// The container WriteAudioFile writes is the one the file name asks for: audio_io's
// ContainerForPath (.wav, .aif or .aiff, .flac, .ogg or .oga for Vorbis, .opus).
using ::audioproc::Container;
using ::audioproc::ContainerForPath;

// Writes `audio` to `path` (replacing it) in the container its extension names. WAV and AIFF
// store every encoding as it is, so written s16/s24/s32/f32/G.711 reads back bit-exact. FLAC
// stores s16 as s16, G.711 as s16 and the rest as s24; Ogg Vorbis and Opus are lossy (Opus:
// 8, 12, 16, 24 or 48 kHz only). Float samples beyond full scale are clipped in integer
// containers. The service's limits hold: 8 to 192 kHz, 1 to 8 channels. INVALID_ARGUMENT for
// an incomplete format, a partial frame, a format the container cannot hold, or a path that
// cannot be created.
absl::Status WriteAudioFile(const std::string& path, const PcmAudio& audio);

}  // namespace audioproc::client

#endif  // AUDIOPROC_CLIENTS_AUDIO_FILE_H_
