#include "dsp/audio_block.h"

#include <algorithm>
#include <cassert>

namespace audioproc {

AudioBlock::AudioBlock(float* const* channels, uint32_t num_channels, uint32_t num_frames)
    : num_channels_(num_channels), num_frames_(num_frames) {
  assert(num_channels <= kMaxChannels);
  std::copy(channels, channels + num_channels, channels_.begin());
}

AudioBlock AudioBlock::Slice(uint32_t offset, uint32_t frames) const {
  assert(offset + frames <= num_frames_);
  AudioBlock slice = *this;
  for (uint32_t c = 0; c < num_channels_; ++c) slice.channels_[c] += offset;
  slice.num_frames_ = frames;
  return slice;
}

void AudioBlock::Clear() const {
  for (uint32_t c = 0; c < num_channels_; ++c) std::fill_n(channels_[c], num_frames_, 0.0f);
}

AudioBuffer::AudioBuffer(uint32_t channels, uint32_t capacity_frames)
    : samples_(channels, std::vector<float>(capacity_frames, 0.0f)),
      capacity_frames_(capacity_frames) {
  assert(channels <= kMaxChannels);
  for (uint32_t c = 0; c < channels; ++c) pointers_[c] = samples_[c].data();
}

AudioBlock AudioBuffer::Block(uint32_t frames) {
  assert(frames <= capacity_frames_);
  return AudioBlock(pointers_.data(), num_channels(), frames);
}

}  // namespace audioproc
