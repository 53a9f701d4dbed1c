// AudioBlock and AudioBuffer: planar float audio, the only format processors see.
//
// An AudioBlock is a cheap, non-owning view (channel pointers and a frame count) that can be
// copied and sliced without allocating. An AudioBuffer owns the samples a block points into;
// it allocates only when constructed or resized.
#ifndef AUDIOPROC_DSP_AUDIO_BLOCK_H_
#define AUDIOPROC_DSP_AUDIO_BLOCK_H_

#include <array>
#include <cstdint>
#include <vector>

namespace audioproc {

// The most channels a stream may carry (DESIGN §3: 1 to 8 interleaved channels).
inline constexpr uint32_t kMaxChannels = 8;

// A view of `num_frames` frames in `num_channels` planar channels.
class AudioBlock {
 public:
  AudioBlock() = default;
  AudioBlock(float* const* channels, uint32_t num_channels, uint32_t num_frames);

  float* channel(uint32_t c) const { return channels_[c]; }
  uint32_t num_channels() const { return num_channels_; }
  uint32_t num_frames() const { return num_frames_; }

  // Rate changers report how many frames they wrote into an output block (at most the
  // frames it was given).
  void set_num_frames(uint32_t frames) { num_frames_ = frames; }

  // The frames [offset, offset + frames) of this block.
  AudioBlock Slice(uint32_t offset, uint32_t frames) const;

  // Sets every sample to zero.
  void Clear() const;

 private:
  std::array<float*, kMaxChannels> channels_{};
  uint32_t num_channels_ = 0;
  uint32_t num_frames_ = 0;
};

// Owns `channels` planar buffers of `capacity_frames` samples each.
class AudioBuffer {
 public:
  AudioBuffer() = default;
  // Allocates.
  AudioBuffer(uint32_t channels, uint32_t capacity_frames);

  uint32_t num_channels() const { return static_cast<uint32_t>(samples_.size()); }
  uint32_t capacity_frames() const { return capacity_frames_; }

  // A view of the first `frames` frames (at most capacity_frames()).
  AudioBlock Block(uint32_t frames);
  AudioBlock Block() { return Block(capacity_frames_); }

 private:
  std::vector<std::vector<float>> samples_;
  std::array<float*, kMaxChannels> pointers_{};
  uint32_t capacity_frames_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_DSP_AUDIO_BLOCK_H_
