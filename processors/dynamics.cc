#include "processors/dynamics.h"

#include <algorithm>
#include <cmath>

namespace audioproc::dynamics {

double DbToLinear(double db) { return std::pow(10.0, db / 20.0); }

double DbToPower(double db) { return std::pow(10.0, db / 10.0); }

double PowerToDb(double power) {
  // Compared in the power domain so that log10 never sees zero.
  constexpr double kSilencePower = 1e-20;  // kSilenceDb as a power
  static_assert(kSilenceDb == -200.0);
  return power > kSilencePower ? 10.0 * std::log10(power) : kSilenceDb;
}

double OnePoleCoefficient(double time_ms, double sample_rate_hz) {
  return std::exp(-1000.0 / (time_ms * sample_rate_hz));
}

void LinkedRmsDetector::Prepare(uint32_t channels, double time_constant_ms, double sample_rate_hz) {
  channels_ = std::min(channels, kMaxChannels);
  coefficient_ = OnePoleCoefficient(time_constant_ms, sample_rate_hz);
  Reset();
}

}  // namespace audioproc::dynamics
