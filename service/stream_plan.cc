#include "service/stream_plan.h"

#include <utility>

#include "chain/stream_pipeline.h"
#include "protos/wire_formats.h"
#include "service/spec_translation.h"
#include "service/stream_config.h"

namespace audioproc {

absl::StatusOr<StreamPlan> PlanStream(const ProcessorRegistry& registry,
                                      const SessionLimits& limits, const v1::StreamConfig& config,
                                      absl::string_view stream_id) {
  absl::StatusOr<PipelineConfig> pipeline =
      ToPipelineConfig(config, StreamLimits{limits.max_chain_length}, stream_id);
  if (!pipeline.ok()) return pipeline.status();
  // Unset output channels are the chain's: a chain that drops channels which are not program
  // audio (aec's far-end reference) or mixes on purpose is not mixed back to the input's.
  if (config.output().channels() == 0) {
    absl::StatusOr<ChainEstimate> chain =
        EstimateChain(registry, pipeline->chain, PipelineChainInput(*pipeline));
    if (!chain.ok()) return Prefixed("config.", chain.status());
    pipeline->output.channels = chain->output.channels;
  }
  // Everything the stream will cost is known before anything is built.
  absl::StatusOr<PipelineEstimate> estimate = EstimatePipeline(registry, *pipeline);
  if (!estimate.ok()) return Prefixed("config.", estimate.status());
  absl::StatusOr<StreamGrant> grant =
      GrantStream(*pipeline, *estimate, config.max_chunk_bytes(), limits.grant);
  if (!grant.ok()) return grant.status();
  return StreamPlan{*std::move(pipeline), *std::move(estimate), *std::move(grant)};
}

v1::StreamReady PlannedReady(const StreamPlan& plan) {
  v1::StreamReady ready;
  // The requested processors only: the conversions the output format appends are in the
  // stream's cost, not listed.
  for (size_t i = 0; i < plan.pipeline.chain.size(); ++i) {
    *ready.add_chain() = EchoSpec(plan.estimate.chain.resolved[i]);
    v1::ResourceCost* cost = ready.add_processor_costs();
    cost->set_cpu_cores(plan.grant.stage_cpu_cores[i]);
    cost->set_memory_bytes(plan.estimate.chain.stages[i].memory_bytes);
  }
  const StreamFormat& output = plan.pipeline.output;
  ready.mutable_output()->set_encoding(ToProtoEncoding(output.encoding));
  ready.mutable_output()->set_sample_rate_hz(output.sample_rate_hz);
  ready.mutable_output()->set_channels(output.channels);
  ready.set_latency_frames(plan.estimate.chain.max_latency_frames);
  ready.set_stream_id(plan.pipeline.stream_id);
  ready.set_max_chunk_bytes(plan.grant.max_chunk_bytes);
  ready.mutable_cost()->set_cpu_cores(plan.grant.cost.cpu_cores);
  ready.mutable_cost()->set_memory_bytes(static_cast<uint64_t>(plan.grant.cost.memory_bytes));
  return ready;
}

}  // namespace audioproc
