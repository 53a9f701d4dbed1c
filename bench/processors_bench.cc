// Microbenchmarks: every registered processor, alone, in ns per frame at 16 kHz mono and
// 48 kHz stereo (blocks of 20 ms), and the DESIGN §8 voice and music chains in-process (the
// floor the gRPC path is compared with). Run by `make bench`.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "processors/chain.h"
#include "processors/registry.h"

namespace audioproc {
namespace {

struct Format {
  const char* name;
  double rate;
  uint32_t channels;
};
constexpr Format kFormats[] = {{"16k_mono", 16000, 1}, {"48k_stereo", 48000, 2}};

// Runs `configs` as a chain on 20 ms blocks of noise; reports frames per second (the
// benchmark's items) and x real time on one core. bench/report.py turns the JSON into a
// markdown table with ns per frame.
void RunChain(benchmark::State& state, const std::vector<ProcessorConfig>& configs,
              const Format& format) {
  const uint32_t block = static_cast<uint32_t>(format.rate / 50);
  absl::StatusOr<std::unique_ptr<Chain>> chain = Chain::Build(
      ProcessorRegistry::Default(), configs, {format.rate, std::max(block, kDefaultMaxBlockFrames),
                                              format.channels});
  if (!chain.ok()) {
    state.SkipWithError(std::string(chain.status().message()).c_str());
    return;
  }
  AudioBuffer noise(format.channels, block);
  AudioBuffer work(format.channels, block);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-0.3f, 0.3f);
  for (uint32_t c = 0; c < format.channels; ++c) {
    float* x = noise.Block().channel(c);
    for (uint32_t i = 0; i < block; ++i) x[i] = dist(rng);
  }
  uint64_t emitted = 0;
  for (auto _ : state) {
    // Fresh input each block: in-place processors overwrite it.
    for (uint32_t c = 0; c < format.channels; ++c) {
      std::copy_n(noise.Block().channel(c), block, work.Block().channel(c));
    }
    (*chain)->Process(work.Block(), [&](const AudioBlock& out) { emitted += out.num_frames(); });
    (*chain)->ClearEvents();
    benchmark::DoNotOptimize(emitted);
  }
  const double frames = static_cast<double>(state.iterations()) * block;
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.counters["x_realtime"] =
      benchmark::Counter(frames / format.rate, benchmark::Counter::kIsRate);
}

ProcessorConfig Config(const char* name, std::vector<std::pair<const char*, ParamValue>> params) {
  ProcessorConfig config{name, {}};
  for (auto& [key, value] : params) config.params.Set(key, std::move(value));
  return config;
}

void RegisterAll() {
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    for (const Format& format : kFormats) {
      const ProcessorConfig config = ExampleConfig(definition);
      benchmark::RegisterBenchmark(
          absl::StrCat("processor/", definition.info.name, "/", format.name).c_str(),
          [config, format](benchmark::State& state) { RunChain(state, {config}, format); });
    }
  }
  // DESIGN §8 workloads, in-process: the ceiling for what gRPC can deliver.
  const std::vector<ProcessorConfig> voice = {
      Config("highpass", {{"cutoff_hz", 80.0}}), Config("denoise", {}),
      Config("compressor", {}), Config("loudness", {{"target_lufs", -16.0}}),
      Config("limiter", {{"ceiling_db", -1.0}})};
  benchmark::RegisterBenchmark("chain/voice/16k_mono", [voice](benchmark::State& state) {
    RunChain(state, voice, kFormats[0]);
  });
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
  const std::vector<ProcessorConfig> music = {
      Config("eq", {{"bands", bands}}), Config("compressor", {}),
      Config("limiter", {{"ceiling_db", -1.0}}), Config("resample", {{"sample_rate_hz", 44100.0}})};
  benchmark::RegisterBenchmark("chain/music/48k_stereo", [music](benchmark::State& state) {
    RunChain(state, music, kFormats[1]);
  });
}

}  // namespace
}  // namespace audioproc

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  audioproc::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
