// Helpers for processors that report events (vad, analyze): running a stream in chunks while
// draining its events after every chunk, as the service does, and the chunking property for
// events: the same events, at the same frames, whatever the chunking.
#ifndef AUDIOPROC_TESTS_PROCESSORS_EVENT_TEST_UTIL_H_
#define AUDIOPROC_TESTS_PROCESSORS_EVENT_TEST_UTIL_H_

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "chain/events.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "gtest/gtest.h"

namespace audioproc::testing {

struct StreamResult {
  std::string output;
  std::vector<ProcessorEvent> events;
};

// Feeds `input` through a fresh pipeline in pieces of `chunk_bytes` (cycled), taking the
// events after each piece and after Finish.
inline absl::StatusOr<StreamResult> RunCollectingEvents(const ProcessorRegistry& registry,
                                                        const PipelineConfig& config,
                                                        const std::string& input,
                                                        const std::vector<size_t>& chunk_bytes) {
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(registry, config);
  if (!pipeline.ok()) return pipeline.status();
  StreamResult result;
  auto take = [&] {
    for (ProcessorEvent& event : (*pipeline)->TakeEvents()) result.events.push_back(event);
  };
  size_t offset = 0;
  for (size_t i = 0; offset < input.size(); ++i) {
    const size_t size = std::min(chunk_bytes[i % chunk_bytes.size()], input.size() - offset);
    (*pipeline)->ProcessChunk(absl::string_view(input).substr(offset, size), &result.output);
    offset += size;
    take();
  }
  (*pipeline)->Finish(&result.output);
  take();
  return result;
}

inline bool SameEvent(const ProcessorEvent& a, const ProcessorEvent& b) {
  if (a.frame != b.frame || a.processor_index != b.processor_index ||
      a.payload.index() != b.payload.index()) {
    return false;
  }
  if (const auto* x = std::get_if<VoiceActivityEvent>(&a.payload)) {
    const auto& y = std::get<VoiceActivityEvent>(b.payload);
    return x->active == y.active && x->probability == y.probability;
  }
  if (const auto* x = std::get_if<SpeechProbabilityEvent>(&a.payload)) {
    const auto& y = std::get<SpeechProbabilityEvent>(b.payload);
    return x->probability == y.probability && x->active == y.active;
  }
  if (const auto* x = std::get_if<EchoDelayEvent>(&a.payload)) {
    return x->delay_ms == std::get<EchoDelayEvent>(b.payload).delay_ms;
  }
  if (const auto* x = std::get_if<AnalysisEvent>(&a.payload)) {
    const auto& y = std::get<AnalysisEvent>(b.payload);
    return x->peak_dbfs == y.peak_dbfs && x->rms_dbfs == y.rms_dbfs &&
           x->spectral_centroid_hz == y.spectral_centroid_hz && x->num_bands == y.num_bands &&
           x->band_energy_db == y.band_energy_db;
  }
  return false;
}

// The whole-stream events and output against one-byte, one-frame, 7-frame, odd-byte, 20 ms
// and seeded random chunkings. Returns the whole-stream result.
inline StreamResult ExpectEventsChunkingInvariant(const ProcessorRegistry& registry,
                                                  const PipelineConfig& config,
                                                  const std::string& input) {
  absl::StatusOr<StreamResult> whole =
      RunCollectingEvents(registry, config, input, {input.size() + 1});
  EXPECT_TRUE(whole.ok()) << whole.status();
  if (!whole.ok()) return {};
  const size_t frame = config.input.channels * BytesPerSample(config.input.encoding);
  std::vector<std::vector<size_t>> chunkings = {
      {1}, {frame}, {7 * frame}, {3}, {frame * config.input.sample_rate_hz / 50}};
  std::mt19937 rng(99);
  std::uniform_int_distribution<size_t> size(1, frame * 3000);
  std::vector<size_t> random;
  for (int i = 0; i < 64; ++i) random.push_back(size(rng));
  chunkings.push_back(random);
  for (const std::vector<size_t>& chunking : chunkings) {
    const std::string name =
        chunking.size() > 4 ? "random sizes" : absl::StrJoin(chunking, ",") + " bytes";
    absl::StatusOr<StreamResult> run = RunCollectingEvents(registry, config, input, chunking);
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) continue;
    EXPECT_TRUE(run->output == whole->output) << "output differs for chunking " << name;
    EXPECT_EQ(run->events.size(), whole->events.size()) << "chunking " << name;
    for (size_t i = 0; i < std::min(run->events.size(), whole->events.size()); ++i) {
      EXPECT_TRUE(SameEvent(run->events[i], whole->events[i]))
          << "event " << i << " differs for chunking " << name;
    }
  }
  return *whole;
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_PROCESSORS_EVENT_TEST_UTIL_H_
