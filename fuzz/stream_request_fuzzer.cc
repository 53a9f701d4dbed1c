// Fuzzes what the server does with a Process stream's untrusted bytes: decoding the first
// ProcessRequest, validating its StreamConfig (ToPipelineConfig, then StreamPipeline::Create
// against every built-in processor) and, for a config that passes, the audio path
// (ProcessChunk and Finish).
//
// Input: [n: 2 bytes LE][n bytes: a serialized ProcessRequest][1 byte: chunk size][audio].
// The audio (at most kMaxFrames frames of it) is run twice through fresh pipelines: in chunks
// of the given size (0: one chunk) and whole. Besides "no crash, no sanitizer report", two
// promises of DESIGN.md section 3 are checked for every accepted config: the output bytes do
// not depend on the chunking, and there are exactly round(frames_in x out_rate / in_rate)
// output frames.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "fuzz/fuzz_input.h"
#include "service/stream_config.h"

namespace audioproc::fuzz {
namespace {

// Enough for every processor's blocks, hops and lookahead to come into play several times,
// and small enough that an input runs in milliseconds at 192 kHz x 8 channels.
constexpr size_t kMaxFrames = 4096;

struct Output {
  std::string bytes;
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
};

Output Run(StreamPipeline& pipeline, absl::string_view audio, size_t chunk_bytes) {
  Output out;
  if (chunk_bytes == 0) chunk_bytes = audio.size();
  for (size_t offset = 0; offset < audio.size(); offset += chunk_bytes) {
    pipeline.ProcessChunk(audio.substr(offset, chunk_bytes), &out.bytes);
    pipeline.TakeEvents();
  }
  pipeline.Finish(&out.bytes);
  pipeline.TakeEvents();
  out.frames_in = pipeline.frames_in();
  out.frames_out = pipeline.frames_out();
  return out;
}

}  // namespace
}  // namespace audioproc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace audioproc;
  const fuzz::SplitInput input = fuzz::SplitMessage(data, size);
  v1::ProcessRequest request;
  if (!request.ParseFromArray(input.message.data(), static_cast<int>(input.message.size())) ||
      !request.has_config()) {
    return 0;
  }
  absl::StatusOr<PipelineConfig> config =
      ToPipelineConfig(request.config(), StreamLimits{}, "fuzz-stream");
  if (!config.ok()) return 0;
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), *config);
  if (!pipeline.ok()) return 0;

  absl::string_view rest = input.rest;
  const size_t chunk_bytes = rest.empty() ? 0 : static_cast<uint8_t>(rest[0]);
  rest.remove_prefix(rest.empty() ? 0 : 1);
  const size_t frame_bytes = config->input.channels * BytesPerSample(config->input.encoding);
  const absl::string_view audio = rest.substr(0, fuzz::kMaxFrames * frame_bytes);

  const fuzz::Output chunked = fuzz::Run(**pipeline, audio, chunk_bytes);
  pipeline = StreamPipeline::Create(ProcessorRegistry::Default(), *config);
  AUDIOPROC_FUZZ_CHECK(pipeline.ok(), pipeline.status().ToString());  // it was a moment ago
  const fuzz::Output whole = fuzz::Run(**pipeline, audio, 0);
  AUDIOPROC_FUZZ_CHECK(chunked.bytes == whole.bytes,
                       absl::StrCat("chunks of ", chunk_bytes, " bytes"));

  const uint64_t frames_in = audio.size() / frame_bytes;
  AUDIOPROC_FUZZ_CHECK(chunked.frames_in == frames_in);
  const uint64_t expected = static_cast<uint64_t>(
      std::llround(static_cast<double>(frames_in) * config->output.sample_rate_hz /
                   config->input.sample_rate_hz));
  const size_t out_frame_bytes = config->output.channels * BytesPerSample(config->output.encoding);
  AUDIOPROC_FUZZ_CHECK(chunked.bytes.size() == expected * out_frame_bytes,
                       absl::StrCat(chunked.bytes.size(), " bytes, expected ", expected,
                                    " frames of ", out_frame_bytes));
  AUDIOPROC_FUZZ_CHECK(chunked.frames_out == expected);
  return 0;
}
