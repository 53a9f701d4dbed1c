// Microbenchmarks: every registered processor, alone in a chain, in ns per frame at 16 kHz mono
// and 48 kHz stereo (blocks of 20 ms), the parameters its cost model depends on (cost/...: taps,
// bands, orders, true peak, qualities and ratios, intervals, channel counts), stream pipelines
// with no chain (pipeline/...: decoding, encoding and chunk metrics per encoding), and the
// DESIGN §8 voice and music chains in-process (the floor the gRPC path is compared with). Run
// by `make bench`.
//
// Each benchmark also reports `model_cores`, what EstimateChain (EstimatePipeline) states it costs
// (CPU- seconds per second of audio), beside what it measured (1 / x_realtime: Google Benchmark
// times the thread's CPU), so bench/report.py can print the cost model against measurement and the
// constants (cost_model.h and each processor's estimate) can be recalibrated from its ratios.
// processor/ and cost/ benchmarks feed the signal the model is calibrated on
// (cost::FillCalibrationSignal); chain/ benchmarks feed the load generator's uniform noise, so
// that they compare with the gRPC path.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audio_io/codec.h"
#include "bench/workload_chains.h"
#include "chain/chain.h"
#include "chain/registry.h"
#include "chain/resource_estimate.h"
#include "chain/stream_pipeline.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

struct Format {
  const char* name;
  double rate;
  uint32_t channels;
};
constexpr Format kFormats[] = {{"16k_mono", 16000, 1}, {"48k_stereo", 48000, 2}};

enum class Signal {
  kCalibration,   // cost::FillCalibrationSignal
  kUniformNoise,  // uniform in [-0.3, 0.3], as audioproc-loadgen sends
};

// Runs `configs` as a chain on 20 ms blocks of `signal`; reports frames per second (the
// benchmark's items), x real time on one core and the cost model's cores. bench/report.py
// turns the JSON into markdown tables.
void RunChain(benchmark::State& state, const std::vector<ProcessorConfig>& configs,
              const Format& format, Signal signal) {
  const uint32_t block = static_cast<uint32_t>(format.rate / 50);
  const ProcessSpec spec{format.rate, std::max(block, kDefaultMaxBlockFrames), format.channels};
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(ProcessorRegistry::Default(), configs, spec);
  if (!chain.ok()) {
    state.SkipWithError(std::string(chain.status().message()).c_str());
    return;
  }
  absl::StatusOr<ChainEstimate> estimate =
      EstimateChain(ProcessorRegistry::Default(), configs, spec);
  if (!estimate.ok()) {
    state.SkipWithError(std::string(estimate.status().message()).c_str());
    return;
  }
  // A second of input, cycled, so the calibration signal's loud and quiet stretches both run.
  constexpr uint32_t kBlocks = 50;
  AudioBuffer input(format.channels, block * kBlocks);
  if (signal == Signal::kCalibration) {
    cost::FillCalibrationSignal(input.Block(), 0, format.rate);
  } else {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> dist(-0.3f, 0.3f);
    for (uint32_t c = 0; c < format.channels; ++c) {
      float* x = input.Block().channel(c);
      for (uint32_t i = 0; i < block * kBlocks; ++i) x[i] = dist(rng);
    }
  }
  AudioBuffer work(format.channels, block);
  uint64_t emitted = 0;
  uint32_t next = 0;
  for (auto _ : state) {
    // Fresh input each block: in-place processors overwrite it.
    for (uint32_t c = 0; c < format.channels; ++c) {
      std::copy_n(input.Block().channel(c) + next * block, block, work.Block().channel(c));
    }
    next = next + 1 == kBlocks ? 0 : next + 1;
    (*chain)->Process(work.Block(), [&](const AudioBlock& out) { emitted += out.num_frames(); });
    (*chain)->ClearEvents();
    benchmark::DoNotOptimize(emitted);
  }
  const double frames = static_cast<double>(state.iterations()) * block;
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.counters["x_realtime"] =
      benchmark::Counter(frames / format.rate, benchmark::Counter::kIsRate);
  state.counters["model_cores"] = estimate->cpu_cores;
}

// A StreamPipeline with an empty chain, `encoding` in and out, on 20 ms chunks of the
// calibration signal: the codecs' and chunk metrics' cost, against EstimatePipeline's.
void RunPipeline(benchmark::State& state, SampleEncoding encoding, const Format& format) {
  PipelineConfig config;
  config.input = {encoding, static_cast<uint32_t>(format.rate), format.channels};
  config.output = config.input;
  config.stream_id = "bench";
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  absl::StatusOr<PipelineEstimate> estimate =
      EstimatePipeline(ProcessorRegistry::Default(), config);
  if (!pipeline.ok() || !estimate.ok()) {
    state.SkipWithError("the pipeline could not be built");
    return;
  }
  const uint32_t frames = static_cast<uint32_t>(format.rate / 50);
  AudioBuffer signal(format.channels, frames);
  cost::FillCalibrationSignal(signal.Block(), 0, format.rate);
  std::string chunk(size_t{frames} * format.channels * BytesPerSample(encoding), '\0');
  EncodeInterleaved(encoding, signal.Block(), reinterpret_cast<uint8_t*>(chunk.data()), nullptr, 0);
  std::string out;
  out.reserve(chunk.size());
  for (auto _ : state) {
    out.clear();
    (*pipeline)->ProcessChunk(chunk, &out);
    benchmark::DoNotOptimize(out.data());
  }
  const double processed = static_cast<double>(state.iterations()) * frames;
  state.SetItemsProcessed(static_cast<int64_t>(processed));
  state.counters["x_realtime"] =
      benchmark::Counter(processed / format.rate, benchmark::Counter::kIsRate);
  state.counters["model_cores"] = estimate->cpu_cores;
}

ProcessorConfig Config(const char* name,
                       const std::vector<std::pair<const char*, ParamValue>>& params) {
  ProcessorConfig config{name, {}};
  for (const auto& [key, value] : params) config.params.Set(key, value);
  return config;
}

std::vector<ParamValues> Bands(int count) {
  std::vector<ParamValues> bands(count);
  for (int b = 0; b < count; ++b) {
    bands[b].Set("type", std::string(b % 2 == 0 ? "PEAKING" : "LOWSHELF"));
    bands[b].Set("freq_hz", 100.0 * (b + 1));
    bands[b].Set("gain_db", 3.0);
  }
  return bands;
}

std::vector<float> Impulse(size_t taps) {
  std::vector<float> impulse(taps);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
  for (size_t i = 0; i < taps; ++i) impulse[i] = dist(rng) * std::exp(-5.0f * i / taps);
  return impulse;
}

// The parameters the cost models depend on, beyond the examples.
std::vector<std::pair<std::string, ProcessorConfig>> CostVariations() {
  std::vector<std::pair<std::string, ProcessorConfig>> variations = {
      {"highpass_order8", Config("highpass", {{"cutoff_hz", 100.0}, {"order", 8.0}})},
      {"eq_1band", Config("eq", {{"bands", Bands(1)}})},
      {"eq_16bands", Config("eq", {{"bands", Bands(16)}})},
      {"mix_to_8", Config("mix", {{"output_channels", 8.0}})},
      {"limiter_true_peak", Config("limiter", {{"true_peak", true}})},
      {"vad_mute", Config("vad", {{"mute", true}})},
      {"analyze_10ms", Config("analyze", {{"interval_ms", 10.0}})},
      {"analyze_10s_32bands", Config("analyze", {{"interval_ms", 10000.0}, {"bands", 32.0}})},
  };
  for (size_t taps : {64u, 4096u, 65536u}) {
    variations.emplace_back(absl::StrCat("convolve_", taps),
                            Config("convolve", {{"impulse", Impulse(taps)}}));
  }
  for (const char* quality : {"LOW", "MEDIUM", "HIGH", "VERY_HIGH"}) {
    for (double rate : {8000.0, 96000.0}) {
      variations.emplace_back(
          absl::StrCat("resample_", quality, "_", rate / 1000, "k"),
          Config("resample", {{"sample_rate_hz", rate}, {"quality", std::string(quality)}}));
    }
  }
  return variations;
}

void RegisterAll() {
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    for (Format format : kFormats) {
      // A processor that takes more channels than the format has runs with the fewest it takes
      // (aec at 16 kHz: a microphone and its far-end reference).
      std::string format_name = format.name;
      if (format.channels < definition.info.min_input_channels) {
        format.channels = definition.info.min_input_channels;
        format_name = absl::StrCat(format.rate / 1000, "k_", format.channels, "ch");
      }
      const ProcessorConfig config = ExampleConfig(definition);
      benchmark::RegisterBenchmark(
          absl::StrCat("processor/", definition.info.name, "/", format_name).c_str(),
          [config, format](benchmark::State& state) {
            RunChain(state, {config}, format, Signal::kCalibration);
          });
    }
  }
  for (const auto& variation : CostVariations()) {
    const ProcessorConfig& config = variation.second;
    for (const Format& format : kFormats) {
      benchmark::RegisterBenchmark(absl::StrCat("cost/", variation.first, "/", format.name).c_str(),
                                   [config, format](benchmark::State& state) {
                                     RunChain(state, {config}, format, Signal::kCalibration);
                                   });
    }
  }
  for (const SampleEncoding encoding :
       {SampleEncoding::kS16, SampleEncoding::kS24, SampleEncoding::kF32, SampleEncoding::kMulaw}) {
    for (const Format& format : kFormats) {
      benchmark::RegisterBenchmark(
          absl::StrCat("pipeline/", EncodingName(encoding), "/", format.name).c_str(),
          [encoding, format](benchmark::State& state) { RunPipeline(state, encoding, format); });
    }
  }
  // DESIGN §8 workloads, in-process: the ceiling for what gRPC can deliver.
  const std::vector<ProcessorConfig> voice = bench::VoiceChain();
  benchmark::RegisterBenchmark("chain/voice/16k_mono", [voice](benchmark::State& state) {
    RunChain(state, voice, kFormats[0], Signal::kUniformNoise);
  });
  const std::vector<ProcessorConfig> music = bench::MusicChain();
  benchmark::RegisterBenchmark("chain/music/48k_stereo", [music](benchmark::State& state) {
    RunChain(state, music, kFormats[1], Signal::kUniformNoise);
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
