#include "service/file_job.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "processors/status_macros.h"
#include "processors/stream_pipeline.h"
#include "service/file_codec.h"
#include "service/stream_config.h"

namespace audioproc {
namespace {

using Clock = std::chrono::steady_clock;

// Frames decoded, processed and encoded at a time: large enough that per-block overhead
// vanishes, small enough that an interruption is noticed within milliseconds and the
// buffers stay small (8 channels of f32: 2 MiB).
constexpr uint32_t kBlockFrames = 65536;

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

absl::Status RunFileJob(const v1::ProcessFileRequest& request, const ProcessorRegistry& registry,
                        const FileJobLimits& limits, Clock::time_point received,
                        absl::FunctionRef<absl::Status()> interrupted,
                        v1::ProcessFileResponse* response, FileJobReport* report) {
  RETURN_IF_ERROR(interrupted());
  ASSIGN_OR_RETURN(std::unique_ptr<FileDecoder> decoder, FileDecoder::Open(request.file()));
  const FileInfo& info = decoder->info();
  *response->mutable_input() = info.Describe();
  report->input = DescribeFormat(response->input());
  // By the header first, so that a long file costs no decoding; while decoding as well, for
  // files whose header does not say (or lies).
  if (info.frames && info.sample_rate_hz > 0 &&
      static_cast<double>(*info.frames) / info.sample_rate_hz > limits.max_file_seconds) {
    return absl::OutOfRangeError(absl::StrCat(
        "file is ", static_cast<double>(*info.frames) / info.sample_rate_hz,
        " seconds long (by its header), more than --max_file_seconds=", limits.max_file_seconds));
  }
  RETURN_IF_ERROR(CheckInputFormat(info));

  ASSIGN_OR_RETURN(const OutputPlan plan, PlanOutput(request.output(), info));
  const StreamFormat input{decoder->encoding(), info.sample_rate_hz, info.channels};
  const StreamFormat output{plan.encoding, plan.sample_rate_hz, plan.channels};
  ASSIGN_OR_RETURN(
      const PipelineConfig config,
      ToFilePipelineConfig(request, input, output, StreamLimits{limits.max_chain_length}));
  ASSIGN_OR_RETURN(std::unique_ptr<StreamPipeline> pipeline,
                   StreamPipeline::Create(registry, config));
  const Chain& chain = pipeline->chain();
  std::vector<std::string> names;
  for (const ProcessorConfig& processor : chain.resolved()) names.push_back(processor.name);
  report->chain = absl::StrJoin(names, ",");
  ASSIGN_OR_RETURN(std::unique_ptr<FileEncoder> encoder,
                   FileEncoder::Open(plan, limits.max_output_bytes));
  {
    FileInfo written;
    written.sf_format = plan.sf_format;
    written.sample_rate_hz = plan.sample_rate_hz;
    written.channels = plan.channels;
    report->output = DescribeFormat(written.Describe());
  }

  const double max_frames = limits.max_file_seconds * info.sample_rate_hz;
  const size_t frame_bytes = size_t{info.channels} * BytesPerSample(input.encoding);
  uint64_t decoded_frames = 0;
  double processing_seconds = 0;
  std::optional<float> integrated_lufs;
  std::string processed;
  for (;;) {
    RETURN_IF_ERROR(interrupted());
    ASSIGN_OR_RETURN(const absl::string_view pcm, decoder->Read(kBlockFrames));
    if (pcm.empty()) break;
    decoded_frames += pcm.size() / frame_bytes;
    if (static_cast<double>(decoded_frames) > max_frames) {
      return absl::OutOfRangeError(
          absl::StrCat("file passed --max_file_seconds=", limits.max_file_seconds,
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
  v1::StreamSummary* summary = response->mutable_summary();
  summary->set_frames_in(pipeline->frames_in());
  summary->set_frames_out(pipeline->frames_out());
  summary->set_chunks(1);  // the file, processed as one chunk
  summary->set_audio_seconds(audio_seconds);
  summary->set_wall_seconds(Seconds(Clock::now() - received));
  summary->set_real_time_factor(audio_seconds > 0 ? processing_seconds / audio_seconds : 0);
  const auto seconds = chain.processor_seconds();
  for (size_t i = 0; i < chain.size(); ++i) {
    v1::ProcessorTiming* timing = summary->add_processors();
    timing->set_name(chain.resolved()[i].name);
    timing->set_seconds(seconds[i]);
  }
  summary->set_clipped_samples(pipeline->clipped_samples());
  summary->set_nonfinite_samples(pipeline->nonfinite_samples());
  if (integrated_lufs) summary->set_integrated_lufs(*integrated_lufs);
  return absl::OkStatus();
}

}  // namespace audioproc
