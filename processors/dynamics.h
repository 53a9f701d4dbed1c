// Building blocks shared by the dynamics processors (compressor, noise_gate): a linked RMS level
// detector, one-pole smoothing coefficients, the parameters' ramp time, and dB conversions.
//
// Levels follow DESIGN §4: dBFS RMS, that is 10 log10 of the mean square, so a full-scale sine
// reads -3.01 dBFS. Everything here works sample by sample, keeps its state between blocks and
// never allocates, so a processor built from it is independent of block sizes and real-time
// safe.
//
//   dynamics::LinkedRmsDetector detector;
//   detector.Prepare(channels, /*time_constant_ms=*/10, sample_rate_hz);
//   const double level_db = dynamics::PowerToDb(detector.Push(block, frame));
//
// Thread safety: plain values, each used by one thread at a time.
#ifndef AUDIOPROC_PROCESSORS_DYNAMICS_H_
#define AUDIOPROC_PROCESSORS_DYNAMICS_H_

#include <array>
#include <cstdint>

#include "chain/parameters.h"
#include "dsp/audio_block.h"
#include "dsp/smoothed_value.h"
#include "dsp/state_codec.h"

namespace audioproc::dynamics {

// How long a runtime parameter change takes to reach its new value (a SmoothedValue per
// parameter): inside DESIGN's 20 ms, and long enough that even a 100 dB step of a
// gain-setting parameter does not click.
inline constexpr double kRampMs = kParameterRampMs;

// What PowerToDb reads for silence, so that levels stay finite.
inline constexpr double kSilenceDb = -200.0;

// Linear amplitude of `db` (10^(db / 20)).
double DbToLinear(double db);

// 10 log10(power), floored at kSilenceDb.
double PowerToDb(double power);

// Linear power of `db` (10^(db / 10)): a level in dB as the mean square it stands for.
double DbToPower(double db);

// The per-sample factor a of a one-pole smoother y += (1 - a)(x - y) whose time constant is
// `time_ms`: it covers 1 - 1/e (63%) of a step in that time.
double OnePoleCoefficient(double time_ms, double sample_rate_hz);

// The mean square of each channel, smoothed by a one-pole filter, and the largest of them:
// channels are linked (one level for all), and a signal reads the same in mono as on every
// channel of a multichannel stream.
class LinkedRmsDetector {
 public:
  // Sets the channel count (at most kMaxChannels) and time constant, and clears the state.
  void Prepare(uint32_t channels, double time_constant_ms, double sample_rate_hz);

  // Back to silence.
  void Reset() noexcept { mean_square_.fill(0.0); }

  // Each channel's mean square, for a checkpoint. Real-time safe.
  void SaveState(StateWriter& writer) const noexcept {
    writer.PutDoubles({mean_square_.data(), channels_});
  }
  // Reads what SaveState wrote for the same channel count: finite and not negative. On failure
  // the reader fails; the caller Resets.
  void RestoreState(StateReader& reader) noexcept {
    reader.GetFiniteDoubles({mean_square_.data(), channels_});
    for (uint32_t c = 0; c < channels_; ++c) {
      if (mean_square_[c] < 0) return reader.Fail("a negative mean square");
    }
  }

  // Takes frame `frame` of `block` and returns the largest channel's mean square. Real-time
  // safe.
  double Push(const AudioBlock& block, uint32_t frame) noexcept {
    double loudest = 0.0;
    for (uint32_t c = 0; c < channels_; ++c) {
      const double x = block.channel(c)[frame];
      double& mean_square = mean_square_[c];
      mean_square = x * x + coefficient_ * (mean_square - x * x);
      // Below -300 dBFS it is silence; flushing keeps a decaying state out of the subnormal
      // range, which is slow on threads without flush-to-zero.
      if (mean_square < 1e-30) mean_square = 0.0;
      if (mean_square > loudest) loudest = mean_square;
    }
    return loudest;
  }

 private:
  uint32_t channels_ = 0;
  double coefficient_ = 0.0;
  std::array<double, kMaxChannels> mean_square_{};
};

}  // namespace audioproc::dynamics

#endif  // AUDIOPROC_PROCESSORS_DYNAMICS_H_
