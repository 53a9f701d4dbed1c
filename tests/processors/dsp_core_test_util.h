// Helpers shared by the processors' tests: registries of just the processors under test (the
// default one also links processors that are tested elsewhere), terse chain configs, and
// running bytes through a StreamPipeline in one piece.
#ifndef AUDIOPROC_TESTS_PROCESSORS_DSP_CORE_TEST_UTIL_H_
#define AUDIOPROC_TESTS_PROCESSORS_DSP_CORE_TEST_UTIL_H_

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processors/gain.h"
#include "processors/limiter.h"
#include "processors/mix.h"
#include "tests/testing/chunking.h"
#include "tests/testing/status_matchers.h"

namespace audioproc::testing {

// A registry of the one processor `Definition()` describes, made once per test binary: a
// processor's tests see only it.
//   constexpr auto Registry = RegistryOf<CompressorDefinition>;
template <ProcessorDefinition (*Definition)()>
const ProcessorRegistry& RegistryOf() {
  static const ProcessorRegistry* const registry = new ProcessorRegistry({Definition()});
  return *registry;
}

// gain, mix and limiter only.
inline const ProcessorRegistry& DspCoreRegistry() {
  static const ProcessorRegistry* const registry =
      new ProcessorRegistry({GainDefinition(), MixDefinition(), LimiterDefinition()});
  return *registry;
}

// Proc("limiter", {{"ceiling_db", -1.0}}).
inline ProcessorConfig Proc(std::string name,
                            const std::vector<std::pair<std::string, ParamValue>>& params = {}) {
  ProcessorConfig config;
  config.name = std::move(name);
  for (const auto& [key, value] : params) config.params.Set(key, value);
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

// A value processor `name` must refuse, and what the refusal must say.
struct Refusal {
  std::string param;
  ParamValue value;
  std::string message;
};

// Expects `registry` to refuse each value (alone, the rest defaults) INVALID_ARGUMENT with a
// message that holds the row's.
inline void ExpectRefusals(const ProcessorRegistry& registry, const std::string& name,
                           const ProcessSpec& spec, const std::vector<Refusal>& refusals) {
  for (const Refusal& refusal : refusals) {
    EXPECT_THAT(registry.Resolve(Proc(name, {{refusal.param, refusal.value}}), spec),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr(refusal.message)))
        << refusal.param;
  }
}

// An update of `info`'s runtime-updatable parameters to another valid value each (floats a
// quarter of the way to their maximum, frequencies to at most `max_frequency_hz` so they stay
// below the Nyquist frequency of the rate under test; booleans flipped), from `current`.
inline ProcessorConfig SomeUpdate(const ProcessorInfo& info, const ParamValues& current,
                                  double max_frequency_hz) {
  ProcessorConfig update{info.name, {}};
  for (const ParamInfo& param : info.params) {
    if (!param.runtime_updatable) continue;
    if (param.type == ParamType::kFloat) {
      const double now = current.Number(param.name);
      const double hi = param.below_nyquist ? std::min(param.max, max_frequency_hz) : param.max;
      update.params.Set(param.name, now + (hi - now) * 0.25);
    } else if (param.type == ParamType::kBool) {
      update.params.Set(param.name, !current.Bool(param.name));
    }
  }
  return update;
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_PROCESSORS_DSP_CORE_TEST_UTIL_H_
