// Audio file formats, in libsndfile's terms and the API's: what a file's header says
// (container, encoding, rate, channels), and the output format a request resolves to (unset
// fields are the input's), with the checks that refuse what the container cannot hold. The
// one mapping between libsndfile's formats and the API's, for the server and the clients
// alike (protos/wire_formats.h carries it to and from the wire's messages).
//
//   ASSIGN_OR_RETURN(OutputPlan plan, PlanOutput(request, decoder->info()));
//
// Errors are INVALID_ARGUMENT naming the field (output.container, output.encoding,
// output.sample_rate_hz, output.channels) and what the container holds.
// Thread safety: plain data and stateless functions.
#ifndef AUDIOPROC_AUDIO_IO_FILE_FORMAT_H_
#define AUDIOPROC_AUDIO_IO_FILE_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audio_io/codec.h"

namespace audioproc {

// The containers the API names (audioproc.v1.Container).
enum class Container { kUnspecified, kWav, kFlac, kOggVorbis, kOggOpus, kAiff };

// The API's name: "WAV", "FLAC", "OGG_VORBIS", "OGG_OPUS", "AIFF", "CONTAINER_UNSPECIFIED".
absl::string_view ContainerApiName(Container container);

// The container a file name asks for, by its extension (case-insensitive): .wav, .aif or
// .aiff, .flac, .ogg or .oga (Vorbis), .opus. INVALID_ARGUMENT for anything else.
absl::StatusOr<Container> ContainerForPath(absl::string_view path);

// What libsndfile found in a file's header.
struct FileInfo {
  int sf_format = 0;  // libsndfile's SF_FORMAT_* major type | subtype
  uint32_t sample_rate_hz = 0;
  uint32_t channels = 0;
  // Frames as the header says; nullopt when it does not say (a FLAC stream with no total).
  std::optional<uint64_t> frames;

  // As the API names them: kUnspecified and nullopt where the API has no name for them (an
  // AU file; Vorbis, Opus or ADPCM samples).
  Container container() const;
  std::optional<SampleEncoding> encoding() const;
};

// An output format as a request asks for it: unset (kUnspecified, nullopt, 0) is the input's.
struct OutputRequest {
  Container container = Container::kUnspecified;
  std::optional<SampleEncoding> encoding;
  uint32_t sample_rate_hz = 0;
  uint32_t channels = 0;
};

// How the output file will be written.
struct OutputPlan {
  int sf_format = 0;  // major type | subtype
  // The PCM FileEncoder::Write takes: what the subtype stores (s16 for 16-bit and G.711,
  // s24, s32), or f32 for float files and lossy codecs.
  SampleEncoding encoding = SampleEncoding::kF32;
  uint32_t sample_rate_hz = 0;
  uint32_t channels = 0;
};

// Resolves the requested output against the input file. Unset fields are the input's: the
// container (an input of a container the API does not name, say AU, is written as it came);
// the encoding where the container can hold it, else PCM_S24LE (for 24-bit, 32-bit and float
// sources, where the container holds it) or PCM_S16LE; the rate and channels. OGG_VORBIS and
// OGG_OPUS are their own encoding (output.encoding must be unset); Opus takes only 8, 12,
// 16, 24 and 48 kHz. A rate or channel count other than the input's is reached by the
// pipeline (resample, mix), not here.
absl::StatusOr<OutputPlan> PlanOutput(const OutputRequest& requested, const FileInfo& input);

// The same for PCM that no file stands behind (a client saving a stream's output): `source`
// takes the input file's place, its encoding standing for the samples the file stored, so an
// unset encoding keeps it where the container holds it (WAV and AIFF hold them all; FLAC
// stores s16 and G.711 as s16, the rest as s24). `requested.container` must be set:
// INVALID_ARGUMENT naming output.container otherwise.
absl::StatusOr<OutputPlan> PlanOutput(const OutputRequest& requested, const StreamFormat& source);

// Bytes one sample takes in a file of `sf_format` at most: its stored width for PCM, float
// and G.711, 4 for anything else (FLAC, Vorbis and Opus store less than 32-bit PCM would).
uint32_t StoredBytesPerSample(int sf_format);

// The most bytes a file of `sf_format` holding `samples` samples takes: the samples at their
// stored width, plus the headers and what FLAC adds when it stores a frame verbatim with a
// header of its own (1/16 more and 64 KiB bound both).
uint64_t MaxFileBytes(int sf_format, uint64_t samples);

// "FLAC", "OGG_VORBIS", ..., or libsndfile's name for a container the API does not name
// ("AU (Sun/NeXT)").
std::string ContainerName(int sf_format);

}  // namespace audioproc

#endif  // AUDIOPROC_AUDIO_IO_FILE_FORMAT_H_
