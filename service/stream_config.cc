#include "service/stream_config.h"

#include "absl/strings/str_cat.h"
#include "service/spec_translation.h"

namespace audioproc {
namespace {

constexpr char kEncodings[] = "PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, ALAW";

}  // namespace

bool IsValidStreamId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::StatusOr<std::vector<ProcessorConfig>> ChainFromSpecs(
    const google::protobuf::RepeatedPtrField<v1::ProcessorSpec>& specs, absl::string_view field,
    const StreamLimits& limits) {
  if (specs.size() > limits.max_chain_length) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " has ", specs.size(),
                     " processors, more than --max_chain_length=", limits.max_chain_length));
  }
  std::vector<ProcessorConfig> chain;
  for (int i = 0; i < specs.size(); ++i) {
    absl::StatusOr<ProcessorConfig> processor = ConfigFromSpec(specs.Get(i));
    if (!processor.ok()) return Prefixed(absl::StrCat(field, "[", i, "] "), processor.status());
    chain.push_back(*std::move(processor));
  }
  return chain;
}

absl::StatusOr<PipelineConfig> ToFilePipelineConfig(const v1::ProcessFileRequest& request,
                                                    const StreamFormat& input,
                                                    const StreamFormat& output,
                                                    const StreamLimits& limits) {
  PipelineConfig pipeline;
  pipeline.input = input;
  pipeline.output = output;
  absl::StatusOr<std::vector<ProcessorConfig>> chain =
      ChainFromSpecs(request.chain(), "chain", limits);
  if (!chain.ok()) return chain.status();
  pipeline.chain = *std::move(chain);
  pipeline.dither = request.dither() == v1::DITHER_TPDF;
  // The dither is keyed by this id: the same file and request give the same output.
  pipeline.stream_id = "file";
  // A file's answer has no per-chunk levels to report.
  pipeline.measure_levels = false;
  return pipeline;
}

absl::StatusOr<PipelineConfig> ToPipelineConfig(const v1::StreamConfig& config,
                                                const StreamLimits& limits,
                                                absl::string_view assigned_stream_id) {
  PipelineConfig pipeline;
  if (!config.has_input()) {
    return absl::InvalidArgumentError(
        "config.input is required: {encoding, sample_rate_hz, channels}");
  }
  std::optional<SampleEncoding> input_encoding = FromProtoEncoding(config.input().encoding());
  if (!input_encoding) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.input.encoding must be one of ", kEncodings));
  }
  pipeline.input = {*input_encoding, config.input().sample_rate_hz(), config.input().channels()};

  // Unset output fields are the input's.
  pipeline.output = pipeline.input;
  if (config.has_output()) {
    const v1::AudioFormat& output = config.output();
    if (output.encoding() != v1::ENCODING_UNSPECIFIED) {
      std::optional<SampleEncoding> encoding = FromProtoEncoding(output.encoding());
      if (!encoding) {
        return absl::InvalidArgumentError(
            absl::StrCat("config.output.encoding must be one of ", kEncodings));
      }
      pipeline.output.encoding = *encoding;
    }
    if (output.sample_rate_hz() != 0) pipeline.output.sample_rate_hz = output.sample_rate_hz();
    if (output.channels() != 0) pipeline.output.channels = output.channels();
  }

  absl::StatusOr<std::vector<ProcessorConfig>> chain =
      ChainFromSpecs(config.chain(), "config.chain", limits);
  if (!chain.ok()) return chain.status();
  pipeline.chain = *std::move(chain);

  if (config.stream_id().empty()) {
    pipeline.stream_id = std::string(assigned_stream_id);
  } else if (IsValidStreamId(config.stream_id())) {
    pipeline.stream_id = config.stream_id();
  } else {
    return absl::InvalidArgumentError(
        "config.stream_id must match [A-Za-z0-9._:-]{1,128} (or be empty to get one assigned)");
  }
  pipeline.dither = config.dither() == v1::DITHER_TPDF;
  pipeline.measure_levels = !config.metrics().omit_levels();
  pipeline.measure_channel_levels = config.metrics().per_channel();
  return pipeline;
}

}  // namespace audioproc
