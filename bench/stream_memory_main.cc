// stream-memory: the heap one stream's engine state takes, per workload and per processor.
//
// Builds N stream pipelines exactly as StreamSession does (StreamPipeline::Create from a
// PipelineConfig, with the default registry), keeps them all alive, and reports the growth of
// glibc's in-use heap (mallinfo2(): uordblks + hblkhd) divided by N. Then an empty Chain (the
// chain's own buffers), and each processor of the chain alone, created by the registry and
// prepared for the format it sees in the pipeline; the rest of a pipeline's figure is the
// chain's per-stage buffers and records and the pipeline's own. Heap is what a stream's RSS
// grows by once it has run (Process touches every buffer); gRPC's own per-stream memory is
// not here: measure the server with audioproc-loadgen --server_pid for that.
//
//   stream-memory [--streams=500]
//
// Thread safety: a single-threaded tool.
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "audio_io/codec.h"
#include "bench/workload_chains.h"
#include "chain/chain.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"

ABSL_FLAG(int, streams, 500, "Instances built and kept alive per measurement.");

namespace audioproc {
namespace {

// In use in the arenas plus mmap'ed chunks (glibc serves blocks of 128 KiB and more, such as
// a FIFO a long push grew, with mmap, and uordblks leaves those out).
size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Builds `count` objects with `make` and returns the heap they hold, in bytes per object.
template <typename Make>
double BytesPerInstance(int count, Make make) {
  using Object = decltype(make());
  std::vector<Object> objects;
  objects.reserve(count);
  const size_t before = HeapInUse();
  for (int i = 0; i < count; ++i) objects.push_back(make());
  const size_t after = HeapInUse();
  return (static_cast<double>(after) - static_cast<double>(before)) / count;
}

std::unique_ptr<StreamPipeline> MustPipeline(const PipelineConfig& config) {
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  if (!pipeline.ok()) {
    std::fprintf(stderr, "pipeline: %s\n", std::string(pipeline.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(pipeline);
}

std::unique_ptr<Chain> MustChain(const std::vector<ProcessorConfig>& configs,
                                 const ProcessSpec& spec) {
  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(ProcessorRegistry::Default(), configs, spec);
  if (!chain.ok()) {
    std::fprintf(stderr, "chain: %s\n", std::string(chain.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(chain);
}

// A processor as the chain makes it: created by the registry and prepared for `spec`.
std::unique_ptr<Processor> MustProcessor(const ProcessorConfig& config, const ProcessSpec& spec) {
  absl::StatusOr<std::unique_ptr<Processor>> processor =
      ProcessorRegistry::Default().Create(config, spec, nullptr);
  if (!processor.ok() || !(*processor)->Prepare(spec).ok()) {
    std::fprintf(stderr, "processor %s does not prepare\n", config.name.c_str());
    std::exit(1);
  }
  return *std::move(processor);
}

void Report(const char* what, double bytes) {
  std::printf("%-28s %9.1f KiB\n", what, bytes / 1024.0);
}

// The pipeline of `config` and each processor of its chain alone, in the format that
// processor sees in the pipeline.
void MeasureWorkload(const char* name, const PipelineConfig& config, int count) {
  std::printf("== %s (%d instances)\n", name, count);
  Report("pipeline", BytesPerInstance(count, [&] { return MustPipeline(config); }));
  const std::unique_ptr<StreamPipeline> reference = MustPipeline(config);
  const Chain& chain = reference->chain();
  ProcessSpec spec = PipelineChainInput(config);
  Report("  empty chain (overhead)", BytesPerInstance(count, [&] { return MustChain({}, spec); }));
  for (const ProcessorConfig& processor : chain.resolved()) {
    Report(("  " + processor.name).c_str(),
           BytesPerInstance(count, [&] { return MustProcessor(processor, spec); }));
    spec = MustChain({processor}, spec)->output_spec();
  }
}

}  // namespace
}  // namespace audioproc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int count = absl::GetFlag(FLAGS_streams);
  using audioproc::PipelineConfig;
  using audioproc::SampleEncoding;

  PipelineConfig null_config;
  null_config.input = {SampleEncoding::kS16, 16000, 1};
  null_config.output = null_config.input;
  audioproc::MeasureWorkload("null", null_config, count);

  PipelineConfig voice = null_config;
  voice.chain = audioproc::bench::VoiceChain();
  audioproc::MeasureWorkload("voice", voice, count);

  PipelineConfig music;
  music.input = {SampleEncoding::kF32, 48000, 2};
  music.output = {SampleEncoding::kF32, 44100, 2};
  music.chain = audioproc::bench::MusicChain();
  audioproc::MeasureWorkload("music", music, count);
  return 0;
}
