// SignalRunner: feeds a test signal through a chain, a chunk at a time, and checks what comes
// out (the output's channel count on every block; on Flush, the frame count the rates promise).
// Shared by the fuzz targets that drive a chain after changing it (chain_update, state_restore).
//
//   SignalRunner runner(chain);
//   runner.Run(kChunksBefore);  // 160-frame chunks of tones and noise
//   ... change the chain ...
//   runner.Run(kChunksAfter);
//   runner.Flush();
//
// Thread safety: one thread.
#ifndef AUDIOPROC_FUZZ_SIGNAL_RUNNER_H_
#define AUDIOPROC_FUZZ_SIGNAL_RUNNER_H_

#include <cmath>
#include <cstdint>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "chain/chain.h"
#include "dsp/audio_block.h"
#include "fuzz/fuzz_input.h"

namespace audioproc::fuzz {

inline constexpr uint32_t kChunkFrames = 160;
inline constexpr int kChunksBefore = 4;
inline constexpr int kChunksAfter = 8;

class SignalRunner {
 public:
  explicit SignalRunner(Chain& chain)
      : chain_(chain), buffer_(chain.input_spec().channels, kChunkFrames) {}

  void Run(int chunks) {
    for (int n = 0; n < chunks; ++n) {
      const AudioBlock block = buffer_.Block(kChunkFrames);
      // A tone with a different frequency in each channel, and deterministic noise: enough
      // to make every dynamics processor, gate and detector act.
      for (uint32_t c = 0; c < block.num_channels(); ++c) {
        const double hz = 220.0 * (c + 1);
        for (uint32_t i = 0; i < kChunkFrames; ++i) {
          const double t = static_cast<double>(frame_ + i) / chain_.input_spec().sample_rate_hz;
          noise_ = noise_ * 6364136223846793005u + 1442695040888963407u;
          const double noise = static_cast<double>(noise_ >> 40) / (1 << 24) - 0.5;
          block.channel(c)[i] =
              static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * hz * t) + 0.1 * noise);
        }
      }
      frame_ += kChunkFrames;
      chain_.Process(block, [this](const AudioBlock& out) { Check(out); });
      chain_.ClearEvents();
    }
  }

  // `check_count`: the frames out must be what this runner's frames in make (not for a chain
  // whose state was restored from elsewhere, which had frames before).
  void Flush(bool check_count = true) {
    chain_.Flush([this](const AudioBlock& out) { Check(out); });
    chain_.ClearEvents();
    if (!check_count) return;
    const uint64_t expected = static_cast<uint64_t>(
        std::llround(static_cast<double>(frame_) * chain_.output_spec().sample_rate_hz /
                     chain_.input_spec().sample_rate_hz));
    AUDIOPROC_FUZZ_CHECK(frames_out_ == expected,
                         absl::StrCat(frames_out_, " frames out, expected ", expected));
  }

 private:
  void Check(const AudioBlock& out) {
    AUDIOPROC_FUZZ_CHECK(out.num_channels() == chain_.output_spec().channels);
    frames_out_ += out.num_frames();
  }

  Chain& chain_;
  AudioBuffer buffer_;
  uint64_t frame_ = 0;
  uint64_t frames_out_ = 0;
  uint64_t noise_ = 1;
};

}  // namespace audioproc::fuzz

#endif  // AUDIOPROC_FUZZ_SIGNAL_RUNNER_H_
