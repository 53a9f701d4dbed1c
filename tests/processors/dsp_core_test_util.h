// Helpers shared by the gain, mix and limiter tests: a registry of just those processors (the
// default one also links filters that are tested elsewhere), terse chain configs, and running
// bytes through a StreamPipeline in one piece.
#ifndef AUDIOPROC_TESTS_PROCESSORS_DSP_CORE_TEST_UTIL_H_
#define AUDIOPROC_TESTS_PROCESSORS_DSP_CORE_TEST_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "processors/gain.h"
#include "processors/limiter.h"
#include "processors/mix.h"
#include "processors/parameters.h"
#include "processors/registry.h"
#include "processors/stream_pipeline.h"
#include "tests/testing/chunking.h"

namespace audioproc::testing {

// gain, mix and limiter only.
inline const ProcessorRegistry& DspCoreRegistry() {
  static const ProcessorRegistry* const registry =
      new ProcessorRegistry({GainDefinition(), MixDefinition(), LimiterDefinition()});
  return *registry;
}

// Proc("limiter", {{"ceiling_db", -1.0}}).
inline ProcessorConfig Proc(std::string name,
                            std::vector<std::pair<std::string, ParamValue>> params = {}) {
  ProcessorConfig config;
  config.name = std::move(name);
  for (auto& [key, value] : params) config.params.Set(key, std::move(value));
  return config;
}

// The whole output of `config` for `input` fed as one chunk.
inline absl::StatusOr<std::string> RunWhole(const PipelineConfig& config,
                                            const std::string& input) {
  return RunInChunks(config, input, {input.size() + 1}, DspCoreRegistry());
}

// A ProcessSpec for validation tests.
inline ProcessSpec Spec(double rate, uint32_t channels) {
  return ProcessSpec{rate, 1024, channels};
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_PROCESSORS_DSP_CORE_TEST_UTIL_H_
