// Helpers for processors that report events (vad, analyze): running a stream in chunks while
// draining its events after every chunk, as the service does, and the chunking property for
// events: the same events, at the same frames, whatever the chunking.
#ifndef AUDIOPROC_TESTS_PROCESSORS_EVENT_TEST_UTIL_H_
#define AUDIOPROC_TESTS_PROCESSORS_EVENT_TEST_UTIL_H_

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
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

// An event with every field, floats printed exactly (as hex), so that equal text means
// bit-equal events.
inline std::string EventText(const ProcessorEvent& event) {
  std::string text =
      absl::StrFormat("%d/%d/%d", event.frame, event.processor_index, event.payload.index());
  std::visit(
      [&](const auto& payload) {
        using T = std::decay_t<decltype(payload)>;
        if constexpr (std::is_same_v<T, VoiceActivityEvent> ||
                      std::is_same_v<T, SpeechProbabilityEvent>) {
          absl::StrAppendFormat(&text, " %d %a", payload.active, payload.probability);
        } else if constexpr (std::is_same_v<T, LoudnessEvent>) {
          absl::StrAppendFormat(&text, " %a %a %a %a", payload.momentary_lufs,
                                payload.short_term_lufs, payload.integrated_lufs, payload.gain_db);
        } else if constexpr (std::is_same_v<T, EchoDelayEvent>) {
          absl::StrAppendFormat(&text, " %a", payload.delay_ms);
        } else {
          static_assert(std::is_same_v<T, AnalysisEvent>, "an event kind EventText misses");
          absl::StrAppendFormat(&text, " %a %a %a %d", payload.peak_dbfs, payload.rms_dbfs,
                                payload.spectral_centroid_hz, payload.num_bands);
          for (uint32_t b = 0; b < payload.num_bands && b < kMaxAnalysisBands; ++b) {
            absl::StrAppendFormat(&text, " %a", payload.band_energy_db[b]);
          }
        }
      },
      event.payload);
  return text;
}

inline bool SameEvent(const ProcessorEvent& a, const ProcessorEvent& b) {
  return EventText(a) == EventText(b);
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
