#include "processors/analyze.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <utility>

#include "chain/stream_pipeline.h"  // kSilenceDbfs, the level of silence everywhere
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

float PowerDb(double power) {
  if (!(power > 0)) return kSilenceDbfs;
  return std::max(kSilenceDbfs, static_cast<float>(10.0 * std::log10(power)));
}

// CPU-seconds per sample and channel (ring, sum of squares, peak), per point of an FFT frame
// and channel (window, and the power of half as many bins), and per bin of an interval (bands
// and centroid); the frames' FFTs are cost::RealFftSeconds. The number of bands changes
// nothing but the Prepare-time map of bins to bands.
constexpr double kAnalyzeChannelSeconds = 1.47e-9;
constexpr double kAnalyzePointSeconds = 0.67e-9;
constexpr double kAnalyzeIntervalBinSeconds = 2.5e-9;

}  // namespace

AnalyzeFrames AnalyzeFramesFor(double interval_ms, double sample_rate_hz) {
  AnalyzeFrames frames;
  frames.interval = std::max<uint32_t>(
      2, static_cast<uint32_t>(std::lround(interval_ms * sample_rate_hz / 1000)));
  frames.fft_size = 2;
  while (frames.fft_size * 2 <= std::min(frames.interval, kMaxAnalyzeFftSize)) {
    frames.fft_size *= 2;
  }
  return frames;
}

absl::StatusOr<StageEstimate> AnalyzeProcessor::Estimate(const ParamValues& params,
                                                         const ProcessSpec& input) {
  const auto bands = static_cast<uint32_t>(params.Int("bands"));
  const AnalyzeFrames frames = AnalyzeFramesFor(params.Number("interval_ms"), input.sample_rate_hz);
  const uint32_t n = frames.fft_size;
  const uint32_t bins = n / 2 + 1;
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes =
      cost::HeapBlock(sizeof(AnalyzeProcessor)) + cost::FftwBufferBytes<float>(n) +
      cost::FftwBufferBytes<fftwf_complex>(bins) + cost::VectorBytes<float>(n) +
      cost::VectorBytes<double>(bands + 1) + cost::VectorBytes<uint32_t>(bins) +
      cost::VectorBytes<double>(bins) + cost::VectorBytes<std::vector<float>>(input.channels) +
      input.channels * cost::VectorBytes<float>(n);
  // FFT frames lie wholly inside an interval, every n / 2 frames.
  const uint32_t frames_per_interval = (frames.interval - n) / (n / 2) + 1;
  const double intervals_per_second = input.sample_rate_hz / frames.interval;
  estimate.cpu_cores = input.channels * (input.sample_rate_hz * kAnalyzeChannelSeconds +
                                         intervals_per_second * frames_per_interval *
                                             (cost::RealFftSeconds(n) + n * kAnalyzePointSeconds)) +
                       intervals_per_second * bins * kAnalyzeIntervalBinSeconds;
  // One event per interval ended: a call of n frames ends at most ceil(n / interval).
  estimate.events = {1.0 / frames.interval, 0};
  return estimate;
}

ProcessorDefinition AnalyzeDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "analyze";
  definition.info.summary =
      "Every interval: peak and RMS level, spectral centroid and log-spaced band energies, "
      "as events; audio passes unchanged.";
  ParamInfo bands;
  bands.name = "bands";
  bands.type = ParamType::kInt;
  bands.default_value = 8;
  bands.min = 1;
  bands.max = kMaxAnalysisBands;
  bands.summary = "Log-spaced bands from 50 Hz to the Nyquist frequency.";
  ParamInfo interval;
  interval.name = "interval_ms";
  interval.type = ParamType::kFloat;
  interval.unit = "ms";
  interval.default_value = 100.0;
  interval.min = 10.0;
  interval.max = 10000.0;
  interval.summary = "How much audio each event describes.";
  definition.info.params = {std::move(bands), std::move(interval)};
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<AnalyzeProcessor>(static_cast<uint32_t>(params.Int("bands")),
                                              params.Number("interval_ms"));
  };
  definition.estimate = AnalyzeProcessor::Estimate;
  return definition;
}

AnalyzeProcessor::AnalyzeProcessor(uint32_t bands, double interval_ms)
    : bands_(bands), interval_ms_(interval_ms) {}

absl::StatusOr<ProcessSpec> AnalyzeProcessor::Prepare(const ProcessSpec& input) {
  rate_ = input.sample_rate_hz;
  channels_ = input.channels;
  const AnalyzeFrames frames = AnalyzeFramesFor(interval_ms_, rate_);
  interval_ = frames.interval;
  fft_size_ = frames.fft_size;
  hop_ = fft_size_ / 2;
  // The process's plan of this size, shared by every stream (RealFftPlan::Shared).
  absl::StatusOr<const RealFftPlan*> fft = RealFftPlan::Shared(static_cast<int>(fft_size_));
  if (!fft.ok()) return fft.status();
  fft_ = *fft;
  time_ = FftwBuffer<float>(fft_size_);
  spectrum_ = FftwBuffer<fftwf_complex>(fft_size_ / 2 + 1);

  window_.resize(fft_size_);
  double window_energy = 0;
  for (uint32_t n = 0; n < fft_size_; ++n) {
    // Periodic Hann: its shifted copies at hop N/2 sum to a constant, so every frame of the
    // interval weighs the same in the average.
    window_[n] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * n / fft_size_));
    window_energy += static_cast<double>(window_[n]) * window_[n];
  }
  // Parseval: sum over all N bins of |X_k|^2 = N x sum of (w x)^2; folding the negative
  // frequencies onto the positive ones doubles every bin but DC and Nyquist.
  bin_scale_ = 1.0 / (fft_size_ * window_energy);

  const double nyquist = rate_ / 2;
  edges_hz_.resize(bands_ + 1);
  for (uint32_t b = 0; b <= bands_; ++b) {
    edges_hz_[b] = kAnalyzeLowestBandHz *
                   std::pow(nyquist / kAnalyzeLowestBandHz, static_cast<double>(b) / bands_);
  }
  edges_hz_[bands_] = nyquist;
  band_of_bin_.assign(fft_size_ / 2 + 1, bands_);
  for (uint32_t k = 0; k <= fft_size_ / 2; ++k) {
    const double hz = k * rate_ / fft_size_;
    for (uint32_t b = 0; b < bands_; ++b) {
      if (hz >= edges_hz_[b] && (hz < edges_hz_[b + 1] || b + 1 == bands_)) {
        band_of_bin_[k] = b;
        break;
      }
    }
  }
  recent_.assign(channels_, std::vector<float>(fft_size_, 0.0f));
  power_.assign(fft_size_ / 2 + 1, 0.0);
  Reset();
  return input;
}

void AnalyzeProcessor::Reset() noexcept {
  for (std::vector<float>& ring : recent_) std::fill(ring.begin(), ring.end(), 0.0f);
  ring_position_ = 0;
  interval_start_ = 0;
  position_ = 0;
  next_frame_end_ = fft_size_;
  peak_ = 0;
  sum_squares_ = 0;
  std::fill(power_.begin(), power_.end(), 0.0);
  spectra_ = 0;
}

namespace {
constexpr StateTag kAnalyzeStateTag = MakeStateTag("anlz");
constexpr uint16_t kAnalyzeStateVersion = 1;
}  // namespace

absl::Status AnalyzeProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kAnalyzeStateTag, kAnalyzeStateVersion);
  writer.PutU32(channels_);
  for (const std::vector<float>& ring : recent_) writer.PutFloats(ring);
  writer.PutU32(ring_position_);
  writer.PutU64(interval_start_);
  writer.PutU32(position_);
  writer.PutU32(next_frame_end_);
  writer.PutFloat(peak_);
  writer.PutDouble(sum_squares_);
  writer.PutDoubles(power_);
  writer.PutU32(spectra_);
  return writer.status();
}

absl::Status AnalyzeProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kAnalyzeStateTag, kAnalyzeStateVersion);
  const uint32_t channels = reader.GetU32();
  if (reader.ok() && channels != channels_) reader.Fail("analyze of another channel count");
  for (std::vector<float>& ring : recent_) reader.GetFiniteFloats(ring);
  ring_position_ = reader.GetU32AtMost(fft_size_ - 1);
  interval_start_ = reader.GetU64();
  position_ = reader.GetU32AtMost(interval_ - 1);
  next_frame_end_ = reader.GetU32();
  // The next FFT frame ends a whole number of hops after the first, past the position.
  if (reader.ok() &&
      (next_frame_end_ < fft_size_ || next_frame_end_ < position_ ||
       next_frame_end_ > interval_ + fft_size_ || (next_frame_end_ - fft_size_) % hop_ != 0)) {
    reader.Fail("analyze frame position out of place");
  }
  peak_ = reader.GetFiniteFloat();
  sum_squares_ = reader.GetFiniteDouble();
  reader.GetFiniteDoubles(power_);
  spectra_ = reader.GetU32();
  return FinishRestore(reader);
}

void AnalyzeProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  uint32_t done = 0;
  while (done < frames) {
    // Up to whichever comes first: the end of the block, of the interval, of an FFT frame,
    // or of the ring.
    const uint32_t run = std::min({frames - done, interval_ - position_,
                                   next_frame_end_ - position_, fft_size_ - ring_position_});
    for (uint32_t c = 0; c < channels_; ++c) {
      const float* x = in.channel(c) + done;
      float* ring = recent_[c].data() + ring_position_;
      double sum = 0;
      float peak = peak_;
      for (uint32_t i = 0; i < run; ++i) {
        ring[i] = x[i];
        sum += static_cast<double>(x[i]) * x[i];
        peak = std::max(peak, std::fabs(x[i]));
      }
      sum_squares_ += sum;
      peak_ = peak;
    }
    done += run;
    position_ += run;
    ring_position_ = ring_position_ + run == fft_size_ ? 0 : ring_position_ + run;
    if (position_ == next_frame_end_) {
      AnalyzeFrame();
      next_frame_end_ += hop_;
    }
    if (position_ == interval_) EndInterval();
  }
}

void AnalyzeProcessor::AnalyzeFrame() noexcept {
  for (uint32_t c = 0; c < channels_; ++c) {
    // Oldest first: the ring's write position holds the oldest frame.
    const std::vector<float>& ring = recent_[c];
    const uint32_t head = fft_size_ - ring_position_;
    for (uint32_t n = 0; n < head; ++n) time_[n] = ring[ring_position_ + n] * window_[n];
    for (uint32_t n = head; n < fft_size_; ++n) time_[n] = ring[n - head] * window_[n];
    fft_->Forward(time_.data(), spectrum_.data());
    for (uint32_t k = 0; k <= fft_size_ / 2; ++k) {
      const double re = spectrum_[k][0], im = spectrum_[k][1];
      const double fold = (k == 0 || k == fft_size_ / 2) ? 1.0 : 2.0;
      power_[k] += fold * (re * re + im * im);
    }
  }
  ++spectra_;
}

void AnalyzeProcessor::EndInterval() noexcept {
  AnalysisEvent event;
  event.peak_dbfs = peak_ > 0 ? std::max(kSilenceDbfs, 20.0f * std::log10(peak_)) : kSilenceDbfs;
  event.rms_dbfs = PowerDb(sum_squares_ / (static_cast<double>(interval_) * channels_));
  event.num_bands = bands_;
  // Mean square per bin, averaged over frames and channels.
  const double scale =
      bin_scale_ / (static_cast<double>(std::max<uint32_t>(spectra_, 1)) * channels_);
  double total = 0, weighted = 0;
  std::array<double, kMaxAnalysisBands + 1> band_power{};
  for (uint32_t k = 0; k <= fft_size_ / 2; ++k) {
    const double p = power_[k] * scale;
    total += p;
    weighted += p * (k * rate_ / fft_size_);
    band_power[band_of_bin_[k]] += p;
  }
  event.spectral_centroid_hz = total > 0 ? static_cast<float>(weighted / total) : 0.0f;
  if (!std::isfinite(event.spectral_centroid_hz)) event.spectral_centroid_hz = 0.0f;
  for (uint32_t b = 0; b < bands_; ++b) event.band_energy_db[b] = PowerDb(band_power[b]);
  // Samples near the float limit overflow the float FFT, whose spectrum then says nothing:
  // such bands read as silence rather than Inf or NaN.
  for (uint32_t b = 0; b < bands_; ++b) {
    if (!std::isfinite(event.band_energy_db[b])) event.band_energy_db[b] = kSilenceDbfs;
  }
  Emit(interval_start_, event);

  interval_start_ += interval_;
  position_ = 0;
  next_frame_end_ = fft_size_;
  peak_ = 0;
  sum_squares_ = 0;
  std::fill(power_.begin(), power_.end(), 0.0);
  spectra_ = 0;
}

}  // namespace audioproc
