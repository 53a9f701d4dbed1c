#include "tests/testing/signals.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace audioproc::testing {

std::vector<float> Sine(double frequency_hz, double sample_rate_hz, size_t frames, double amplitude,
                        double phase) {
  std::vector<float> out(frames);
  for (size_t n = 0; n < frames; ++n) {
    out[n] = static_cast<float>(
        amplitude *
        std::sin(2 * M_PI * frequency_hz * static_cast<double>(n) / sample_rate_hz + phase));
  }
  return out;
}

std::vector<float> WhiteNoise(size_t frames, double amplitude, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-amplitude, amplitude);
  std::vector<float> out(frames);
  for (float& x : out) x = static_cast<float>(dist(rng));
  return out;
}

std::vector<float> Interleave(const std::vector<std::vector<float>>& channels) {
  if (channels.empty()) return {};
  const size_t frames = channels[0].size();
  std::vector<float> out(frames * channels.size());
  for (size_t n = 0; n < frames; ++n) {
    for (size_t c = 0; c < channels.size(); ++c) out[n * channels.size() + c] = channels[c][n];
  }
  return out;
}

std::string ToS16Bytes(const std::vector<float>& interleaved) {
  std::string bytes(interleaved.size() * 2, '\0');
  for (size_t i = 0; i < interleaved.size(); ++i) {
    const double scaled = std::nearbyint(double{interleaved[i]} * 32768.0);
    const auto value = static_cast<int16_t>(std::clamp(scaled, -32768.0, 32767.0));
    std::memcpy(&bytes[i * 2], &value, 2);
  }
  return bytes;
}

std::string ToF32Bytes(const std::vector<float>& interleaved) {
  std::string bytes(interleaved.size() * 4, '\0');
  // An empty vector's data() may be null, which memcpy may not be given even for 0 bytes.
  if (!interleaved.empty()) std::memcpy(bytes.data(), interleaved.data(), bytes.size());
  return bytes;
}

std::vector<int16_t> FromS16Bytes(const std::string& bytes) {
  std::vector<int16_t> out(bytes.size() / 2);
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * 2);
  return out;
}

std::vector<float> FromF32Bytes(const std::string& bytes) {
  std::vector<float> out(bytes.size() / 4);
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

double Peak(const std::vector<float>& samples) {
  double peak = 0;
  for (float x : samples) peak = std::max(peak, std::fabs(double{x}));
  return peak;
}

double Rms(const std::vector<float>& samples) {
  if (samples.empty()) return 0;
  double sum = 0;
  for (float x : samples) sum += double{x} * x;
  return std::sqrt(sum / static_cast<double>(samples.size()));
}

double Energy(const std::vector<float>& samples, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += double{samples[i]} * samples[i];
  return sum;
}

}  // namespace audioproc::testing
