// eq: the DESIGN §4 bar (magnitude within 0.1 dB, where the reference is above -40 dB, of an
// independent double-precision reference: here the product of the bands' Audio EQ Cookbook
// responses), for single-type, mixed, 16-band and seeded random EQs; validation of the nested
// band records; chunking invariance.
#include "processors/eq.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/reference_filters.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Cookbook;
using ::audioproc::testing::Proc;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::Spec;
using ::audioproc::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kBarDb = 0.1;
constexpr double kFloorDb = -40;
constexpr uint32_t kBlockFrames = 1024;
constexpr size_t kMaxResponseFrames = size_t{1} << 21;

constexpr auto Registry = testing::RegistryOf<EqDefinition>;

struct Band {
  const char* type;
  double freq_hz;
  double q = 0.7071;
  double gain_db = 0;
};

Cookbook ShapeOf(const std::string& type) {
  if (type == "PEAKING") return Cookbook::kPeaking;
  if (type == "LOWSHELF") return Cookbook::kLowshelf;
  if (type == "HIGHSHELF") return Cookbook::kHighshelf;
  if (type == "LOWPASS") return Cookbook::kLowpass;
  if (type == "HIGHPASS") return Cookbook::kHighpass;
  if (type == "BANDPASS") return Cookbook::kBandpass;
  return Cookbook::kNotch;
}

ProcessorConfig EqConfig(const std::vector<Band>& bands) {
  std::vector<ParamValues> records;
  for (const Band& band : bands) {
    ParamValues record;
    record.Set("type", std::string(band.type));
    record.Set("freq_hz", band.freq_hz);
    record.Set("q", band.q);
    record.Set("gain_db", band.gain_db);
    records.push_back(std::move(record));
  }
  return Proc("eq", {{"bands", std::move(records)}});
}

// The reference: the product of the bands' cookbook magnitudes, in double.
double ReferenceMagnitude(const std::vector<Band>& bands, double f, double rate) {
  double magnitude = 1;
  for (const Band& b : bands) {
    magnitude *= testing::CookbookMagnitude(ShapeOf(b.type), b.freq_hz, b.q, b.gain_db, f, rate);
  }
  return magnitude;
}

// Whether the EQ's impulse response decays by 1e-11 within kMaxResponseFrames.
bool Measurable(const std::vector<Band>& bands, double rate) {
  double radius = 0;
  for (const Band& b : bands) {
    radius = std::max(
        radius, testing::CookbookPoleRadius(ShapeOf(b.type), b.freq_hz, b.q, b.gain_db, rate));
  }
  return std::log(1e-11) / std::log(radius) < kMaxResponseFrames;
}

// Keeps the worst deviation over many EQs and reports it once.
class WorstCase {
 public:
  explicit WorstCase(std::string family) : family_(std::move(family)) {}
  ~WorstCase() {
    std::printf("[ measured ] %s: worst deviation %.5f dB over %d EQs (%s at %.1f Hz)\n",
                family_.c_str(), worst_db_, count_, where_.c_str(), at_hz_);
  }

  // Measures `bands` at `rate` over a log-spaced grid plus each band's frequency and checks
  // the bar where the reference is above the floor.
  void Check(const std::vector<Band>& bands, double rate) {
    const std::string where = absl::StrFormat("%d bands at %g Hz", bands.size(), rate);
    auto processor = testing::MakeProcessor(Registry(), EqConfig(bands), {rate, kBlockFrames, 1});
    ASSERT_TRUE(processor.ok()) << where << ": " << processor.status();
    const std::vector<float> response =
        testing::ImpulseResponse(**processor, kBlockFrames, kMaxResponseFrames);
    std::vector<double> grid;
    const double top = 0.4995 * rate;
    for (int i = 0; i < 96; ++i) grid.push_back(10 * std::pow(top / 10, i / 95.0));
    for (const Band& b : bands) {
      for (double r : {0.9, 1.0, 1.1}) grid.push_back(std::min(b.freq_hz * r, top));
    }
    ++count_;
    for (double f : grid) {
      const double expected = testing::ToDb(ReferenceMagnitude(bands, f, rate));
      if (expected <= kFloorDb) continue;
      const double measured = testing::ToDb(testing::DtftMagnitude(response, f, rate));
      const double deviation = std::fabs(measured - expected);
      EXPECT_LE(deviation, kBarDb) << where << " at " << f << " Hz";
      if (deviation >= worst_db_) {
        worst_db_ = deviation;
        at_hz_ = f;
        where_ = where;
      }
    }
  }

 private:
  std::string family_;
  double worst_db_ = 0;
  double at_hz_ = 0;
  std::string where_;
  int count_ = 0;
};

TEST(EqTest, EveryBandTypeAloneMatchesItsCookbookReferenceWithinTenthDb) {
  WorstCase worst("eq single bands");
  for (double rate : {8000.0, 48000.0, 96000.0}) {
    for (const char* type :
         {"PEAKING", "LOWSHELF", "HIGHSHELF", "LOWPASS", "HIGHPASS", "BANDPASS", "NOTCH"}) {
      for (double f0 : {50.0, 1000.0, 0.45 * rate}) {
        for (double q : {0.3, 0.7071, 4.0}) {
          for (double gain : {-18.0, 9.0}) worst.Check({{type, f0, q, gain}}, rate);
        }
      }
    }
  }
}

TEST(EqTest, MultiBandMagnitudeMatchesTheProductOfCookbookReferencesWithinTenthDb) {
  WorstCase worst("eq multi-band");
  for (double rate : {16000.0, 44100.0, 48000.0, 96000.0}) {
    // The benchmark's music EQ (its 9 kHz shelf only where it fits).
    worst.Check({{"LOWSHELF", 120, 0.7071, 3},
                 {"PEAKING", 2500, 0.7071, -2},
                 {"HIGHSHELF", std::min(9000.0, 0.4 * rate), 0.7071, 2}},
                rate);
    // Every type in one EQ.
    worst.Check({{"HIGHPASS", 40, 0.7071},
                 {"LOWSHELF", 80, 0.7071, 6},
                 {"PEAKING", 400, 2, -8},
                 {"NOTCH", 1000, 10},
                 {"BANDPASS", 3000, 0.2},
                 {"HIGHSHELF", 0.25 * rate, 1, -4},
                 {"LOWPASS", 0.4 * rate, 1.2}},
                rate);
    // A 16-band graphic EQ: peaks an octave apart from 25 Hz, alternately boosting and
    // cutting, so neighbouring bands interact.
    std::vector<Band> graphic;
    for (int i = 0; i < kMaxEqBands; ++i) {
      const double f0 = std::min(25 * std::pow(2.0, 0.68 * i), 0.45 * rate);
      graphic.push_back({"PEAKING", f0, 1.4, i % 2 == 0 ? 12.0 : -9.0});
    }
    worst.Check(graphic, rate);
  }
}

TEST(EqTest, SeededRandomEqsMatchTheProductOfCookbookReferencesWithinTenthDb) {
  const char* const types[] = {"PEAKING",  "LOWSHELF", "HIGHSHELF", "LOWPASS",
                               "HIGHPASS", "BANDPASS", "NOTCH"};
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> count(1, kMaxEqBands);
  std::uniform_int_distribution<int> type(0, 6);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_real_distribution<double> gain(-24, 24);
  WorstCase worst("eq seeded random");
  int skipped = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const double rate = std::array{16000.0, 44100.0, 48000.0}[trial % 3];
    std::vector<Band> bands(count(rng));
    for (Band& b : bands) {
      b.type = types[type(rng)];
      b.freq_hz = 30 * std::pow(0.45 * rate / 30, unit(rng));  // log-uniform to 0.45 x rate
      b.q = 0.2 * std::pow(50.0, unit(rng));                   // log-uniform in [0.2, 10]
      b.gain_db = gain(rng);
    }
    if (!Measurable(bands, rate)) {
      ++skipped;
      continue;
    }
    worst.Check(bands, rate);
  }
  EXPECT_LE(skipped, 2) << "too many random EQs ring too long to measure";
}

TEST(EqTest, NoBandsPassTheSignalUnchanged) {
  const std::vector<float> noise = testing::WhiteNoise(4000, 1.0, 3);
  const std::string input = testing::ToF32Bytes(noise);
  for (const ProcessorConfig& config : {Proc("eq"), EqConfig({})}) {
    absl::StatusOr<std::string> output = testing::RunInChunks(
        SameFormat(SampleEncoding::kF32, 48000, 1, {config}), input, {input.size()}, Registry());
    ASSERT_TRUE(output.ok()) << output.status();
    EXPECT_TRUE(*output == input);
  }
}

TEST(EqTest, BandTypesAreTheProtoEnumNamesAndDefaultsAreFilledIn) {
  const ProcessorDefinition definition = EqDefinition();
  ASSERT_EQ(definition.info.params.size(), 1u);
  const ParamInfo& bands = definition.info.params[0];
  EXPECT_EQ(bands.name, "bands");
  EXPECT_EQ(bands.type, ParamType::kRecordList);
  EXPECT_EQ(bands.max, 16);
  EXPECT_FALSE(bands.runtime_updatable);
  ASSERT_EQ(bands.fields.size(), 4u);
  EXPECT_EQ(bands.fields[0].name, "type");
  EXPECT_TRUE(bands.fields[0].required);
  EXPECT_THAT(
      bands.fields[0].allowed_values,
      ElementsAre("PEAKING", "LOWSHELF", "HIGHSHELF", "LOWPASS", "HIGHPASS", "BANDPASS", "NOTCH"));
  EXPECT_EQ(bands.fields[1].name, "freq_hz");
  EXPECT_TRUE(bands.fields[1].required);
  EXPECT_EQ(bands.fields[2].name, "q");
  EXPECT_EQ(bands.fields[3].name, "gain_db");

  ParamValues band;
  band.Set("type", std::string("NOTCH"));
  band.Set("freq_hz", 50.0);
  absl::StatusOr<ParamValues> resolved =
      Registry().Resolve(Proc("eq", {{"bands", std::vector<ParamValues>{band}}}), Spec(16000, 1));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const ParamValues& record = resolved->Records("bands").at(0);
  EXPECT_EQ(record.Number("q"), 0.7071);
  EXPECT_EQ(record.Number("gain_db"), 0);
}

TEST(EqTest, InvalidBandsAreRefusedNamingTheBandFieldAndRange) {
  struct Case {
    std::vector<std::pair<std::string, ParamValue>> band;  // replaces band 1 of three
    const char* message;
  };
  const std::vector<Case> cases = {
      {{{"type", std::string("PEAKING")}, {"freq_hz", 9000.0}},
       "eq.bands[1].freq_hz must be in (0, 8000) Hz (below Nyquist), got 9000"},
      {{{"type", std::string("PEAKING")}, {"freq_hz", 0.0}},
       "eq.bands[1].freq_hz must be in (0, 8000) Hz (below Nyquist), got 0"},
      {{{"type", std::string("PEAKING")}},
       "eq.bands[1].freq_hz is required, in (0, 8000) Hz (below Nyquist)"},
      {{{"freq_hz", 100.0}},
       "eq.bands[1].type is required, one of PEAKING, LOWSHELF, HIGHSHELF, LOWPASS, HIGHPASS, "
       "BANDPASS, NOTCH"},
      {{{"type", std::string("EQ_BAND_TYPE_UNSPECIFIED")}, {"freq_hz", 100.0}},
       "eq.bands[1].type must be one of PEAKING, LOWSHELF, HIGHSHELF, LOWPASS, HIGHPASS, "
       "BANDPASS, NOTCH"},
      {{{"type", std::string("NOTCH")}, {"freq_hz", 100.0}, {"q", 0.05}},
       "eq.bands[1].q must be in [0.1, 40], got 0.05"},
      {{{"type", std::string("NOTCH")}, {"freq_hz", 100.0}, {"q", 41.0}},
       "eq.bands[1].q must be in [0.1, 40], got 41"},
      {{{"type", std::string("PEAKING")}, {"freq_hz", 100.0}, {"gain_db", -49.0}},
       "eq.bands[1].gain_db must be in [-48, 48] dB, got -49"},
      {{{"type", std::string("PEAKING")}, {"freq_hz", 100.0}, {"width", 2.0}},
       "eq.bands[1] has no parameter 'width'; it has type, freq_hz, q, gain_db"},
  };
  for (const Case& c : cases) {
    std::vector<ParamValues> bands(3);
    for (ParamValues& band : bands) {
      band.Set("type", std::string("LOWSHELF"));
      band.Set("freq_hz", 100.0);
    }
    bands[1] = ParamValues();
    for (const auto& [name, value] : c.band) bands[1].Set(name, value);
    EXPECT_THAT(Registry().Resolve(Proc("eq", {{"bands", bands}}), Spec(16000, 2)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }

  ParamValues band;
  band.Set("type", std::string("PEAKING"));
  band.Set("freq_hz", 1000.0);
  EXPECT_THAT(Registry().Resolve(Proc("eq", {{"bands", std::vector<ParamValues>(17, band)}}),
                                 Spec(48000, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("eq.bands may hold at most 16 entries, got 17")));
  EXPECT_THAT(Registry().Resolve(Proc("eq", {{"bands", 3.0}}), Spec(48000, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("eq.bands must be a list of records")));
  const ParamValues current = *Registry().Resolve(EqConfig({{"PEAKING", 100}}), Spec(48000, 1));
  EXPECT_THAT(Registry().ValidateUpdate(EqConfig({{"PEAKING", 200}}), current, Spec(48000, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("eq.bands cannot be changed while streaming")));
}

TEST(EqTest, OutputDoesNotDependOnChunking) {
  std::vector<Band> bands;
  for (int i = 0; i < kMaxEqBands; ++i) {
    bands.push_back({std::array{"PEAKING", "NOTCH", "LOWSHELF", "HIGHSHELF"}[i % 4],
                     40 * std::pow(1.4, i), 0.5 + 0.3 * i, i % 3 == 0 ? 9.0 : -6.0});
  }
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
    for (uint32_t channels : {1u, 2u}) {
      SCOPED_TRACE(absl::StrCat(EncodingName(encoding), " x", channels));
      const std::vector<float> signal = testing::WhiteNoise(6000 * channels, 0.3, 17);
      testing::ExpectChunkingInvariant(SameFormat(encoding, 16000, channels, {EqConfig(bands)}),
                                       testing::EncodeAs(encoding, signal), Registry());
    }
  }
}

}  // namespace
}  // namespace audioproc
