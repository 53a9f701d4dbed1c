// What every processor states before it is built (ProcessorDefinition::estimate,
// resource_estimate.h) against what it does once built: the output spec Prepare returns, its
// latency, whether it works in place, the events it reports for any call length, and its CPU
// cost. (Memory: resource_estimate_memory_test.cc; chains and pipelines:
// chain_estimate_test.cc.)
//
// The CPU cost model is checked on a shared, noisy 2-core machine whose speed varies up to 2x
// between runs, so nothing here compares wall-clock time with a fixed number:
//   - each processor runs alone and is timed by its thread's CPU clock
//     (CLOCK_THREAD_CPUTIME_ID), so time the thread spends preempted by other processes does
//     not count (tests/processors/cost_probe.h);
//   - each case takes the fastest of 5 repetitions of at least 40 ms of CPU (0.2 s a case,
//     about 10 s for the 40 cases), which discards repetitions that other processes slowed
//     through the caches, memory bus or frequency;
//   - the machine's speed is factored out: the geometric mean over all cases of measured /
//     model, measured in the same run, is how much faster or slower this machine is right now
//     than when the constants were calibrated. Each case's model, scaled by it, must lie
//     within 2x of its measurement: the model's shape (how processors, rates and channel
//     counts compare) is right whatever the machine is doing.
//   - Separately and more loosely, each unscaled model must lie within 4x of its measurement,
//     and the speed factor itself within [1/3, 3]: the absolute scale stays honest.
// Left out of sanitizer builds, where instrumentation changes every cost.
#include "chain/resource_estimate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "chain/chain.h"
#include "chain/events.h"
#include "chain/registry.h"
#include "gtest/gtest.h"
#include "processors/gain.h"
#include "tests/processors/cost_probe.h"
#include "tests/processors/estimate_cases.h"
#include "tests/testing/wav.h"

namespace audioproc {
namespace {

const ProcessorRegistry& Registry() { return ProcessorRegistry::Default(); }

absl::StatusOr<StageEstimate> EstimateOf(const ProcessorConfig& config, const ProcessSpec& spec) {
  absl::StatusOr<ParamValues> resolved = Registry().Resolve(config, spec);
  if (!resolved.ok()) return resolved.status();
  return Registry().Find(config.name)->estimate(*resolved, spec);
}

TEST(ResourceEstimateTest, EveryProcessorStatesWhatPrepareReturnsAndBoundsItsLatency) {
  for (const testing::EstimateCase& c : testing::EstimateCases(Registry())) {
    absl::StatusOr<StageEstimate> estimate = EstimateOf(c.config, c.spec);
    ASSERT_TRUE(estimate.ok()) << c.name << ": " << estimate.status();
    absl::StatusOr<std::unique_ptr<Processor>> processor =
        Registry().Create(c.config, c.spec, nullptr);
    ASSERT_TRUE(processor.ok()) << c.name;
    absl::StatusOr<ProcessSpec> output = (*processor)->Prepare(c.spec);
    ASSERT_TRUE(output.ok()) << c.name << ": " << output.status();
    EXPECT_EQ(estimate->output, *output) << c.name;
    EXPECT_GE(static_cast<int64_t>(estimate->max_latency_frames), (*processor)->LatencyFrames())
        << c.name;
    EXPECT_EQ(estimate->in_place, (*processor)->ProcessesInPlace()) << c.name;
    // What reports no events states none.
    if ((*processor)->MaxEventsPerBlock(c.spec.max_block_frames) == 0) {
      EXPECT_EQ(estimate->events.MaxEvents(c.spec.max_block_frames), 0u) << c.name;
    }
  }
}

TEST(ResourceEstimateDeathTest, ARegistryRefusesAProcessorThatStatesNoEstimate) {
  ProcessorDefinition silent = GainDefinition();
  silent.estimate = nullptr;
  EXPECT_DEATH(ProcessorRegistry({silent}), "processor 'gain' states no resource estimate");
}

TEST(ResourceEstimateTest, EventRateBoundsCallsAndRunsOfCalls) {
  EXPECT_EQ((EventRate{0, 0}.MaxEvents(1000)), 0u);
  EXPECT_EQ((EventRate{0, 3}.MaxEvents(1000)), 3u);
  EXPECT_EQ((EventRate{1.0 / 1600, 0}.MaxEvents(1)), 1u);
  EXPECT_EQ((EventRate{1.0 / 1600, 0}.MaxEvents(1600)), 1u);
  EXPECT_EQ((EventRate{1.0 / 1600, 0}.MaxEvents(1601)), 2u);
  EXPECT_EQ((EventRate{1.0 / 160, 2}.MaxEvents(1000)), 9u);
}

// Counts what a processor reports.
class CountingSink final : public EventSink {
 public:
  void Emit(uint64_t /*frame*/, const EventPayload& /*payload*/) noexcept override { ++count; }
  uint64_t count = 0;
};

// Speech with pauses (the demo utterance, cut into 0.3 s pieces with 0.3 s of near-silence
// between them), repeated to `frames` frames per channel: it makes vad start and stop.
std::vector<float> SpeechWithPauses(size_t frames) {
  absl::StatusOr<testing::WavAudio> wav =
      testing::ReadWavS16(testing::SourcePath("clients/demo/speech_16k.wav"));
  EXPECT_TRUE(wav.ok()) << wav.status();
  std::vector<float> out;
  if (!wav.ok()) return std::vector<float>(frames, 0.0f);
  constexpr size_t kPiece = 4800;
  for (size_t i = 0; out.size() < frames; i = (i + kPiece) % (wav->samples.size() - kPiece)) {
    out.insert(out.end(), wav->samples.begin() + i, wav->samples.begin() + i + kPiece);
    for (size_t k = 0; k < kPiece; ++k) out.push_back(1e-5f * static_cast<float>(k % 7));
  }
  out.resize(frames);
  return out;
}

struct EventCase {
  std::string name;
  ProcessorConfig config;
  bool tight;  // whether some call must reach the bound
};

std::vector<EventCase> EventCases() {
  auto with = [](const char* name, const std::vector<std::pair<const char*, ParamValue>>& params) {
    ProcessorConfig config{name, {}};
    for (const auto& [key, value] : params) config.params.Set(key, value);
    return config;
  };
  return {
      {"loudness", with("loudness", {}), true},
      {"analyze 10 ms", with("analyze", {{"interval_ms", 10.0}}), true},
      {"analyze 100 ms", with("analyze", {}), true},
      {"analyze 10 s", with("analyze", {{"interval_ms", 10000.0}}), true},
      {"vad, no hangover", with("vad", {{"hangover_ms", 0.0}, {"threshold", 0.3}}), false},
      {"vad", with("vad", {}), false},
  };
}

// Every call, of 1 frame up to max_block_frames (and runs of calls), reports at most what the
// stated EventRate allows, at 16 kHz mono and 48 kHz stereo.
TEST(ResourceEstimateTest, ProcessorsReportNoMoreEventsThanTheyStateForAnyCallLength) {
  for (const EventCase& e : EventCases()) {
    for (const ProcessSpec& spec : {ProcessSpec{16000, kDefaultMaxBlockFrames, 1},
                                    ProcessSpec{48000, kDefaultMaxBlockFrames, 2}}) {
      SCOPED_TRACE(absl::StrCat(e.name, " @", testing::FormatName(spec)));
      absl::StatusOr<StageEstimate> estimate = EstimateOf(e.config, spec);
      ASSERT_TRUE(estimate.ok()) << estimate.status();
      absl::StatusOr<std::unique_ptr<Processor>> processor =
          Registry().Create(e.config, spec, nullptr);
      ASSERT_TRUE(processor.ok());
      ASSERT_TRUE((*processor)->Prepare(spec).ok());
      CountingSink sink;
      (*processor)->set_event_sink(&sink);
      const size_t total = static_cast<size_t>(spec.sample_rate_hz * 40);
      const std::vector<float> mono = SpeechWithPauses(total);
      std::vector<std::vector<float>> channels(spec.channels, mono);
      std::mt19937 rng(17);
      // Sizes of every kind: single frames, small primes, just under and over a period,
      // the largest block, and random ones.
      const std::vector<uint32_t> fixed = {1, 2, 7, 159, 160, 161, 479, 480, 1023, 1024};
      std::uniform_int_distribution<uint32_t> random_size(1, spec.max_block_frames);
      size_t offset = 0;
      bool reached = false;
      uint64_t run_events = 0, run_frames = 0, total_events = 0;
      for (size_t call = 0; offset < total; ++call) {
        const uint32_t wanted = call % 3 == 0 ? fixed[(call / 3) % fixed.size()] : random_size(rng);
        const auto frames = static_cast<uint32_t>(std::min<size_t>(wanted, total - offset));
        std::array<float*, kMaxChannels> pointers{};
        for (uint32_t c = 0; c < spec.channels; ++c) pointers[c] = channels[c].data() + offset;
        AudioBlock block(pointers.data(), spec.channels, frames);
        AudioBlock unused;
        const uint64_t before = sink.count;
        (*processor)->Process(block, unused);
        const uint64_t events = sink.count - before;
        ASSERT_LE(events, estimate->events.MaxEvents(frames)) << "a call of " << frames;
        reached = reached || (events > 0 && events == estimate->events.MaxEvents(frames));
        // Runs of 20 calls, as a chunk the chain cuts into blocks.
        run_events += events;
        run_frames += frames;
        if (call % 20 == 19) {
          ASSERT_LE(run_events, estimate->events.MaxEvents(run_frames)) << "a run of calls";
          run_events = run_frames = 0;
        }
        offset += frames;
        total_events += events;
      }
      EXPECT_GT(total_events, 0u) << "no events at all: the bound was not exercised";
      if (e.tight) {
        EXPECT_TRUE(reached) << "the bound is never reached: it is not tight";
      }
    }
  }
}

// The same through chains, whose stated rate (EstimateChain) is in the chain's input frames:
// stacked reporters and a resample between them, chunks of any size.
TEST(ResourceEstimateTest, ChainsReportNoMoreEventsThanEstimateChainStates) {
  auto with = [](const char* name, const std::vector<std::pair<const char*, ParamValue>>& params) {
    ProcessorConfig config{name, {}};
    for (const auto& [key, value] : params) config.params.Set(key, value);
    return config;
  };
  const std::vector<std::vector<ProcessorConfig>> chains = {
      {with("analyze", {{"interval_ms", 10.0}}), with("loudness", {}),
       with("vad", {{"hangover_ms", 0.0}})},
      {with("analyze", {{"interval_ms", 10.0}}), with("resample", {{"sample_rate_hz", 44100.0}}),
       with("analyze", {{"interval_ms", 10.0}}), with("resample", {{"sample_rate_hz", 8000.0}}),
       with("analyze", {{"interval_ms", 10.0}})},
  };
  const ProcessSpec spec{48000, kDefaultMaxBlockFrames, 2};
  for (size_t i = 0; i < chains.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("chain ", i));
    absl::StatusOr<ChainEstimate> estimate = EstimateChain(Registry(), chains[i], spec);
    ASSERT_TRUE(estimate.ok()) << estimate.status();
    absl::StatusOr<std::unique_ptr<Chain>> chain = Chain::Build(Registry(), chains[i], spec);
    ASSERT_TRUE(chain.ok()) << chain.status();
    const size_t total = 48000 * 20;
    std::vector<std::vector<float>> channels(2, SpeechWithPauses(total));
    std::mt19937 rng(5);
    std::uniform_int_distribution<uint32_t> size(1, 3 * kDefaultMaxBlockFrames);
    uint64_t reported = 0;
    for (size_t offset = 0, call = 0; offset < total; ++call) {
      const uint32_t wanted = call % 4 == 0 ? static_cast<uint32_t>(call % 97 + 1) : size(rng);
      const auto frames = static_cast<uint32_t>(std::min<size_t>(wanted, total - offset));
      std::array<float*, kMaxChannels> pointers{channels[0].data() + offset,
                                                channels[1].data() + offset};
      const uint64_t dropped = (*chain)->dropped_events();
      (*chain)->Process(AudioBlock(pointers.data(), 2, frames), [](const AudioBlock&) {});
      const uint64_t events = (*chain)->events().size() + (*chain)->dropped_events() - dropped;
      (*chain)->ClearEvents();
      ASSERT_LE(events, estimate->events.MaxEvents(frames)) << "a chunk of " << frames;
      reported += events;
      offset += frames;
    }
    EXPECT_GT(reported, 0u);
  }
}

#ifndef AUDIOPROC_SANITIZE

TEST(ResourceEstimateTest, CostModelIsWithinTwiceTheMeasuredCostOfEveryProcessor) {
  struct Case {
    std::string name;
    double model = 0;
    double measured = 0;
  };
  std::vector<Case> cases;
  for (const ProcessSpec& probe :
       {testing::ProbeFormat(16000, 1), testing::ProbeFormat(48000, 2)}) {
    for (const ProcessorDefinition& definition : Registry().definitions()) {
      const ProcessSpec format = testing::FormatFor(definition.info.name, probe);
      const ProcessorConfig config = ExampleConfig(definition);
      const std::string name =
          absl::StrCat(definition.info.name, " @", testing::FormatName(format));
      absl::StatusOr<StageEstimate> estimate = EstimateOf(config, format);
      ASSERT_TRUE(estimate.ok()) << name << ": " << estimate.status();
      absl::StatusOr<double> measured =
          testing::MeasureCores(Registry(), config, format, /*repetitions=*/5, /*seconds=*/0.04);
      ASSERT_TRUE(measured.ok()) << name << ": " << measured.status();
      ASSERT_GT(*measured, 0) << name;
      ASSERT_GT(estimate->cpu_cores, 0) << name;
      cases.push_back({name, estimate->cpu_cores, *measured});
    }
  }
  double log_sum = 0;
  for (const Case& c : cases) log_sum += std::log(c.measured / c.model);
  const double speed = std::exp(log_sum / static_cast<double>(cases.size()));
  std::string table = absl::StrFormat(
      "machine speed factor (measured / model, geometric mean): %.3f\n%-22s %12s %12s %8s %8s\n",
      speed, "processor", "model", "measured", "ratio", "scaled");
  for (const Case& c : cases) {
    const double ratio = c.model / c.measured;
    absl::StrAppendFormat(&table, "%-22s %12.3e %12.3e %8.3f %8.3f\n", c.name, c.model, c.measured,
                          ratio, ratio * speed);
    EXPECT_GE(ratio * speed, 0.5) << c.name << ": the model's shape is off\n";
    EXPECT_LE(ratio * speed, 2.0) << c.name << ": the model's shape is off\n";
    EXPECT_GE(ratio, 0.25) << c.name << ": the model's scale is off\n";
    EXPECT_LE(ratio, 4.0) << c.name << ": the model's scale is off\n";
  }
  EXPECT_GE(speed, 1.0 / 3) << "this machine is far slower than the calibration's";
  EXPECT_LE(speed, 3.0) << "this machine is far faster than the calibration's";
  std::printf("%s", table.c_str());
}

#endif  // AUDIOPROC_SANITIZE

}  // namespace
}  // namespace audioproc
