// RunFileJob: what one ProcessFile call does with its request, apart from the transport
// (ProcessFileCall owns the gRPC side and runs this on the --file_workers pool).
//
// The file is decoded, processed and encoded block by block: the header is read first, so a
// file longer than --max_file_seconds (by its header) is refused before any decoding; then
// each block of decoded PCM goes through the same StreamPipeline a stream uses (the chain
// validated the same way, the output's rate and channels reached by the resample/mix it
// appends), and straight into the encoder. Memory is the encoded input and output, never
// the whole file as PCM. The answer carries one summary, as a stream's with one chunk.
// Thread safety: stateless; one call per thread.
#ifndef AUDIOPROC_SERVICE_FILE_JOB_H_
#define AUDIOPROC_SERVICE_FILE_JOB_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "audioproc/v1/audioproc.pb.h"
#include "processors/registry.h"

namespace audioproc {

struct FileJobLimits {
  double max_file_seconds = 3600;
  int max_chain_length = 32;
  // The largest output file a response may carry.
  size_t max_output_bytes = 0;
};

// What the log line of a file says besides its outcome.
struct FileJobReport {
  std::string input;   // "WAV/PCM_S16LE/16000/1"; empty when the file could not be read
  std::string output;  // likewise for what was written
  std::string chain;   // "highpass,limiter"
  double audio_seconds = 0;
};

// Processes `request` into `response` (file, summary, input). `interrupted` is asked between
// blocks: a non-OK status (the client left, the drain deadline passed) stops the work and is
// returned. `received` is when the call arrived (the summary's wall_seconds count from it).
// Errors: INVALID_ARGUMENT for a file libsndfile cannot read, a bad chain ("chain[0]...")
// or output (naming output.*); OUT_OF_RANGE past --max_file_seconds; RESOURCE_EXHAUSTED
// when the output would pass limits.max_output_bytes. Allocates.
absl::Status RunFileJob(const v1::ProcessFileRequest& request, const ProcessorRegistry& registry,
                        const FileJobLimits& limits, std::chrono::steady_clock::time_point received,
                        absl::FunctionRef<absl::Status()> interrupted,
                        v1::ProcessFileResponse* response, FileJobReport* report);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_FILE_JOB_H_
