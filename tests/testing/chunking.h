// The chunking property: a stream's output bytes do not depend on how its input was cut.
//
// RunInChunks feeds `input` through a fresh StreamPipeline in pieces of the given byte sizes
// (cycled), then finishes, and returns all output bytes. ExpectChunkingInvariant compares the
// whole-stream output against one-byte, one-frame, 7-frame, odd-byte and seeded random
// chunkings.
#ifndef AUDIOPROC_TESTS_TESTING_CHUNKING_H_
#define AUDIOPROC_TESTS_TESTING_CHUNKING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"

namespace audioproc::testing {

absl::StatusOr<std::string> RunInChunks(
    const PipelineConfig& config, const std::string& input, const std::vector<size_t>& chunk_bytes,
    const ProcessorRegistry& registry = ProcessorRegistry::Default());

// Adds a gtest failure naming the chunking when an output differs from the one-chunk output.
void ExpectChunkingInvariant(const PipelineConfig& config, const std::string& input,
                             const ProcessorRegistry& registry = ProcessorRegistry::Default());

// Interleaved samples as the bytes of `encoding` (through the codec, so every encoding works).
std::string EncodeAs(SampleEncoding encoding, const std::vector<float>& interleaved);

// A PipelineConfig with the same format in and out.
PipelineConfig SameFormat(SampleEncoding encoding, uint32_t rate, uint32_t channels,
                          std::vector<ProcessorConfig> chain);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_CHUNKING_H_
