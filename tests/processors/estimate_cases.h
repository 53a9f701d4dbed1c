// The processor configurations the resource estimates are tested on: every registered
// processor's example, and the parameters that change what a processor allocates or how long
// it lags (convolve's taps and impulse files, eq's bands, limiter's lookahead and true peak,
// resample's quality and ratio, analyze's bands and interval), at 16 kHz mono, 48 kHz stereo
// and 192 kHz 8 channels (and 8 kHz for the widest resampling); and the pipelines chain and
// pipeline estimates are tested on.
#ifndef AUDIOPROC_TESTS_PROCESSORS_ESTIMATE_CASES_H_
#define AUDIOPROC_TESTS_PROCESSORS_ESTIMATE_CASES_H_

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/workload_chains.h"
#include "chain/chain.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/sound_files.h"

namespace audioproc::testing {

struct EstimateCase {
  std::string name;  // for messages: "convolve taps=512 @48000x2"
  ProcessorConfig config;
  ProcessSpec spec;
};

// The formats every processor is tried at.
inline std::vector<ProcessSpec> EstimateFormats() {
  return {{16000, kDefaultMaxBlockFrames, 1},
          {48000, kDefaultMaxBlockFrames, 2},
          {192000, kDefaultMaxBlockFrames, 8}};
}

// `spec` for processor `name` (of the default registry), with at least the channels it takes:
// aec's mono formats become a microphone and a reference.
inline ProcessSpec FormatFor(const std::string& name, ProcessSpec spec) {
  if (const ProcessorDefinition* definition = ProcessorRegistry::Default().Find(name)) {
    spec.channels = std::max(spec.channels, definition->info.min_input_channels);
  }
  return spec;
}

inline std::string FormatName(const ProcessSpec& spec) {
  return absl::StrCat(spec.sample_rate_hz, "x", spec.channels);
}

// A decaying noise burst of `taps` taps (deterministic).
inline std::vector<float> TestImpulse(size_t taps) {
  std::vector<float> impulse(taps);
  uint32_t state = 7;
  for (size_t i = 0; i < taps; ++i) {
    state = state * 1664525u + 1013904223u;
    impulse[i] = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) *
                 std::exp(-static_cast<float>(i) / (0.2f * static_cast<float>(taps)));
  }
  return impulse;
}

// A mono 32-bit float WAV of `frames` frames of TestImpulse at `rate`.
inline std::string TestImpulseFile(size_t frames, int rate) {
  return MakeSoundFile(SF_FORMAT_WAV | SF_FORMAT_FLOAT, rate, 1, TestImpulse(frames));
}

// Every case: the examples at every format, then the variations.
inline std::vector<EstimateCase> EstimateCases(const ProcessorRegistry& registry) {
  std::vector<EstimateCase> cases;
  auto add = [&](const std::string& label, ProcessorConfig config, const ProcessSpec& spec) {
    cases.push_back(
        {absl::StrCat(config.name, " ", label, " @", FormatName(spec)), std::move(config), spec});
  };
  auto with = [](const char* name, const std::vector<std::pair<const char*, ParamValue>>& params) {
    ProcessorConfig config{name, {}};
    for (const auto& [key, value] : params) config.params.Set(key, value);
    return config;
  };
  for (const ProcessSpec& spec : EstimateFormats()) {
    for (const ProcessorDefinition& definition : registry.definitions()) {
      add("example", ExampleConfig(definition), FormatFor(definition.info.name, spec));
    }
  }
  const std::string short_file = TestImpulseFile(512, 48000);
  // 65536 frames at 48 kHz: 262144 taps (the most) at 192 kHz.
  const std::string long_file = TestImpulseFile(65536, 48000);
  for (const ProcessSpec& spec : EstimateFormats()) {
    add("taps=512", with("convolve", {{"impulse", TestImpulse(512)}}), spec);
    add("taps=262144", with("convolve", {{"impulse", TestImpulse(262144)}}), spec);
    add("file=512@48k", with("convolve", {{"impulse_file", short_file}}), spec);
    add("file=65536@48k", with("convolve", {{"impulse_file", long_file}}), spec);
    // The most taps, from a file at the stream's own rate.
    add("file=262144",
        with("convolve", {{"impulse_file", TestImpulseFile(262144, spec.sample_rate_hz)}}), spec);
    for (int bands : {1, 16}) {
      std::vector<ParamValues> list(bands);
      for (int b = 0; b < bands; ++b) {
        list[b].Set("type", std::string(b % 2 == 0 ? "PEAKING" : "LOWSHELF"));
        list[b].Set("freq_hz", 100.0 * (b + 1));
        list[b].Set("gain_db", 3.0);
      }
      add(absl::StrCat("bands=", bands), with("eq", {{"bands", list}}), spec);
    }
    for (double lookahead : {0.5, 50.0}) {
      for (bool true_peak : {false, true}) {
        add(absl::StrCat("lookahead=", lookahead, " true_peak=", true_peak),
            with("limiter", {{"lookahead_ms", lookahead}, {"true_peak", true_peak}}), spec);
      }
    }
    for (auto [bands, interval] : {std::pair{1, 10.0}, {8, 100.0}, {32, 10.0}, {32, 10000.0}}) {
      add(absl::StrCat("bands=", bands, " interval=", interval),
          with("analyze", {{"bands", static_cast<double>(bands)}, {"interval_ms", interval}}),
          spec);
    }
    add("order=8", with("highpass", {{"cutoff_hz", 100.0}, {"order", 8.0}}), spec);
    add("order=1", with("lowpass", {{"cutoff_hz", 1000.0}, {"order", 1.0}}), spec);
    add("to 1 channel", with("mix", {{"output_channels", 1.0}}), spec);
    add("to 8 channels", with("mix", {{"output_channels", 8.0}}), spec);
  }
  // resample: every quality, down and up from each format, and the widest ratios.
  const char* qualities[] = {"LOW", "MEDIUM", "HIGH", "VERY_HIGH"};
  const std::vector<std::pair<ProcessSpec, double>> conversions = {
      {{16000, kDefaultMaxBlockFrames, 1}, 44100},  {{16000, kDefaultMaxBlockFrames, 1}, 8000},
      {{48000, kDefaultMaxBlockFrames, 2}, 44100},  {{48000, kDefaultMaxBlockFrames, 2}, 96000},
      {{192000, kDefaultMaxBlockFrames, 8}, 48000}, {{8000, kDefaultMaxBlockFrames, 1}, 192000},
      {{192000, kDefaultMaxBlockFrames, 8}, 8000},  {{44100, kDefaultMaxBlockFrames, 2}, 48000},
      {{48000, kDefaultMaxBlockFrames, 2}, 48000},
  };
  for (const char* quality : qualities) {
    for (const auto& [spec, rate] : conversions) {
      add(absl::StrCat("to ", rate, " ", quality),
          with("resample", {{"sample_rate_hz", rate}, {"quality", std::string(quality)}}), spec);
    }
  }
  return cases;
}

// A pipeline from `input` to `output` through `chain`.
inline PipelineConfig Pipeline(StreamFormat input, StreamFormat output,
                               std::vector<ProcessorConfig> chain) {
  PipelineConfig config;
  config.input = input;
  config.output = output;
  config.chain = std::move(chain);
  config.stream_id = "estimate-test";
  return config;
}

// The pipelines of DESIGN §8, ones an output format adds conversions to, and event reporters
// around a rate change: the pipelines every chain and pipeline estimate is tested on.
inline std::vector<std::pair<std::string, PipelineConfig>> EstimatePipelines() {
  return {
      {"voice", Pipeline({SampleEncoding::kS16, 16000, 1}, {SampleEncoding::kS16, 16000, 1},
                         bench::VoiceChain())},
      {"music", Pipeline({SampleEncoding::kF32, 48000, 2}, {SampleEncoding::kF32, 44100, 2},
                         bench::MusicChain())},
      {"output format appends mix and resample",
       Pipeline({SampleEncoding::kS16, 48000, 2}, {SampleEncoding::kS24, 16000, 1},
                {Proc("analyze", {{"interval_ms", 20.0}}), Proc("limiter")})},
      {"8 kHz mono mu-law to 192 kHz 8 channels",
       Pipeline({SampleEncoding::kMulaw, 8000, 1}, {SampleEncoding::kF32, 192000, 8}, {})},
      {"reporters around a resample",
       Pipeline({SampleEncoding::kF32, 44100, 2}, {SampleEncoding::kS16, 44100, 2},
                {Proc("vad"), Proc("resample", {{"sample_rate_hz", 8000.0}}), Proc("analyze"),
                 Proc("convolve", {{"impulse_file", TestImpulseFile(3000, 48000)}})})},
  };
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_PROCESSORS_ESTIMATE_CASES_H_
