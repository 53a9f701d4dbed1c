// StreamPlan: everything a StreamConfig will be and cost, worked out before anything is
// built or reserved: the pipeline's config, its estimate and the stream's grant. Process
// plans a stream, then admits it against the budgets and builds it (StreamSession::
// Configure); ValidateConfig plans only, and answers with the `ready` the plan promises.
//
//   ASSIGN_OR_RETURN(StreamPlan plan, PlanStream(registry, limits, config, stream_id));
//   v1::StreamReady ready = PlannedReady(plan);
//
// Thread safety: stateless functions. Allocates only small values (resolved parameters),
// never a processor's state.
#ifndef AUDIOPROC_SERVICE_STREAM_PLAN_H_
#define AUDIOPROC_SERVICE_STREAM_PLAN_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/registry.h"
#include "chain/resource_estimate.h"
#include "chain/stream_pipeline.h"
#include "service/stream_grant.h"
#include "service/stream_session.h"

namespace audioproc {

struct StreamPlan {
  PipelineConfig pipeline;
  PipelineEstimate estimate;
  StreamGrant grant;
};

// Validates `config` (INVALID_ARGUMENT naming the field), states its cost and grants it the
// server's limits (INVALID_ARGUMENT naming its cost when it could never run here). The
// budgets are not consulted: whether the stream fits now is the admission's question.
absl::StatusOr<StreamPlan> PlanStream(const ProcessorRegistry& registry,
                                      const SessionLimits& limits, const v1::StreamConfig& config,
                                      absl::string_view stream_id);

// The `ready` of a planned stream: the resolved chain with each processor's cost, the output
// format, max_chunk_bytes, the cost and the stream id. latency_frames is the estimate's
// bound, which the built pipeline replaces with its exact latency.
v1::StreamReady PlannedReady(const StreamPlan& plan);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_PLAN_H_
