#include "tests/testing/noises.h"

#include <cmath>
#include <random>

namespace audioproc::testing {
namespace {

std::vector<double> Gaussian(size_t frames, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> out(frames);
  for (double& x : out) x = normal(rng);
  return out;
}

std::vector<float> UnitRms(const std::vector<double>& x) {
  double sum = 0.0;
  for (double v : x) sum += v * v;
  const double scale = x.empty() || sum <= 0.0 ? 0.0 : 1.0 / std::sqrt(sum / x.size());
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(x[i] * scale);
  return out;
}

// A one-pole low-pass y[n] = p y[n-1] + x[n] whose corner is that of pole `pole_at_16k` at
// 16 kHz.
void OnePole(std::vector<double>& x, double pole_at_16k, double sample_rate_hz) {
  const double pole = std::pow(pole_at_16k, 16000.0 / sample_rate_hz);
  double y = 0.0;
  for (double& v : x) {
    y = pole * y + v;
    v = y;
  }
}

}  // namespace

std::string NoiseName(NoiseKind kind) {
  switch (kind) {
    case NoiseKind::kWhite:
      return "white";
    case NoiseKind::kPink:
      return "pink";
    case NoiseKind::kBrown:
      return "brown";
    case NoiseKind::kFan:
      return "fan";
  }
  return "?";
}

std::vector<float> MakeNoise(NoiseKind kind, size_t frames, double sample_rate_hz, uint32_t seed) {
  std::vector<double> x = Gaussian(frames, seed);
  switch (kind) {
    case NoiseKind::kWhite:
      break;
    case NoiseKind::kPink: {
      double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
      for (double& v : x) {
        const double w = v;
        b0 = 0.99886 * b0 + w * 0.0555179;
        b1 = 0.99332 * b1 + w * 0.0750759;
        b2 = 0.96900 * b2 + w * 0.1538520;
        b3 = 0.86650 * b3 + w * 0.3104856;
        b4 = 0.55000 * b4 + w * 0.5329522;
        b5 = -0.7616 * b5 - w * 0.0168980;
        v = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
        b6 = w * 0.115926;
      }
      break;
    }
    case NoiseKind::kBrown:
      OnePole(x, 0.998, sample_rate_hz);
      break;
    case NoiseKind::kFan: {
      OnePole(x, 0.97, sample_rate_hz);
      const std::vector<float> rumble = UnitRms(x);
      std::mt19937 rng(seed ^ 0x5eedu);
      std::uniform_real_distribution<double> phase(0.0, 2.0 * M_PI);
      std::vector<double> hum(frames, 0.0);
      for (int k = 1; k <= 11; ++k) {
        const double p = phase(rng);
        const double w = 2.0 * M_PI * 50.0 * k / sample_rate_hz;
        for (size_t n = 0; n < frames; ++n) hum[n] += std::sin(w * n + p) / k;
      }
      const std::vector<float> tones = UnitRms(hum);
      for (size_t n = 0; n < frames; ++n) x[n] = rumble[n] + tones[n];
      break;
    }
  }
  return UnitRms(x);
}

std::vector<float> MixAtSnr(const std::vector<float>& speech, double speech_power,
                            const std::vector<float>& noise, double snr_db) {
  double noise_power = 0.0;
  for (size_t i = 0; i < speech.size(); ++i) noise_power += double{noise[i]} * noise[i];
  noise_power /= std::max<size_t>(1, speech.size());
  const double scale = noise_power > 0.0
                           ? std::sqrt(speech_power / noise_power * std::pow(10.0, -snr_db / 10.0))
                           : 0.0;
  std::vector<float> out(speech.size());
  for (size_t i = 0; i < speech.size(); ++i) {
    out[i] = static_cast<float>(speech[i] + scale * noise[i]);
  }
  return out;
}

}  // namespace audioproc::testing
