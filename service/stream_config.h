// Validation of a Process stream's first message: StreamConfig -> PipelineConfig.
//
// Checks what the processors cannot know: the wire encodings, the stream id's syntax and the
// server's limits, with INVALID_ARGUMENT messages that name the field ("config.input.encoding
// must be one of ..."). The chain itself is validated when the pipeline is built.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_SERVICE_STREAM_CONFIG_H_
#define AUDIOPROC_SERVICE_STREAM_CONFIG_H_

#include <optional>

#include "absl/status/statusor.h"
#include "audioproc/v1/audioproc.pb.h"
#include "processors/codec.h"
#include "processors/stream_pipeline.h"

namespace audioproc {

struct StreamLimits {
  int max_chain_length = 32;
};

// The pipeline StreamConfig asks for. An empty stream_id becomes `assigned_stream_id`.
absl::StatusOr<PipelineConfig> ToPipelineConfig(const v1::StreamConfig& config,
                                                const StreamLimits& limits,
                                                absl::string_view assigned_stream_id);

// Wire encoding <-> sample encoding. nullopt for ENCODING_UNSPECIFIED and unknown values.
std::optional<SampleEncoding> FromProtoEncoding(v1::Encoding encoding);
v1::Encoding ToProtoEncoding(SampleEncoding encoding);

// [A-Za-z0-9._:-]{1,128}
bool IsValidStreamId(absl::string_view id);

// Prefixes a status message with `prefix` (e.g. "config."), keeping the code.
absl::Status Prefixed(absl::string_view prefix, const absl::Status& status);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_CONFIG_H_
