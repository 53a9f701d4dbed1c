// The StreamSummary of a stream (its `summary` response) and of a file (ProcessFileResponse's
// summary), built in one place from the pipeline that processed it.
// Thread safety: a function of its arguments; the pipeline is only read.
#ifndef AUDIOPROC_SERVICE_STREAM_SUMMARY_H_
#define AUDIOPROC_SERVICE_STREAM_SUMMARY_H_

#include <cstdint>
#include <optional>

#include "audioproc/v1/audioproc.pb.h"
#include "chain/stream_pipeline.h"

namespace audioproc {

// What the pipeline does not know of its stream or file.
struct SummaryTotals {
  uint64_t chunks = 0;            // a file counts as one chunk
  double wall_seconds = 0;        // from `ready` (a stream) or the call's arrival (a file)
  double processing_seconds = 0;  // time spent processing, for the real-time factor
  // The last integrated loudness a loudness processor reported.
  std::optional<float> integrated_lufs = std::nullopt;
  // Events the chain reported that no response had room for; those the chain itself lost
  // are the pipeline's to count.
  uint64_t events_not_sent = 0;
};

// The summary after `pipeline` has finished (StreamPipeline::Finish): frames, audio seconds,
// the real-time factor, each processor's time, clipped and non-finite samples, the loudness,
// events dropped and bytes of an incomplete last frame discarded.
v1::StreamSummary BuildStreamSummary(const StreamPipeline& pipeline, const SummaryTotals& totals);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_SUMMARY_H_
