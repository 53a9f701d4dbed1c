// Processor state (issue 14): every processor that says it supports state, saved at a random
// point of a randomly chunked stream and restored into a fresh instance, continues
// byte-identically (output and events); corrupt, truncated, foreign and old-version blobs are
// refused without harm. Runs over every registered processor, so a new one is covered as soon
// as it is registered.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "chain/chain.h"
#include "chain/registry.h"
#include "dsp/state_codec.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/estimate_cases.h"
#include "tests/processors/event_test_util.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::audioproc::testing::StatusIs;
using ::testing::_;

class RecordingSink final : public EventSink {
 public:
  void Emit(uint64_t frame, const EventPayload& payload) noexcept override {
    events.push_back(testing::EventText({frame, 0, payload}));
  }
  std::vector<std::string> events;
};

// Loud noise, near silence, a tone and a ramp of level, in turns of 200 ms: gates open and
// close, compressors and limiters act, detectors see speech-like and silent stretches.
std::vector<std::vector<float>> TestSignal(const ProcessSpec& spec, size_t frames, uint32_t seed) {
  std::vector<std::vector<float>> channels;
  const size_t turn = static_cast<size_t>(spec.sample_rate_hz / 5);
  for (uint32_t c = 0; c < spec.channels; ++c) {
    const std::vector<float> noise = testing::WhiteNoise(frames, 1.0, seed + c);
    std::vector<float> x(frames);
    for (size_t i = 0; i < frames; ++i) {
      const double t = static_cast<double>(i) / spec.sample_rate_hz;
      switch ((i / turn) % 4) {
        case 0:
          x[i] = 0.9f * noise[i];
          break;
        case 1:
          x[i] = 0.0005f * noise[i];
          break;
        case 2:
          x[i] = static_cast<float>(0.7 * std::sin(2 * M_PI * (300.0 + 200 * c) * t)) +
                 0.05f * noise[i];
          break;
        default:
          x[i] = static_cast<float>((i % turn) / static_cast<double>(turn)) * 1.2f * noise[i];
      }
    }
    channels.push_back(std::move(x));
  }
  return channels;
}

// The test signal for `name` at `spec`: for aec (the last channel its reference) the
// microphones hear the reference's echo (delayed 20 ms, two taps) under a quieter signal of their
// own, so the delay estimator locks and the adaptive filter adapts.
std::vector<std::vector<float>> SignalFor(const std::string& name, const ProcessSpec& spec,
                                          size_t frames, uint32_t seed) {
  std::vector<std::vector<float>> channels = TestSignal(spec, frames, seed);
  if (name != "aec" || channels.size() < 2) return channels;
  const std::vector<float>& reference = channels.back();
  const auto delay = static_cast<size_t>(0.02 * spec.sample_rate_hz);
  for (size_t c = 0; c + 1 < channels.size(); ++c) {
    std::vector<float>& mic = channels[c];
    for (size_t i = 0; i < frames; ++i) {
      const float echo = (i >= delay ? 0.5f * reference[i - delay] : 0.0f) +
                         (i >= delay + 7 ? -0.25f * reference[i - delay - 7] : 0.0f);
      mic[i] = echo + 0.05f * mic[i];
    }
  }
  return channels;
}

// One processor of a config, built and prepared as a chain builds it, with buffers to drive
// it directly.
struct Instance {
  std::unique_ptr<Chain> chain;  // owns the processor
  Processor* processor = nullptr;
  ProcessSpec input;
  ProcessSpec output;
  AudioBuffer in;
  AudioBuffer out;
  RecordingSink sink;

  // At `requested`, or with a reference channel beside it for aec (testing::FormatFor).
  static std::unique_ptr<Instance> Make(const ProcessorConfig& config,
                                        const ProcessSpec& requested) {
    const ProcessSpec spec = testing::FormatFor(config.name, requested);
    auto instance = std::make_unique<Instance>();
    absl::StatusOr<std::unique_ptr<Chain>> chain =
        Chain::Build(ProcessorRegistry::Default(), {config}, spec);
    if (!chain.ok()) {
      ADD_FAILURE() << config.name << ": " << chain.status();
      return nullptr;
    }
    instance->chain = *std::move(chain);
    instance->processor = &instance->chain->processor(0);
    instance->input = spec;
    instance->output = instance->chain->output_spec();
    instance->in = AudioBuffer(spec.channels, spec.max_block_frames);
    instance->out = AudioBuffer(instance->output.channels, instance->output.max_block_frames);
    instance->processor->set_event_sink(&instance->sink);
    return instance;
  }

  // Runs frames [begin, begin + frames) of `signal` (frames <= max_block_frames) and appends
  // the output to `output`, per channel.
  void Run(const std::vector<std::vector<float>>& signal, size_t begin, uint32_t frames,
           std::vector<std::vector<float>>& output) {
    AudioBlock block = in.Block(frames);
    for (uint32_t c = 0; c < input.channels; ++c) {
      std::copy_n(signal[c].begin() + static_cast<std::ptrdiff_t>(begin), frames, block.channel(c));
    }
    AudioBlock result = out.Block();
    processor->Process(block, result);
    if (processor->ProcessesInPlace()) result = block;
    output.resize(result.num_channels());
    for (uint32_t c = 0; c < result.num_channels(); ++c) {
      output[c].insert(output[c].end(), result.channel(c), result.channel(c) + result.num_frames());
    }
  }
};

struct Case {
  ProcessorConfig config;
  const ProcessorDefinition* definition;
};

// Every registered processor's example, and the variants whose state differs in form.
std::vector<Case> Cases() {
  const ProcessorRegistry& registry = ProcessorRegistry::Default();
  std::vector<Case> cases;
  for (const ProcessorDefinition& definition : registry.definitions()) {
    cases.push_back({ExampleConfig(definition), &definition});
  }
  ProcessorConfig true_peak{"limiter", {}};
  true_peak.params.Set("true_peak", true);
  true_peak.params.Set("lookahead_ms", 3.0);
  cases.push_back({true_peak, registry.Find("limiter")});
  // Reports every 50 ms, so events carry the features' probabilities and the frame count.
  ProcessorConfig reporting{"vad", {}};
  reporting.params.Set("report_interval_ms", 50.0);
  reporting.params.Set("mute", true);
  reporting.params.Set("threshold", 0.3);
  cases.push_back({reporting, registry.Find("vad")});
  ProcessorConfig steep{"highpass", {}};
  steep.params.Set("cutoff_hz", 120.0);
  steep.params.Set("order", 8.0);
  cases.push_back({steep, registry.Find("highpass")});
  // resample beside its example (to 44.1 kHz, a table of 441 or 147 exact phases): down by an
  // integer or a fraction, up, an odd rate whose phases are interpolated, every quality.
  const std::pair<double, const char*> conversions[] = {
      {8000, "LOW"}, {11025, "MEDIUM"}, {96000, "VERY_HIGH"}, {44101, "HIGH"}, {8001, "LOW"}};
  for (const auto& [rate, quality] : conversions) {
    ProcessorConfig resample{"resample", {}};
    resample.params.Set("sample_rate_hz", rate);
    resample.params.Set("quality", std::string(quality));
    cases.push_back({resample, registry.Find("resample")});
  }
  return cases;
}

bool BitIdentical(const std::vector<std::vector<float>>& a,
                  const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t c = 0; c < a.size(); ++c) {
    if (a[c].size() != b[c].size()) return false;
    if (a[c].empty()) continue;
    if (std::memcmp(a[c].data(), b[c].data(), a[c].size() * sizeof(float)) != 0) return false;
  }
  return true;
}

const ProcessSpec kSpecs[] = {{16000, kDefaultMaxBlockFrames, 1},
                              {48000, kDefaultMaxBlockFrames, 2}};

// The chunk sizes of one run: random, from 1 frame to the largest block.
std::vector<uint32_t> Chunks(size_t total, uint32_t max_block, std::mt19937& rng) {
  std::vector<uint32_t> chunks;
  std::uniform_int_distribution<uint32_t> size(1, max_block);
  std::bernoulli_distribution tiny(0.2);
  for (size_t done = 0; done < total;) {
    const uint32_t frames = static_cast<uint32_t>(
        std::min<size_t>(total - done, tiny(rng) ? size(rng) % 17 + 1 : size(rng)));
    chunks.push_back(frames);
    done += frames;
  }
  return chunks;
}

// Runs `test_case` over a randomly chunked signal, uninterrupted and interrupted: at a random
// chunk the first instance's state is saved and a fresh instance, restored from it (or, without
// `restore`, not), takes over. Returns whether the output and events are bit-identical to the
// uninterrupted run's.
bool ContinuesIdentically(const Case& test_case, const ProcessSpec& spec, uint32_t seed,
                          bool restore) {
  std::unique_ptr<Instance> reference = Instance::Make(test_case.config, spec);
  std::unique_ptr<Instance> first = Instance::Make(test_case.config, spec);
  if (reference == nullptr || first == nullptr) return false;
  // The instance's format, which for aec has a reference channel beside the requested one.
  const ProcessSpec& input = reference->input;
  std::mt19937 rng(seed * 7919 + static_cast<uint32_t>(input.sample_rate_hz));
  const size_t total = static_cast<size_t>(input.sample_rate_hz * 1.6);
  const auto signal = SignalFor(test_case.config.name, input, total, seed);
  const std::vector<uint32_t> chunks = Chunks(total, input.max_block_frames, rng);
  // Snapshot after a random chunk (never the first or last); chunks of random length put it
  // mid-hop, mid-FFT-frame and with the lookahead full. An update lands two chunks before it on
  // even seeds, so ramps are in flight at the snapshot.
  std::uniform_int_distribution<size_t> at(1, chunks.size() - 2);
  const size_t snapshot = at(rng);
  const size_t update_at = seed % 2 == 0 ? snapshot - std::min<size_t>(snapshot, 2) : SIZE_MAX;
  const ProcessorConfig update = testing::SomeUpdate(
      test_case.definition->info, reference->chain->resolved()[0].params, 7000.0);
  absl::StatusOr<Chain::ResolvedUpdate> resolved = reference->chain->ResolveUpdate(0, update);
  if (!resolved.ok()) {
    ADD_FAILURE() << resolved.status();
    return false;
  }

  std::vector<std::vector<float>> expected;
  std::vector<std::vector<float>> got;
  std::unique_ptr<Instance> second;
  size_t begin = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i == update_at && resolved->settings != nullptr) {
      reference->processor->ApplyUpdate(*resolved->settings);
      first->processor->ApplyUpdate(*resolved->settings);
    }
    if (i == snapshot) {
      StateWriter writer;
      if (absl::Status saved = first->processor->SaveState(writer); !saved.ok()) {
        ADD_FAILURE() << saved;
        return false;
      }
      second = Instance::Make(test_case.config, spec);
      if (second == nullptr) return false;
      StateReader reader(writer.bytes());
      if (restore) {
        if (absl::Status restored = second->processor->RestoreState(reader); !restored.ok()) {
          ADD_FAILURE() << restored;
          return false;
        }
      }
    }
    reference->Run(signal, begin, chunks[i], expected);
    (second != nullptr ? second : first)->Run(signal, begin, chunks[i], got);
    begin += chunks[i];
  }
  std::vector<std::string> events = first->sink.events;
  events.insert(events.end(), second->sink.events.begin(), second->sink.events.end());
  return BitIdentical(expected, got) && events == reference->sink.events;
}

TEST(ProcessorStateTest, EverySupportingProcessorContinuesByteIdenticallyAfterRestore) {
  for (const Case& test_case : Cases()) {
    for (const ProcessSpec& spec : kSpecs) {
      if (!Instance::Make(test_case.config, spec)->processor->SupportsState()) continue;
      for (uint32_t seed = 1; seed <= 6; ++seed) {
        EXPECT_TRUE(ContinuesIdentically(test_case, spec, seed, /*restore=*/true))
            << test_case.config.name << " at " << spec.sample_rate_hz << " Hz x"
            << testing::FormatFor(test_case.config.name, spec).channels << ", seed " << seed
            << ": output or events differ after the restore";
      }
    }
  }
}

// The property above is not vacuous: for every processor that has any state (mix has none),
// a fresh instance that takes over without the state differs, in at least one of its cases.
TEST(ProcessorStateTest, WithoutTheRestoreTheOutputOrEventsDiffer) {
  std::map<std::string, bool> differs;
  for (const Case& test_case : Cases()) {
    const std::string& name = test_case.config.name;
    const ProcessSpec& spec = kSpecs[1];
    if (name == "mix" || !Instance::Make(test_case.config, spec)->processor->SupportsState()) {
      continue;
    }
    differs[name] =
        differs[name] || !ContinuesIdentically(test_case, spec, /*seed=*/2, /*restore=*/false);
  }
  for (const auto& [name, differed] : differs) EXPECT_TRUE(differed) << name;
}

TEST(ProcessorStateTest, SupportIsDeclaredHonestly) {
  for (const Case& test_case : Cases()) {
    SCOPED_TRACE(test_case.config.name);
    std::unique_ptr<Instance> instance = Instance::Make(test_case.config, kSpecs[1]);
    ASSERT_NE(instance, nullptr);
    StateWriter writer;
    const absl::Status saved = instance->processor->SaveState(writer);
    if (instance->processor->SupportsState()) {
      EXPECT_TRUE(saved.ok()) << saved;
      std::unique_ptr<Instance> fresh = Instance::Make(test_case.config, kSpecs[1]);
      StateReader reader(writer.bytes());
      EXPECT_TRUE(fresh->processor->RestoreState(reader).ok());
    } else {
      EXPECT_THAT(saved, StatusIs(absl::StatusCode::kUnimplemented, _));
      StateReader reader(writer.bytes());
      EXPECT_THAT(instance->processor->RestoreState(reader),
                  StatusIs(absl::StatusCode::kUnimplemented, _));
    }
  }
}

// A processor state after some of the test signal, to corrupt.
std::vector<uint8_t> SavedState(Instance& instance, const std::string& name, uint32_t seed) {
  const auto signal = SignalFor(name, instance.input, 3000, seed);
  std::vector<std::vector<float>> sink;
  instance.Run(signal, 0, 1000, sink);
  instance.Run(signal, 1000, 777, sink);
  StateWriter writer;
  EXPECT_TRUE(instance.processor->SaveState(writer).ok());
  return {writer.bytes().begin(), writer.bytes().end()};
}

// After a refused or accepted restore the processor still runs and its output is finite.
void ExpectUsable(Instance& instance) {
  const auto signal = TestSignal(instance.input, instance.input.max_block_frames, 99);
  std::vector<std::vector<float>> output;
  instance.Run(signal, 0, instance.input.max_block_frames, output);
  for (const auto& channel : output) {
    for (const float x : channel) ASSERT_TRUE(std::isfinite(x));
  }
}

TEST(ProcessorStateTest, TruncatedStatesAreRefusedAndLeaveTheProcessorUsable) {
  for (const Case& test_case : Cases()) {
    SCOPED_TRACE(test_case.config.name);
    std::unique_ptr<Instance> source = Instance::Make(test_case.config, kSpecs[1]);
    ASSERT_NE(source, nullptr);
    if (!source->processor->SupportsState()) continue;
    const std::vector<uint8_t> blob = SavedState(*source, test_case.config.name, 3);
    std::unique_ptr<Instance> target = Instance::Make(test_case.config, kSpecs[1]);
    // Every length for small states, about 200 spread over large ones.
    const size_t step = std::max<size_t>(1, blob.size() / 200);
    for (size_t length = 0; length < blob.size(); length += step) {
      StateReader reader({blob.data(), length});
      const absl::StatusCode code = target->processor->RestoreState(reader).code();
      ASSERT_TRUE(code == absl::StatusCode::kInvalidArgument ||
                  code == absl::StatusCode::kFailedPrecondition)
          << "length " << length << " of " << blob.size() << ": " << code;
      ExpectUsable(*target);
    }
    // Trailing bytes are another form, too.
    std::vector<uint8_t> longer = blob;
    longer.push_back(0);
    StateReader reader(longer);
    EXPECT_THAT(target->processor->RestoreState(reader),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
  }
}

TEST(ProcessorStateTest, FlippedBitsNeverCrashAndNeverLeaveNonFiniteOutput) {
  std::mt19937 rng(11);
  for (const Case& test_case : Cases()) {
    SCOPED_TRACE(test_case.config.name);
    std::unique_ptr<Instance> source = Instance::Make(test_case.config, kSpecs[0]);
    ASSERT_NE(source, nullptr);
    if (!source->processor->SupportsState()) continue;
    const std::vector<uint8_t> blob = SavedState(*source, test_case.config.name, 4);
    std::unique_ptr<Instance> target = Instance::Make(test_case.config, kSpecs[0]);
    std::uniform_int_distribution<size_t> byte(0, blob.size() - 1);
    std::uniform_int_distribution<int> bit(0, 7);
    for (int round = 0; round < 150; ++round) {
      std::vector<uint8_t> corrupt = blob;
      const int flips = 1 + round % 3;
      for (int f = 0; f < flips; ++f) corrupt[byte(rng)] ^= static_cast<uint8_t>(1 << bit(rng));
      StateReader reader(corrupt);
      // A flipped bit in a sample of a delay line is a valid state; a flipped size, tag or
      // position is not. Either way the processor runs on.
      (void)target->processor->RestoreState(reader);
      ExpectUsable(*target);
    }
  }
}

TEST(ProcessorStateTest, AnotherVersionOrAnotherProcessorsStateIsRefusedPrecisely) {
  const std::vector<Case> cases = Cases();
  for (const Case& test_case : cases) {
    SCOPED_TRACE(test_case.config.name);
    std::unique_ptr<Instance> source = Instance::Make(test_case.config, kSpecs[1]);
    ASSERT_NE(source, nullptr);
    if (!source->processor->SupportsState()) continue;
    std::vector<uint8_t> blob = SavedState(*source, test_case.config.name, 5);
    ASSERT_GE(blob.size(), 6u);
    std::unique_ptr<Instance> target = Instance::Make(test_case.config, kSpecs[1]);
    std::vector<uint8_t> newer = blob;
    newer[4] = static_cast<uint8_t>(newer[4] + 1);  // the version, little-endian
    StateReader reader(newer);
    EXPECT_THAT(target->processor->RestoreState(reader),
                StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("version")));
    ExpectUsable(*target);
    // Every other processor's state, where the forms differ.
    for (const Case& other : cases) {
      if (other.config.name == test_case.config.name) continue;
      std::unique_ptr<Instance> foreign = Instance::Make(other.config, kSpecs[1]);
      if (!foreign->processor->SupportsState()) continue;
      StateWriter writer;
      ASSERT_TRUE(foreign->processor->SaveState(writer).ok());
      if (std::memcmp(writer.bytes().data(), blob.data(), 4) == 0) continue;  // same family
      StateReader foreign_reader(writer.bytes());
      EXPECT_THAT(target->processor->RestoreState(foreign_reader),
                  StatusIs(absl::StatusCode::kFailedPrecondition, _))
          << "the state of " << other.config.name;
    }
  }
}

TEST(ProcessorStateTest, AStateOfAnotherChannelCountIsRefused) {
  for (const Case& test_case : Cases()) {
    SCOPED_TRACE(test_case.config.name);
    std::unique_ptr<Instance> stereo = Instance::Make(test_case.config, kSpecs[1]);
    ASSERT_NE(stereo, nullptr);
    // gain and mix hold nothing per channel, vad only the channels' average.
    const std::string& name = test_case.config.name;
    if (!stereo->processor->SupportsState() || name == "mix" || name == "gain" || name == "vad") {
      continue;
    }
    const std::vector<uint8_t> blob = SavedState(*stereo, test_case.config.name, 6);
    // One channel fewer, or for aec (whose smallest input, mic and reference, is the stereo
    // one) one microphone more.
    const uint32_t channels =
        testing::FormatFor(name, {48000, kDefaultMaxBlockFrames, 1}).channels ==
                stereo->input.channels
            ? stereo->input.channels + 1
            : 1;
    std::unique_ptr<Instance> mono =
        Instance::Make(test_case.config, {48000, kDefaultMaxBlockFrames, channels});
    ASSERT_NE(mono->input.channels, stereo->input.channels);
    StateReader reader(blob);
    EXPECT_THAT(mono->processor->RestoreState(reader),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    ExpectUsable(*mono);
  }
}

}  // namespace
}  // namespace audioproc
