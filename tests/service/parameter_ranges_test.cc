// Every numeric parameter of every processor, one step outside its range, sent to the server:
// each is INVALID_ARGUMENT and the message names the parameter and its range (DESIGN §6).
// The values come from the catalogue ListProcessors answers from, so a processor added later
// is covered with no change here.
#include "absl/strings/str_cat.h"
#include "chain/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/spec_translation.h"
#include "tests/testing/in_process_server.h"

namespace audioproc {
namespace {

using testing::ConfigRequest;
using testing::Exchange;
using ::testing::HasSubstr;
using testing::MakeConfig;

constexpr double kRate = 48000;

class ParameterRangesTest : public testing::InProcessServerTest {};

TEST_F(ParameterRangesTest, EveryOutOfRangeValueIsRefusedNamingTheParameterAndItsRange) {
  int checked = 0;
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    const ProcessorConfig example = ExampleConfig(definition);
    for (const ParamInfo& param : definition.info.params) {
      if (param.type != ParamType::kFloat && param.type != ParamType::kInt) continue;
      // Just outside each end; for a bound that depends on the stream, its Nyquist.
      const double high = param.below_nyquist ? kRate / 2 : param.max;
      std::vector<double> outside = {param.min - 1, high + 1};
      if (param.min_bound == Bound::kExclusive) outside[0] = param.min;
      if (param.below_nyquist || param.max_bound == Bound::kExclusive) outside[1] = high;
      for (double value : outside) {
        ProcessorConfig config = example;
        config.params.Set(param.name, value);
        v1::StreamConfig stream = MakeConfig(v1::PCM_F32LE, kRate, 2);
        *stream.add_chain() = SpecFromConfig(config);
        const auto result = Exchange(*stub_, {ConfigRequest(stream)});
        const std::string field = absl::StrCat("chain[0].", definition.info.name, ".", param.name);
        EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << field << "=" << value;
        EXPECT_THAT(result.status.error_message(), HasSubstr(absl::StrCat(field, " must be ")))
            << field << "=" << value;
        EXPECT_THAT(result.status.error_message(), HasSubstr(DescribeRange(param, kRate)))
            << field << "=" << value;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20);
}

TEST_F(ParameterRangesTest, EveryExampleConfigIsAccepted) {
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    v1::StreamConfig stream = MakeConfig(v1::PCM_F32LE, kRate, 2);
    *stream.add_chain() = SpecFromConfig(ExampleConfig(definition));
    const auto result = Exchange(*stub_, {ConfigRequest(stream)});
    EXPECT_TRUE(result.status.ok())
        << definition.info.name << ": " << result.status.error_message();
  }
}

}  // namespace
}  // namespace audioproc
