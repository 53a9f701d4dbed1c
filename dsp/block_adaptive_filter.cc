#include "dsp/block_adaptive_filter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "dsp/cost_model.h"
#include "dsp/power_fluctuations.h"

namespace audioproc {
namespace {

// The NLMS denominator's regularization: a share of the mean per-bin reference power, so
// bins the reference leaves empty (above its band) do not take huge steps on noise, and an
// absolute floor for silence.
constexpr float kRelativeRegularization = 1e-4f;
constexpr float kAbsoluteRegularization = 1e-9f;
// ... and a share of the reference's recent peak level (the largest mean per-bin power, decaying
// by kLevelDecay per block: about 8 s to fall 30 dB): when the far end falls silent or into a
// quiet passage, the mean power drops and with it the first term, and the near end's speech
// (or the room's noise) in the error would take steps of thousands on what little reference is
// left, which blows the filter up once the far end speaks again. Measured on aec_echo_test's
// scenes with the double-talk step (below): single-talk ERLE 23.4/36.6/25.2/21.6/21.6 ->
// 25.4/38.3/25.5/23.3/33.9 dB, double-talk SDR 0.1 to 2.1 dB lower, recovery +1.2 dB at
// 16 kHz; 3e-4 and 3e-3 measure within 0.5 dB of it.
constexpr float kLevelRegularization = 1e-3f;
constexpr double kLevelDecay = 0.999;
// The NLMS denominator of a bin is at least kNeighbourPowerShare of the largest within
// kNeighbourBins bins either side. The error's spectrum is of its block padded by B zeros, and
// that half-length window leaks each bin's error into the bins 1 and 3 away at about 0.4 and
// 0.05 of its power ((2 / pi d)^2). A reference whose spectrum is lines on the bins with nearly
// nothing between them (a voice whose pitch is a multiple of the bin spacing fs / 2B: 125, 250
// or 375 Hz with 128-sample blocks at 16 kHz, 187.5 Hz with 256 at 48 kHz) then gives the bins
// between the lines their neighbours' leaked error over their own tiny power: steps of |E| / |X|
// that the echo does not call for, which grow the filter until the pitch moves and they play
// out as an error louder than the microphone. On a synthetic voice through a 0.25 s room, the
// filter alone (aec's sizes) from 4 s: at 125 / 250 / 375 Hz -14.5 / -23.3 / -11.4 dB ERLE
// without the floor, 26.8 / 26.3 / 27.6 dB with it (150 Hz 25.9 -> 25.1, 48 kHz at 187.5 Hz
// -21.3 -> 29.9 dB). The neighbours 1 bin away only, at 0.1 of their power, left 250 Hz at
// 11.8 dB in block_adaptive_filter_test; at 0.2 or 0.3 they cost aec_echo_test's scenes up to
// 30 dB of single talk in their first seconds (the near-end detector's early decisions move).
// bench-dsp's measurements are in the README.
constexpr float kNeighbourPowerShare = 0.1f;
constexpr int kNeighbourBins = 3;
// Smoothing of the per-block error energies the two filters are compared by (about 4 blocks).
constexpr double kEnergySmoothing = 0.75;
// CPU-seconds per complex multiply-add of a partition's bin, counted as 5.5 per partition, bin
// and reference (the two estimates, the gradient, the IPNLMS shares' norm, denominator and
// scaled step, and the near-end detector's predicted echo), and per sample and channel (block
// copies, energies). Fitted to resource_estimate_test's measurements at 16 and 48 kHz.
constexpr double kMacsPerPartitionBin = 5.5;
constexpr double kMacSeconds = 1.2e-9;
constexpr double kSampleSeconds = 6e-9;

// The double-talk step (Valin 2007, "On adjusting the learning rate in frequency domain echo
// cancellation with double-talk"; speexdsp's mdf.c), taken while the near end is detected. The
// rates are per block (of about 8 ms): the per-bin power averages' (a second), and the leak's
// averaging, at most kMaxLeakRate and kLeakRate times the echo estimate's energy over the
// error's, so that a block of double talk (an error far larger than the echo estimate) hardly
// moves the leak.
constexpr double kSpectrumAveraging = 0.008;
constexpr double kLeakRate = 0.05;
constexpr double kMaxLeakRate = 0.02;
// The leak never drops below this share: a filter is never trusted to have removed more.
constexpr double kMinLeak = 0.005;
// The residual-to-error ratio's ceiling (also the residual share that keeps the full step), and
// how the per-bin step mixes the bin's own residual share (kBinShare) and the block's.
constexpr double kMaxResidualRatio = 0.5;
constexpr float kBinShare = 0.7f;

// out += a * b (complex, interleaved re, im), n bins.
void MultiplyAccumulate(const float* a, const float* b, float* out, uint32_t n) noexcept {
  for (uint32_t k = 0; k < 2 * n; k += 2) {
    out[k] += a[k] * b[k] - a[k + 1] * b[k + 1];
    out[k + 1] += a[k] * b[k + 1] + a[k + 1] * b[k];
  }
}

// w += conj(x) g (complex, interleaved), n bins.
void ConjugateMultiplyAccumulate(const float* x, const float* g, float* w, uint32_t n) noexcept {
  for (uint32_t k = 0; k < 2 * n; k += 2) {
    w[k] += x[k] * g[k] + x[k + 1] * g[k + 1];
    w[k + 1] += x[k] * g[k + 1] - x[k + 1] * g[k];
  }
}

}  // namespace

absl::Status BlockAdaptiveFilter::Init(uint32_t block, uint32_t partitions, uint32_t channels,
                                       uint32_t references) {
  if (block < 2 || partitions == 0 || channels == 0 || references == 0) {
    return absl::InvalidArgumentError("BlockAdaptiveFilter needs a block, partitions, channels");
  }
  block_ = block;
  fft_size_ = 2 * block;
  bins_ = block + 1;
  partitions_ = partitions;
  references_ = references;
  absl::StatusOr<const RealFftPlan*> fft = RealFftPlan::Shared(static_cast<int>(fft_size_));
  if (!fft.ok()) return fft.status();
  fft_ = *fft;
  frame_ = FftwBuffer<float>(fft_size_);
  spectrum_ = FftwBuffer<fftwf_complex>(bins_);
  const size_t weights = size_t{partitions} * references * 2 * bins_;
  spectra_.assign(weights, 0.0f);
  power_.assign(bins_, 0.0f);
  slot_power_.assign(size_t{partitions} * references * bins_, 0.0f);
  slot_total_.assign(partitions, 0.0f);
  share_.assign(partitions, 0.0f);
  profile_.assign(partitions, 1.0f / partitions);
  step_.assign(2 * bins_, 0.0f);
  bin_step_.assign(bins_, 0.0f);
  error_power_.assign(bins_, 0.0f);
  scaled_step_.assign(2 * bins_, 0.0f);
  background_error_.assign(block, 0.0f);
  background_echo_.assign(block, 0.0f);
  channels_.resize(channels);
  for (Channel& channel : channels_) {
    channel.background.assign(weights, 0.0f);
    channel.foreground.assign(weights, 0.0f);
    channel.error_power.assign(bins_, 0.0f);
    channel.echo_power.assign(bins_, 0.0f);
  }
  Reset();
  return absl::OkStatus();
}

uint64_t BlockAdaptiveFilter::InitBytes(uint32_t block, uint32_t partitions, uint32_t channels,
                                        uint32_t references) {
  const uint64_t bins = block + 1;
  const uint64_t weights = uint64_t{partitions} * references * 2 * bins;
  return cost::FftwBufferBytes<float>(2 * block) + cost::FftwBufferBytes<fftwf_complex>(bins) +
         cost::VectorBytes<float>(weights) + cost::VectorBytes<float>(bins) +
         cost::VectorBytes<float>(uint64_t{partitions} * references * bins) +
         3 * cost::VectorBytes<float>(partitions) + 2 * cost::VectorBytes<float>(2 * bins) +
         2 * cost::VectorBytes<float>(bins) + 2 * cost::VectorBytes<float>(block) +
         cost::VectorBytes<Channel>(channels) +
         channels * (2 * cost::VectorBytes<float>(weights) + 2 * cost::VectorBytes<float>(bins));
}

double BlockAdaptiveFilter::CpuCores(double sample_rate_hz, uint32_t block, uint32_t partitions,
                                     uint32_t channels, uint32_t references) {
  const double blocks = sample_rate_hz / block;
  const double macs = kMacsPerPartitionBin * partitions * references * (block + 1);
  // Per channel: the two estimates' inverse FFTs, the error's and the echo estimate's (for the
  // double-talk step's leak), and the constraint's two per constrained partition.
  const double ffts =
      references + channels * (4.0 + 2.0 * references * std::min(kConstrainedPerBlock, partitions));
  return blocks * (channels * macs * kMacSeconds + ffts * cost::RealFftSeconds(2 * block)) +
         sample_rate_hz * channels * kSampleSeconds;
}

void BlockAdaptiveFilter::Reset() noexcept {
  ClearReference();
  for (Channel& channel : channels_) {
    std::fill(channel.background.begin(), channel.background.end(), 0.0f);
    std::fill(channel.foreground.begin(), channel.foreground.end(), 0.0f);
    channel.background_energy = channel.foreground_energy = channel.mic_energy = 0;
    channel.next_constrained = 0;
    ResetDoubleTalk(channel);
  }
}

void BlockAdaptiveFilter::ResetDoubleTalk(Channel& channel) noexcept {
  std::fill(channel.error_power.begin(), channel.error_power.end(), 0.0f);
  std::fill(channel.echo_power.begin(), channel.echo_power.end(), 0.0f);
  channel.leak_covariance = channel.leak_deviation = 0;
  channel.reference_level = 0;
  channel.echo_gain = 0;
  channel.mic_floor = 0;
  channel.predictions.fill(0.0);
  channel.next_prediction = 0;
  channel.active_blocks = 0;
  channel.near_blocks = 0;
  channel.over_margin = false;
  channel.reference_gain = 0;
  channel.loud_near_blocks = 0;
  channel.loud_run = 0;
  channel.held_blocks = 0;
}

void BlockAdaptiveFilter::ClearReference() noexcept {
  std::fill(spectra_.begin(), spectra_.end(), 0.0f);
  std::fill(slot_power_.begin(), slot_power_.end(), 0.0f);
  std::fill(slot_total_.begin(), slot_total_.end(), 0.0f);
  newest_ = 0;
  filled_ = 0;
}

void BlockAdaptiveFilter::PushReference(const float* const* windows) noexcept {
  newest_ = (newest_ + 1) % partitions_;
  filled_ = std::min(filled_ + 1, partitions_);
  for (uint32_t r = 0; r < references_; ++r) {
    std::copy(windows[r], windows[r] + fft_size_, frame_.data());
    fft_->Forward(frame_.data(), spectrum_.data());
    const auto* x = reinterpret_cast<const float*>(spectrum_.data());
    std::copy(x, x + 2 * bins_, spectra_.data() + Offset(newest_, r));
  }
  // The slot's power per reference and bin, for the NLMS denominator (summed over the
  // references) and the near-end detector's prediction.
  double total = 0;
  for (uint32_t r = 0; r < references_; ++r) {
    const float* x = spectra_.data() + Offset(newest_, r);
    float* power = slot_power_.data() + PowerOffset(newest_, r);
    for (uint32_t k = 0; k < bins_; ++k) {
      power[k] = x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1];
      total += power[k];
    }
  }
  slot_total_[newest_] = static_cast<float>(total);
}

void BlockAdaptiveFilter::ShiftTaps(int blocks) noexcept {
  if (blocks == 0) return;
  const auto p = static_cast<int>(partitions_);
  const size_t stride = size_t{references_} * 2 * bins_;
  for (Channel& channel : channels_) {
    for (std::vector<float>* weights : {&channel.background, &channel.foreground}) {
      float* w = weights->data();
      if (blocks >= p || blocks <= -p) {
        std::fill(weights->begin(), weights->end(), 0.0f);
      } else if (blocks > 0) {
        std::copy(w + blocks * stride, w + p * stride, w);
        std::fill(w + (p - blocks) * stride, w + p * stride, 0.0f);
      } else {
        std::copy_backward(w, w + (p + blocks) * stride, w + p * stride);
        std::fill(w, w + (-blocks) * stride, 0.0f);
      }
    }
  }
}

void BlockAdaptiveFilter::Estimate(const std::vector<float>& weights, float* out) noexcept {
  auto* spectrum = reinterpret_cast<float*>(spectrum_.data());
  std::fill(spectrum, spectrum + 2 * bins_, 0.0f);
  for (uint32_t p = 0; p < partitions_; ++p) {
    const uint32_t slot = Slot(p);
    for (uint32_t r = 0; r < references_; ++r) {
      MultiplyAccumulate(weights.data() + Offset(p, r), spectra_.data() + Offset(slot, r), spectrum,
                         bins_);
    }
  }
  fft_->Inverse(spectrum_.data(), frame_.data());
  const float scale = 1.0f / static_cast<float>(fft_size_);
  for (uint32_t i = 0; i < block_; ++i) out[i] = frame_[block_ + i] * scale;
}

void BlockAdaptiveFilter::Process(uint32_t channel_index, const float* mic, float* error,
                                  float* echo, bool near_elsewhere) noexcept {
  Channel& channel = channels_[channel_index];
  if (!double_talk_control_) return ProcessAlone(channel, mic, error, echo);
  Estimate(channel.background, background_echo_.data());
  Estimate(channel.foreground, echo);
  const BlockEnergies background = Subtract(mic, background_echo_.data(), background_error_.data());
  const double foreground_energy = Subtract(mic, echo, error).error;
  if (!std::isfinite(background.error) || !std::isfinite(foreground_energy)) {
    return StartAgain(channel, mic, error, echo);
  }
  channel.background_energy =
      kEnergySmoothing * channel.background_energy + (1 - kEnergySmoothing) * background.error;
  channel.foreground_energy =
      kEnergySmoothing * channel.foreground_energy + (1 - kEnergySmoothing) * foreground_energy;
  DetectNear(channel, background.mic);
  Adapt(channel, background_error_.data(), background_echo_.data(), background.echo,
        background.error, near_elsewhere);
  channel.mic_energy =
      kEnergySmoothing * channel.mic_energy + (1 - kEnergySmoothing) * background.mic;
  if (channel.background_energy < kCopyRatio * channel.foreground_energy &&
      channel.background_energy < kMicCopyRatio * channel.mic_energy) {
    channel.foreground = channel.background;  // same size: copies, never allocates
    channel.foreground_energy = channel.background_energy;
  } else if (channel.background_energy > kResetRatio * channel.foreground_energy) {
    channel.background = channel.foreground;
    channel.background_energy = channel.foreground_energy;
  }
}

BlockAdaptiveFilter::BlockEnergies BlockAdaptiveFilter::Subtract(const float* mic,
                                                                 const float* echo,
                                                                 float* error) const noexcept {
  BlockEnergies energies;
  for (uint32_t i = 0; i < block_; ++i) {
    error[i] = mic[i] - echo[i];
    energies.error += double{error[i]} * error[i];
    energies.echo += double{echo[i]} * echo[i];
    energies.mic += double{mic[i]} * mic[i];
  }
  return energies;
}

void BlockAdaptiveFilter::StartAgain(Channel& channel, const float* mic, float* error,
                                     float* echo) noexcept {
  std::fill(channel.background.begin(), channel.background.end(), 0.0f);
  std::fill(channel.foreground.begin(), channel.foreground.end(), 0.0f);
  channel.background_energy = channel.foreground_energy = channel.mic_energy = 0;
  ResetDoubleTalk(channel);
  std::fill(echo, echo + block_, 0.0f);
  for (uint32_t i = 0; i < block_; ++i) error[i] = std::isfinite(mic[i]) ? mic[i] : 0.0f;
}

void BlockAdaptiveFilter::ProcessAlone(Channel& channel, const float* mic, float* error,
                                       float* echo) noexcept {
  Estimate(channel.background, echo);
  const BlockEnergies block = Subtract(mic, echo, error);
  if (!std::isfinite(block.error) || !std::isfinite(block.echo)) {
    return StartAgain(channel, mic, error, echo);
  }
  channel.background_energy =
      kEnergySmoothing * channel.background_energy + (1 - kEnergySmoothing) * block.error;
  channel.foreground_energy = channel.background_energy;
  channel.mic_energy = kEnergySmoothing * channel.mic_energy + (1 - kEnergySmoothing) * block.mic;
  // No near end is ever detected, so the step is the plain one (StepShares).
  Adapt(channel, error, echo, block.echo, block.error, false);
}

void BlockAdaptiveFilter::Adapt(Channel& channel, const float* error, const float* echo,
                                double echo_energy, double error_energy,
                                bool near_elsewhere) noexcept {
  // Sustained loud near speech: nothing to learn about the echo 10 dB under it, and the
  // background's own estimate, once it has begun to follow the near end, raises its step
  // (DetectNear's constants have the measurements).
  if (channel.held_blocks > 0) return;
  // The step grows from kBackgroundStep to kConvergedStep as the background's echo estimate
  // comes to dominate its error (between kLowEchoShare and kHighEchoShare of the error's energy):
  // a filter that already explains the echo, with the far end talking alone, refines faster,
  // while near speech in the error (double talk) or a filter that explains little keeps the
  // cautious step.
  const double ratio = echo_energy / (error_energy + 1e-30);
  const float mu = kBackgroundStep +
                   (kConvergedStep - kBackgroundStep) *
                       static_cast<float>(std::clamp(
                           (ratio - kLowEchoShare) / (kHighEchoShare - kLowEchoShare), 0.0, 1.0));
  float* frame = frame_.data();
  const auto* e = reinterpret_cast<const float*>(spectrum_.data());
  // The echo estimate's power spectrum (padded as the error's), held in bin_step_ for
  // StepShares.
  std::fill(frame, frame + block_, 0.0f);
  std::copy(echo, echo + block_, frame + block_);
  fft_->Forward(frame, spectrum_.data());
  for (uint32_t k = 0; k < bins_; ++k) {
    bin_step_[k] = e[2 * k] * e[2 * k] + e[2 * k + 1] * e[2 * k + 1];
  }
  std::fill(frame, frame + block_, 0.0f);
  std::copy(error, error + block_, frame + block_);
  fft_->Forward(frame, spectrum_.data());
  for (uint32_t k = 0; k < bins_; ++k) {
    error_power_[k] = e[2 * k] * e[2 * k] + e[2 * k + 1] * e[2 * k + 1];
  }
  StepShares(channel, error, echo, echo_energy, error_energy, near_elsewhere);
  // IPNLMS (Benesty & Gay 2002) over partitions: each partition's share of the step mixes a
  // uniform part and one proportional to the partition's weight norm, so a room's early,
  // strong partitions converge first and fast, and its quiet tail is not flooded with the
  // gradient noise that a uniform step spreads over every partition. The uniform part follows
  // the step profile (SetStepProfile; Makino's exponentially weighted step), which is all
  // there is while the weights are zero.
  double total = 0;
  for (uint32_t p = 0; p < partitions_; ++p) {
    const float* w = channel.background.data() + Offset(p, 0);
    double norm = 0;
    for (uint32_t k = 0; k < 2 * bins_ * references_; ++k) norm += double{w[k]} * w[k];
    share_[p] = static_cast<float>(std::sqrt(norm));
    total += share_[p];
  }
  const double uniform = (1 - kProportionality) / 2.0;
  const double proportional = (1 + kProportionality) / (2 * total + 1e-30);
  for (uint32_t p = 0; p < partitions_; ++p) {
    share_[p] = static_cast<float>(total > 0 ? uniform * profile_[p] + proportional * share_[p]
                                             : profile_[p]);
  }
  std::fill(power_.begin(), power_.end(), 0.0f);
  for (uint32_t p = 0; p < partitions_; ++p) {
    const float g = share_[p];
    for (uint32_t r = 0; r < references_; ++r) {
      const float* power = slot_power_.data() + PowerOffset(Slot(p), r);
      for (uint32_t k = 0; k < bins_; ++k) power_[k] += g * power[k];
    }
  }
  double mean_power = 0;
  for (uint32_t k = 0; k < bins_; ++k) mean_power += power_[k];
  mean_power /= bins_;
  channel.reference_level = std::max(mean_power, channel.reference_level * kLevelDecay);
  const float delta = kRelativeRegularization * static_cast<float>(mean_power) +
                      kLevelRegularization * static_cast<float>(channel.reference_level) +
                      kAbsoluteRegularization * static_cast<float>(fft_size_);
  // Each bin's denominator is at least kNeighbourPowerShare of the largest power within
  // kNeighbourBins bins (the error's padding leaks their error into it; the constants have the
  // measurements).
  const auto bins = static_cast<int>(bins_);
  for (int k = 0; k < bins; ++k) {
    float loudest = 0.0f;
    for (int j = std::max(0, k - kNeighbourBins); j <= std::min(bins - 1, k + kNeighbourBins);
         ++j) {
      loudest = std::max(loudest, power_[j]);
    }
    const float power = std::max(power_[k], kNeighbourPowerShare * loudest);
    const float step = mu * bin_step_[k] / (power + delta);
    step_[2 * k] = step * e[2 * k];
    step_[2 * k + 1] = step * e[2 * k + 1];
  }
  for (uint32_t p = 0; p < partitions_; ++p) {
    const uint32_t slot = Slot(p);
    const float g = share_[p];
    for (uint32_t k = 0; k < 2 * bins_; ++k) scaled_step_[k] = g * step_[k];
    for (uint32_t r = 0; r < references_; ++r) {
      ConjugateMultiplyAccumulate(spectra_.data() + Offset(slot, r), scaled_step_.data(),
                                  channel.background.data() + Offset(p, r), bins_);
    }
  }
  const uint32_t constrained = std::min(kConstrainedPerBlock, partitions_);
  for (uint32_t i = 0; i < constrained; ++i) {
    for (uint32_t r = 0; r < references_; ++r) {
      Constrain(channel.background.data() + Offset(channel.next_constrained, r));
    }
    channel.next_constrained = (channel.next_constrained + 1) % partitions_;
  }
}

void BlockAdaptiveFilter::StepShares(Channel& channel, const float* error, const float* echo,
                                     double echo_energy, double error_energy,
                                     bool near_elsewhere) noexcept {
  // Valin's leak (dsp/power_fluctuations.h), its sums normalized by the estimate's deviation
  // (the square root of its variance) and averaged at a rate that scales with the echo estimate
  // over the error, so that blocks of double talk barely move it.
  const PowerFluctuations sums = TrackFluctuations(error_power_, bin_step_, channel.error_power,
                                                   channel.echo_power, kSpectrumAveraging);
  const double deviation = std::sqrt(sums.variance);
  const double covariance = deviation > 0 ? sums.covariance / deviation : sums.covariance;
  // Under loud near speech the leak holds what it has learned: the near end's chance covariance
  // with the estimate, even at the slowed rate, carried it to its ceiling of 1 in a -20 dB
  // room's double talk (bench-dsp's double_48k_p1_r2), and with it the step.
  const double rate =
      channel.loud_near_blocks > 0
          ? 0.0
          : std::min(kLeakRate * echo_energy, kMaxLeakRate * error_energy) / (error_energy + 1e-30);
  channel.leak_covariance += rate * (covariance - channel.leak_covariance);
  channel.leak_deviation += rate * (deviation - channel.leak_deviation);
  const double leak =
      channel.leak_deviation > 0
          ? std::clamp(channel.leak_covariance / channel.leak_deviation, kMinLeak, 1.0)
          : 1.0;
  if (channel.near_blocks == 0 && !near_elsewhere) {
    // The far end alone, or a changed echo path: the plain step (the leak keeps learning).
    std::fill(bin_step_.begin(), bin_step_.end(), 1.0f);
    return;
  }
  // The block's residual echo to error ratio: the leak's share of the estimate, and at least
  // the squared correlation of the error with the estimate (which a changed path raises at
  // once, before the slow leak follows) unless the near end is loud: once the filter has begun
  // to follow a near end 20 dB over the echo, its estimate correlates with the error, and the
  // full step that gives is positive feedback (the estimate grew to the near end's level).
  double residual_ratio = 3 * leak * echo_energy / (error_energy + 1e-30);
  if (channel.loud_near_blocks == 0) {
    double correlation = 0;
    for (uint32_t i = 0; i < block_; ++i) correlation += double{error[i]} * echo[i];
    residual_ratio =
        std::max(residual_ratio, correlation * correlation / (error_energy * echo_energy + 1e-30));
  }
  residual_ratio = std::min(residual_ratio, kMaxResidualRatio);
  // Per bin, the optimal step is the residual echo's share of the error (Valin): the leak's
  // share of the bin's estimate, at most kMaxResidualRatio of its error, mixed with the
  // block's ratio; as a share of kMaxResidualRatio, it scales the step. In double talk the
  // near end swells the error and the step falls with it.
  for (uint32_t k = 0; k < bins_; ++k) {
    const float error_power = error_power_[k] + 1e-30f;
    float residual = std::min(static_cast<float>(leak) * bin_step_[k],
                              static_cast<float>(kMaxResidualRatio) * error_power);
    residual =
        kBinShare * residual + (1 - kBinShare) * static_cast<float>(residual_ratio) * error_power;
    bin_step_[k] = residual / (static_cast<float>(kMaxResidualRatio) * error_power);
  }
}

void BlockAdaptiveFilter::SetPredictionHold(uint32_t blocks) noexcept {
  hold_blocks_ = std::clamp<uint32_t>(blocks, 1, kMaxHoldBlocks);
  for (Channel& channel : channels_) {
    channel.predictions.fill(0.0);
    channel.next_prediction = 0;
  }
}

void BlockAdaptiveFilter::SetStepProfile(uint32_t flat, float decay) {
  double sum = 0;
  for (uint32_t p = 0; p < partitions_; ++p) {
    profile_[p] = p < flat ? 1.0f : static_cast<float>(std::pow(double{decay}, p + 1.0 - flat));
    sum += profile_[p];
  }
  for (float& x : profile_) x = static_cast<float>(x / sum);
}

void BlockAdaptiveFilter::Constrain(float* weights) noexcept {
  auto* spectrum = reinterpret_cast<float*>(spectrum_.data());
  std::copy(weights, weights + 2 * bins_, spectrum);
  float* frame = frame_.data();
  fft_->Inverse(spectrum_.data(), frame);
  const float scale = 1.0f / static_cast<float>(fft_size_);
  for (uint32_t i = 0; i < block_; ++i) frame[i] *= scale;
  std::fill(frame + block_, frame + fft_size_, 0.0f);
  fft_->Forward(frame, spectrum_.data());
  std::copy(spectrum, spectrum + 2 * bins_, weights);
}

void BlockAdaptiveFilter::SaveState(StateWriter& writer) const noexcept {
  writer.PutU32(block_);
  writer.PutU32(partitions_);
  writer.PutU32(references_);
  writer.PutU32(static_cast<uint32_t>(channels_.size()));
  writer.PutU32(newest_);
  writer.PutU32(filled_);
  for (const Channel& channel : channels_) {
    writer.PutFloats(channel.background);
    writer.PutFloats(channel.foreground);
    writer.PutDouble(channel.background_energy);
    writer.PutDouble(channel.foreground_energy);
    writer.PutDouble(channel.mic_energy);
    writer.PutU32(channel.next_constrained);
    writer.PutFloats(channel.error_power);
    writer.PutFloats(channel.echo_power);
    writer.PutDouble(channel.leak_covariance);
    writer.PutDouble(channel.leak_deviation);
    writer.PutDouble(channel.reference_level);
    writer.PutDouble(channel.echo_gain);
    writer.PutDouble(channel.mic_floor);
    for (const double prediction : channel.predictions) writer.PutDouble(prediction);
    writer.PutU32(channel.next_prediction);
    writer.PutU32(channel.active_blocks);
    writer.PutU32(channel.near_blocks);
    writer.PutBool(channel.over_margin);
    writer.PutDouble(channel.reference_gain);
    writer.PutU32(channel.loud_near_blocks);
    writer.PutU32(channel.loud_run);
    writer.PutU32(channel.held_blocks);
  }
}

void BlockAdaptiveFilter::RestoreState(StateReader& reader, uint32_t* pushes) noexcept {
  *pushes = 0;
  const uint32_t block = reader.GetU32();
  const uint32_t partitions = reader.GetU32();
  const uint32_t references = reader.GetU32();
  const uint32_t channels = reader.GetU32();
  if (reader.ok() && (block != block_ || partitions != partitions_ || references != references_ ||
                      channels != channels_.size())) {
    return reader.Fail("an adaptive filter of another size");
  }
  const uint32_t newest = reader.GetU32AtMost(partitions_ - 1);
  const uint32_t filled = reader.GetU32AtMost(partitions_);
  for (Channel& channel : channels_) {
    reader.GetFiniteFloats(channel.background);
    reader.GetFiniteFloats(channel.foreground);
    channel.background_energy = reader.GetFiniteDouble();
    channel.foreground_energy = reader.GetFiniteDouble();
    channel.mic_energy = reader.GetFiniteDouble();
    channel.next_constrained = reader.GetU32AtMost(partitions_ - 1);
    reader.GetFiniteFloats(channel.error_power);
    reader.GetFiniteFloats(channel.echo_power);
    channel.leak_covariance = reader.GetFiniteDouble();
    channel.leak_deviation = reader.GetFiniteDouble();
    channel.reference_level = reader.GetFiniteDouble();
    channel.echo_gain = reader.GetFiniteDouble();
    channel.mic_floor = reader.GetFiniteDouble();
    for (double& prediction : channel.predictions) prediction = reader.GetFiniteDouble();
    channel.next_prediction = reader.GetU32AtMost(hold_blocks_ - 1);
    channel.active_blocks = reader.GetU32AtMost(partitions_ + 1 + kLearningBlocks);
    channel.near_blocks = reader.GetU32AtMost(kNearHangover);
    channel.over_margin = reader.GetBool();
    channel.reference_gain = reader.GetFiniteDouble();
    channel.loud_near_blocks = reader.GetU32AtMost(kNearHangover);
    channel.loud_run = reader.GetU32AtMost(kSustainedLoudBlocks);
    channel.held_blocks = reader.GetU32AtMost(kNearHangover);
    if (!reader.ok()) return;
    if (channel.background_energy < 0 || channel.foreground_energy < 0 || channel.mic_energy < 0) {
      return reader.Fail("a negative error energy in the adaptive filter");
    }
    const auto negative = [](float x) { return x < 0; };
    if (std::any_of(channel.error_power.begin(), channel.error_power.end(), negative) ||
        std::any_of(channel.echo_power.begin(), channel.echo_power.end(), negative) ||
        channel.leak_deviation < 0 || channel.reference_level < 0 || channel.mic_floor < 0 ||
        std::any_of(channel.predictions.begin(), channel.predictions.end(),
                    [](double x) { return x < 0; })) {
      return reader.Fail("a negative power in the adaptive filter's double-talk state");
    }
  }
  if (!reader.ok()) return;
  // Pushing `filled` blocks advances newest_ by as many slots, back to the saved one.
  ClearReference();
  newest_ = (newest + partitions_ - filled % partitions_) % partitions_;
  *pushes = filled;
}

}  // namespace audioproc
