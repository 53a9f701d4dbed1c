// ProcessorRegistry: the catalogue of processors, and validation of requested parameters
// against it.
//
// Each processor contributes one ProcessorDefinition (its metadata, any checks beyond
// per-parameter ranges, and a factory). Everything the service knows of processors it learns
// here: names and parameters for ListProcessors, validation with precise messages, resolved
// parameters (defaults filled in) for StreamReady, and construction.
// Thread safety: immutable after construction; safe to share between threads.
#ifndef AUDIOPROC_CHAIN_REGISTRY_H_
#define AUDIOPROC_CHAIN_REGISTRY_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/resource_estimate.h"

namespace audioproc {

struct ProcessorDefinition {
  ProcessorInfo info;
  // Checks what per-parameter ranges cannot: rules across parameters or ones that depend on
  // the stream's format. Gets fully resolved parameters. May be null.
  absl::Status (*validate)(const ParamValues& resolved, const ProcessSpec& input) = nullptr;
  // Builds the processor from fully resolved, validated parameters. Allocates.
  std::unique_ptr<Processor> (*create)(const ParamValues& resolved) = nullptr;
  // States, without building it, what the processor will cost for fully resolved, validated
  // parameters on `input` (processors/resource_estimate.h). Required: the service admits
  // streams by it.
  absl::StatusOr<StageEstimate> (*estimate)(const ParamValues& resolved,
                                            const ProcessSpec& input) = nullptr;
  // A typical configuration (at least every required parameter set), for benchmarks, the
  // allocation test and examples. Empty: ExampleConfig derives one from the ranges.
  ParamValues example;
  // Resolves a run-time update, its parameters already validated (ValidateUpdate), into the
  // processor's typed settings: a TypedUpdate of the Settings its UpdatableProcessor takes,
  // with the parameters present in `changes` set. Required when a parameter is
  // runtime-updatable, null otherwise. Allocates; runs off the audio path, so the processor
  // receives typed values and never parameter names.
  std::unique_ptr<ProcessorUpdate> (*resolve_update)(const ParamValues& changes) = nullptr;
};

// `definition`'s example, or, when it has none, its required numeric parameters set to a
// value in range (1 kHz for frequencies). Valid for streams of 16 kHz and up.
ProcessorConfig ExampleConfig(const ProcessorDefinition& definition);

class ProcessorRegistry {
 public:
  explicit ProcessorRegistry(std::vector<ProcessorDefinition> definitions);

  // Every built-in processor.
  static const ProcessorRegistry& Default();

  const std::vector<ProcessorDefinition>& definitions() const { return definitions_; }
  const ProcessorDefinition* Find(absl::string_view name) const;

  // Validates `config` for a stream of format `input` and returns its parameters with every
  // default filled in. INVALID_ARGUMENT names the processor, the parameter and its range,
  // e.g. "highpass.cutoff_hz must be in (0, 8000) Hz (below Nyquist), got 9000".
  absl::StatusOr<ParamValues> Resolve(const ProcessorConfig& config,
                                      const ProcessSpec& input) const;

  // Validates a mid-stream update of a processor whose current parameters are `current`:
  // every parameter set in `update` must be runtime-updatable and in range, and the
  // processor's own checks must hold for the merged result.
  absl::Status ValidateUpdate(const ProcessorConfig& update, const ParamValues& current,
                              const ProcessSpec& input) const;

  // ValidateUpdate, then resolves the update into the processor's typed settings: the one
  // validation of an update, done before any of it reaches the audio path. Null settings for
  // an update that sets nothing of a processor with no run-time settings. Allocates.
  absl::StatusOr<std::unique_ptr<ProcessorUpdate>> ResolveUpdate(const ProcessorConfig& update,
                                                                 const ParamValues& current,
                                                                 const ProcessSpec& input) const;

  // Resolve, then construct. Allocates.
  absl::StatusOr<std::unique_ptr<Processor>> Create(const ProcessorConfig& config,
                                                    const ProcessSpec& input,
                                                    ParamValues* resolved) const;

 private:
  std::vector<ProcessorDefinition> definitions_;
};

// "(0, 8000) Hz" style description of a parameter's range for `sample_rate_hz`.
std::string DescribeRange(const ParamInfo& info, double sample_rate_hz);

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_REGISTRY_H_
