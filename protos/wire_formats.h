// The wire's formats (audioproc.v1's Encoding, Container, FileFormat) to and from the plain
// ones of the audio I/O library (audio_io/), for the server and the clients alike: the one
// place where an API name meets a sample encoding or a libsndfile format.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_PROTOS_WIRE_FORMATS_H_
#define AUDIOPROC_PROTOS_WIRE_FORMATS_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "audio_io/codec.h"
#include "audio_io/file_format.h"
#include "audioproc/v1/audioproc.pb.h"

namespace audioproc {

// Wire encoding <-> sample encoding. nullopt for ENCODING_UNSPECIFIED and unknown values.
std::optional<SampleEncoding> FromProtoEncoding(v1::Encoding encoding);
v1::Encoding ToProtoEncoding(SampleEncoding encoding);

// Bytes one sample of a wire encoding takes (audio_io's BytesPerSample); 0 for
// ENCODING_UNSPECIFIED and values this build does not know.
uint32_t BytesPerSample(v1::Encoding encoding);
// Bytes of one interleaved frame; 0 when the format lacks an encoding or channels.
uint32_t BytesPerFrame(const v1::AudioFormat& format);

v1::Container ToProtoContainer(Container container);

// What a file's header says, as the API names it (UNSPECIFIED where it has no name).
v1::FileFormat DescribeFile(const FileInfo& info);

// A requested output format. INVALID_ARGUMENT naming output.container or output.encoding for
// a value this build does not know.
absl::StatusOr<OutputRequest> OutputRequestFromProto(const v1::FileFormat& format);

}  // namespace audioproc

#endif  // AUDIOPROC_PROTOS_WIRE_FORMATS_H_
