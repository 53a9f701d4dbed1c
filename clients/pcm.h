// Encoding names for the client tools: encodings as people type them on a command line, and
// formats as people read them. Sizes (BytesPerSample, BytesPerFrame) and every conversion
// come from the audio I/O library through protos/wire_formats.h, as the server's do.
//
//   ASSIGN_OR_RETURN(v1::Encoding encoding, ParseEncoding("s16"));   // PCM_S16LE
//   uint32_t frame_bytes = BytesPerFrame(format);                    // 0: format incomplete
//
// Thread safety: stateless functions, safe to call from any thread.
#ifndef AUDIOPROC_CLIENTS_PCM_H_
#define AUDIOPROC_CLIENTS_PCM_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audioproc/v1/audioproc.pb.h"
#include "protos/wire_formats.h"

namespace audioproc::client {

// Parses an encoding name, case-insensitively: the proto name ("PCM_S16LE") or the short one
// ("s16", "s24", "s32", "f32", the same with "le", "mulaw" or "ulaw", "alaw").
// INVALID_ARGUMENT lists the names.
absl::StatusOr<v1::Encoding> ParseEncoding(absl::string_view name);

// Parses the format of headerless PCM, "ENCODING:RATE:CHANNELS" ("s16le:16000:1"), as the
// command lines of every language take it for `--input -`. Ranges are the server's to check.
absl::StatusOr<v1::AudioFormat> ParseRawFormat(absl::string_view text);

// "16000 Hz, 1 ch, PCM_S16LE", for people to read.
std::string FormatToString(const v1::AudioFormat& format);

}  // namespace audioproc::client

#endif  // AUDIOPROC_CLIENTS_PCM_H_
