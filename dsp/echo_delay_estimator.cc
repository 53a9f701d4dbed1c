#include "dsp/echo_delay_estimator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "dsp/cost_model.h"

namespace audioproc {
namespace {

// The decimated rate aimed at: speech's correlation structure is all below 2 kHz.
constexpr double kDecimatedRateHz = 4000;
// CPU-seconds per full-rate sample (two box sums) and per bin of a hop (the averages).
constexpr double kSampleSeconds = 1.5e-9;
constexpr double kBinSeconds = 4e-9;

// The half-Hann rise of the reference window's two ends (RunHop), from 0 toward 1; the same for
// every estimator, computed once.
const std::array<float, EchoDelayEstimator::kEdgeTaper>& EdgeTaper() {
  static const std::array<float, EchoDelayEstimator::kEdgeTaper> taper = [] {
    std::array<float, EchoDelayEstimator::kEdgeTaper> rise{};
    for (uint32_t i = 0; i < rise.size(); ++i) {
      rise[i] = static_cast<float>(0.5 - 0.5 * std::cos(M_PI * (i + 0.5) / rise.size()));
    }
    return rise;
  }();
  return taper;
}

uint32_t Decimation(double sample_rate_hz) {
  return std::max<uint32_t>(1,
                            static_cast<uint32_t>(std::lround(sample_rate_hz / kDecimatedRateHz)));
}

uint32_t MaxLag(double sample_rate_hz, double max_delay_seconds) {
  return static_cast<uint32_t>(
      std::ceil(max_delay_seconds * sample_rate_hz / Decimation(sample_rate_hz)));
}

uint32_t FftSize(uint32_t max_lag) {
  uint32_t n = 64;
  while (n < max_lag + 2 * EchoDelayEstimator::kHop) n *= 2;
  return n;
}

}  // namespace

absl::Status EchoDelayEstimator::Init(double sample_rate_hz, double max_delay_seconds) {
  if (!(sample_rate_hz > 0) || !(max_delay_seconds > 0)) {
    return absl::InvalidArgumentError("EchoDelayEstimator needs a positive rate and delay");
  }
  rate_ = sample_rate_hz;
  decimation_ = Decimation(sample_rate_hz);
  max_lag_ = MaxLag(sample_rate_hz, max_delay_seconds);
  fft_size_ = FftSize(max_lag_);
  bins_ = fft_size_ / 2 + 1;
  const double hop_seconds = kHop * decimation_ / sample_rate_hz;
  smoothing_ = static_cast<float>(std::exp(-hop_seconds / kSmoothingSeconds));
  absl::StatusOr<const RealFftPlan*> fft = RealFftPlan::Shared(static_cast<int>(fft_size_));
  if (!fft.ok()) return fft.status();
  fft_ = *fft;
  frame_ = FftwBuffer<float>(fft_size_);
  reference_spectrum_ = FftwBuffer<fftwf_complex>(bins_);
  mic_spectrum_ = FftwBuffer<fftwf_complex>(bins_);
  reference_history_.assign(max_lag_ + kHop, 0.0f);
  mic_hop_.assign(kHop, 0.0f);
  cross_.assign(2 * bins_, 0.0f);
  reference_power_.assign(bins_, 0.0f);
  mic_power_.assign(bins_, 0.0f);
  Reset();
  return absl::OkStatus();
}

uint64_t EchoDelayEstimator::InitBytes(double sample_rate_hz, double max_delay_seconds) {
  const uint32_t max_lag = MaxLag(sample_rate_hz, max_delay_seconds);
  const uint32_t n = FftSize(max_lag);
  const uint32_t bins = n / 2 + 1;
  return cost::FftwBufferBytes<float>(n) + 2 * cost::FftwBufferBytes<fftwf_complex>(bins) +
         cost::VectorBytes<float>(max_lag + kHop) + cost::VectorBytes<float>(kHop) +
         cost::VectorBytes<float>(2 * bins) + 2 * cost::VectorBytes<float>(bins);
}

double EchoDelayEstimator::CpuCores(double sample_rate_hz, double max_delay_seconds) {
  const uint32_t n = FftSize(MaxLag(sample_rate_hz, max_delay_seconds));
  const double hops = sample_rate_hz / Decimation(sample_rate_hz) / kHop;
  const double ffts = 2.0 + 1.0 / kHopsPerEvaluation;
  return sample_rate_hz * kSampleSeconds +
         hops * (ffts * cost::RealFftSeconds(n) + (0.5 * n + 1) * kBinSeconds);
}

void EchoDelayEstimator::Reset() noexcept {
  std::fill(reference_history_.begin(), reference_history_.end(), 0.0f);
  std::fill(mic_hop_.begin(), mic_hop_.end(), 0.0f);
  std::fill(cross_.begin(), cross_.end(), 0.0f);
  std::fill(reference_power_.begin(), reference_power_.end(), 0.0f);
  std::fill(mic_power_.begin(), mic_power_.end(), 0.0f);
  reference_sum_ = 0;
  mic_sum_ = 0;
  in_sum_ = 0;
  in_hop_ = 0;
  hops_ = 0;
  active_hops_ = 0;
  peak_ratio_ = 0;
  delay_ = -1;
  candidate_ = -1;
  confirmations_ = 0;
}

bool EchoDelayEstimator::Update(const float* reference, const float* mic, uint32_t frames,
                                bool loud_near) noexcept {
  bool changed = false;
  const double scale = 1.0 / decimation_;
  for (uint32_t i = 0; i < frames; ++i) {
    reference_sum_ += reference[i];
    mic_sum_ += mic[i];
    if (++in_sum_ < decimation_) continue;
    reference_history_[max_lag_ + in_hop_] = static_cast<float>(reference_sum_ * scale);
    mic_hop_[in_hop_] = static_cast<float>(mic_sum_ * scale);
    reference_sum_ = 0;
    mic_sum_ = 0;
    in_sum_ = 0;
    if (++in_hop_ < kHop) continue;
    in_hop_ = 0;
    changed = RunHop(loud_near) || changed;
    std::copy(reference_history_.begin() + kHop, reference_history_.end(),
              reference_history_.begin());
  }
  return changed;
}

bool EchoDelayEstimator::RunHop(bool loud_near) noexcept {
  ++hops_;
  if (loud_near) return false;
  double energy = 0;
  for (uint32_t i = 0; i < kHop; ++i) {
    const double x = reference_history_[max_lag_ + i];
    energy += x * x;
  }
  if (!(energy / kHop >= kActiveMeanSquare) || !std::isfinite(energy)) return false;

  float* frame = frame_.data();
  std::copy(reference_history_.begin(), reference_history_.end(), frame);
  std::fill(frame + reference_history_.size(), frame + fft_size_, 0.0f);
  // The window's two ends are where the lags 500 and 0 ms line the microphone's hop up, and
  // the whitening below lifts an abrupt edge's leakage, which fills the valleys between a
  // voice's harmonics, into a peak there: estimates of 0-2 ms or of the longest lag for up to
  // 2.2 s with the echo at 30-250 ms. Tapered, the edges' correlation fell from 15-25 to 3-6
  // times the mean in such a stretch, under the kMinPeakRatio of 8 a peak needs; over the 36
  // scenes of echo_delay_estimator_test the hops with an estimate at an edge 1.58 -> 0.39 %
  // (a taper of 16 ms: 0.31 %, for twice the window lost). A true delay within 8 ms of either
  // end is still found (the test's 0 ms in white noise), its peak somewhat lower.
  const std::array<float, kEdgeTaper>& taper = EdgeTaper();
  const size_t last = reference_history_.size() - 1;
  for (uint32_t i = 0; i < kEdgeTaper; ++i) {
    frame[i] *= taper[i];
    frame[last - i] *= taper[i];
  }
  fft_->Forward(frame, reference_spectrum_.data());
  std::copy(mic_hop_.begin(), mic_hop_.end(), frame);
  std::fill(frame + kHop, frame + fft_size_, 0.0f);
  fft_->Forward(frame, mic_spectrum_.data());

  const float a = smoothing_;
  const float b = 1.0f - smoothing_;
  const auto* x = reinterpret_cast<const float*>(reference_spectrum_.data());
  const auto* y = reinterpret_cast<const float*>(mic_spectrum_.data());
  float* cross = cross_.data();
  for (uint32_t k = 0; k < bins_; ++k) {
    const float xr = x[2 * k];
    const float xi = x[2 * k + 1];
    const float yr = y[2 * k];
    const float yi = y[2 * k + 1];
    // conj(Y) X: its inverse transform at s is sum_j mic[j] reference[j + s].
    cross[2 * k] = a * cross[2 * k] + b * (yr * xr + yi * xi);
    cross[2 * k + 1] = a * cross[2 * k + 1] + b * (yr * xi - yi * xr);
    reference_power_[k] = a * reference_power_[k] + b * (xr * xr + xi * xi);
    mic_power_[k] = a * mic_power_[k] + b * (yr * yr + yi * yi);
  }
  ++active_hops_;
  if (active_hops_ % kHopsPerEvaluation != 0) return false;
  return Evaluate();
}

bool EchoDelayEstimator::Evaluate() noexcept {
  double mean_power = 0;
  for (uint32_t k = 0; k < bins_; ++k) {
    mean_power += std::sqrt(double{reference_power_[k]} * mic_power_[k]);
  }
  mean_power /= bins_;
  if (!(mean_power > 0) || !std::isfinite(mean_power)) return false;
  const auto floor = static_cast<float>(1e-6 * mean_power);
  auto* whitened = reinterpret_cast<float*>(reference_spectrum_.data());
  for (uint32_t k = 0; k < bins_; ++k) {
    const float weight = 1.0f / (std::sqrt(reference_power_[k] * mic_power_[k]) + floor);
    whitened[2 * k] = cross_[2 * k] * weight;
    whitened[2 * k + 1] = cross_[2 * k + 1] * weight;
  }
  float* correlation = frame_.data();
  fft_->Inverse(reference_spectrum_.data(), correlation);

  // Lag tau is at s = max_lag_ - tau.
  double sum = 0;
  float best = 0;
  int best_lag = 0;
  for (uint32_t s = 0; s <= max_lag_; ++s) {
    const float magnitude = std::fabs(correlation[s]);
    sum += magnitude;
    if (magnitude > best) {
      best = magnitude;
      best_lag = static_cast<int>(max_lag_ - s);
    }
  }
  const double mean = sum / (max_lag_ + 1);
  peak_ratio_ = static_cast<float>(best / (mean + 1e-30));
  if (!(best > kMinPeakRatio * mean) || active_hops_ < kMinActiveHops) {
    candidate_ = -1;
    confirmations_ = 0;
    return false;
  }
  if (delay_ >= 0) {
    if (std::abs(best_lag - delay_) <= kLagTolerance) {
      candidate_ = -1;
      confirmations_ = 0;
      return false;
    }
    float current = 0;
    for (int lag = std::max(0, delay_ - kLagTolerance);
         lag <= std::min<int>(static_cast<int>(max_lag_), delay_ + kLagTolerance); ++lag) {
      current = std::max(current, std::fabs(correlation[max_lag_ - lag]));
    }
    if (!(best > kSwitchMargin * current)) {
      candidate_ = -1;
      confirmations_ = 0;
      return false;
    }
  }
  if (candidate_ >= 0 && std::abs(best_lag - candidate_) <= kLagTolerance) {
    ++confirmations_;
  } else {
    candidate_ = best_lag;
    confirmations_ = 1;
  }
  // The first estimate comes from averages of a few hundred milliseconds, whose whitened
  // correlation of a harmonic voice is a comb: its wrong teeth stood for 3 evaluations now and
  // then (bench-dsp's other material, single_48k_p2_r1: 1.0, 2.25 and 334 ms before the room's
  // 251.5 ms at 3.12 s; ERLE from 2 s 22.1 dB), and the filter, aligned to a stray, learned
  // nothing until the next. With kFirstConfirmations the room's 250.5 ms comes first, at 3.63 s
  // (32.0 dB); over echo_delay_estimator_test's 36 scenes, first estimates over 30 ms off 5 -> 4.
  // Later switches keep kConfirmations: they must beat the current lag's peak by kSwitchMargin
  // too, and a delay jump must be followed within a second.
  const uint32_t wanted = delay_ < 0 ? kFirstConfirmations : kConfirmations;
  if (confirmations_ < wanted) return false;
  const bool changed = best_lag != delay_;
  delay_ = best_lag;
  candidate_ = -1;
  confirmations_ = 0;
  return changed;
}

void EchoDelayEstimator::SaveState(StateWriter& writer) const noexcept {
  writer.PutFloats(reference_history_);
  writer.PutFloats(mic_hop_);
  writer.PutFloats(cross_);
  writer.PutFloats(reference_power_);
  writer.PutFloats(mic_power_);
  writer.PutDouble(reference_sum_);
  writer.PutDouble(mic_sum_);
  writer.PutU32(in_sum_);
  writer.PutU32(in_hop_);
  writer.PutU32(hops_);
  writer.PutU32(active_hops_);
  writer.PutFloat(peak_ratio_);
  writer.PutI32(delay_);
  writer.PutI32(candidate_);
  writer.PutU32(confirmations_);
}

void EchoDelayEstimator::RestoreState(StateReader& reader) noexcept {
  reader.GetFiniteFloats(reference_history_);
  reader.GetFiniteFloats(mic_hop_);
  reader.GetFiniteFloats(cross_);
  reader.GetFiniteFloats(reference_power_);
  reader.GetFiniteFloats(mic_power_);
  reference_sum_ = reader.GetFiniteDouble();
  mic_sum_ = reader.GetFiniteDouble();
  in_sum_ = reader.GetU32AtMost(decimation_ - 1);
  in_hop_ = reader.GetU32AtMost(kHop - 1);
  hops_ = reader.GetU32();
  active_hops_ = reader.GetU32();
  peak_ratio_ = reader.GetFiniteFloat();
  delay_ = reader.GetI32();
  candidate_ = reader.GetI32();
  confirmations_ = reader.GetU32AtMost(kFirstConfirmations - 1);
  if (!reader.ok()) return;
  const auto max_lag = static_cast<int64_t>(max_lag_);
  if (delay_ < -1 || delay_ > max_lag || candidate_ < -1 || candidate_ > max_lag) {
    return reader.Fail("an echo delay out of range");
  }
  for (size_t k = 0; k < bins_; ++k) {
    if (reference_power_[k] < 0 || mic_power_[k] < 0) {
      return reader.Fail("a negative power in the echo delay estimator");
    }
  }
}

}  // namespace audioproc
