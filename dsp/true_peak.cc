#include "dsp/true_peak.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace audioproc {
namespace {

// Kaiser window shape: trades the flatness of the passband up to 0.45 x the sample rate (which
// decides how far a tone's peak is underestimated) against sidelobes (overestimation), about
// -50 dB at 5.
constexpr double kKaiserBeta = 5.0;

double Sinc(double t) {
  if (t == 0.0) return 1.0;
  const double x = std::numbers::pi * t;
  return std::sin(x) / x;
}

}  // namespace

TruePeakDetector::TruePeakDetector() {
  constexpr double kHalfWidth = kTruePeakTaps / 2.0;
  const double window_norm = std::cyl_bessel_i(0.0, kKaiserBeta);
  for (uint32_t p = 0; p < kTruePeakOversampling - 1; ++p) {
    const double fraction = static_cast<double>(p + 1) / kTruePeakOversampling;
    std::array<double, kTruePeakTaps> taps{};
    double sum = 0;
    for (uint32_t k = 0; k < kTruePeakTaps; ++k) {
      // Distance from the interpolation point to history sample k, whose middle pair is
      // k = kTruePeakTaps / 2 - 1 (frame j) and k = kTruePeakTaps / 2 (frame j + 1).
      const double t = (static_cast<double>(k) - (kHalfWidth - 1.0)) - fraction;
      const double u = t / kHalfWidth;
      const double window =
          std::cyl_bessel_i(0.0, kKaiserBeta * std::sqrt(1.0 - u * u)) / window_norm;
      taps[k] = Sinc(t) * window;
      sum += taps[k];
    }
    // Unit DC gain, so that a constant reads as itself between samples.
    for (uint32_t k = 0; k < kTruePeakTaps; ++k) {
      phases_[p][k] = static_cast<float>(taps[k] / sum);
    }
  }
}

void TruePeakDetector::Init(uint32_t channels) {
  channels_ = channels;
  history_.assign(size_t{channels} * 2 * kTruePeakTaps, 0.0f);
  position_ = 0;
}

void TruePeakDetector::Reset() {
  std::fill(history_.begin(), history_.end(), 0.0f);
  position_ = 0;
}

float TruePeakDetector::Push(const AudioBlock& in, uint32_t frame) noexcept {
  float peak = 0.0f;
  for (uint32_t c = 0; c < channels_; ++c) {
    float* history = history_.data() + size_t{c} * 2 * kTruePeakTaps;
    const float x = in.channel(c)[frame];
    history[position_] = x;
    history[position_ + kTruePeakTaps] = x;
    // The latest kTruePeakTaps samples, oldest first.
    const float* window = history + position_ + 1;
    float channel_peak = std::fabs(window[kTruePeakTaps / 2 - 1]);
    for (const auto& taps : phases_) {
      // Four interleaved partial sums: independent chains the compiler can keep in one
      // vector register (a single float accumulator would serialize on the add latency).
      std::array<float, 4> partial{};
      for (uint32_t k = 0; k < kTruePeakTaps; k += 4) {
        for (uint32_t lane = 0; lane < 4; ++lane)
          partial[lane] += taps[k + lane] * window[k + lane];
      }
      const float y = (partial[0] + partial[1]) + (partial[2] + partial[3]);
      channel_peak = std::max(channel_peak, std::fabs(y));
    }
    peak = std::max(peak, channel_peak);
  }
  position_ = position_ + 1 == kTruePeakTaps ? 0 : position_ + 1;
  return peak;
}

void TruePeakDetector::SaveState(StateWriter& writer) const noexcept {
  writer.PutU32(position_);
  writer.PutFloats(history_);
}

void TruePeakDetector::RestoreState(StateReader& reader) noexcept {
  const uint32_t position = reader.GetU32AtMost(kTruePeakTaps - 1);
  reader.GetFiniteFloats(history_);
  if (reader.ok()) position_ = position;
}

}  // namespace audioproc
