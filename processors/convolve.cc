#include "processors/convolve.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "audio_io/impulse_file.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

constexpr uint32_t kMinPartitionFrames = 64;
constexpr uint32_t kMaxPartitionFrames = 256;

absl::Status ValidateConvolve(const ParamValues& resolved, const ProcessSpec& /*input*/) {
  const ParamValue* impulse = resolved.Find("impulse");
  const ParamValue* file = resolved.Find("impulse_file");
  if (impulse != nullptr && file != nullptr) {
    return absl::InvalidArgumentError(
        "convolve.impulse and convolve.impulse_file are both set: set exactly one");
  }
  if (impulse == nullptr && file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "convolve needs an impulse response: set convolve.impulse (1 to ", kMaxImpulseTaps,
        " taps) or convolve.impulse_file (an encoded audio file of at most ", kMaxImpulseFileBytes,
        " bytes)"));
  }
  if (impulse != nullptr && std::get<std::vector<float>>(*impulse).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("convolve.impulse must hold 1 to ", kMaxImpulseTaps, " taps, got none"));
  }
  if (file != nullptr && std::get<std::string>(*file).empty()) {
    return absl::InvalidArgumentError("convolve.impulse_file is empty: it must be an audio file");
  }
  // The file is decoded in Prepare, which reports what libsndfile finds wrong with it: doing it
  // here too would decode it again on every mid-stream `wet` update.
  return absl::OkStatus();
}

// A short decaying noise burst (a tiny room), for benchmarks and the allocation test.
std::vector<float> ExampleImpulse() {
  std::vector<float> taps(512);
  uint32_t state = 1;
  for (size_t i = 0; i < taps.size(); ++i) {
    state = state * 1664525u + 1013904223u;  // deterministic, no <random> state to carry
    const float noise = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
    taps[i] = noise * std::exp(-static_cast<float>(i) / 100.0f);
  }
  taps[0] = 1.0f;
  return taps;
}

}  // namespace

uint32_t ConvolvePartitionFrames(size_t taps) {
  uint32_t partition = kMinPartitionFrames;
  while (partition < kMaxPartitionFrames &&
         static_cast<double>(partition) * partition < static_cast<double>(taps)) {
    partition *= 2;
  }
  return partition;
}

absl::StatusOr<StageEstimate> ConvolveProcessor::Estimate(const ParamValues& params,
                                                          const ProcessSpec& input) {
  // The processor keeps its copy of the taps, or of the file's bytes; the taps decoded from
  // a file are freed once transformed.
  size_t taps = 0;
  uint64_t kept = 0;
  if (const ParamValue* impulse = params.Find("impulse")) {
    taps = std::get<std::vector<float>>(*impulse).size();
    kept = cost::VectorBytes<float>(taps);
  } else {
    const std::string& file = params.Text("impulse_file");
    absl::StatusOr<ImpulseFileHeader> header =
        ReadImpulseFileHeader(file, input.sample_rate_hz, kMaxImpulseTaps, "convolve.impulse_file");
    if (!header.ok()) return header.status();
    taps = ImpulseFileTaps(*header, input.sample_rate_hz, kMaxImpulseTaps);
    kept = cost::StringBytes(file.size());
  }
  const uint32_t partition = ConvolvePartitionFrames(taps);
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(ConvolveProcessor)) + kept +
                          PartitionedConvolver::InitBytes(taps, partition, input.channels) +
                          cost::VectorBytes<float>(input.max_block_frames);
  estimate.cpu_cores =
      PartitionedConvolver::Cores(taps, partition, input.channels, input.sample_rate_hz);
  estimate.max_latency_frames = partition;
  return estimate;
}

ProcessorDefinition ConvolveDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "convolve";
  definition.info.summary =
      "FIR filter / impulse response by partitioned FFT convolution; set impulse or "
      "impulse_file. Latency: 64 to 256 frames, more for longer impulses.";
  ParamInfo impulse;
  impulse.name = "impulse";
  impulse.type = ParamType::kFloatList;
  impulse.max = kMaxImpulseTaps;  // for a list: the most values it may hold
  impulse.element_limit = kMaxImpulseTap;
  impulse.summary = "The impulse response's taps (first tap: no delay). Or impulse_file.";
  ParamInfo file;
  file.name = "impulse_file";
  file.type = ParamType::kBytes;
  file.unit = "bytes";
  file.max = kMaxImpulseFileBytes;
  file.summary =
      "An encoded audio file (WAV, FLAC, Ogg, AIFF...); its first channel is the impulse, "
      "resampled to the stream's rate. Or impulse.";
  ParamInfo wet;
  wet.name = "wet";
  wet.type = ParamType::kFloat;
  wet.default_value = 1.0;
  wet.min = 0.0;
  wet.max = 1.0;
  wet.runtime_updatable = true;
  wet.summary = "Share of the filtered signal; the rest is the dry input, aligned with it.";
  definition.info.params = {std::move(impulse), std::move(file), std::move(wet)};
  definition.validate = ValidateConvolve;
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    std::vector<float> impulse;
    std::string file;
    if (params.Has("impulse")) impulse = params.Floats("impulse");
    if (params.Has("impulse_file")) file = params.Text("impulse_file");
    return std::make_unique<ConvolveProcessor>(std::move(impulse), std::move(file),
                                               params.Number("wet"));
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    ConvolveRuntimeSettings settings;
    if (changes.Has("wet")) settings.wet = changes.Number("wet");
    return std::make_unique<TypedUpdate<ConvolveRuntimeSettings>>(settings);
  };
  definition.estimate = ConvolveProcessor::Estimate;
  definition.example.Set("impulse", ExampleImpulse());
  return definition;
}

ConvolveProcessor::ConvolveProcessor(std::vector<float> impulse, std::string impulse_file,
                                     double wet)
    : impulse_(std::move(impulse)),
      impulse_file_(std::move(impulse_file)),
      wet_(static_cast<float>(wet)) {}

absl::StatusOr<ProcessSpec> ConvolveProcessor::Prepare(const ProcessSpec& input) {
  std::vector<float> decoded;
  const std::vector<float>* impulse = &impulse_;
  if (!impulse_file_.empty()) {
    absl::StatusOr<std::vector<float>> file = DecodeImpulseFile(
        impulse_file_, input.sample_rate_hz, kMaxImpulseTaps, "convolve.impulse_file");
    if (!file.ok()) return file.status();
    decoded = *std::move(file);
    impulse = &decoded;
  }
  taps_ = impulse->size();
  if (absl::Status status =
          convolver_.Init(*impulse, ConvolvePartitionFrames(taps_), input.channels);
      !status.ok()) {
    return status;
  }
  wet_gains_.assign(input.max_block_frames, wet_.GetTargetValue());
  wet_.Reset(RampSteps(input.sample_rate_hz, kWetRampMs));
  Reset();
  return input;
}

void ConvolveProcessor::Reset() noexcept {
  convolver_.Reset();
  wet_.SetCurrentAndTargetValue(wet_.GetTargetValue());
}

void ConvolveProcessor::ApplySettings(const ConvolveRuntimeSettings& settings) noexcept {
  // From wherever a ramp in flight has got to, so the mix stays continuous.
  if (settings.wet.has_value()) wet_.SetTargetValue(static_cast<float>(*settings.wet));
}

namespace {
constexpr StateTag kConvolveStateTag = MakeStateTag("conv");
constexpr uint16_t kConvolveStateVersion = 1;
}  // namespace

absl::Status ConvolveProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kConvolveStateTag, kConvolveStateVersion);
  wet_.SaveState(writer);
  convolver_.SaveState(writer);
  return writer.status();
}

absl::Status ConvolveProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kConvolveStateTag, kConvolveStateVersion);
  wet_.RestoreState(reader, 0.0f, 1.0f);
  convolver_.RestoreState(reader);
  return FinishRestore(reader);
}

void ConvolveProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  uint32_t i = 0;
  for (; i < frames && wet_.IsSmoothing(); ++i) wet_gains_[i] = wet_.GetNextValue();
  std::fill(wet_gains_.begin() + i, wet_gains_.begin() + frames, wet_.GetTargetValue());
  convolver_.Process(in, wet_gains_.data());
}

}  // namespace audioproc
