// CostProbe: what a processor really costs, in CPU-seconds per second of audio, measured the
// way its cost model (ProcessorDefinition::estimate, cost_model.h) states it: the processor
// alone, prepared for `format` with 20 ms blocks, processing the calibration signal
// (cost::FillCalibrationSignal), timed by this thread's CPU clock
// (CLOCK_THREAD_CPUTIME_ID: other processes' load does not count, a preempted thread's wait
// does not either). Each repetition times passes over 64 blocks of pristine input, refilled
// between passes outside the timed region, until it has spent `seconds` of CPU; the result is
// the fastest repetition, less the clock's own cost.
#ifndef AUDIOPROC_TESTS_PROCESSORS_COST_PROBE_H_
#define AUDIOPROC_TESTS_PROCESSORS_COST_PROBE_H_

#include <time.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/status/statusor.h"
#include "chain/chain.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/cost_model.h"

namespace audioproc::testing {

inline double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// The least a pair of ThreadCpuSeconds calls costs.
inline double ClockSeconds() {
  double least = 1.0;
  for (int i = 0; i < 200; ++i) {
    const double start = ThreadCpuSeconds();
    least = std::min(least, ThreadCpuSeconds() - start);
  }
  return least;
}

// The format a processor is measured at: `rate` and `channels`, blocks of 20 ms (at least
// kDefaultMaxBlockFrames prepared, as the chain does).
inline ProcessSpec ProbeFormat(double rate, uint32_t channels) {
  const auto block = static_cast<uint32_t>(std::lround(rate * 0.020));
  return {rate, std::max(block, kDefaultMaxBlockFrames), channels};
}

// CPU-seconds per second of audio of `config` on `format` (see the file comment), the fastest
// of `repetitions` repetitions of at least `seconds` of CPU each.
inline absl::StatusOr<double> MeasureCores(const ProcessorRegistry& registry,
                                           const ProcessorConfig& config, const ProcessSpec& format,
                                           int repetitions, double seconds) {
  absl::StatusOr<std::unique_ptr<Processor>> processor = registry.Create(config, format, nullptr);
  if (!processor.ok()) return processor.status();
  absl::StatusOr<ProcessSpec> output = (*processor)->Prepare(format);
  if (!output.ok()) return output.status();
  constexpr uint32_t kBlocksPerPass = 64;
  const auto block = static_cast<uint32_t>(std::lround(format.sample_rate_hz * 0.020));
  AudioBuffer pristine(format.channels, block * kBlocksPerPass);
  cost::FillCalibrationSignal(pristine.Block(), 0, format.sample_rate_hz);
  AudioBuffer work(format.channels, block * kBlocksPerPass);
  AudioBuffer out(output->channels, std::max<uint32_t>(output->max_block_frames, 1));
  const double clock = ClockSeconds();
  auto pass = [&]() {
    for (uint32_t c = 0; c < format.channels; ++c) {
      std::copy_n(pristine.Block().channel(c), block * kBlocksPerPass, work.Block().channel(c));
    }
    const double start = ThreadCpuSeconds();
    for (uint32_t b = 0; b < kBlocksPerPass; ++b) {
      AudioBlock in = work.Block().Slice(b * block, block);
      AudioBlock to = out.Block();
      (*processor)->Process(in, to);
    }
    return std::max(0.0, ThreadCpuSeconds() - start - clock);
  };
  const double audio_per_pass = kBlocksPerPass * block / format.sample_rate_hz;
  pass();  // warm caches and branch predictors
  double best = HUGE_VAL;
  for (int r = 0; r < repetitions; ++r) {
    double cpu = 0, audio = 0;
    while (cpu < seconds) {
      cpu += pass();
      audio += audio_per_pass;
      if (cpu == 0 && audio > 1e4) break;  // nothing measurable at all
    }
    best = std::min(best, cpu / audio);
  }
  return best;
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_PROCESSORS_COST_PROBE_H_
