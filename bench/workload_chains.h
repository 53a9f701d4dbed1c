// The chains of DESIGN §8's workloads as the processors take them, for everything that runs
// them in process: processors_bench's chain benchmarks and the estimate tests. (The load
// generator sends the same chains as JSON: bench/workload.h.)
// Thread safety: stateless functions.
#ifndef AUDIOPROC_BENCH_WORKLOAD_CHAINS_H_
#define AUDIOPROC_BENCH_WORKLOAD_CHAINS_H_

#include <string>
#include <vector>

#include "chain/parameters.h"

namespace audioproc::bench {

// voice, 16 kHz mono: highpass 80 Hz, denoise, compressor, loudness -16 LUFS, limiter -1 dBFS.
inline std::vector<ProcessorConfig> VoiceChain() {
  ProcessorConfig highpass{"highpass", {}};
  highpass.params.Set("cutoff_hz", 80.0);
  ProcessorConfig loudness{"loudness", {}};
  loudness.params.Set("target_lufs", -16.0);
  ProcessorConfig limiter{"limiter", {}};
  limiter.params.Set("ceiling_db", -1.0);
  return {highpass, {"denoise", {}}, {"compressor", {}}, loudness, limiter};
}

// music, 48 kHz stereo: a three-band eq (low shelf, peak, high shelf), compressor, limiter
// -1 dBFS, resample to 44.1 kHz.
inline std::vector<ProcessorConfig> MusicChain() {
  std::vector<ParamValues> bands(3);
  bands[0].Set("type", std::string("LOWSHELF"));
  bands[0].Set("freq_hz", 120.0);
  bands[0].Set("gain_db", 3.0);
  bands[1].Set("type", std::string("PEAKING"));
  bands[1].Set("freq_hz", 2500.0);
  bands[1].Set("gain_db", -2.0);
  bands[2].Set("type", std::string("HIGHSHELF"));
  bands[2].Set("freq_hz", 9000.0);
  bands[2].Set("gain_db", 2.0);
  ProcessorConfig eq{"eq", {}};
  eq.params.Set("bands", bands);
  ProcessorConfig limiter{"limiter", {}};
  limiter.params.Set("ceiling_db", -1.0);
  ProcessorConfig resample{"resample", {}};
  resample.params.Set("sample_rate_hz", 44100.0);
  return {eq, {"compressor", {}}, limiter, resample};
}

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_WORKLOAD_CHAINS_H_
