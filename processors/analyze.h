// analyze: levels, band energies and spectral centroid of every interval, reported as events.
//
// The stream is cut into intervals of `interval_ms` (counted in frames from the start of the
// stream, so the cut does not depend on block sizes). At the end of each interval one
// AnalysisEvent is Emitted at the interval's first frame:
//   - peak_dbfs: the largest |sample| of any channel (0 dBFS = full scale);
//   - rms_dbfs: the mean square over every sample of every channel, in dB, so a full-scale
//     sine reads -3.01 dBFS (the convention of ChunkMetrics and the compressor);
//   - spectral_centroid_hz and band_energy_db from Welch's method: Hann-windowed FFT frames of
//     N frames (the largest power of two up to the interval, at most kMaxAnalyzeFftSize), hop
//     N/2, lying wholly inside the interval, their power spectra averaged over frames and
//     channels. The spectrum is scaled so that its bins sum to the mean square (Parseval),
//     which makes a band's energy the level, in dBFS like rms_dbfs, of the signal in that band;
//     a sine wholly inside one band reads its own rms_dbfs there.
// Bands are `bands` log-spaced bands from kAnalyzeLowestBandHz to the Nyquist frequency; a
// bin belongs to the band its centre frequency falls in (the last band includes Nyquist).
// Bins below the lowest band (DC) count toward the centroid but no band. A band that holds no
// bin (narrow low bands with a short FFT) and silence read kSilenceDbfs; the centroid of
// silence is 0. Resolution is one bin, sample_rate / N: 11.7 Hz at 48 kHz for 100 ms intervals.
// Audio passes through unchanged; no latency.
//
// Thread safety: the definition is a plain value; each AnalyzeProcessor is used by one thread
// at a time (Processor's contract). Prepare plans FFTs under the process-wide planner mutex.
#ifndef AUDIOPROC_PROCESSORS_ANALYZE_H_
#define AUDIOPROC_PROCESSORS_ANALYZE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/events.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/fftw_plan.h"

namespace audioproc {

// Long intervals average many frames of this size rather than one huge transform.
inline constexpr uint32_t kMaxAnalyzeFftSize = 8192;
inline constexpr double kAnalyzeLowestBandHz = 50.0;

// analyze: bands (8, [1, 32], integer), interval_ms (100, [10, 10000] ms).
ProcessorDefinition AnalyzeDefinition();

// The interval and the FFT frame, in frames, as Prepare sets them for `interval_ms` at
// `sample_rate_hz`.
struct AnalyzeFrames {
  uint32_t interval = 1;
  uint32_t fft_size = 2;
};
AnalyzeFrames AnalyzeFramesFor(double interval_ms, double sample_rate_hz);

class AnalyzeProcessor : public Processor {
 public:
  AnalyzeProcessor(uint32_t bands, double interval_ms);

  // Sizes the interval, the FFT and its buffers, and maps bins to bands. Allocates and locks
  // the FFTW planner mutex.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  // One event per interval_ms ended.
  uint32_t MaxEventsPerBlock(uint32_t frames) const override { return frames / interval_ + 1; }
  void Reset() noexcept override;
  // The rings of recent frames and the interval so far (its start frame included: events
  // carry frames).
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  uint32_t interval_frames() const { return interval_; }
  uint32_t fft_size() const { return fft_size_; }
  // The edges of band b are band_edge_hz(b) and band_edge_hz(b + 1).
  double band_edge_hz(uint32_t b) const { return edges_hz_[b]; }

  // What Create and Prepare of `params` (resolved) for `input` allocate and cost, for
  // ProcessorDefinition::estimate.
  static absl::StatusOr<StageEstimate> Estimate(const ParamValues& params,
                                                const ProcessSpec& input);

 private:
  // Adds the power spectrum of each channel's last fft_size_ frames to the interval's sum.
  void AnalyzeFrame() noexcept;
  // Emits the interval's event and starts the next interval.
  void EndInterval() noexcept;

  uint32_t bands_;
  double interval_ms_;
  double rate_ = 0;
  uint32_t channels_ = 0;
  uint32_t interval_ = 1;  // frames
  uint32_t fft_size_ = 2;
  uint32_t hop_ = 1;
  std::vector<double> edges_hz_;       // bands_ + 1 edges
  std::vector<uint32_t> band_of_bin_;  // bands_ for bins below the lowest band
  std::vector<float> window_;
  double bin_scale_ = 1;              // turns |X_k|^2 into mean square per bin (one-sided)
  const RealFftPlan* fft_ = nullptr;  // shared, RealFftPlan::Shared
  FftwBuffer<float> time_;
  FftwBuffer<fftwf_complex> spectrum_;
  std::vector<std::vector<float>> recent_;  // per channel, the last fft_size_ frames (a ring)
  uint32_t ring_position_ = 0;

  // The current interval.
  uint64_t interval_start_ = 0;  // in frames since the stream's start
  uint32_t position_ = 0;        // frames into the interval
  uint32_t next_frame_end_ = 0;  // the position at which the next FFT frame is complete
  float peak_ = 0;
  double sum_squares_ = 0;
  std::vector<double> power_;  // summed over the interval's FFT frames and channels
  uint32_t spectra_ = 0;       // how many were summed
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_ANALYZE_H_
