#include "service/file_job.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chain/resource_estimate.h"
#include "common/status_macros.h"
#include "protos/wire_formats.h"
#include "service/resource_budget.h"
#include "service/stream_config.h"
#include "service/stream_summary.h"

namespace audioproc {
namespace {

using Clock = std::chrono::steady_clock;

// Output frames made per block (input frames decoded at a time are this over the rate
// change): large enough that per-block overhead vanishes, small enough that an interruption
// is noticed within milliseconds and the buffers stay small (8 channels of f32: 2 MiB).
constexpr uint32_t kBlockFrames = 65536;
// libsndfile's state for the decoder and the encoder (FLAC's and Vorbis's are the largest).
constexpr int64_t kCodecStateBytes = int64_t{4} << 20;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string DescribeFormat(const v1::FileFormat& format) {
  return absl::StrCat(v1::Container_Name(format.container()), "/",
                      v1::Encoding_Name(format.encoding()), "/", format.sample_rate_hz(), "/",
                      format.channels());
}

absl::Status CheckInputFormat(const FileInfo& info) {
  if (info.sample_rate_hz < kMinSampleRateHz || info.sample_rate_hz > kMaxSampleRateHz) {
    return absl::InvalidArgumentError(absl::StrCat("file is ", info.sample_rate_hz,
                                                   " Hz; ProcessFile takes ", kMinSampleRateHz,
                                                   " to ", kMaxSampleRateHz, " Hz"));
  }
  if (info.channels < 1 || info.channels > kMaxChannels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "file has ", info.channels, " channels; ProcessFile takes 1 to ", kMaxChannels));
  }
  return absl::OkStatus();
}

// The pipeline's events are not sent for a file; only the last integrated loudness is kept,
// for the summary, as a stream's summary keeps it.
void KeepLoudness(StreamPipeline& pipeline, std::optional<float>* integrated_lufs) {
  for (const ProcessorEvent& event : pipeline.TakeEvents()) {
    if (const auto* loudness = std::get_if<LoudnessEvent>(&event.payload)) {
      *integrated_lufs = loudness->integrated_lufs;
    }
  }
}

}  // namespace

FileJob::~FileJob() = default;

absl::StatusOr<std::unique_ptr<FileJob>> FileJob::Plan(const v1::ProcessFileRequest& request,
                                                       const ProcessorRegistry& registry,
                                                       const FileJobLimits& limits,
                                                       FileJobReport* report) {
  std::unique_ptr<FileJob> job(new FileJob());
  job->registry_ = &registry;
  job->limits_ = limits;
  ASSIGN_OR_RETURN(job->decoder_, FileDecoder::Open(request.file()));
  const FileInfo& info = job->decoder_->info();
  report->input = DescribeFormat(DescribeFile(info));
  // By the header, so that a long file costs no decoding; Run checks while decoding as well,
  // for files whose header does not say (or lies).
  if (info.frames && info.sample_rate_hz > 0 &&
      static_cast<double>(*info.frames) / info.sample_rate_hz > limits.max_file_seconds) {
    return absl::OutOfRangeError(absl::StrCat(
        "file is ", static_cast<double>(*info.frames) / info.sample_rate_hz,
        " seconds long (by its header), more than --max_file_seconds=", limits.max_file_seconds));
  }
  RETURN_IF_ERROR(CheckInputFormat(info));

  ASSIGN_OR_RETURN(const OutputRequest requested, OutputRequestFromProto(request.output()));
  ASSIGN_OR_RETURN(job->output_, PlanOutput(requested, info));
  const OutputPlan& output = job->output_;
  {
    FileInfo written;
    written.sf_format = output.sf_format;
    written.sample_rate_hz = output.sample_rate_hz;
    written.channels = output.channels;
    report->output = DescribeFormat(DescribeFile(written));
  }
  const StreamFormat input_format{job->decoder_->encoding(), info.sample_rate_hz, info.channels};
  const StreamFormat output_format{output.encoding, output.sample_rate_hz, output.channels};
  ASSIGN_OR_RETURN(job->pipeline_config_,
                   ToFilePipelineConfig(request, input_format, output_format,
                                        StreamLimits{limits.max_chain_length}));
  ASSIGN_OR_RETURN(const PipelineEstimate estimate,
                   EstimatePipeline(registry, job->pipeline_config_));
  std::vector<std::string> names;
  for (const ProcessorConfig& config : job->pipeline_config_.chain) names.push_back(config.name);
  report->chain = absl::StrJoin(names, ",");

  // The output's size from the header, before anything is decoded: the whole file's frames
  // at the output rate, or the longest file accepted when the header does not say.
  const double ratio = static_cast<double>(output.sample_rate_hz) / info.sample_rate_hz;
  const double frames_in = info.frames ? static_cast<double>(*info.frames)
                                       : limits.max_file_seconds * info.sample_rate_hz;
  const uint64_t samples_out =
      static_cast<uint64_t>(std::ceil(frames_in * ratio)) * output.channels;
  const uint64_t output_bytes = MaxFileBytes(output.sf_format, samples_out);
  if (info.frames && output_bytes > limits.max_output_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the output would be up to ", output_bytes, " bytes (", frames_in / info.sample_rate_hz,
        " s as ", report->output, "), more than --max_file_output_bytes=", limits.max_output_bytes,
        "; ask for a more compact output (output.container FLAC or "
        "OGG_*, a lower rate, fewer channels) or send a shorter file"));
  }
  job->max_output_bytes_ = std::min<uint64_t>(output_bytes, limits.max_output_bytes);

  // Per block: the decoded PCM (as floats at most), the processed PCM (a string that may
  // double as it grows) and the encoder's copy of it.
  job->block_frames_ =
      std::max<uint32_t>(kDefaultMaxBlockFrames, kBlockFrames / std::max(1.0, std::ceil(ratio)));
  const uint64_t block_in = uint64_t{job->block_frames_} * info.channels * sizeof(float);
  const uint64_t block_out =
      (static_cast<uint64_t>(std::ceil(job->block_frames_ * ratio)) +
       estimate.chain.max_latency_frames +
       2 * static_cast<uint64_t>(std::ceil(kDefaultMaxBlockFrames * ratio))) *
      output.channels * sizeof(float);
  job->memory_bytes_ = static_cast<int64_t>(estimate.memory_bytes + block_in + 3 * block_out +
                                            2 * job->max_output_bytes_) +
                       kCodecStateBytes;
  return job;
}

absl::Status FileJob::Run(Clock::time_point received, absl::FunctionRef<absl::Status()> interrupted,
                          v1::ProcessFileResponse* response, FileJobReport* report) {
  RETURN_IF_ERROR(interrupted());
  const FileInfo& info = decoder_->info();
  *response->mutable_input() = DescribeFile(info);
  ASSIGN_OR_RETURN(std::unique_ptr<StreamPipeline> pipeline,
                   StreamPipeline::Create(*registry_, pipeline_config_));
  std::vector<std::string> names;
  for (const ProcessorConfig& processor : pipeline->resolved_chain()) {
    names.push_back(processor.name);
  }
  report->chain = absl::StrJoin(names, ",");
  ASSIGN_OR_RETURN(std::unique_ptr<FileEncoder> encoder,
                   FileEncoder::Open(output_, max_output_bytes_));

  const double max_frames = limits_.max_file_seconds * info.sample_rate_hz;
  const size_t frame_bytes = size_t{info.channels} * BytesPerSample(decoder_->encoding());
  uint64_t decoded_frames = 0;
  double processing_seconds = 0;
  std::optional<float> integrated_lufs;
  std::string processed;
  for (;;) {
    RETURN_IF_ERROR(interrupted());
    ASSIGN_OR_RETURN(const absl::string_view pcm, decoder_->Read(block_frames_));
    if (pcm.empty()) break;
    decoded_frames += pcm.size() / frame_bytes;
    if (static_cast<double>(decoded_frames) > max_frames) {
      return absl::OutOfRangeError(
          absl::StrCat("file passed --max_file_seconds=", limits_.max_file_seconds,
                       " of audio while being decoded"));
    }
    processed.clear();
    const Clock::time_point start = Clock::now();
    pipeline->ProcessChunk(pcm, &processed);
    processing_seconds += Seconds(Clock::now() - start);
    KeepLoudness(*pipeline, &integrated_lufs);
    RETURN_IF_ERROR(encoder->Write(processed));
  }
  processed.clear();
  const Clock::time_point start = Clock::now();
  pipeline->Finish(&processed);
  processing_seconds += Seconds(Clock::now() - start);
  KeepLoudness(*pipeline, &integrated_lufs);
  RETURN_IF_ERROR(encoder->Write(processed));
  RETURN_IF_ERROR(interrupted());
  ASSIGN_OR_RETURN(*response->mutable_file(), encoder->Finish());

  const double audio_seconds = static_cast<double>(pipeline->frames_in()) / info.sample_rate_hz;
  report->audio_seconds = audio_seconds;
  *response->mutable_summary() =
      BuildStreamSummary(*pipeline, {.chunks = 1,  // the file, processed as one chunk
                                     .wall_seconds = Seconds(Clock::now() - received),
                                     .processing_seconds = processing_seconds,
                                     .integrated_lufs = integrated_lufs});
  return absl::OkStatus();
}

}  // namespace audioproc
