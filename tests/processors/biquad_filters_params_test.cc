// The filter processors' parameters: names, units, defaults and ranges as DESIGN §4 and the
// proto define them, and validation through the registry with messages that name the
// parameter and its range.
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processors/biquad_filters.h"
#include "tests/testing/reference_filters.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::IsOk;
using ::audioproc::testing::NumericConfig;
using ::audioproc::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

const ProcessorRegistry& Registry() {
  static const ProcessorRegistry* const registry = new ProcessorRegistry(
      {HighpassDefinition(), LowpassDefinition(), BandpassDefinition(), NotchDefinition(),
       PeakingDefinition(), LowshelfDefinition(), HighshelfDefinition()});
  return *registry;
}

ProcessSpec Mono(double rate) { return {rate, 1024, 1}; }

// One row of the parameter table.
struct ExpectedParam {
  std::string name;
  ParamType type;
  std::string unit;
  std::optional<double> default_value;
  double min, max;
  bool required, runtime_updatable, below_nyquist;
};

TEST(BiquadFiltersTest, DefinitionsUseProtoFieldNamesDefaultsAndRanges) {
  const ExpectedParam cutoff{
      "cutoff_hz", ParamType::kFloat, "Hz", std::nullopt, 0, 96000, true, true, true};
  const ExpectedParam center{
      "center_hz", ParamType::kFloat, "Hz", std::nullopt, 0, 96000, true, true, true};
  const ExpectedParam pass_q{"q", ParamType::kFloat, "", 0.7071, 0.1, 40, false, false, false};
  const ExpectedParam order{"order", ParamType::kInt, "", 2, 1, 8, false, false, false};
  const ExpectedParam q{"q", ParamType::kFloat, "", 0.7071, 0.1, 40, false, true, false};
  const ExpectedParam peaking_q{"q", ParamType::kFloat, "", 1, 0.1, 40, false, true, false};
  const ExpectedParam gain{"gain_db", ParamType::kFloat, "dB", 0, -48, 48, false, true, false};
  const std::vector<std::pair<std::string, std::vector<ExpectedParam>>> table = {
      {"highpass", {cutoff, pass_q, order}},
      {"lowpass", {cutoff, pass_q, order}},
      {"bandpass", {center, q}},
      {"notch", {center, q}},
      {"peaking", {center, peaking_q, gain}},
      {"lowshelf", {cutoff, gain, q}},
      {"highshelf", {cutoff, gain, q}},
  };
  ASSERT_EQ(Registry().definitions().size(), table.size());
  for (const auto& [name, params] : table) {
    SCOPED_TRACE(name);
    const ProcessorDefinition* definition = Registry().Find(name);
    ASSERT_NE(definition, nullptr);
    EXPECT_FALSE(definition->info.summary.empty());
    ASSERT_EQ(definition->info.params.size(), params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const ParamInfo& info = definition->info.params[i];
      const ExpectedParam& expected = params[i];
      SCOPED_TRACE(expected.name);
      EXPECT_EQ(info.name, expected.name);
      EXPECT_EQ(info.type, expected.type);
      EXPECT_EQ(info.unit, expected.unit);
      EXPECT_EQ(info.default_value, expected.default_value);
      EXPECT_EQ(info.min, expected.min);
      EXPECT_EQ(info.max, expected.max);
      EXPECT_EQ(info.required, expected.required);
      EXPECT_EQ(info.runtime_updatable, expected.runtime_updatable);
      EXPECT_EQ(info.below_nyquist, expected.below_nyquist);
      EXPECT_FALSE(info.summary.empty());
      if (expected.below_nyquist) {
        EXPECT_EQ(info.min_bound, Bound::kExclusive);
      }
    }
  }
}

TEST(BiquadFiltersTest, ResolveFillsInDefaults) {
  absl::StatusOr<ParamValues> highpass =
      Registry().Resolve(NumericConfig("highpass", {{"cutoff_hz", 80}}), Mono(16000));
  ASSERT_THAT(highpass, IsOk());
  EXPECT_EQ(highpass->Number("q"), 0.7071);
  EXPECT_EQ(highpass->Number("order"), 2);
  absl::StatusOr<ParamValues> peaking =
      Registry().Resolve(NumericConfig("peaking", {{"center_hz", 1000}}), Mono(16000));
  ASSERT_THAT(peaking, IsOk());
  EXPECT_EQ(peaking->Number("q"), 1);
  EXPECT_EQ(peaking->Number("gain_db"), 0);
}

struct InvalidCase {
  ProcessorConfig config;
  double rate;
  std::string field;  // "<processor>.<parameter>"
  std::string range;  // as the message gives it
};

TEST(BiquadFiltersTest, RejectsInvalidParametersNamingParameterAndRange) {
  const std::string nyquist_16k = "(0, 8000) Hz (below Nyquist)";
  const std::vector<InvalidCase> cases = {
      {NumericConfig("highpass", {}), 16000, "highpass.cutoff_hz", nyquist_16k},
      {NumericConfig("highpass", {{"order", 4}}), 16000, "highpass.cutoff_hz", nyquist_16k},
      {NumericConfig("highpass", {{"cutoff_hz", 9000}}), 16000, "highpass.cutoff_hz", nyquist_16k},
      {NumericConfig("highpass", {{"cutoff_hz", 8000}}), 16000, "highpass.cutoff_hz", nyquist_16k},
      {NumericConfig("highpass", {{"cutoff_hz", 0}}), 16000, "highpass.cutoff_hz", nyquist_16k},
      {NumericConfig("highpass", {{"cutoff_hz", -20}}), 48000, "highpass.cutoff_hz",
       "(0, 24000) Hz (below Nyquist)"},
      {NumericConfig("highpass", {{"cutoff_hz", kNan}}), 16000, "highpass.cutoff_hz", nyquist_16k},
      {NumericConfig("highpass", {{"cutoff_hz", 80}, {"order", 0}}), 16000, "highpass.order",
       "[1, 8]"},
      {NumericConfig("highpass", {{"cutoff_hz", 80}, {"order", 9}}), 16000, "highpass.order",
       "[1, 8]"},
      {NumericConfig("highpass", {{"cutoff_hz", 80}, {"order", 2.5}}), 16000, "highpass.order",
       "[1, 8]"},
      {NumericConfig("highpass", {{"cutoff_hz", 80}, {"order", kNan}}), 16000, "highpass.order",
       "[1, 8]"},
      {NumericConfig("highpass", {{"cutoff_hz", 80}, {"order", 4}, {"q", 1}}), 16000, "highpass.q",
       "[0.1, 40]"},
      {NumericConfig("highpass", {{"cutoff_hz", 80}, {"q", 0.05}}), 16000, "highpass.q",
       "[0.1, 40]"},
      {NumericConfig("lowpass", {{"cutoff_hz", 24000}}), 48000, "lowpass.cutoff_hz",
       "(0, 24000) Hz (below Nyquist)"},
      {NumericConfig("lowpass", {{"cutoff_hz", 1000}, {"order", 1}, {"q", 2}}), 48000, "lowpass.q",
       "[0.1, 40]"},
      {NumericConfig("lowpass", {{"cutoff_hz", 1000}, {"q", 41}}), 48000, "lowpass.q", "[0.1, 40]"},
      {NumericConfig("bandpass", {{"q", 2}}), 8000, "bandpass.center_hz",
       "(0, 4000) Hz (below Nyquist)"},
      {NumericConfig("bandpass", {{"center_hz", 4000}}), 8000, "bandpass.center_hz",
       "(0, 4000) Hz (below Nyquist)"},
      {NumericConfig("bandpass", {{"center_hz", 1000}, {"q", 0}}), 8000, "bandpass.q", "[0.1, 40]"},
      {NumericConfig("notch", {{"center_hz", 50}, {"q", kNan}}), 8000, "notch.q", "[0.1, 40]"},
      {NumericConfig("notch", {{"center_hz", 50}, {"q", 50}}), 8000, "notch.q", "[0.1, 40]"},
      {NumericConfig("peaking", {{"center_hz", 1000}, {"gain_db", 49}}), 48000, "peaking.gain_db",
       "[-48, 48] dB"},
      {NumericConfig("peaking", {{"gain_db", 3}}), 48000, "peaking.center_hz",
       "(0, 24000) Hz (below Nyquist)"},
      {NumericConfig("lowshelf", {{"cutoff_hz", 100}, {"gain_db", -60}}), 48000, "lowshelf.gain_db",
       "[-48, 48] dB"},
      {NumericConfig("lowshelf", {{"cutoff_hz", kNan}}), 48000, "lowshelf.cutoff_hz",
       "(0, 24000) Hz (below Nyquist)"},
      {NumericConfig("highshelf", {{"cutoff_hz", 100000}}), 192000, "highshelf.cutoff_hz",
       "(0, 96000) Hz"},
      {NumericConfig("highshelf", {{"cutoff_hz", 5000}, {"q", 0.01}}), 48000, "highshelf.q",
       "[0.1, 40]"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.field);
    EXPECT_THAT(Registry().Resolve(c.config, Mono(c.rate)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(c.field), HasSubstr(c.range))));
  }
}

TEST(BiquadFiltersTest, RejectsUnknownParameter) {
  EXPECT_THAT(
      Registry().Resolve(NumericConfig("notch", {{"center_hz", 50}, {"gain_db", 3}}), Mono(8000)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("gain_db")));
}

TEST(HighpassTest, AcceptsExplicitDefaultQWithAnyOrder) {
  // A client that sets q = 0.7071 sends the float nearest to it.
  const double float_q = static_cast<float>(0.7071);
  for (int order = 1; order <= 8; ++order) {
    EXPECT_THAT(Registry().Resolve(
                    NumericConfig("highpass",
                                  {{"cutoff_hz", 80}, {"order", double(order)}, {"q", float_q}}),
                    Mono(16000)),
                IsOk())
        << "order " << order;
  }
}

TEST(BiquadFiltersTest, UpdatesAreCheckedForUpdatabilityAndRange) {
  const ParamValues highpass =
      *Registry().Resolve(NumericConfig("highpass", {{"cutoff_hz", 80}}), Mono(16000));
  EXPECT_THAT(Registry().ValidateUpdate(NumericConfig("highpass", {{"cutoff_hz", 200}}), highpass,
                                        Mono(16000)),
              IsOk());
  EXPECT_THAT(Registry().ValidateUpdate(NumericConfig("highpass", {{"cutoff_hz", 9000}}), highpass,
                                        Mono(16000)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("highpass.cutoff_hz"), HasSubstr("(0, 8000) Hz"))));
  EXPECT_THAT(
      Registry().ValidateUpdate(NumericConfig("highpass", {{"order", 4}}), highpass, Mono(16000)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("highpass.order")));
  const ParamValues peaking =
      *Registry().Resolve(NumericConfig("peaking", {{"center_hz", 1000}}), Mono(16000));
  EXPECT_THAT(Registry().ValidateUpdate(
                  NumericConfig("peaking", {{"center_hz", 2000}, {"q", 3}, {"gain_db", -6}}),
                  peaking, Mono(16000)),
              IsOk());
  EXPECT_THAT(
      Registry().ValidateUpdate(NumericConfig("peaking", {{"gain_db", -49}}), peaking, Mono(16000)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("peaking.gain_db"), HasSubstr("[-48, 48] dB"))));
}

TEST(BiquadFiltersTest, PrepareRejectsFrequencyAtOrAboveNyquistOfTheActualStream) {
  // The registry checks against the stream it validated for; Prepare guards a mismatch.
  absl::StatusOr<std::unique_ptr<Processor>> processor =
      Registry().Create(NumericConfig("lowpass", {{"cutoff_hz", 6000}}), Mono(48000), nullptr);
  ASSERT_THAT(processor, IsOk());
  EXPECT_THAT((*processor)->Prepare(Mono(8000)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("lowpass.cutoff_hz"), HasSubstr("(0, 4000) Hz"))));
}

}  // namespace
}  // namespace audioproc
