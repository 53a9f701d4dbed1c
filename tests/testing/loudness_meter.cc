#include "tests/testing/loudness_meter.h"

#include <cmath>
#include <limits>

namespace audioproc::testing {
namespace {

constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

// The analog prototypes behind BS.1770's 48 kHz table: a second-order high shelf and a
// second-order high pass. These constants reproduce the table's coefficients through the
// bilinear transform (prewarped at f0), which is what makes designs at other rates faithful.
constexpr double kShelfHz = 1681.974450955533;
constexpr double kShelfGainDb = 3.999843853973347;
constexpr double kShelfQ = 0.7071752369554196;
constexpr double kShelfBandExponent = 0.4996667741545416;
constexpr double kHighPassHz = 38.13547087602444;
constexpr double kHighPassQ = 0.5003270373238773;

// BS.1770-4, equation 2: loudness of a weighted mean square.
double Lufs(double weighted_mean_square) {
  if (weighted_mean_square <= 0) return kNegativeInfinity;
  return -0.691 + 10.0 * std::log10(weighted_mean_square);
}

double ChannelWeight(size_t channel, size_t channels) {
  if (channels != 6) return 1.0;
  constexpr double kWeights[6] = {1.0, 1.0, 1.0, 0.0, 1.41, 1.41};  // L R C LFE Ls Rs
  return kWeights[channel];
}

// Block geometry: a 100 ms step (rounded to whole frames) and four steps per block.
size_t StepFrames(double rate) { return static_cast<size_t>(std::llround(rate / 10.0)); }

// The weighted mean square of every block.
std::vector<double> BlockPowers(const std::vector<std::vector<float>>& channels, double rate) {
  std::vector<double> powers;
  if (channels.empty()) return powers;
  const size_t frames = channels[0].size();
  const size_t step = StepFrames(rate);
  const size_t block = 4 * step;
  if (frames < block) return powers;
  const size_t blocks = (frames - block) / step + 1;
  powers.assign(blocks, 0.0);
  for (size_t c = 0; c < channels.size(); ++c) {
    const double weight = ChannelWeight(c, channels.size());
    if (weight == 0) continue;
    const std::vector<double> y = KWeighted(channels[c], rate);
    for (size_t k = 0; k < blocks; ++k) {
      double sum = 0;
      for (size_t i = k * step; i < k * step + block; ++i) sum += y[i] * y[i];
      powers[k] += weight * sum / static_cast<double>(block);
    }
  }
  return powers;
}

}  // namespace

std::array<MeterBiquad, 2> KWeightingFilters(double rate) {
  std::array<MeterBiquad, 2> stages{};
  {
    const double k = std::tan(M_PI * kShelfHz / rate);
    const double vh = std::pow(10.0, kShelfGainDb / 20.0);
    const double vb = std::pow(vh, kShelfBandExponent);
    const double a0 = 1.0 + k / kShelfQ + k * k;
    stages[0] = {(vh + vb * k / kShelfQ + k * k) / a0, 2.0 * (k * k - vh) / a0,
                 (vh - vb * k / kShelfQ + k * k) / a0, 2.0 * (k * k - 1.0) / a0,
                 (1.0 - k / kShelfQ + k * k) / a0};
  }
  {
    // The table's numerator is 1, -2, 1 as it stands, not divided by a0: its passband gain is
    // a0 at 48 kHz (+0.043 dB, part of the calibration that -0.691 completes). Keeping that
    // gain at every rate keeps the response; a bare 1, -2, 1 would read 0.26 dB high at 8 kHz.
    auto a0_at = [](double fs) {
      const double k = std::tan(M_PI * kHighPassHz / fs);
      return 1.0 + k / kHighPassQ + k * k;
    };
    const double k = std::tan(M_PI * kHighPassHz / rate);
    const double a0 = a0_at(rate);
    const double gain = a0_at(48000.0) / a0;
    stages[1] = {gain, -2.0 * gain, gain, 2.0 * (k * k - 1.0) / a0,
                 (1.0 - k / kHighPassQ + k * k) / a0};
  }
  return stages;
}

std::vector<double> KWeighted(const std::vector<float>& samples, double rate) {
  std::vector<double> y(samples.begin(), samples.end());
  for (const MeterBiquad& f : KWeightingFilters(rate)) {
    // Direct form I: the plainest form, and in double its rounding is far below what the
    // tests resolve.
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (double& v : y) {
      const double x0 = v;
      const double y0 = f.b0 * x0 + f.b1 * x1 + f.b2 * x2 - f.a1 * y1 - f.a2 * y2;
      x2 = x1;
      x1 = x0;
      y2 = y1;
      y1 = y0;
      v = y0;
    }
  }
  return y;
}

std::vector<double> BlockLoudness(const std::vector<std::vector<float>>& channels, double rate) {
  std::vector<double> loudness = BlockPowers(channels, rate);
  for (double& value : loudness) value = Lufs(value);
  return loudness;
}

double IntegratedLufs(const std::vector<std::vector<float>>& channels, double rate) {
  return IntegratedLufs(channels, rate, 0.0);
}

double IntegratedLufs(const std::vector<std::vector<float>>& channels, double rate,
                      double skip_seconds) {
  const std::vector<double> powers = BlockPowers(channels, rate);
  const size_t step = StepFrames(rate);
  const double first_frame = skip_seconds * rate;
  // Absolute gate at -70 LUFS.
  std::vector<double> passed;
  for (size_t k = 0; k < powers.size(); ++k) {
    if (static_cast<double>(k * step) < first_frame) continue;
    if (Lufs(powers[k]) > -70.0) passed.push_back(powers[k]);
  }
  if (passed.empty()) return kNegativeInfinity;
  double sum = 0;
  for (double p : passed) sum += p;
  // Relative gate 10 LU below the loudness of the blocks that passed the absolute gate.
  const double relative_gate = Lufs(sum / static_cast<double>(passed.size())) - 10.0;
  double gated_sum = 0;
  size_t gated = 0;
  for (double p : passed) {
    if (Lufs(p) > relative_gate) {
      gated_sum += p;
      ++gated;
    }
  }
  if (gated == 0) return kNegativeInfinity;
  return Lufs(gated_sum / static_cast<double>(gated));
}

std::vector<std::vector<float>> Deinterleave(const std::vector<float>& interleaved,
                                             size_t channels) {
  std::vector<std::vector<float>> planar(channels);
  const size_t frames = channels == 0 ? 0 : interleaved.size() / channels;
  for (size_t c = 0; c < channels; ++c) {
    planar[c].resize(frames);
    for (size_t i = 0; i < frames; ++i) planar[c][i] = interleaved[i * channels + c];
  }
  return planar;
}

}  // namespace audioproc::testing
