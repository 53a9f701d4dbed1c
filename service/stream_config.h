// Validation of a Process stream's first message: StreamConfig -> PipelineConfig (and the
// same for a ProcessFile request).
//
// Checks what the processors cannot know: the wire encodings, the stream id's syntax and the
// server's limits, with INVALID_ARGUMENT messages that name the field ("config.input.encoding
// must be one of ..."). The chain itself is validated when the pipeline is built.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_SERVICE_STREAM_CONFIG_H_
#define AUDIOPROC_SERVICE_STREAM_CONFIG_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "audio_io/codec.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/stream_pipeline.h"
#include "protos/wire_formats.h"

namespace audioproc {

struct StreamLimits {
  int max_chain_length = 32;
};

// The pipeline StreamConfig asks for. An empty stream_id becomes `assigned_stream_id`.
absl::StatusOr<PipelineConfig> ToPipelineConfig(const v1::StreamConfig& config,
                                                const StreamLimits& limits,
                                                absl::string_view assigned_stream_id);

// The pipeline a ProcessFile request asks for, once the file's decoded format (`input`) and
// the PCM its writer takes (`output`) are known. Chain errors name "chain[i] ...", the
// request's own field.
absl::StatusOr<PipelineConfig> ToFilePipelineConfig(const v1::ProcessFileRequest& request,
                                                    const StreamFormat& input,
                                                    const StreamFormat& output,
                                                    const StreamLimits& limits);

// The chain `specs` asks for, at most limits.max_chain_length long; INVALID_ARGUMENT names
// `field` ("config.chain") and the position.
absl::StatusOr<std::vector<ProcessorConfig>> ChainFromSpecs(
    const google::protobuf::RepeatedPtrField<v1::ProcessorSpec>& specs, absl::string_view field,
    const StreamLimits& limits);

// [A-Za-z0-9._:-]{1,128}
bool IsValidStreamId(absl::string_view id);

// Prefixes a status message with `prefix` (e.g. "config."), keeping the code.
absl::Status Prefixed(absl::string_view prefix, const absl::Status& status);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_CONFIG_H_
