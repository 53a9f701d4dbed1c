#include "dsp/polyphase_resampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "dsp/fast_math.h"

namespace audioproc {
namespace {

using Wide = unsigned __int128;

// Eight floats; GCC splits it into two SSE registers in the baseline clone and uses one AVX
// register in the x86-64-v3 clone, lane for lane the same operations either way.
typedef float Float8 __attribute__((vector_size(32)));

// sum_t c[t] x[t] over `taps` (a multiple of kTapMultiple) in four accumulators of eight
// lanes (four independent chains of additions, so the adds' latency does not serialize the
// loop: 1.9x faster than one accumulator here), then the accumulators and lanes in a fixed
// order: the same bits on every machine and in both clones.
AUDIOPROC_SIMD_CLONES float Dot(const float* c, const float* x, uint32_t taps) noexcept {
  Float8 s0{};
  Float8 s1{};
  Float8 s2{};
  Float8 s3{};
  Float8 c0, c1, c2, c3, x0, x1, x2, x3;  // NOLINT(readability-isolate-declaration)
  for (uint32_t t = 0; t < taps; t += 32) {
    std::memcpy(&c0, c + t, sizeof c0);
    std::memcpy(&c1, c + t + 8, sizeof c1);
    std::memcpy(&c2, c + t + 16, sizeof c2);
    std::memcpy(&c3, c + t + 24, sizeof c3);
    std::memcpy(&x0, x + t, sizeof x0);
    std::memcpy(&x1, x + t + 8, sizeof x1);
    std::memcpy(&x2, x + t + 16, sizeof x2);
    std::memcpy(&x3, x + t + 24, sizeof x3);
    s0 += c0 * x0;
    s1 += c1 * x1;
    s2 += c2 * x2;
    s3 += c3 * x3;
  }
  const Float8 all = (s0 + s1) + (s2 + s3);
  return ((all[0] + all[4]) + (all[1] + all[5])) + ((all[2] + all[6]) + (all[3] + all[7]));
}

// The Kaiser window's beta for a stopband attenuation (Kaiser's formula, A > 50 dB).
double KaiserBeta(double attenuation_db) { return 0.1102 * (attenuation_db - 8.7); }

struct KernelKey {
  uint64_t in_rate;
  uint64_t out_rate;
  double attenuation_db;
  double passband;
  bool operator<(const KernelKey& other) const {
    return std::tie(in_rate, out_rate, attenuation_db, passband) <
           std::tie(other.in_rate, other.out_rate, other.attenuation_db, other.passband);
  }
};

// Kernels in use, by what they were built for. Entries whose kernel every stream let go are
// dropped on the next insertion, so the map is as large as the live distinct kernels.
struct KernelCache {
  absl::Mutex mutex;
  std::map<KernelKey, std::weak_ptr<const ResamplerKernel>> kernels ABSL_GUARDED_BY(mutex);
};

KernelCache& Cache() {
  static KernelCache* cache = new KernelCache;
  return *cache;
}

}  // namespace

ResamplerKernel::Shape ResamplerKernel::ShapeFor(uint64_t in_rate, uint64_t out_rate,
                                                 const ResamplerDesign& design) {
  Shape shape;
  const uint64_t divisor = std::gcd(in_rate, out_rate);
  shape.in_step = in_rate / divisor;
  shape.out_step = out_rate / divisor;
  // Downsampling stretches the kernel (in input frames) by in/out.
  const double stretch =
      std::max(1.0, static_cast<double>(in_rate) / static_cast<double>(out_rate));
  // Kaiser's length estimate for the transition from the passband's end to Nyquist, in
  // frames at the lower rate, then half of it in input frames.
  const double transition = 0.5 * (1.0 - design.passband);
  const double length = (design.attenuation_db - 7.95) / (14.36 * transition);
  shape.half_width = 0.5 * length * stretch;
  // Halfway through the transition band.
  shape.cutoff = 0.25 * (1.0 + design.passband) / stretch;
  const auto half = static_cast<uint32_t>(std::ceil(shape.half_width));
  shape.lookahead = half;
  shape.taps = (2 * half + kTapMultiple - 1) / kTapMultiple * kTapMultiple;
  shape.interpolated = shape.out_step > kMaxExactPhases;
  if (shape.interpolated) {
    shape.phases = std::max<uint64_t>(
        16, static_cast<uint64_t>(std::ceil(static_cast<double>(kInterpolatedPhases) / stretch)));
  } else {
    shape.phases = shape.out_step;
  }
  return shape;
}

ResamplerKernel::ResamplerKernel(uint64_t in_rate, uint64_t out_rate, const ResamplerDesign& design)
    : shape_(ShapeFor(in_rate, out_rate, design)) {
  const double half_width = shape_.half_width;
  const double cutoff = shape_.cutoff;
  const double beta = KaiserBeta(design.attenuation_db);
  const double window_scale = 1.0 / std::cyl_bessel_i(0.0, beta);
  const uint32_t taps = shape_.taps;
  const int64_t back = static_cast<int64_t>(taps) - shape_.lookahead - 1;
  coefficients_.assign(shape_.rows() * taps, 0.0f);
  for (uint64_t r = 0; r < shape_.rows(); ++r) {
    const double fraction = static_cast<double>(r) / static_cast<double>(shape_.phases);
    float* row = coefficients_.data() + r * taps;
    for (uint32_t t = 0; t < taps; ++t) {
      // Tap t reads input frame i0 - back + t, at time x = i0 + fraction - that frame.
      const double x = fraction - static_cast<double>(static_cast<int64_t>(t) - back);
      if (std::fabs(x) >= half_width) continue;
      const double u = x / half_width;
      const double window = std::cyl_bessel_i(0.0, beta * std::sqrt(1.0 - u * u)) * window_scale;
      const double arg = 2.0 * cutoff * x;
      const double sinc = arg == 0.0 ? 1.0 : std::sin(M_PI * arg) / (M_PI * arg);
      row[t] = static_cast<float>(2.0 * cutoff * sinc * window);
    }
  }
}

std::shared_ptr<const ResamplerKernel> ResamplerKernel::Shared(uint64_t in_rate, uint64_t out_rate,
                                                               const ResamplerDesign& design) {
  KernelCache& cache = Cache();
  const KernelKey key{in_rate, out_rate, design.attenuation_db, design.passband};
  absl::MutexLock lock(&cache.mutex);
  if (auto found = cache.kernels.find(key); found != cache.kernels.end()) {
    if (std::shared_ptr<const ResamplerKernel> kernel = found->second.lock()) return kernel;
  }
  // Built under the lock: two streams asking for the same new kernel build it once.
  auto kernel = std::make_shared<const ResamplerKernel>(in_rate, out_rate, design);
  std::erase_if(cache.kernels, [](const auto& entry) { return entry.second.expired(); });
  cache.kernels[key] = kernel;
  return kernel;
}

PolyphaseResampler::PolyphaseResampler(std::shared_ptr<const ResamplerKernel> kernel,
                                       uint32_t channels, uint32_t max_block_frames)
    : kernel_(std::move(kernel)), channels_(channels) {
  const ResamplerKernel::Shape& shape = kernel_->shape();
  back_ = shape.taps - shape.lookahead - 1;
  capacity_ = HistoryCapacity(shape, max_block_frames);
  history_.assign(channels_, std::vector<float>(capacity_, 0.0f));
  Reset();
}

uint64_t PolyphaseResampler::HistoryCapacity(const ResamplerKernel::Shape& shape,
                                             uint32_t max_block_frames) {
  const uint64_t per_output = (shape.in_step + shape.out_step - 1) / shape.out_step;
  return shape.taps + shape.lookahead + 2 * per_output + 8 + max_block_frames;
}

void PolyphaseResampler::Reset() noexcept {
  frames_in_ = 0;
  frames_out_ = 0;
  next_phase_ = 0;
  history_frames_ = back_;
  for (std::vector<float>& channel : history_) std::fill_n(channel.begin(), back_, 0.0f);
}

void PolyphaseResampler::Append(const float* const* in, uint32_t frames) noexcept {
  // Never more than the capacity (the owner's schedule keeps well inside it; the resample
  // tests run every ratio and block size against late_frames()).
  const auto room = static_cast<uint32_t>(std::min<uint64_t>(frames, capacity_ - history_frames_));
  for (uint32_t c = 0; c < channels_; ++c) {
    std::copy_n(in[c], room, history_[c].data() + history_frames_);
  }
  history_frames_ += room;
  frames_in_ += room;
}

uint64_t PolyphaseResampler::Computable(uint64_t frames_in) const noexcept {
  const ResamplerKernel::Shape& shape = kernel_->shape();
  // y[k] reads up to input frame i0 + lookahead: computable while floor(k M / L) <=
  // frames_in - 1 - lookahead, i.e. for k < ceil((frames_in - lookahead) L / M).
  if (frames_in <= shape.lookahead) return 0;
  const Wide scaled = static_cast<Wide>(frames_in - shape.lookahead) * shape.out_step;
  return static_cast<uint64_t>((scaled + shape.in_step - 1) / shape.in_step);
}

uint64_t PolyphaseResampler::Available() const noexcept {
  const uint64_t computable = Computable(frames_in_);
  return computable > frames_out_ ? computable - frames_out_ : 0;
}

void PolyphaseResampler::Take(float* const* out, uint32_t offset, uint32_t frames) noexcept {
  const ResamplerKernel::Shape& shape = kernel_->shape();
  const uint32_t taps = shape.taps;
  const uint64_t in_step = shape.in_step;
  const uint64_t out_step = shape.out_step;
  // Outputs outer, channels inner: every channel's frame n uses the same row, which stays in
  // the L1 cache between them.
  uint64_t position = 0;  // of the current output's first tap in the history
  uint64_t phase = next_phase_;
  for (uint32_t n = 0; n < frames; ++n) {
    if (!shape.interpolated) {
      const float* row = kernel_->row(phase);
      for (uint32_t c = 0; c < channels_; ++c) {
        out[c][offset + n] = Dot(row, history_[c].data() + position, taps);
      }
    } else {
      // Between rows q and q + 1 of a table with `phases` rows per frame.
      const uint64_t scaled = phase * shape.phases;
      const uint64_t q = scaled / out_step;
      const float weight = static_cast<float>(scaled % out_step) / static_cast<float>(out_step);
      for (uint32_t c = 0; c < channels_; ++c) {
        const float* x = history_[c].data() + position;
        const float lower = Dot(kernel_->row(q), x, taps);
        const float upper = Dot(kernel_->row(q + 1), x, taps);
        out[c][offset + n] = lower + weight * (upper - lower);
      }
    }
    phase += in_step;
    position += phase / out_step;
    phase %= out_step;
  }
  // The history now starts at the next output's first tap.
  for (std::vector<float>& channel : history_) {
    std::copy(channel.begin() + position, channel.begin() + history_frames_, channel.begin());
  }
  history_frames_ -= position;
  next_phase_ = phase;
  frames_out_ += frames;
}

bool PolyphaseResampler::Restore(uint64_t frames_in, uint64_t frames_out) noexcept {
  const ResamplerKernel::Shape& shape = kernel_->shape();
  const Wide scaled = static_cast<Wide>(frames_out) * shape.in_step;
  const auto i0 = static_cast<uint64_t>(scaled / shape.out_step);
  // The history runs from i0 - back to frames_in - 1.
  if (frames_out > Computable(frames_in) || i0 > frames_in + back_ ||
      frames_in + back_ - i0 > capacity_) {
    return false;
  }
  frames_in_ = frames_in;
  frames_out_ = frames_out;
  next_phase_ = static_cast<uint64_t>(scaled % shape.out_step);
  history_frames_ = frames_in + back_ - i0;
  return true;
}

}  // namespace audioproc
