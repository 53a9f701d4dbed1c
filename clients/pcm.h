// PCM helpers for the client tools: the sizes of the wire encodings of audioproc.v1, encoding
// names as people type them on a command line, and ITU-T G.711 mu-law / A-law through 16-bit
// linear (the same mapping the server uses), so that files can be sent or saved as G.711.
//
//   ASSIGN_OR_RETURN(v1::Encoding encoding, ParseEncoding("s16"));   // PCM_S16LE
//   uint32_t frame_bytes = BytesPerFrame(format);                    // 0: format incomplete
//
// Thread safety: stateless functions, safe to call from any thread.
#ifndef AUDIOPROC_CLIENTS_PCM_H_
#define AUDIOPROC_CLIENTS_PCM_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audioproc/v1/audioproc.pb.h"

namespace audioproc::client {

// Bytes one sample takes on the wire: 2, 3, 4, 4, 1, 1; 0 for ENCODING_UNSPECIFIED and any
// value this build does not know.
uint32_t BytesPerSample(v1::Encoding encoding);

// Bytes of one interleaved frame, or 0 when the format lacks an encoding or channels.
uint32_t BytesPerFrame(const v1::AudioFormat& format);

// Parses an encoding name, case-insensitively: the proto name ("PCM_S16LE") or the short one
// ("s16", "s24", "s32", "f32", "mulaw" or "ulaw", "alaw"). INVALID_ARGUMENT lists the names.
absl::StatusOr<v1::Encoding> ParseEncoding(absl::string_view name);

// "16000 Hz, 1 ch, PCM_S16LE", for people to read.
std::string FormatToString(const v1::AudioFormat& format);

// G.711 (Sun's reference algorithm on 16-bit linear). Decoding then encoding gives back every
// code except mu-law's negative zero 0x7F, which encodes as 0xFF.
uint8_t LinearToMulaw(int16_t sample);
int16_t MulawToLinear(uint8_t code);
uint8_t LinearToAlaw(int16_t sample);
int16_t AlawToLinear(uint8_t code);

}  // namespace audioproc::client

#endif  // AUDIOPROC_CLIENTS_PCM_H_
