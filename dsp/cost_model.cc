#include "dsp/cost_model.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <iterator>
#include <variant>
#include <vector>

namespace audioproc::cost {
namespace {

// BiquadCascadeOf::Process, per sample: each section's recurrence is a chain of dependent
// multiply-adds in double, and one sample cannot leave the cascade before the last sample's
// state is done: a latency of kBiquadLatencySeconds however few the sections; more sections
// overlap across samples and cost their throughput, kBiquadSectionSeconds each. Measured 5.0,
// 5.2, 5.8, 6.4 and 24.6 ns per sample for 1, 2, 3, 4 and 16 sections at every rate and
// channel count (highpass orders, eq bands); the two bounds are joined by a 4-norm.
constexpr double kBiquadLatencySeconds = 5.0e-9;
constexpr double kBiquadSectionSeconds = 1.55e-9;

// RealFftPlan::Create(n), n = 2^(i + 1): the net bytes FFTW 3.3.10 (Debian 12) keeps for the
// forward and inverse FFTW_ESTIMATE plans, created while no other plan of that size lives and
// after one has been made before (so the planner's wisdom for the size exists); measured with
// a counting malloc and memalign.
constexpr uint64_t kPlanBytes[] = {912,  912,  1296,  1168,  3440,  4144,  4352,
                                   5056, 6048, 13448, 21288, 38504, 69968, 95112};
// One real FFT of n = 2^(i + 1) points, forward and inverse averaged, in nanoseconds: the
// minimum of 7 runs of a hot loop over fftwf_malloc'd arrays.
constexpr double kFftNanoseconds[] = {6.4,   7.0,   9.6,    16.7,   51.2,   99.6,    128.2,
                                      248.3, 512.2, 1126.5, 2327.4, 4943.2, 11284.2, 22385.0};
constexpr int kTabulatedLog2 = static_cast<int>(std::size(kPlanBytes));

// log2(n) for a power of two n >= 2.
int Log2(uint32_t n) { return std::bit_width(n) - 1; }

}  // namespace

uint64_t HeapBlock(uint64_t bytes) {
  if (bytes == 0) return 0;
  // glibc: a chunk of the request plus its 8-byte size field, rounded up to 16, at least 32;
  // the usable part is the chunk less that field.
  const uint64_t chunk = std::max<uint64_t>(32, (bytes + 8 + 15) & ~uint64_t{15});
  return chunk - 8;
}

uint64_t GrownCapacity(uint64_t n) { return n == 0 ? 0 : std::bit_ceil(n); }

uint64_t StringBytes(uint64_t size) { return size > 15 ? HeapBlock(size + 1) : 0; }

uint64_t AudioBufferBytes(uint32_t channels, uint32_t frames) {
  return VectorBytes<std::vector<float>>(channels) +
         uint64_t{channels} * VectorBytes<float>(frames);
}

double BiquadCascadeCores(double sample_rate_hz, uint32_t channels, int sections) {
  const double latency = kBiquadLatencySeconds;
  const double throughput = sections * kBiquadSectionSeconds;
  const double per_sample = std::sqrt(std::sqrt(std::pow(latency, 4) + std::pow(throughput, 4)));
  return sample_rate_hz * channels * per_sample;
}

uint64_t RealFftPlanBytes(uint32_t n) {
  const int log2 = Log2(std::max<uint32_t>(n, 2));
  if (log2 <= kTabulatedLog2) return kPlanBytes[log2 - 1];
  // Beyond the table, twiddle factors grow with n.
  return kPlanBytes[kTabulatedLog2 - 1] << (log2 - kTabulatedLog2);
}

double RealFftSeconds(uint32_t n) {
  const int log2 = Log2(std::max<uint32_t>(n, 2));
  if (log2 <= kTabulatedLog2) return kFftNanoseconds[log2 - 1] * 1e-9;
  // Beyond the table, n log2 n.
  const double last = kFftNanoseconds[kTabulatedLog2 - 1] * 1e-9;
  return last * (static_cast<double>(n) * log2) /
         (static_cast<double>(1u << kTabulatedLog2) * kTabulatedLog2);
}

void FillCalibrationSignal(const AudioBlock& block, uint64_t first_frame, double sample_rate_hz) {
  const auto segment = static_cast<uint64_t>(0.25 * sample_rate_hz);
  for (uint32_t c = 0; c < block.num_channels(); ++c) {
    float* x = block.channel(c);
    for (uint32_t i = 0; i < block.num_frames(); ++i) {
      const uint64_t frame = first_frame + i;
      // A 64-bit mix of frame and channel (splitmix64's finalizer): uniform in [-1, 1).
      uint64_t z = frame * 0x9E3779B97F4A7C15ull + (uint64_t{c} + 1) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      const float noise = static_cast<float>(z >> 40) / 8388608.0f - 1.0f;
      // Uniform noise of amplitude a has an RMS of a / sqrt(3): -11 and -55 dBFS.
      const float amplitude = (frame / segment) % 2 == 0 ? 0.49f : 0.0031f;
      x[i] = amplitude * noise;
    }
  }
}

}  // namespace audioproc::cost
