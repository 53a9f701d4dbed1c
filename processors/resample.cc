#include "processors/resample.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dsp/cost_model.h"
#include "dsp/state_codec.h"

namespace audioproc {
namespace {

// Names as in the proto's ResampleQuality enum, in the order of ResampleQuality.
constexpr const char* kQualityNames[] = {"LOW", "MEDIUM", "HIGH", "VERY_HIGH"};
// Kaiser designs (attenuation dB, passband end / lower Nyquist), in the same order. HIGH and
// VERY_HIGH match libsoxr's HQ and VHQ passbands (91.3% and 95%), which this replaced.
constexpr ResamplerDesign kDesigns[] = {{80, 0.80}, {100, 0.85}, {120, 0.91}, {140, 0.95}};

constexpr StateTag kResampleStateTag = MakeStateTag("rsmp");
constexpr uint16_t kResampleStateVersion = 1;

// Prepare's requirements of the input, with its message.
absl::Status CheckInput(const ProcessSpec& input) {
  const double rate = input.sample_rate_hz;
  if (rate < 1 || rate != std::floor(rate) || input.channels == 0 ||
      input.channels > kMaxChannels || input.max_block_frames == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("resample needs a whole input rate in hertz, 1 to ", kMaxChannels,
                     " channels and blocks of at least one frame; got ", rate, " Hz, ",
                     input.channels, " channels, ", input.max_block_frames, " frames"));
  }
  return absl::OkStatus();
}

ResampleQuality QualityNamed(const std::string& name) {
  for (size_t i = 0; i < std::size(kQualityNames); ++i) {
    if (name == kQualityNames[i]) return static_cast<ResampleQuality>(i);
  }
  return ResampleQuality::kHigh;
}

// The longest output block: ceil(max_block_frames x out / in) + 1.
uint32_t MaxOutFrames(uint32_t max_block_frames, uint64_t in_step, uint64_t out_step) {
  return static_cast<uint32_t>((max_block_frames * out_step + in_step - 1) / in_step + 1);
}

// The leading silence that makes every scheduled frame computable when due (resample.h):
// ceil((lookahead + 1) x out / in).
uint32_t LatencyOf(const ResamplerKernel::Shape& shape) {
  return static_cast<uint32_t>(((shape.lookahead + 1) * shape.out_step + shape.in_step - 1) /
                               shape.in_step);
}

// CPU-seconds per tap and output frame: per channel (its multiply-add) and once per frame (the
// row's load, shared by the channels); per output frame and channel; per input frame and
// channel (the history's copy). Fitted (2026-12-05, AVX2 clone) to cost_probe.h's
// measurements of 15 conversions: 16 kHz mono to 8, 44.1 and 44.101 kHz, 48 kHz stereo to
// 44.1, 96 and 8.001 kHz, 192 kHz 8 channels to 48 and 8 kHz, 8 kHz mono to 192 kHz, 44.1 to
// 48 kHz, LOW to VERY_HIGH: every model within 0.79-1.35x of its measurement. A table larger
// than the L1 cache (16 to 44.1 kHz at HIGH: 441 rows, 339 KiB) costs more per tap than a
// small one (8 to 192 kHz: 24 rows), which the model leaves out. Equal rates copy.
constexpr double kMacSeconds = 0.05e-9;
constexpr double kRowTapSeconds = 0.04e-9;
constexpr double kOutputSeconds = 3.0e-9;
constexpr double kInputSeconds = 0.5e-9;
constexpr double kResampleCopySeconds = 0.1e-9;

}  // namespace

ResamplerDesign ResampleDesignFor(ResampleQuality quality) {
  return kDesigns[static_cast<int>(quality)];
}

absl::StatusOr<StageEstimate> ResampleProcessor::Estimate(const ParamValues& params,
                                                          const ProcessSpec& input) {
  if (absl::Status status = CheckInput(input); !status.ok()) return status;
  const auto output_rate = static_cast<uint32_t>(params.Int("sample_rate_hz"));
  const auto in_rate = static_cast<uint64_t>(input.sample_rate_hz);
  const ResamplerKernel::Shape shape = ResamplerKernel::ShapeFor(
      in_rate, output_rate, ResampleDesignFor(QualityNamed(params.Text("quality"))));
  StageEstimate estimate;
  estimate.output = input;
  estimate.output.sample_rate_hz = output_rate;
  estimate.output.max_block_frames =
      MaxOutFrames(input.max_block_frames, shape.in_step, shape.out_step);
  estimate.in_place = false;
  estimate.memory_bytes = cost::HeapBlock(sizeof(ResampleProcessor));
  const uint64_t channels = input.channels;
  if (shape.in_step == shape.out_step) {
    estimate.cpu_cores = static_cast<double>(in_rate * channels) * kResampleCopySeconds;
    return estimate;
  }
  // The kernel (counted whole, though streams converting alike share it), the resampler and
  // its history.
  const uint64_t capacity = PolyphaseResampler::HistoryCapacity(shape, input.max_block_frames);
  // (make_shared puts the kernel and its reference counts in one block: 32 bytes for those.)
  estimate.memory_bytes += cost::HeapBlock(sizeof(ResamplerKernel) + 32) +
                           cost::VectorBytes<float>(shape.rows() * shape.taps) +
                           cost::HeapBlock(sizeof(PolyphaseResampler)) +
                           cost::VectorBytes<std::vector<float>>(channels) +
                           channels * cost::VectorBytes<float>(capacity);
  const double dots = shape.interpolated ? 2.0 : 1.0;
  const auto channel_count = static_cast<double>(channels);
  estimate.cpu_cores =
      output_rate * (dots * shape.taps * (channel_count * kMacSeconds + kRowTapSeconds) +
                     channel_count * kOutputSeconds) +
      static_cast<double>(in_rate) * channel_count * kInputSeconds;
  estimate.max_latency_frames = LatencyOf(shape);
  return estimate;
}

ProcessorDefinition ResampleDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "resample";
  definition.info.summary =
      "Sample-rate conversion (polyphase windowed sinc, linear phase); output aligned with "
      "the input and exactly round(frames x out/in) frames long.";
  ParamInfo rate;
  rate.name = "sample_rate_hz";
  rate.type = ParamType::kInt;
  rate.unit = "Hz";
  rate.min = 8000;
  rate.max = 192000;
  rate.required = true;
  rate.summary = "Output sample rate.";
  ParamInfo quality;
  quality.name = "quality";
  quality.type = ParamType::kEnum;
  quality.default_value = static_cast<double>(ResampleQuality::kHigh);
  quality.allowed_values.assign(std::begin(kQualityNames), std::end(kQualityNames));
  quality.summary =
      "Stopband and passband: LOW 80 dB to 80% of the lower Nyquist, MEDIUM 100 dB to 85%, "
      "HIGH 120 dB to 91%, VERY_HIGH 140 dB to 95%; higher costs more CPU and latency.";
  definition.info.params = {std::move(rate), std::move(quality)};
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<ResampleProcessor>(static_cast<uint32_t>(params.Int("sample_rate_hz")),
                                               QualityNamed(params.Text("quality")));
  };
  definition.estimate = ResampleProcessor::Estimate;
  definition.example.Set("sample_rate_hz", 44100.0);
  return definition;
}

ResampleProcessor::ResampleProcessor(uint32_t output_rate_hz, ResampleQuality quality)
    : output_rate_hz_(output_rate_hz), quality_(quality) {}

ResampleProcessor::~ResampleProcessor() = default;

absl::StatusOr<ProcessSpec> ResampleProcessor::Prepare(const ProcessSpec& input) {
  if (absl::Status status = CheckInput(input); !status.ok()) return status;
  channels_ = input.channels;
  const auto in_rate = static_cast<uint64_t>(input.sample_rate_hz);
  const ResamplerDesign design = ResampleDesignFor(quality_);
  const ResamplerKernel::Shape shape = ResamplerKernel::ShapeFor(in_rate, output_rate_hz_, design);
  in_step_ = shape.in_step;
  out_step_ = shape.out_step;
  passthrough_ = in_step_ == out_step_;
  max_out_frames_ = MaxOutFrames(input.max_block_frames, in_step_, out_step_);
  latency_frames_ = 0;
  resampler_.reset();
  if (!passthrough_) {
    resampler_ = std::make_unique<PolyphaseResampler>(
        ResamplerKernel::Shared(in_rate, output_rate_hz_, design), channels_,
        input.max_block_frames);
    latency_frames_ = LatencyOf(shape);
  }
  Reset();
  ProcessSpec output = input;
  output.sample_rate_hz = output_rate_hz_;
  output.max_block_frames = max_out_frames_;
  return output;
}

void ResampleProcessor::Reset() noexcept {
  silence_left_ = latency_frames_;
  late_frames_ = 0;
  if (resampler_ != nullptr) resampler_->Reset();
}

void ResampleProcessor::Process(AudioBlock& in, AudioBlock& out) noexcept {
  const uint32_t frames = in.num_frames();
  if (passthrough_) {
    for (uint32_t c = 0; c < channels_; ++c) std::copy_n(in.channel(c), frames, out.channel(c));
    out.set_num_frames(frames);
    return;
  }
  std::array<const float*, kMaxChannels> from{};
  std::array<float*, kMaxChannels> to{};
  for (uint32_t c = 0; c < channels_; ++c) {
    from[c] = in.channel(c);
    to[c] = out.channel(c);
  }
  resampler_->Append(from.data(), frames);
  const uint64_t due = Scheduled(resampler_->frames_in()) - Emitted();
  const auto want = static_cast<uint32_t>(std::min<uint64_t>(due, max_out_frames_));
  const auto zeros = static_cast<uint32_t>(std::min<uint64_t>(silence_left_, want));
  for (uint32_t c = 0; c < channels_; ++c) std::fill_n(to[c], zeros, 0.0f);
  silence_left_ -= zeros;
  const auto computed =
      static_cast<uint32_t>(std::min<uint64_t>(want - zeros, resampler_->Available()));
  resampler_->Take(to.data(), zeros, computed);
  late_frames_ = std::max<uint64_t>(late_frames_, due - zeros - computed);
  out.set_num_frames(zeros + computed);
}

uint64_t ResampleProcessor::Scheduled(uint64_t frames_in) const noexcept {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(frames_in) * out_step_ / in_step_);
}

uint64_t ResampleProcessor::Emitted() const noexcept {
  return latency_frames_ - silence_left_ + resampler_->frames_out();
}

absl::Status ResampleProcessor::SaveState(StateWriter& writer) const {
  if (!passthrough_ && Emitted() != Scheduled(resampler_->frames_in())) {
    // Never seen (late_frames() stays 0); a state that the schedule does not determine would
    // not continue byte-identically.
    return absl::FailedPreconditionError("resample: output is overdue; no state to save");
  }
  writer.PutTag(kResampleStateTag, kResampleStateVersion);
  if (passthrough_) return writer.status();
  // The frames in; the frames out and the silence left follow from it.
  writer.PutU64(resampler_->frames_in());
  for (uint32_t c = 0; c < channels_; ++c) {
    writer.PutFloats({resampler_->history(c), resampler_->history_frames()});
  }
  return writer.status();
}

absl::Status ResampleProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kResampleStateTag, kResampleStateVersion);
  if (passthrough_) return FinishRestore(reader);
  Reset();
  // Any count a stream could reach in 2^40 seconds at 192 kHz; keeps the products below in
  // range whatever the token says.
  const uint64_t frames_in = reader.GetU64AtMost(uint64_t{1} << 58);
  if (reader.ok()) {
    const uint64_t emitted = Scheduled(frames_in);
    const uint64_t silence = std::min<uint64_t>(emitted, latency_frames_);
    if (!resampler_->Restore(frames_in, emitted - silence)) {
      reader.Fail("resample: frame count out of range for this conversion");
    } else {
      silence_left_ = latency_frames_ - silence;
      for (uint32_t c = 0; c < channels_; ++c) {
        reader.GetFiniteFloats({resampler_->mutable_history(c), resampler_->history_frames()});
      }
    }
  }
  return FinishRestore(reader);
}

}  // namespace audioproc
