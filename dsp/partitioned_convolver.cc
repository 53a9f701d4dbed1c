#include "dsp/partitioned_convolver.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "dsp/cost_model.h"

namespace audioproc {
namespace {

constexpr float kMaxMagnitude = std::numeric_limits<float>::max();

// An impulse with huge taps can overflow to Inf, and Inf - Inf in the inverse FFT to NaN; no
// processor may emit either. NaN becomes silence, overflow the largest finite value.
inline float Finite(float x) {
  if (std::fabs(x) <= kMaxMagnitude) return x;
  return std::isnan(x) ? 0.0f : std::copysign(kMaxMagnitude, x);
}

// CPU-seconds per bin and partition of the complex multiply-accumulate over the delay line:
// 1.2 ns while the filter's and the channels' spectra fit in this machine's caches (measured
// from 64 to 262144 taps, up to 4.7 MB at 65536 taps on 8 channels), 2.4 ns once they do
// not (memory bandwidth bounds it: measured at 262144 taps on 8 channels, 19 MB; streams on
// other cores share both); per bin of a partition (splitting and joining spectra); per
// sample (the wet/dry mix and the FIFOs).
constexpr double kMacSeconds = 1.2e-9;
constexpr double kMacSecondsOutOfCache = 2.4e-9;
constexpr uint64_t kCacheBytes = 8 << 20;
constexpr double kBinSeconds = 1.0e-9;
constexpr double kSampleSeconds = 1.5e-9;

}  // namespace

uint64_t PartitionedConvolver::InitBytes(size_t taps, uint32_t partition_frames,
                                         uint32_t channels) {
  const uint32_t fft_size = 2 * partition_frames;
  const uint32_t bins = fft_size / 2 + 1;
  const uint64_t partitions = (taps + partition_frames - 1) / partition_frames;
  const uint64_t spectra = partitions * bins;
  const uint64_t per_channel = cost::FftwBufferBytes<float>(fft_size) +
                               cost::VectorBytes<float>(partition_frames) +
                               2 * cost::VectorBytes<float>(spectra);
  return cost::RealFftPlanBytes(fft_size) + cost::FftwBufferBytes<fftwf_complex>(bins) +
         cost::FftwBufferBytes<float>(fft_size) + 2 * cost::VectorBytes<float>(spectra) +
         2 * cost::VectorBytes<float>(bins) + cost::VectorBytes<Channel>(channels) +
         channels * per_channel;
}

double PartitionedConvolver::Cores(size_t taps, uint32_t partition_frames, uint32_t channels,
                                   double sample_rate_hz) {
  const uint32_t fft_size = 2 * partition_frames;
  const uint32_t bins = fft_size / 2 + 1;
  const uint64_t partitions = (taps + partition_frames - 1) / partition_frames;
  // The filter's spectra and each channel's delay line, read once per partition.
  const uint64_t working_set = (channels + 1) * partitions * bins * 2 * sizeof(float);
  const double mac = working_set <= kCacheBytes ? kMacSeconds : kMacSecondsOutOfCache;
  const double per_partition =
      2 * cost::RealFftSeconds(fft_size) + bins * (partitions * mac + kBinSeconds);
  return channels *
         (sample_rate_hz / partition_frames * per_partition + sample_rate_hz * kSampleSeconds);
}

absl::Status PartitionedConvolver::Init(std::span<const float> impulse, uint32_t partition_frames,
                                        uint32_t channels) {
  partition_ = partition_frames;
  fft_size_ = 2 * partition_frames;
  bins_ = fft_size_ / 2 + 1;
  partitions_ = static_cast<uint32_t>((impulse.size() + partition_ - 1) / partition_);
  absl::StatusOr<RealFftPlan> fft = RealFftPlan::Create(static_cast<int>(fft_size_));
  if (!fft.ok()) return fft.status();
  fft_ = *std::move(fft);
  spectrum_ = FftwBuffer<fftwf_complex>(bins_);
  time_ = FftwBuffer<float>(fft_size_);

  // Each partition of the impulse, zero-padded to N and transformed. Overlap-save keeps the
  // second half of each inverse transform, whose samples are free of circular wrap-around
  // because a partition has B taps and the transformed input 2B frames.
  const size_t spectra = size_t{partitions_} * bins_;
  filter_re_.assign(spectra, 0.0f);
  filter_im_.assign(spectra, 0.0f);
  const float scale = 1.0f / static_cast<float>(fft_size_);
  for (uint32_t p = 0; p < partitions_; ++p) {
    time_.Clear();
    const size_t begin = size_t{p} * partition_;
    const size_t taps = std::min<size_t>(partition_, impulse.size() - begin);
    std::copy_n(impulse.data() + begin, taps, time_.data());
    fft_.Forward(time_.data(), spectrum_.data());
    for (uint32_t k = 0; k < bins_; ++k) {
      filter_re_[size_t{p} * bins_ + k] = spectrum_[k][0] * scale;
      filter_im_[size_t{p} * bins_ + k] = spectrum_[k][1] * scale;
    }
  }
  sum_re_.assign(bins_, 0.0f);
  sum_im_.assign(bins_, 0.0f);

  channels_.clear();
  channels_.reserve(channels);
  for (uint32_t c = 0; c < channels; ++c) {
    Channel channel;
    channel.input = FftwBuffer<float>(fft_size_);
    channel.output.assign(partition_, 0.0f);
    channel.history_re.assign(spectra, 0.0f);
    channel.history_im.assign(spectra, 0.0f);
    channels_.push_back(std::move(channel));
  }
  Reset();
  return absl::OkStatus();
}

void PartitionedConvolver::Reset() noexcept {
  position_ = 0;
  slot_ = 0;
  for (Channel& channel : channels_) {
    channel.input.Clear();
    std::fill(channel.output.begin(), channel.output.end(), 0.0f);
    std::fill(channel.history_re.begin(), channel.history_re.end(), 0.0f);
    std::fill(channel.history_im.begin(), channel.history_im.end(), 0.0f);
  }
}

void PartitionedConvolver::Process(AudioBlock& block, const float* wet) noexcept {
  const uint32_t frames = block.num_frames();
  uint32_t done = 0;
  while (done < frames) {
    // A run up to the end of the current partition: within it, output frame `position_ + i`
    // of the previous partition leaves as input frame `position_ + i` arrives.
    const uint32_t run = std::min(frames - done, partition_ - position_);
    for (uint32_t c = 0; c < channels_.size(); ++c) {
      Channel& channel = channels_[c];
      float* samples = block.channel(c) + done;
      float* previous = channel.input.data() + position_;  // the dry signal, B frames ago
      float* current = previous + partition_;
      const float* filtered = channel.output.data() + position_;
      const float* gains = wet + done;
      for (uint32_t i = 0; i < run; ++i) {
        current[i] = samples[i];
        samples[i] = Finite(gains[i] * filtered[i] + (1.0f - gains[i]) * previous[i]);
      }
    }
    done += run;
    position_ += run;
    if (position_ == partition_) {
      for (Channel& channel : channels_) RunPartition(channel);
      slot_ = slot_ + 1 == partitions_ ? 0 : slot_ + 1;
      position_ = 0;
    }
  }
}

void PartitionedConvolver::RunPartition(Channel& channel) noexcept {
  fft_.Forward(channel.input.data(), spectrum_.data());
  float* new_re = channel.history_re.data() + size_t{slot_} * bins_;
  float* new_im = channel.history_im.data() + size_t{slot_} * bins_;
  for (uint32_t k = 0; k < bins_; ++k) {
    new_re[k] = spectrum_[k][0];
    new_im[k] = spectrum_[k][1];
  }

  // Y = sum over p of H_p x X_(slot - p): the newest input spectrum meets the impulse's first
  // partition, the oldest its last.
  std::fill(sum_re_.begin(), sum_re_.end(), 0.0f);
  std::fill(sum_im_.begin(), sum_im_.end(), 0.0f);
  float* __restrict sum_re = sum_re_.data();
  float* __restrict sum_im = sum_im_.data();
  for (uint32_t p = 0; p < partitions_; ++p) {
    const uint32_t age = slot_ >= p ? slot_ - p : slot_ + partitions_ - p;
    const float* __restrict h_re = filter_re_.data() + size_t{p} * bins_;
    const float* __restrict h_im = filter_im_.data() + size_t{p} * bins_;
    const float* __restrict x_re = channel.history_re.data() + size_t{age} * bins_;
    const float* __restrict x_im = channel.history_im.data() + size_t{age} * bins_;
    for (uint32_t k = 0; k < bins_; ++k) {
      sum_re[k] += h_re[k] * x_re[k] - h_im[k] * x_im[k];
      sum_im[k] += h_re[k] * x_im[k] + h_im[k] * x_re[k];
    }
  }
  for (uint32_t k = 0; k < bins_; ++k) {
    spectrum_[k][0] = sum_re[k];
    spectrum_[k][1] = sum_im[k];
  }
  fft_.Inverse(spectrum_.data(), time_.data());
  std::memcpy(channel.output.data(), time_.data() + partition_, sizeof(float) * partition_);
  // The partition just completed becomes the first half of the next transform's input.
  std::memcpy(channel.input.data(), channel.input.data() + partition_, sizeof(float) * partition_);
}

void PartitionedConvolver::SaveState(StateWriter& writer) const noexcept {
  writer.PutU32(static_cast<uint32_t>(channels_.size()));
  writer.PutU32(position_);
  writer.PutU32(slot_);
  for (const Channel& channel : channels_) {
    writer.PutFloats({channel.input.data(), channel.input.size()});
    writer.PutFloats(channel.output);
    writer.PutFloats(channel.history_re);
    writer.PutFloats(channel.history_im);
  }
}

void PartitionedConvolver::RestoreState(StateReader& reader) noexcept {
  const uint32_t channels = reader.GetU32();
  if (reader.ok() && channels != channels_.size()) {
    return reader.Fail("a convolver of another channel count");
  }
  position_ = reader.GetU32AtMost(partition_ - 1);
  slot_ = reader.GetU32AtMost(partitions_ == 0 ? 0 : partitions_ - 1);
  for (Channel& channel : channels_) {
    reader.GetFiniteFloats({channel.input.data(), channel.input.size()});
    reader.GetFiniteFloats(channel.output);
    reader.GetFiniteFloats(channel.history_re);
    reader.GetFiniteFloats(channel.history_im);
  }
}

}  // namespace audioproc
