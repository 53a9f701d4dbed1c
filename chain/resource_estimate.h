// Resource estimates: what a processor, a chain or a whole stream pipeline will cost, known
// before anything is built. The service admits streams and files by them (a memory budget in
// bytes, a CPU budget in cores) and refuses what does not fit *before* spending it; so an
// estimate is computed from resolved parameters and the input format alone: it never
// allocates the processor's state, plans an FFT or decodes an impulse (an impulse_file's
// header is read for its length, nothing more).
//
//   ASSIGN_OR_RETURN(PipelineEstimate estimate, EstimatePipeline(registry, config));
//   if (!budget.TryReserve(estimate.memory_bytes, estimate.cpu_cores)) return Refuse(...);
//   ASSIGN_OR_RETURN(auto pipeline, StreamPipeline::Create(registry, config));
//
// Each processor states its own figures (ProcessorDefinition::estimate):
// - memory_bytes: the heap bytes its construction and Prepare allocate and it keeps while it
//   runs (tests/processors/resource_estimate_memory_test.cc holds every processor, chain and
//   pipeline within 25% of what it really allocates, measured by a counting malloc).
// - cpu_cores: CPU-seconds it spends per second of input audio on one core, from a model
//   (a function of rate, channels and parameters such as taps, bands, quality and FFT size)
//   calibrated on the reference machine (cost_model.h) and reported against measurement by
//   `make bench` (processors_bench, "cost model vs measured");
//   tests/processors/resource_estimate_test.cc keeps it within 2x of the measured cost at
//   16 kHz mono and 48 kHz stereo.
// - events: a bound on how many events one Process call over n input frames reports.
// - max_latency_frames: a bound on LatencyFrames() once prepared.
// Thread safety: plain values and pure functions.
#ifndef AUDIOPROC_CHAIN_RESOURCE_ESTIMATE_H_
#define AUDIOPROC_CHAIN_RESOURCE_ESTIMATE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"

namespace audioproc {

struct ProcessorConfig;
class ProcessorRegistry;
struct PipelineConfig;

// A bound on the events one Process call reports: at most
// ceil(frames * per_frame) + burst for a call over `frames` input frames.
struct EventRate {
  double per_frame = 0;
  uint32_t burst = 0;

  // The bound for a call (or a run of calls) over `frames` input frames.
  uint64_t MaxEvents(uint64_t frames) const;
};

// What one processor will cost, stated before it is built.
struct StageEstimate {
  // What the processor emits, exactly as its Prepare will return it.
  ProcessSpec output;
  // Heap bytes construction and Prepare allocate and the processor keeps.
  uint64_t memory_bytes = 0;
  // CPU-seconds per second of input audio, on one core of the reference machine.
  double cpu_cores = 0;
  // Events per Process call, in the processor's input frames.
  EventRate events;
  // An upper bound on LatencyFrames() after Prepare, in the processor's output frames.
  uint32_t max_latency_frames = 0;
  // Processor::ProcessesInPlace(): a chain gives a processor that does not (mix, resample) an
  // output buffer of its own, which EstimateChain counts.
  bool in_place = true;
};

// What a chain (Chain::Build of `configs` for `input`) will cost: its stages, and the chain's
// own buffers (non-in-place stages' outputs, the event buffer, Flush's silence and padding).
struct ChainEstimate {
  std::vector<StageEstimate> stages;
  // Each stage's config with every default filled in, as the built chain will hold it (what
  // a dry run echoes without building anything).
  std::vector<ProcessorConfig> resolved;
  ProcessSpec output;
  uint64_t memory_bytes = 0;  // the stages' and the chain's own
  double cpu_cores = 0;       // the stages' sum
  // Events per call of Chain::Process over n input frames of the chain, every stage's
  // bound converted to the chain's input frames and summed.
  EventRate events;
  // An upper bound on Chain::latency_frames(), in the chain's output frames.
  uint32_t max_latency_frames = 0;
};

// Resolves and validates each config against the format before it (the same
// INVALID_ARGUMENT "chain[i]...." errors Chain::Build gives) and states each stage's cost.
// Allocates only small values (resolved parameters), never a processor's state.
absl::StatusOr<ChainEstimate> EstimateChain(const ProcessorRegistry& registry,
                                            const std::vector<ProcessorConfig>& configs,
                                            const ProcessSpec& input);

// What StreamPipeline::Create(registry, config) will cost: the chain with the conversions
// the output format appends (mix, resample), the pipeline's decode buffer and the codecs'
// per-sample cost. Same validation and errors as Create, apart from what only building can
// find (an impulse_file whose samples are corrupt past its header, say).
struct PipelineEstimate {
  ChainEstimate chain;
  uint64_t memory_bytes = 0;  // chain.memory_bytes plus the pipeline's own buffers
  double cpu_cores = 0;       // chain.cpu_cores plus decoding and encoding
};
absl::StatusOr<PipelineEstimate> EstimatePipeline(const ProcessorRegistry& registry,
                                                  const PipelineConfig& config);

namespace cost {

// How a ParamValues was made, which decides its vectors' capacities.
enum class ParamsMade {
  kResolved,  // by ProcessorRegistry::Resolve: entries and record lists grown one by one
  kCopied,    // by copying one: every vector holds exactly its size
};

// Everything a ParamValues holds on the heap: its entries, their names past 15 characters
// and their values (lists, bytes, records, recursively).
uint64_t ParamValuesBytes(const ParamValues& values, ParamsMade made);

}  // namespace cost

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_RESOURCE_ESTIMATE_H_
