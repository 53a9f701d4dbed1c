// PipelineFromConfig: a StreamConfig's pipeline, validated and built as the server builds a
// stream's (ToPipelineConfig, then StreamPipeline::Create with the default registry), or the
// status that refused it. Shared by the fuzz targets and the seed generator.
// Thread safety: a stateless function.
#ifndef AUDIOPROC_FUZZ_PIPELINE_FROM_CONFIG_H_
#define AUDIOPROC_FUZZ_PIPELINE_FROM_CONFIG_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "service/stream_config.h"

namespace audioproc::fuzz {

inline absl::StatusOr<std::unique_ptr<StreamPipeline>> PipelineFromConfig(
    const v1::StreamConfig& config, absl::string_view stream_id = "fuzz-stream") {
  absl::StatusOr<PipelineConfig> pipeline_config =
      ToPipelineConfig(config, StreamLimits{}, stream_id);
  if (!pipeline_config.ok()) return pipeline_config.status();
  return StreamPipeline::Create(ProcessorRegistry::Default(), *pipeline_config);
}

}  // namespace audioproc::fuzz

#endif  // AUDIOPROC_FUZZ_PIPELINE_FROM_CONFIG_H_
