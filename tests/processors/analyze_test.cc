// analyze: exact levels (a sine of known amplitude: peak and RMS within 0.01 dB), spectral
// centroid within one FFT bin (a pure tone: its frequency; two tones: their power-weighted
// mean), band energies, one event per interval at its first frame, identical events whatever
// the chunking, audio unchanged, validation, finite values.
#include "processors/analyze.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/chain.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/event_test_util.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Proc;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr auto Registry = testing::RegistryOf<AnalyzeDefinition>;

// The analysis events of `interleaved` (f32) through analyze with `params`.
std::vector<AnalysisEvent> Analyze(
    const std::vector<float>& interleaved, uint32_t rate, uint32_t channels,
    const std::vector<std::pair<std::string, ParamValue>>& params = {},
    std::vector<uint64_t>* frames = nullptr) {
  absl::StatusOr<testing::StreamResult> run = testing::RunCollectingEvents(
      Registry(), SameFormat(SampleEncoding::kF32, rate, channels, {Proc("analyze", params)}),
      testing::ToF32Bytes(interleaved), {interleaved.size() * 4 + 1});
  EXPECT_TRUE(run.ok()) << run.status();
  std::vector<AnalysisEvent> events;
  if (!run.ok()) return events;
  for (const ProcessorEvent& event : run->events) {
    events.push_back(std::get<AnalysisEvent>(event.payload));
    if (frames != nullptr) frames->push_back(event.frame);
  }
  return events;
}

double Db(double amplitude) { return 20 * std::log10(amplitude); }

TEST(AnalyzeTest, SineLevelsAreExactToOneHundredthOfADecibel) {
  struct Row {
    double hz, rate, amplitude, interval_ms;
  };
  // Whole periods per interval, so the interval's RMS is exactly amplitude / sqrt(2).
  for (const Row& row : std::vector<Row>{{1000, 48000, 1.0, 100},
                                         {1000, 48000, 0.5, 100},
                                         {1000, 48000, 0.001, 10},
                                         {997, 44100, 0.25, 1000},
                                         {250, 16000, 0.8, 20}}) {
    SCOPED_TRACE(absl::StrCat(row.hz, " Hz at ", row.rate, " Hz, amplitude ", row.amplitude));
    const std::vector<float> sine = testing::Sine(
        row.hz, row.rate, static_cast<size_t>(row.rate * row.interval_ms / 200), row.amplitude);
    const std::vector<AnalysisEvent> events =
        Analyze(sine, static_cast<uint32_t>(row.rate), 1, {{"interval_ms", row.interval_ms}});
    ASSERT_EQ(events.size(), 5u);
    for (const AnalysisEvent& event : events) {
      EXPECT_NEAR(event.peak_dbfs, Db(row.amplitude), 0.01);
      EXPECT_NEAR(event.rms_dbfs, Db(row.amplitude / std::sqrt(2.0)), 0.01);
    }
    std::printf("[ measured ] analyze %g Hz amplitude %g: peak error %.5f dB, rms error %.5f dB\n",
                row.hz, row.amplitude, events[0].peak_dbfs - Db(row.amplitude),
                events[0].rms_dbfs - Db(row.amplitude / std::sqrt(2.0)));
  }
}

TEST(AnalyzeTest, LevelsCoverEveryChannel) {
  // A full-scale sine on the left, silence on the right: the peak is the left's, the mean
  // square half of it.
  const std::vector<float> left = testing::Sine(1000, 48000, 9600, 1.0);
  const std::vector<AnalysisEvent> events =
      Analyze(testing::Interleave({left, std::vector<float>(left.size(), 0.0f)}), 48000, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NEAR(events[0].peak_dbfs, 0.0, 0.01);
  EXPECT_NEAR(events[0].rms_dbfs, Db(1 / std::sqrt(2.0)) + 10 * std::log10(0.5), 0.01);
}

TEST(AnalyzeTest, PureToneCentroidIsItsFrequencyWithinOneBin) {
  struct Row {
    double rate, interval_ms;
  };
  for (const Row& row : std::vector<Row>{{48000, 100}, {48000, 1000}, {16000, 10}, {8000, 250}}) {
    // As the processor sizes it: the largest power of two within the interval, up to 8192.
    uint32_t n = 2;
    while (n * 2 <= std::min<double>(row.rate * row.interval_ms / 1000, kMaxAnalyzeFftSize)) n *= 2;
    const double bin = row.rate / n;
    for (double hz : {150.0, 1234.5, 3000.0, 0.45 * row.rate}) {
      SCOPED_TRACE(absl::StrCat(hz, " Hz at ", row.rate, " Hz, ", row.interval_ms, " ms"));
      const std::vector<float> tone = testing::Sine(
          hz, row.rate, static_cast<size_t>(row.rate * row.interval_ms / 1000 * 3), 0.5, 0.3);
      const std::vector<AnalysisEvent> events =
          Analyze(tone, static_cast<uint32_t>(row.rate), 1, {{"interval_ms", row.interval_ms}});
      ASSERT_EQ(events.size(), 3u);
      for (const AnalysisEvent& event : events) {
        EXPECT_NEAR(event.spectral_centroid_hz, hz, bin);
      }
      std::printf("[ measured ] analyze centroid %g Hz (bin %.1f Hz): error %.3f bins\n", hz, bin,
                  (events[1].spectral_centroid_hz - hz) / bin);
    }
  }
}

TEST(AnalyzeTest, TwoTonesCentroidIsTheirPowerWeightedMeanWithinOneBin) {
  const double rate = 48000, bin = rate / 4096;  // 100 ms intervals: N = 4096
  std::vector<float> mix = testing::Sine(500, rate, 14400, 0.6);
  const std::vector<float> high = testing::Sine(3000, rate, 14400, 0.3, 1.0);
  for (size_t i = 0; i < mix.size(); ++i) mix[i] += high[i];
  const double expected = (500 * 0.36 + 3000 * 0.09) / (0.36 + 0.09);  // 1000 Hz
  const std::vector<AnalysisEvent> events = Analyze(mix, 48000, 1);
  ASSERT_EQ(events.size(), 3u);
  for (const AnalysisEvent& event : events) {
    EXPECT_NEAR(event.spectral_centroid_hz, expected, bin);
  }
  std::printf("[ measured ] analyze two-tone centroid error %.3f bins\n",
              (events[0].spectral_centroid_hz - expected) / bin);
}

TEST(AnalyzeTest, BandEnergiesAreLogSpacedFromFiftyHertzAndReadEachBandsLevel) {
  // 4 bands at 48 kHz: edges 50, 234, 1095, 5127 and 24000 Hz.
  const double tones[] = {150, 500, 3000, 12000};
  for (int band = 0; band < 4; ++band) {
    SCOPED_TRACE(absl::StrCat(tones[band], " Hz"));
    const std::vector<float> tone = testing::Sine(tones[band], 48000, 9600, 0.5);
    const std::vector<AnalysisEvent> events = Analyze(tone, 48000, 1, {{"bands", 4.0}});
    ASSERT_EQ(events.size(), 2u);
    const AnalysisEvent& event = events[1];
    EXPECT_EQ(event.num_bands, 4u);
    for (int b = 0; b < 4; ++b) {
      if (b == band) {
        // The tone's own level, -9.03 dBFS: Parseval's scaling.
        EXPECT_NEAR(event.band_energy_db[b], Db(0.5 / std::sqrt(2.0)), 0.05);
      } else {
        EXPECT_LT(event.band_energy_db[b], Db(0.5 / std::sqrt(2.0)) - 60) << b;
      }
    }
  }
  // White noise: the bands (and what lies below 50 Hz) add up to the RMS level.
  const std::vector<AnalysisEvent> events =
      Analyze(testing::WhiteNoise(48000, 0.5, 1), 48000, 1, {{"bands", 32.0}});
  for (const AnalysisEvent& event : events) {
    double sum = 0;
    for (uint32_t b = 0; b < event.num_bands; ++b)
      sum += std::pow(10, event.band_energy_db[b] / 10);
    EXPECT_NEAR(10 * std::log10(sum), event.rms_dbfs, 0.2);
  }
}

TEST(AnalyzeTest, EmitsOneEventPerIntervalAtItsFirstFrame) {
  std::vector<uint64_t> frames;
  const std::vector<AnalysisEvent> events = Analyze(testing::WhiteNoise(16000 + 700, 0.1, 2), 16000,
                                                    1, {{"interval_ms", 250.0}}, &frames);
  ASSERT_EQ(events.size(), 4u);  // the last, incomplete interval reports nothing
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(frames[i], i * 4000);
}

TEST(AnalyzeTest, EventsAndAudioDoNotDependOnChunking) {
  std::vector<float> left = testing::WhiteNoise(24000, 0.3, 3);
  const std::vector<float> tone = testing::Sine(440, 16000, 24000, 0.5);
  for (size_t i = 12000; i < left.size(); ++i) left[i] = tone[i];
  const std::string input = testing::ToS16Bytes(testing::Interleave({left, tone}));
  const PipelineConfig config =
      SameFormat(SampleEncoding::kS16, 16000, 2, {Proc("analyze", {{"interval_ms", 37.0}})});
  const testing::StreamResult whole =
      testing::ExpectEventsChunkingInvariant(Registry(), config, input);
  EXPECT_EQ(whole.events.size(), 24000u / 592);
  EXPECT_TRUE(whole.output == input) << "audio passes unchanged";
}

TEST(AnalyzeTest, SilenceReadsTheSilenceFloorAndHugeSamplesStayFinite) {
  const std::vector<AnalysisEvent> silent = Analyze(std::vector<float>(4800, 0.0f), 48000, 1);
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(silent[0].peak_dbfs, kSilenceDbfs);
  EXPECT_EQ(silent[0].rms_dbfs, kSilenceDbfs);
  EXPECT_EQ(silent[0].spectral_centroid_hz, 0.0f);
  EXPECT_EQ(silent[0].band_energy_db[0], kSilenceDbfs);

  std::vector<float> huge(9600, std::numeric_limits<float>::max());
  for (size_t i = 0; i < huge.size(); i += 2) huge[i] = -huge[i];
  for (const AnalysisEvent& event : Analyze(huge, 48000, 1)) {
    EXPECT_TRUE(std::isfinite(event.peak_dbfs));
    EXPECT_TRUE(std::isfinite(event.rms_dbfs));
    EXPECT_TRUE(std::isfinite(event.spectral_centroid_hz));
    for (uint32_t b = 0; b < event.num_bands; ++b)
      EXPECT_TRUE(std::isfinite(event.band_energy_db[b]));
  }
}

TEST(AnalyzeTest, ValidationNamesTheParameterAndItsRange) {
  const ProcessSpec spec{48000, 1024, 1};
  EXPECT_THAT(Chain::Build(Registry(), {Proc("analyze", {{"bands", 33.0}})}, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("analyze.bands must be in [1, 32], got 33")));
  EXPECT_THAT(Chain::Build(Registry(), {Proc("analyze", {{"bands", 2.5}})}, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("analyze.bands must be an integer in [1, 32]")));
  EXPECT_THAT(Chain::Build(Registry(), {Proc("analyze", {{"interval_ms", 5.0}})}, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("analyze.interval_ms must be in [10, 10000] ms, got 5")));
}

}  // namespace
}  // namespace audioproc
