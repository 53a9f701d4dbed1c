#include "tests/testing/chunking.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace audioproc::testing {

absl::StatusOr<std::string> RunInChunks(const PipelineConfig& config, const std::string& input,
                                        const std::vector<size_t>& chunk_bytes,
                                        const ProcessorRegistry& registry) {
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(registry, config);
  if (!pipeline.ok()) return pipeline.status();
  std::string output;
  size_t offset = 0;
  for (size_t i = 0; offset < input.size(); ++i) {
    const size_t size = std::min(chunk_bytes[i % chunk_bytes.size()], input.size() - offset);
    (*pipeline)->ProcessChunk(absl::string_view(input).substr(offset, size), &output);
    offset += size;
  }
  (*pipeline)->Finish(&output);
  return output;
}

void ExpectChunkingInvariant(const PipelineConfig& config, const std::string& input,
                             const ProcessorRegistry& registry) {
  absl::StatusOr<std::string> whole = RunInChunks(config, input, {input.size() + 1}, registry);
  ASSERT_TRUE(whole.ok()) << whole.status();
  const size_t frame = config.input.channels * BytesPerSample(config.input.encoding);
  std::vector<std::vector<size_t>> chunkings = {{1}, {frame},       {7 * frame},
                                                {3}, {frame * 320}, {frame * 1500 + 5}};
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> size(1, frame * 2000);
  for (int r = 0; r < 3; ++r) {
    std::vector<size_t> random;
    for (int i = 0; i < 64; ++i) random.push_back(size(rng));
    chunkings.push_back(random);
  }
  for (const std::vector<size_t>& chunking : chunkings) {
    absl::StatusOr<std::string> output = RunInChunks(config, input, chunking, registry);
    ASSERT_TRUE(output.ok()) << output.status();
    const std::string name =
        chunking.size() > 4 ? "random sizes" : absl::StrJoin(chunking, ",") + " bytes";
    ASSERT_EQ(output->size(), whole->size()) << "chunking " << name;
    EXPECT_TRUE(*output == *whole) << "output differs for chunking " << name;
  }
}

std::string EncodeAs(SampleEncoding encoding, const std::vector<float>& interleaved) {
  // Interleaved samples are one long mono channel as far as the codec is concerned.
  std::vector<float> samples = interleaved;
  float* channel = samples.data();
  const AudioBlock block(&channel, 1, static_cast<uint32_t>(samples.size()));
  std::string bytes(samples.size() * BytesPerSample(encoding), '\0');
  EncodeInterleaved(encoding, block, reinterpret_cast<uint8_t*>(bytes.data()), nullptr, 0);
  return bytes;
}

PipelineConfig SameFormat(SampleEncoding encoding, uint32_t rate, uint32_t channels,
                          std::vector<ProcessorConfig> chain) {
  PipelineConfig config;
  config.input = {encoding, rate, channels};
  config.output = config.input;
  config.chain = std::move(chain);
  return config;
}

}  // namespace audioproc::testing
