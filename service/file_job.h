// FileJob: what one ProcessFile call does with its request, apart from the transport
// (ProcessFileCall owns the gRPC side, plans the job when the call arrives and runs it on
// the --file_workers pool).
//
// Planning reads only the file's header, so that everything is known before any decoding:
// the output format and its size (a file longer than --max_file_seconds, or whose output
// would pass --max_file_output_bytes, is refused at once), the chain validated and its cost
// estimated, and so the memory the job will hold at most. Running decodes, processes and
// encodes block by block through the same StreamPipeline a stream uses (the output's rate and
// channels reached by the resample/mix it appends), never holding the whole file as PCM,
// checking for interruption between blocks. The answer carries one summary, as a stream's
// with one chunk.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<FileJob> job, FileJob::Plan(request, registry, limits));
//   ASSIGN_OR_RETURN(auto held, budget.Reserve({job->memory_bytes(), 0}, "the file"));
//   RETURN_IF_ERROR(job->Run(received, interrupted, &response));
//
// Thread safety: a job is used by one thread at a time.
#ifndef AUDIOPROC_SERVICE_FILE_JOB_H_
#define AUDIOPROC_SERVICE_FILE_JOB_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audio_io/file_codec.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"

namespace audioproc {

struct FileJobLimits {
  double max_file_seconds = 3600;
  int max_chain_length = 32;
  // The largest output file a response may carry (--max_file_output_bytes).
  size_t max_output_bytes = 0;
};

// What the log line of a file says besides its outcome.
struct FileJobReport {
  std::string input;   // "WAV/PCM_S16LE/16000/1"; empty when the file could not be read
  std::string output;  // likewise for what is written
  std::string chain;   // "highpass,limiter"
  double audio_seconds = 0;
};

class FileJob {
 public:
  // Reads the header of request.file (which must outlive the job), plans the output and
  // validates and estimates the chain. Errors: INVALID_ARGUMENT for a file libsndfile cannot
  // read, a bad chain ("chain[0]...") or output (naming output.*); OUT_OF_RANGE past
  // --max_file_seconds by the header; RESOURCE_EXHAUSTED when the output would pass
  // limits.max_output_bytes (naming its size). `report` gets what is known even on error.
  static absl::StatusOr<std::unique_ptr<FileJob>> Plan(const v1::ProcessFileRequest& request,
                                                       const ProcessorRegistry& registry,
                                                       const FileJobLimits& limits,
                                                       FileJobReport* report);
  ~FileJob();

  // The most memory Run holds: the pipeline, the decoding, processing and encoding buffers,
  // and the output file twice (as written, and as gRPC serializes the answer). The request's
  // file is not included (the caller holds it already).
  int64_t memory_bytes() const { return memory_bytes_; }
  // Bytes of output the file's header lets the job write at most.
  uint64_t max_output_bytes() const { return max_output_bytes_; }

  // Processes the file into `response` (file, summary, input). `interrupted` is asked
  // between blocks: a non-OK status (the client left, the drain deadline passed) stops the
  // work and is returned. `received` is when the call arrived (the summary's wall_seconds
  // count from it). OUT_OF_RANGE past --max_file_seconds while decoding (a header that
  // lied); RESOURCE_EXHAUSTED past max_output_bytes(). Call once. Allocates.
  absl::Status Run(std::chrono::steady_clock::time_point received,
                   absl::FunctionRef<absl::Status()> interrupted, v1::ProcessFileResponse* response,
                   FileJobReport* report);

 private:
  FileJob() = default;

  const ProcessorRegistry* registry_ = nullptr;
  FileJobLimits limits_;
  std::unique_ptr<FileDecoder> decoder_;
  OutputPlan output_;
  PipelineConfig pipeline_config_;
  uint32_t block_frames_ = 0;  // input frames decoded at a time
  int64_t memory_bytes_ = 0;
  uint64_t max_output_bytes_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_FILE_JOB_H_
