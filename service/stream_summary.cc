#include "service/stream_summary.h"

#include <span>

namespace audioproc {

v1::StreamSummary BuildStreamSummary(const StreamPipeline& pipeline, const SummaryTotals& totals) {
  v1::StreamSummary summary;
  const double audio_seconds =
      static_cast<double>(pipeline.frames_in()) / pipeline.config().input.sample_rate_hz;
  summary.set_frames_in(pipeline.frames_in());
  summary.set_frames_out(pipeline.frames_out());
  summary.set_chunks(totals.chunks);
  summary.set_audio_seconds(audio_seconds);
  summary.set_wall_seconds(totals.wall_seconds);
  summary.set_real_time_factor(audio_seconds > 0 ? totals.processing_seconds / audio_seconds : 0);
  const std::span<const double> seconds = pipeline.processor_seconds();
  const std::vector<ProcessorConfig>& resolved = pipeline.resolved_chain();
  for (size_t i = 0; i < resolved.size(); ++i) {
    v1::ProcessorTiming* timing = summary.add_processors();
    timing->set_name(resolved[i].name);
    timing->set_seconds(seconds[i]);
  }
  summary.set_clipped_samples(pipeline.clipped_samples());
  summary.set_nonfinite_samples(pipeline.nonfinite_samples());
  if (totals.integrated_lufs) summary.set_integrated_lufs(*totals.integrated_lufs);
  summary.set_dropped_events(pipeline.dropped_events() + totals.events_not_sent);
  summary.set_discarded_bytes(pipeline.discarded_bytes());
  return summary;
}

}  // namespace audioproc
