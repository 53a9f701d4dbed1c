// Chain and StreamPipeline state (issue 14): a chain saved between two random chunks and
// restored into a freshly built chain continues byte-identically, events at the same output
// frames, through the exact-length tail; the repo's voice and music chains among them. A blob
// of another chain shape, a truncated or bit-flipped one is refused and leaves the chain as
// built.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/workload_chains.h"
#include "chain/chain.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "dsp/state_codec.h"
#include "gtest/gtest.h"
#include "tests/processors/event_test_util.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;

std::unique_ptr<Chain> Build(const std::vector<ProcessorConfig>& configs, const ProcessSpec& spec) {
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(ProcessorRegistry::Default(), configs, spec);
  EXPECT_TRUE(chain.ok()) << chain.status();
  return chain.ok() ? *std::move(chain) : nullptr;
}

// What a chain emitted: the samples, planar per channel, and the events as text.
struct Output {
  std::vector<std::vector<float>> samples;
  std::vector<std::string> events;
  void Take(Chain& chain) {
    for (const ProcessorEvent& event : chain.events()) {
      events.push_back(testing::EventText(event));
    }
    chain.ClearEvents();
  }
  auto Emit() {
    return [this](const AudioBlock& block) {
      samples.resize(block.num_channels());
      for (uint32_t c = 0; c < block.num_channels(); ++c) {
        samples[c].insert(samples[c].end(), block.channel(c),
                          block.channel(c) + block.num_frames());
      }
    };
  }
};

void Feed(Chain& chain, const std::vector<std::vector<float>>& signal, size_t begin,
          uint32_t frames, Output& output) {
  AudioBuffer buffer(static_cast<uint32_t>(signal.size()), frames);
  AudioBlock block = buffer.Block();
  for (uint32_t c = 0; c < signal.size(); ++c) {
    std::copy_n(signal[c].begin() + static_cast<std::ptrdiff_t>(begin), frames, block.channel(c));
  }
  chain.Process(block, output.Emit());
  output.Take(chain);
}

std::vector<std::vector<float>> Signal(const ProcessSpec& spec, size_t frames, uint32_t seed) {
  std::vector<std::vector<float>> channels;
  for (uint32_t c = 0; c < spec.channels; ++c) {
    std::vector<float> x = testing::WhiteNoise(frames, 0.6, seed + c);
    const std::vector<float> tone =
        testing::Sine(220.0 * (c + 1), spec.sample_rate_hz, frames, 0.5);
    const size_t turn = static_cast<size_t>(spec.sample_rate_hz / 4);
    for (size_t i = 0; i < frames; ++i) x[i] = (i / turn) % 3 == 1 ? 0.001f * x[i] : x[i] + tone[i];
    channels.push_back(std::move(x));
  }
  return channels;
}

bool Identical(const Output& a, const Output& b) {
  if (a.samples.size() != b.samples.size()) return false;
  for (size_t c = 0; c < a.samples.size(); ++c) {
    if (a.samples[c].size() != b.samples[c].size()) return false;
    if (!a.samples[c].empty() &&
        std::memcmp(a.samples[c].data(), b.samples[c].data(), a.samples[c].size() * 4) != 0) {
      return false;
    }
  }
  return true;
}

struct ChainCase {
  const char* name;
  std::vector<ProcessorConfig> configs;
  ProcessSpec spec;
};

std::vector<ChainCase> ChainCases() {
  ProcessorConfig highpass{"highpass", {}};
  highpass.params.Set("cutoff_hz", 100.0);
  ProcessorConfig limiter{"limiter", {}};
  limiter.params.Set("true_peak", true);
  // The music chain without its resample too, so a failure points at one or the other.
  std::vector<ProcessorConfig> music = bench::MusicChain();
  music.pop_back();
  ProcessorConfig to_8k{"resample", {}};
  to_8k.params.Set("sample_rate_hz", 8000.0);
  // Processors that report events, behind ones with latency, so the events' output frames
  // depend on the restored counters.
  const ProcessorRegistry& registry = ProcessorRegistry::Default();
  ProcessorConfig vad{"vad", {}};
  vad.params.Set("report_interval_ms", 50.0);
  const std::vector<ProcessorConfig> reporting = {limiter,
                                                  ExampleConfig(*registry.Find("convolve")),
                                                  vad,
                                                  ExampleConfig(*registry.Find("analyze")),
                                                  ExampleConfig(*registry.Find("loudness")),
                                                  {"denoise", {}}};
  return {
      {"voice", bench::VoiceChain(), {16000, kDefaultMaxBlockFrames, 1}},
      {"music without its resample", music, {48000, kDefaultMaxBlockFrames, 2}},
      {"reporting 16k mono", reporting, {16000, kDefaultMaxBlockFrames, 1}},
      {"reporting 48k stereo", reporting, {48000, kDefaultMaxBlockFrames, 2}},
      {"music", bench::MusicChain(), {48000, kDefaultMaxBlockFrames, 2}},
      {"dynamics 16k mono",
       {highpass, {"noise_gate", {}}, {"compressor", {}}, limiter},
       {16000, kDefaultMaxBlockFrames, 1}},
      {"dynamics 48k stereo",
       {highpass, {"noise_gate", {}}, {"compressor", {}}, limiter, {"dc_block", {}}},
       {48000, kDefaultMaxBlockFrames, 2}},
      {"two resamples with reporters between",
       {to_8k, vad, ExampleConfig(*registry.Find("resample"))},
       {48000, kDefaultMaxBlockFrames, 1}},
  };
}

TEST(ChainStateTest, ARestoredChainContinuesByteIdenticallyThroughItsTail) {
  for (const ChainCase& test_case : ChainCases()) {
    std::unique_ptr<Chain> probe = Build(test_case.configs, test_case.spec);
    ASSERT_NE(probe, nullptr) << test_case.name;
    if (!probe->SupportsState()) {
      StateWriter writer;
      EXPECT_THAT(probe->SaveState(writer), StatusIs(absl::StatusCode::kUnimplemented, _))
          << test_case.name;
      continue;
    }
    for (uint32_t seed = 1; seed <= 4; ++seed) {
      SCOPED_TRACE(::testing::Message() << test_case.name << ", seed " << seed);
      std::mt19937 rng(seed);
      const size_t total = static_cast<size_t>(test_case.spec.sample_rate_hz * 1.5);
      const auto signal = Signal(test_case.spec, total, seed);
      // Chunks the chain cuts itself: any size, past the block size too.
      std::vector<uint32_t> chunks;
      std::uniform_int_distribution<uint32_t> size(1, 3000);
      for (size_t done = 0; done < total;) {
        chunks.push_back(static_cast<uint32_t>(std::min<size_t>(total - done, size(rng))));
        done += chunks.back();
      }
      const size_t snapshot = std::uniform_int_distribution<size_t>(1, chunks.size() - 1)(rng);

      std::unique_ptr<Chain> reference = Build(test_case.configs, test_case.spec);
      std::unique_ptr<Chain> first = Build(test_case.configs, test_case.spec);
      std::unique_ptr<Chain> second;
      Output expected;
      Output got;
      size_t begin = 0;
      for (size_t i = 0; i < chunks.size(); ++i) {
        if (i == snapshot) {
          StateWriter writer;
          ASSERT_THAT(first->SaveState(writer), testing::IsOk());
          second = Build(test_case.configs, test_case.spec);
          StateReader reader(writer.bytes());
          ASSERT_THAT(second->RestoreState(reader), testing::IsOk());
        }
        Feed(*reference, signal, begin, chunks[i], expected);
        Feed(second != nullptr ? *second : *first, signal, begin, chunks[i], got);
        begin += chunks[i];
      }
      reference->Flush(expected.Emit());
      expected.Take(*reference);
      second->Flush(got.Emit());
      got.Take(*second);
      EXPECT_TRUE(Identical(expected, got));
      EXPECT_EQ(got.events, expected.events);
      if (std::string_view(test_case.name).starts_with("reporting")) {
        EXPECT_GT(expected.events.size(), 50u);
      }
      EXPECT_EQ(second->frames_in(), reference->frames_in());
      EXPECT_EQ(second->frames_out(), reference->frames_out());
    }
  }
}

// A chain state after some input, to corrupt.
std::vector<uint8_t> SavedChain(const ChainCase& test_case) {
  std::unique_ptr<Chain> chain = Build(test_case.configs, test_case.spec);
  const auto signal = Signal(test_case.spec, 5000, 7);
  Output output;
  Feed(*chain, signal, 0, 5000, output);
  StateWriter writer;
  EXPECT_THAT(chain->SaveState(writer), testing::IsOk());
  return {writer.bytes().begin(), writer.bytes().end()};
}

// A chain that refused a state runs on, its output finite. (Its processors are Reset, but a
// run-time parameter a stage read from the blob before a later stage failed may stay, in its
// range: a refused restore leaves a usable chain, not necessarily the one built.)
void ExpectUsable(Chain& chain, const ChainCase& test_case) {
  const auto signal = Signal(test_case.spec, 4000, 8);
  Output output;
  Feed(chain, signal, 0, 4000, output);
  for (const auto& channel : output.samples) {
    for (const float x : channel) ASSERT_TRUE(std::isfinite(x));
  }
  EXPECT_EQ(chain.frames_in(), 4000u);
}

// A chain that refused a state before any stage read its part: what a fresh chain gives.
void ExpectAsBuilt(Chain& chain, const ChainCase& test_case) {
  std::unique_ptr<Chain> fresh = Build(test_case.configs, test_case.spec);
  const auto signal = Signal(test_case.spec, 4000, 8);
  Output a;
  Output b;
  Feed(chain, signal, 0, 4000, a);
  Feed(*fresh, signal, 0, 4000, b);
  EXPECT_TRUE(Identical(a, b));
}

TEST(ChainStateTest, TruncatedAndFlippedStatesAreRefusedAndTheChainRunsOn) {
  std::mt19937 rng(3);
  for (const ChainCase& test_case : ChainCases()) {
    SCOPED_TRACE(test_case.name);
    if (!Build(test_case.configs, test_case.spec)->SupportsState()) continue;
    const std::vector<uint8_t> blob = SavedChain(test_case);
    std::unique_ptr<Chain> chain = Build(test_case.configs, test_case.spec);
    const size_t step = std::max<size_t>(1, blob.size() / 150);
    for (size_t length = 0; length < blob.size(); length += step) {
      StateReader reader({blob.data(), length});
      const absl::StatusCode code = chain->RestoreState(reader).code();
      ASSERT_TRUE(code == absl::StatusCode::kInvalidArgument ||
                  code == absl::StatusCode::kFailedPrecondition)
          << "length " << length << ": " << code;
    }
    ExpectUsable(*chain, test_case);
    std::uniform_int_distribution<size_t> byte(0, blob.size() - 1);
    for (int round = 0; round < 100; ++round) {
      std::vector<uint8_t> corrupt = blob;
      corrupt[byte(rng)] ^= static_cast<uint8_t>(1 << (round % 8));
      StateReader reader(corrupt);
      if (!chain->RestoreState(reader).ok()) ExpectUsable(*chain, test_case);
    }
  }
}

TEST(ChainStateTest, AStateOfAnotherChainIsRefusedPrecisely) {
  const std::vector<ChainCase> cases = ChainCases();
  const ChainCase& mono = cases[5];    // dynamics 16k mono
  const ChainCase& stereo = cases[6];  // dynamics 48k stereo
  const std::vector<uint8_t> blob = SavedChain(mono);
  // Another format.
  std::unique_ptr<Chain> other_format = Build(mono.configs, {48000, kDefaultMaxBlockFrames, 1});
  StateReader reader1(blob);
  EXPECT_THAT(other_format->RestoreState(reader1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another chain")));
  // Another number of processors.
  std::unique_ptr<Chain> longer = Build(stereo.configs, mono.spec);
  StateReader reader2(blob);
  EXPECT_THAT(longer->RestoreState(reader2),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("number of processors")));
  // Another processor at the same place.
  std::vector<ProcessorConfig> swapped = mono.configs;
  std::swap(swapped[1], swapped[2]);
  std::unique_ptr<Chain> reordered = Build(swapped, mono.spec);
  StateReader reader3(blob);
  EXPECT_THAT(reordered->RestoreState(reader3),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chain[1] is compressor")));
  // Refused before any stage read its part: the chain is as built.
  ExpectAsBuilt(*reordered, {"swapped", swapped, mono.spec});
  // Another version of the chain's form.
  std::vector<uint8_t> newer = blob;
  newer[4] ^= 1;
  std::unique_ptr<Chain> chain = Build(mono.configs, mono.spec);
  StateReader reader4(newer);
  EXPECT_THAT(chain->RestoreState(reader4),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version")));
}

TEST(ChainStateTest, AStateTooLargeForTheWriterFailsWithoutGrowing) {
  const std::vector<ChainCase> cases = ChainCases();
  const ChainCase& test_case = cases[6];
  std::unique_ptr<Chain> chain = Build(test_case.configs, test_case.spec);
  StateWriter writer(64);
  EXPECT_THAT(chain->SaveState(writer), StatusIs(absl::StatusCode::kResourceExhausted, _));
}

// The pipeline: s16 with dither, chunks cut inside frames, snapshot between chunks; once in
// the input's format and once to another rate and channel count (the pipeline appends a mix
// and a resample).
class PipelineStateOutputTest : public ::testing::TestWithParam<StreamFormat> {};

TEST_P(PipelineStateOutputTest,
       ARestoredPipelineContinuesByteIdenticallyWithDitherAndPartialFrames) {
  PipelineConfig config;
  config.input = {SampleEncoding::kS16, 48000, 2};
  config.output = GetParam();
  config.dither = true;
  config.stream_id = "resumed-stream";
  ProcessorConfig gain{"gain", {}};
  gain.params.Set("gain_db", -9.0);
  config.chain = {gain, {"compressor", {}}, {"limiter", {}}};
  const std::vector<float> signal = testing::WhiteNoise(2 * 48000, 0.7, 4);
  const std::string input = testing::ToS16Bytes(signal);
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    std::mt19937 rng(seed);
    auto reference = StreamPipeline::Create(ProcessorRegistry::Default(), config);
    auto first = StreamPipeline::Create(ProcessorRegistry::Default(), config);
    ASSERT_TRUE(reference.ok() && first.ok());
    ASSERT_TRUE((*reference)->SupportsState());
    std::unique_ptr<StreamPipeline> second;
    std::string expected;
    std::string got;
    std::uniform_int_distribution<size_t> size(1, 9001);  // odd: inside frames
    const size_t snapshot_after = input.size() / 3 + size(rng) * 7;
    bool restored = false;
    for (size_t at = 0; at < input.size();) {
      const size_t n = std::min(input.size() - at, size(rng));
      if (!restored && at >= snapshot_after) {
        StateWriter writer;
        ASSERT_THAT((*first)->SaveState(writer), testing::IsOk());
        second = *StreamPipeline::Create(ProcessorRegistry::Default(), config);
        StateReader reader(writer.bytes());
        ASSERT_THAT(second->RestoreState(reader), testing::IsOk());
        restored = true;
      }
      const absl::string_view chunk = absl::string_view(input).substr(at, n);
      (*reference)->ProcessChunk(chunk, &expected);
      (restored ? second.get() : first->get())->ProcessChunk(chunk, &got);
      at += n;
    }
    ASSERT_TRUE(restored);
    (*reference)->Finish(&expected);
    second->Finish(&got);
    EXPECT_EQ(got, expected) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Outputs, PipelineStateOutputTest,
                         ::testing::Values(StreamFormat{SampleEncoding::kS16, 48000, 2},
                                           StreamFormat{SampleEncoding::kS16, 44100, 1}));

TEST(PipelineStateTest, AStateOfAnotherInputFormatIsRefused) {
  PipelineConfig config;
  config.input = {SampleEncoding::kS16, 48000, 2};
  config.output = config.input;
  config.chain = {{"compressor", {}}};
  auto pipeline = StreamPipeline::Create(ProcessorRegistry::Default(), config);
  ASSERT_TRUE(pipeline.ok());
  std::string out;
  (*pipeline)->ProcessChunk(std::string(4001, '\x11'), &out);  // ends inside a frame
  StateWriter writer;
  ASSERT_THAT((*pipeline)->SaveState(writer), testing::IsOk());
  PipelineConfig f32 = config;
  f32.input.encoding = SampleEncoding::kF32;
  auto other = StreamPipeline::Create(ProcessorRegistry::Default(), f32);
  ASSERT_TRUE(other.ok());
  StateReader reader(writer.bytes());
  EXPECT_THAT((*other)->RestoreState(reader),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("input format")));
}

}  // namespace
}  // namespace audioproc
