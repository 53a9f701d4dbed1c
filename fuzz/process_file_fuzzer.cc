// Fuzzes what the server does with a ProcessFile request's untrusted bytes, through FileJob
// (Plan on arrival, then Run as the file workers run it): the encoded file (libsndfile's
// parsers behind our virtual I/O, the header's length against --max_file_seconds and the
// output's size, decoding block by block), the chain and the requested output format.
//
// Input: [n: 2 bytes LE][n bytes: a serialized ProcessFileRequest, its file ignored][the file].
// Besides "no crash, no sanitizer report", an OK answer must carry a file the service's own
// decoder reads back, holding as many frames as the summary says went out (for the lossless
// encodings; Vorbis and Opus may pad).
#include <sndfile.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "audio_io/file_codec.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/registry.h"
#include "fuzz/fuzz_input.h"
#include "service/file_job.h"

namespace audioproc::fuzz {
namespace {

// Small enough that any input runs in well under libFuzzer's timeout.
constexpr FileJobLimits kLimits = {/*max_file_seconds=*/10, /*max_chain_length=*/4,
                                   /*max_output_bytes=*/size_t{8} << 20};

// The frames `decoder` reads to the end, or the reason it cannot.
absl::StatusOr<uint64_t> DecodedFrames(FileDecoder& decoder) {
  const size_t frame_bytes = decoder.info().channels * BytesPerSample(decoder.encoding());
  uint64_t frames = 0;
  for (;;) {
    absl::StatusOr<absl::string_view> pcm = decoder.Read(4096);
    if (!pcm.ok()) return pcm.status();
    if (pcm->empty()) return frames;
    frames += pcm->size() / frame_bytes;
  }
}

bool Lossless(int sf_format) {
  const int subtype = sf_format & SF_FORMAT_SUBMASK;
  return subtype != SF_FORMAT_VORBIS && subtype != SF_FORMAT_OPUS;
}

}  // namespace
}  // namespace audioproc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace audioproc;
  const fuzz::SplitInput input = fuzz::SplitMessage(data, size);
  v1::ProcessFileRequest request;
  if (!request.ParseFromArray(input.message.data(), static_cast<int>(input.message.size()))) {
    return 0;
  }
  request.set_file(std::string(input.rest));
  v1::ProcessFileResponse response;
  FileJobReport report;
  absl::StatusOr<std::unique_ptr<FileJob>> job =
      FileJob::Plan(request, ProcessorRegistry::Default(), fuzz::kLimits, &report);
  if (!job.ok()) return 0;
  const absl::Status status = (*job)->Run(
      std::chrono::steady_clock::now(), [] { return absl::OkStatus(); }, &response, &report);
  if (!status.ok()) return 0;

  absl::StatusOr<std::unique_ptr<FileDecoder>> output = FileDecoder::Open(response.file());
  AUDIOPROC_FUZZ_CHECK(output.ok(),
                       absl::StrCat("the answer's file: ", output.status().ToString()));
  const absl::StatusOr<uint64_t> frames = fuzz::DecodedFrames(**output);
  AUDIOPROC_FUZZ_CHECK(frames.ok(), frames.status().ToString());
  if (fuzz::Lossless((*output)->info().sf_format)) {
    AUDIOPROC_FUZZ_CHECK(*frames == response.summary().frames_out(),
                         absl::StrCat(*frames, " frames decoded, the summary says ",
                                      response.summary().frames_out()));
  }
  return 0;
}
