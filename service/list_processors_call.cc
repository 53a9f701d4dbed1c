#include "service/list_processors_call.h"

#include <algorithm>
#include <utility>

#include "chain/chain.h"
#include "chain/resource_estimate.h"
#include "service/spec_translation.h"
#include "service/status_util.h"
#include "service/stream_grant.h"

namespace audioproc {
namespace {

// Each processor's cost, with its example parameters, at the two formats DESIGN's workloads
// use: 16 kHz mono (voice) and 48 kHz stereo (music), with at least the channels it takes (aec:
// 16 kHz with its reference beside the microphone).
void AddCosts(const ProcessorRegistry& registry, v1::ListProcessorsResponse* response) {
  for (v1::ProcessorInfo& info : *response->mutable_processors()) {
    const ProcessorDefinition* definition = registry.Find(info.name());
    for (const auto& [rate, format_channels] : {std::pair{16000u, 1u}, std::pair{48000u, 2u}}) {
      const uint32_t channels = std::max(format_channels, definition->info.min_input_channels);
      const ProcessSpec spec{static_cast<double>(rate), kDefaultMaxBlockFrames, channels};
      absl::StatusOr<ChainEstimate> estimate =
          EstimateChain(registry, {ExampleConfig(*definition)}, spec);
      if (!estimate.ok() || estimate->stages.empty()) continue;
      v1::FormatCost* cost = info.add_costs();
      cost->set_sample_rate_hz(rate);
      cost->set_channels(channels);
      cost->mutable_cost()->set_cpu_cores(StageCpuCores(estimate->stages.front()));
      cost->mutable_cost()->set_memory_bytes(estimate->stages.front().memory_bytes);
    }
  }
}

}  // namespace

void ListProcessorsCall::Listen(ServerState* state, grpc::ServerCompletionQueue* cq) {
  auto* call = new ListProcessorsCall(state, cq);
  state->service().RequestListProcessors(&call->context_, &call->request_, &call->responder_, cq,
                                         cq, &call->request_tag_);
}

void ListProcessorsCall::OnCompletion(int op, bool ok) {
  if (op == kFinish || !ok) {
    if (op == kFinish) state_->metrics().GrpcHandled(kListProcessorsMethod, status_code_);
    delete this;  // answered, or the server is shutting down
    return;
  }
  Listen(state_, cq_);
  state_->metrics().GrpcStarted(kListProcessorsMethod);
  if (absl::Status auth = state_->Authenticate(context_); !auth.ok()) {
    status_code_ = static_cast<grpc::StatusCode>(auth.code());
    responder_.FinishWithError(ToGrpcStatus(auth), &finish_tag_);
    return;
  }
  response_ = DescribeProcessors(state_->registry());
  AddCosts(state_->registry(), &response_);
  responder_.Finish(response_, grpc::Status::OK, &finish_tag_);
}

}  // namespace audioproc
