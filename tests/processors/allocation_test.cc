// "Process allocates nothing" (STYLE.md), enforced: this binary interposes the allocator
// functions (counting_allocator.h: malloc, calloc, realloc, free and the aligned ones, which
// also catches C libraries that operator new alone would miss) and counts calls made by this
// thread while armed. Every registered processor runs blocks of many sizes, and an update,
// with counting armed. Left out of sanitizer builds, whose runtimes own malloc.
#ifndef AUDIOPROC_SANITIZE

#include <malloc.h>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <random>

#include "chain/chain.h"
#include "chain/registry.h"
#include "dsp/state_codec.h"
#include "gtest/gtest.h"
#include "tests/processors/counting_allocator.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using testing::AllocationCounter;

TEST(AllocationTest, EveryProcessorProcessesAndUpdatesWithoutAllocating) {
  const ProcessorRegistry& registry = ProcessorRegistry::Default();
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> block(1, kDefaultMaxBlockFrames);
  for (const ProcessorDefinition& definition : registry.definitions()) {
    const ProcessSpec spec{48000, kDefaultMaxBlockFrames, 2};
    absl::StatusOr<std::unique_ptr<Chain>> chain =
        Chain::Build(registry, {ExampleConfig(definition)}, spec);
    ASSERT_TRUE(chain.ok()) << definition.info.name << ": " << chain.status();
    AudioBuffer input(2, kDefaultMaxBlockFrames);
    const std::vector<float> noise = testing::WhiteNoise(kDefaultMaxBlockFrames, 1.5, 3);
    std::copy(noise.begin(), noise.end(), input.Block().channel(0));
    std::copy(noise.rbegin(), noise.rend(), input.Block().channel(1));
    const ProcessorConfig update =
        testing::SomeUpdate(definition.info, (*chain)->resolved()[0].params, 20000.0);
    // Validation allocates by design (it builds messages, and the typed settings, between
    // chunks); applying the resolved settings, which happens on the audio path, must not.
    absl::StatusOr<Chain::ResolvedUpdate> resolved = (*chain)->ResolveUpdate(0, update);
    const absl::Status valid = resolved.status();
    ASSERT_TRUE(update.params.empty() || valid.ok()) << definition.info.name << ": " << valid;

    size_t emitted = 0;
    auto emit = [&](const AudioBlock& out) { emitted += out.num_frames(); };
    for (int round = 0; round < 64; ++round) {
      // Blocks of random sizes, and the largest, so every path of every processor runs.
      const uint32_t frames = round % 8 == 0 ? kDefaultMaxBlockFrames : block(rng);
      AudioBlock in = input.Block(frames);
      if (round == 32 && !update.params.empty()) {
        AllocationCounter counter;
        (*chain)->processor(0).ApplyUpdate(*resolved->settings);
        EXPECT_EQ(counter.calls(), 0u) << definition.info.name << " allocated in ApplyUpdate";
      }
      AllocationCounter counter;
      (*chain)->Process(in, emit);
      EXPECT_EQ(counter.calls(), 0u)
          << definition.info.name << " allocated on a block of " << frames << " frames";
    }
    {
      AllocationCounter counter;
      (*chain)->Flush(emit);
      EXPECT_EQ(counter.calls(), 0u) << definition.info.name << " allocated while flushing";
    }
    EXPECT_GT(emitted, 0u) << definition.info.name;
  }
}

// Issue 14's checkpoints: saving a state may run on the audio thread, so it writes into the
// writer's reserved buffer and allocates nothing; a successful restore allocates nothing either.
TEST(AllocationTest, EveryProcessorSavesAndRestoresItsStateWithoutAllocating) {
  const ProcessorRegistry& registry = ProcessorRegistry::Default();
  for (const ProcessorDefinition& definition : registry.definitions()) {
    const ProcessSpec spec{48000, kDefaultMaxBlockFrames, 2};
    absl::StatusOr<std::unique_ptr<Chain>> chain =
        Chain::Build(registry, {ExampleConfig(definition)}, spec);
    ASSERT_TRUE(chain.ok()) << definition.info.name << ": " << chain.status();
    if (!(*chain)->SupportsState()) continue;
    absl::StatusOr<std::unique_ptr<Chain>> restored =
        Chain::Build(registry, {ExampleConfig(definition)}, spec);
    ASSERT_TRUE(restored.ok());
    AudioBuffer input(2, kDefaultMaxBlockFrames);
    const std::vector<float> noise = testing::WhiteNoise(kDefaultMaxBlockFrames, 0.5, 4);
    std::copy(noise.begin(), noise.end(), input.Block().channel(0));
    std::copy(noise.rbegin(), noise.rend(), input.Block().channel(1));
    auto emit = [](const AudioBlock&) {};
    for (int round = 0; round < 5; ++round) (*chain)->Process(input.Block(700), emit);
    StateWriter writer;
    {
      AllocationCounter counter;
      ASSERT_TRUE((*chain)->SaveState(writer).ok()) << definition.info.name;
      EXPECT_EQ(counter.calls(), 0u) << definition.info.name << " allocated saving its state";
    }
    StateReader reader(writer.bytes());
    {
      AllocationCounter counter;
      ASSERT_TRUE((*restored)->RestoreState(reader).ok()) << definition.info.name;
      EXPECT_EQ(counter.calls(), 0u) << definition.info.name << " allocated restoring its state";
    }
  }
}

TEST(AllocationTest, TheCounterSeesAllocations) {
  AllocationCounter counter;
  void* volatile pointer = malloc(16);
  free(pointer);
  std::vector<int>* volatile vector = new std::vector<int>(100);
  delete vector;
  EXPECT_GE(counter.calls(), 4u);
}

TEST(AllocationTest, TheCounterSeesAlignedAllocationsAndTheBytesHeld) {
  testing::HeapBytesCounter held;
  AllocationCounter counter;
  void* aligned = nullptr;
  ASSERT_EQ(posix_memalign(&aligned, 64, 1000), 0);
  void* volatile page = aligned_alloc(4096, 4096);
  void* volatile old_style = memalign(32, 100);
  EXPECT_GE(held.bytes(), 1000 + 4096 + 100);
  free(aligned);
  free(page);
  free(old_style);
  EXPECT_EQ(held.bytes(), 0);
  EXPECT_EQ(counter.calls(), 6u);
}

}  // namespace
}  // namespace audioproc

#endif  // AUDIOPROC_SANITIZE
