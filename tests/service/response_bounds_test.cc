// A stream's grant bounds every response before it is made (issue 8 item 2): for every
// processor and formats that expand, shrink, resample and change channels, fed in chunks of
// many sizes up to the grant's largest, no chunk's output is larger than the grant's
// MaxOutputBytes for that chunk, no response carries more events than its bound, and the
// tail keeps within them too. The pipelines here are the real ones; only gRPC is left out.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/registry.h"
#include "chain/resource_estimate.h"
#include "chain/stream_pipeline.h"
#include "gtest/gtest.h"
#include "service/stream_grant.h"

namespace audioproc {
namespace {

struct Formats {
  StreamFormat input;
  StreamFormat output;
};

StreamGrantLimits Limits() {
  StreamGrantLimits limits;
  limits.max_chunk_bytes = 1 << 20;
  limits.max_response_bytes = 4 << 20;
  limits.max_events_per_response = 1024;
  limits.max_stream_cost = 100;  // every processor, whatever its cost here
  limits.memory_budget_bytes = int64_t{64} << 30;
  return limits;
}

// Noise of `bytes` bytes: every encoding decodes it to something finite.
std::string Noise(size_t bytes, std::mt19937& rng) {
  std::string data(bytes, '\0');
  for (char& c : data) c = static_cast<char>(rng() & 0x3f);  // small samples in any encoding
  return data;
}

void CheckBounds(const ProcessorConfig& processor, const Formats& formats) {
  PipelineConfig config;
  config.input = formats.input;
  config.output = formats.output;
  config.chain = {processor};
  config.stream_id = "bounds";
  const std::string what =
      absl::StrCat(processor.name, " ", formats.input.sample_rate_hz, "/", formats.input.channels,
                   " -> ", formats.output.sample_rate_hz, "/", formats.output.channels);
  absl::StatusOr<PipelineEstimate> estimate =
      EstimatePipeline(ProcessorRegistry::Default(), config);
  ASSERT_TRUE(estimate.ok()) << what << ": " << estimate.status();
  absl::StatusOr<StreamGrant> grant = GrantStream(config, *estimate, 0, Limits());
  ASSERT_TRUE(grant.ok()) << what << ": " << grant.status();
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  ASSERT_TRUE(pipeline.ok()) << what << ": " << pipeline.status();
  // The chain's own events: the response also carries up to kMaxPendingUpdates results.
  const uint64_t max_events = grant->max_events_per_response - kMaxPendingUpdates;

  std::mt19937 rng(7);
  const uint32_t frame = grant->in_frame_bytes;
  // Sizes from one byte (a partial frame) to the grant's largest chunk, in a seeded order,
  // about two seconds of audio in all.
  const std::vector<uint32_t> sizes = {
      1, frame, 3 * frame + 1, 160 * frame, 1024 * frame - 1, grant->max_chunk_bytes};
  const uint64_t total = 2ull * formats.input.sample_rate_hz * frame;
  uint64_t sent = 0;
  while (sent < total) {
    const uint32_t size = std::min<uint32_t>(sizes[rng() % sizes.size()], grant->max_chunk_bytes);
    std::string out;
    (*pipeline)->ProcessChunk(Noise(size, rng), &out);
    sent += size;
    ASSERT_LE(out.size(), grant->MaxOutputBytes(size)) << what << ", a chunk of " << size;
    ASSERT_LE((*pipeline)->TakeEvents().size(), max_events) << what << ", a chunk of " << size;
  }
  std::string tail;
  (*pipeline)->Finish(&tail);
  EXPECT_LE(tail.size(), grant->MaxOutputBytes(0)) << what << ", the tail";
  EXPECT_LE((*pipeline)->TakeEvents().size(), max_events) << what << ", the tail";
}

TEST(ResponseBoundsTest, EveryProcessorsResponsesStayWithinItsGrant) {
  const std::vector<Formats> formats = {
      {{SampleEncoding::kS16, 16000, 1}, {SampleEncoding::kS16, 16000, 1}},
      {{SampleEncoding::kF32, 48000, 2}, {SampleEncoding::kF32, 48000, 2}},
      // Expansion: 16 kHz mono mu-law to 48 kHz 8-channel f32 (a mix and a resample appended;
      // the examples are valid from 16 kHz).
      {{SampleEncoding::kMulaw, 16000, 1}, {SampleEncoding::kF32, 48000, 8}},
      // Reduction: 48 kHz 8 channels to 16 kHz mono.
      {{SampleEncoding::kS24, 48000, 8}, {SampleEncoding::kS16, 16000, 1}},
  };
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    for (const Formats& f : formats) {
      if (definition.info.name == "mix" && f.input.channels == 8) continue;  // example is stereo
      Formats with = f;
      // aec needs a reference channel beside the microphone.
      with.input.channels = std::max(with.input.channels, definition.info.min_input_channels);
      CheckBounds(ExampleConfig(definition), with);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(ResponseBoundsTest, EventHeavyChainsStayWithinTheirBound) {
  ProcessorConfig analyze{"analyze", {}};
  analyze.params.Set("interval_ms", 10.0);
  analyze.params.Set("bands", 32.0);
  ProcessorConfig vad{"vad", {}};
  for (const Formats& f :
       {Formats{{SampleEncoding::kMulaw, 8000, 1}, {SampleEncoding::kMulaw, 8000, 1}},
        Formats{{SampleEncoding::kF32, 48000, 2}, {SampleEncoding::kS16, 16000, 1}}}) {
    CheckBounds(analyze, f);
    CheckBounds(vad, f);
  }
}

}  // namespace
}  // namespace audioproc
