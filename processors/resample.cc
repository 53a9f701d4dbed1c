#include "processors/resample.h"

#include <soxr.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

// Names as in the proto's ResampleQuality enum, in the order of ResampleQuality.
constexpr const char* kQualityNames[] = {"LOW", "MEDIUM", "HIGH", "VERY_HIGH"};
constexpr unsigned long kSoxrRecipes[] = {SOXR_LQ, SOXR_MQ, SOXR_HQ, SOXR_VHQ};

// The warm-up: fixed blocks for this long, in the pattern Process feeds. soxr's FIFOs (libsoxr
// 0.1.3's fifo.h) start at 16 KiB and grow only when data drifting towards that offset meets a
// reservation that does not fit, which the fixed pattern does now and then, later for some
// ratios than others: after 2 s some (MEDIUM, 8 kHz up to 44.1 kHz and more) still grew at
// 2.7 s; after 4 s none grew over the next 30 s for any quality and ordered pair of 13 rates
// from 8 to 192 kHz (8.001, 22.051, 44.099 and 47.999 kHz among them). A long single push, which
// grows every FIFO at once, did it too, but left each FIFO as large as the push: 1.3 MiB for
// 48 kHz stereo to 44.1 kHz at HIGH after 65536 frames, against 0.16 MiB this way.
constexpr double kWarmUpBlockSeconds = 4.0;
// soxr's DFT block sizes, as log2 (soxr_runtime_spec: 10 and 17 by default). soxr picks the
// DFT length from the filter's length within these bounds; the smallest blocks a filter
// allows cut each channel's convolution buffers and FIFOs and what soxr holds back (48 kHz to
// 44.1 kHz at HIGH: 205 to 159 KiB kept by soxr for stereo, 758 to 142 frames held back, so
// about 14 ms less latency), with the same filters: the DFT length changes how the
// convolution is blocked, not its taps. The price is CPU: shorter blocks convolve less
// efficiently, 1.3 to 1.9 times the time per sample (processors_bench, 48 kHz stereo to
// 44.1 kHz at HIGH: 48 against 29 us per 20 ms block); the cost model below includes it. Set
// 10 and 17 to trade the memory back for the CPU.
constexpr unsigned kLog2MinDftSize = 8;
constexpr unsigned kLog2LargeDftSize = 10;
// The latency probe. What soxr holds back is a sawtooth: it grows by out/in per input frame
// and drops when an FFT block completes, and the peaks of its stages line up only now and
// then (at 8 kHz to 44.1 kHz, every 6 s). Fed kProbeFrames at a time for the longer of a
// second and kMinProbeFrames, the largest value seen plus kProbeFrames x out/in (its growth
// between two looks) came within 0.3% of the largest over the next 40 s, for every quality
// and pair of common rates; kLatencyMargin leaves more room than that.
constexpr uint64_t kProbeFrames = 16;
constexpr uint64_t kMinProbeFrames = 65536;
constexpr double kLatencyMargin = 1.05;

uint64_t RoundUpTo(uint64_t value, uint64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// The frames soxr's output is pulled in: a block's worth and some room, so that one pull
// usually takes everything (more are pulled when it does not). Each frame of room costs a
// float per channel in the scratch and the ring, and soxr sizes its output FIFO for the pull:
// 48 kHz stereo to 44.1 kHz at HIGH kept 30 KiB more in soxr with 4096 frames of room than
// with 256.
uint32_t PullFrames(double ratio) {
  return static_cast<uint32_t>(std::ceil(kResampleBlockFrames * ratio)) + 256;
}

// A soxr converter for planar float32 on the calling thread (soxr would otherwise spread
// channels over OpenMP workers).
absl::StatusOr<soxr_t> CreateSoxr(double in_rate, double out_rate, uint32_t channels,
                                  ResampleQuality quality) {
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
  const soxr_quality_spec_t recipe = soxr_quality_spec(kSoxrRecipes[static_cast<int>(quality)], 0);
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  runtime.log2_min_dft_size = kLog2MinDftSize;
  runtime.log2_large_dft_size = kLog2LargeDftSize;
  soxr_error_t error = nullptr;
  soxr_t converter = soxr_create(in_rate, out_rate, channels, &error, &io, &recipe, &runtime);
  if (error != nullptr || converter == nullptr) {
    soxr_delete(converter);
    return absl::InternalError(
        absl::StrCat("resample: soxr_create failed: ", error != nullptr ? error : "no state"));
  }
  return converter;
}

// Feeds `frames` frames of `input` to `converter` and drains its output through `sink`
// (`sink_frames` long) in pulls of that size; returns the frames drained.
uint64_t FeedAndDrain(soxr_t converter, const float* const* input, size_t frames, float** sink,
                      size_t sink_frames) {
  size_t got = 0;
  soxr_process(converter, input, frames, nullptr, sink, sink_frames, &got);
  uint64_t total = got;
  while (got == sink_frames) {
    got = soxr_output(converter, sink, sink_frames);
    total += got;
  }
  return total;
}

// The most output frames soxr holds back at any input frame, on a mono converter that has
// first taken `start_frames` frames (the stream starts that far into soxr's schedule).
absl::StatusOr<double> MeasureHeldBack(double in_rate, double out_rate, ResampleQuality quality,
                                       uint64_t start_frames) {
  absl::StatusOr<soxr_t> probe = CreateSoxr(in_rate, out_rate, 1, quality);
  if (!probe.ok()) return probe.status();
  std::unique_ptr<soxr, void (*)(soxr_t)> owner(*probe, soxr_delete);
  // Fed as the warm-up feeds the stream's converter, in fixed blocks: one long push would
  // leave the probe's FIFOs as large as the push, which the heap keeps after Prepare.
  std::vector<float> zeros(kResampleBlockFrames, 0.0f);
  std::vector<float> sink(PullFrames(out_rate / in_rate));
  const float* in = zeros.data();
  float* out = sink.data();
  for (uint64_t fed = 0; fed < start_frames; fed += kResampleBlockFrames) {
    FeedAndDrain(*probe, &in, std::min<uint64_t>(kResampleBlockFrames, start_frames - fed), &out,
                 sink.size());
  }
  const uint64_t probe_frames = std::max(static_cast<uint64_t>(in_rate), kMinProbeFrames);
  double held = 0;
  for (uint64_t i = 0; i < probe_frames; i += kProbeFrames) {
    FeedAndDrain(*probe, &in, kProbeFrames, &out, sink.size());
    held = std::max(held, soxr_delay(*probe));
  }
  held += kProbeFrames * out_rate / in_rate;
  if (const char* failure = soxr_error(*probe); failure != nullptr) {
    return absl::InternalError(absl::StrCat("resample: soxr failed: ", failure));
  }
  return held;
}

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

// The ratio out/in in lowest terms, as Prepare reduces it.
struct Steps {
  uint64_t in = 1;
  uint64_t out = 1;
};
Steps StepsFor(double input_rate, uint32_t output_rate) {
  const auto in_rate = static_cast<uint64_t>(input_rate);
  const uint64_t divisor = std::gcd(in_rate, uint64_t{output_rate});
  return {in_rate / divisor, output_rate / divisor};
}

// The longest output block: ceil(max_block_frames x out / in) + 1.
uint32_t MaxOutFrames(uint32_t max_block_frames, const Steps& steps) {
  return static_cast<uint32_t>((max_block_frames * steps.out + steps.in - 1) / steps.in + 1);
}

// The ring's capacity for a latency of `latency_frames`. Process releases what is due after
// every block it feeds soxr, so before a release the ring holds at most the latency plus one
// block's output, and a pull needs room for pull_frames more; the latency is counted twice
// for margin.
uint32_t RingCapacity(uint32_t latency_frames, double ratio) {
  return 2 * latency_frames + PullFrames(ratio) + 64 +
         static_cast<uint32_t>(std::ceil(2 * kResampleBlockFrames * ratio));
}

// The latency Prepare measures from soxr's held-back frames, as a function of soxr's delay:
// the margin, the staging buffer and the rounding up.
uint32_t LatencyFor(double held_back, double ratio) {
  const double bound = held_back * kLatencyMargin + (kResampleBlockFrames - 1) * ratio;
  return static_cast<uint32_t>(std::ceil(bound)) + 8;
}

// Models of libsoxr 0.1.3 (Debian 12) inside this processor, with the warm-up and DFT sizes
// above; soxr's design (its half-band stages, a rational or interpolated polyphase stage, FIFOs
// of at least 16 KiB each) depends on the ratio in ways a few numbers only approximate:
//   - held back (output frames, before the margin): typical_held x max(1, ratio) is about the
//     median of what the probe measures (16 to 44.1 and 8 kHz, 48 to 44.1 and 96 kHz, 192 to
//     48 and 8 kHz, 8 to 192 kHz, 44.1 to 48 kHz), which sizes the ring; 1.25 x max_held x
//     max(1, ratio) bounds every measurement for LatencyFrames: max_held is the largest held /
//     max(1, ratio) the probe measured for any ordered pair of 13 rates from 8 to 192 kHz
//     (8.001, 22.051, 44.099, 47.999 kHz among them), so the bound has 25% to spare. It sizes
//     what a stream's grant holds back for its chunks' responses;
//   - bytes soxr keeps, and the ring's error against typical_held, together: fixed[kind] +
//     channels x (per_channel + per_octave_up or _down x octaves beyond the first + polyphase
//     unless the ratio is simple), fitted (least squares, relative, non-negative) to what the
//     memory test's counting malloc measures for its cases (those eight conversions at 1, 2
//     and 8 channels): within 21% (LOW), 7% (MEDIUM), 10% (HIGH) and 22% (VERY_HIGH). No
//     case there is interpolated: fixed[2] keeps its proportion to fixed[1] from an earlier fit
//     over 16 rates. The kind: simple (out/in in lowest terms has no term above 4: half-band
//     stages only), rational (no term above 4096), interpolated (soxr's table of polyphase
//     coefficients).
struct SoxrModel {
  double typical_held;
  double max_held;
  double fixed[3];
  double per_channel;
  double per_octave_up;
  double per_octave_down;
  double polyphase;
};
constexpr SoxrModel kSoxrModels[] = {
    {230, 450, {13300, 45600, 114000}, 35500, 7600, 15700, 0},   // LOW
    {440, 780, {11200, 61500, 154000}, 48000, 4400, 13200, 0},   // MEDIUM
    {425, 725, {18000, 77000, 144000}, 42800, 0, 18800, 0},      // HIGH
    {395, 820, {25300, 105000, 223000}, 62200, 0, 20400, 5500},  // VERY_HIGH
};
constexpr double kHeldBoundMargin = 1.25;

enum class RatioKind { kSimple = 0, kRational = 1, kInterpolated = 2 };

RatioKind KindOf(const Steps& steps) {
  const uint64_t largest = std::max(steps.in, steps.out);
  return largest <= 4      ? RatioKind::kSimple
         : largest <= 4096 ? RatioKind::kRational
                           : RatioKind::kInterpolated;
}

// What MeasureHeldBack returns, typically and at most.
double TypicalHeldBack(const SoxrModel& model, double ratio) {
  return model.typical_held * std::max(1.0, ratio) + kProbeFrames * ratio;
}
double HeldBackBound(const SoxrModel& model, double ratio) {
  return kHeldBoundMargin * model.max_held * std::max(1.0, ratio) + kProbeFrames * ratio;
}

// What soxr_create and the warm-up leave allocated inside soxr, with the ring's error.
uint64_t SoxrBytes(const SoxrModel& model, const Steps& steps, uint32_t channels) {
  const double octaves = std::log2(static_cast<double>(steps.out) / static_cast<double>(steps.in));
  const RatioKind kind = KindOf(steps);
  const double per_channel = model.per_channel + model.per_octave_up * std::max(0.0, octaves - 1) +
                             model.per_octave_down * std::max(0.0, -octaves - 1) +
                             (kind == RatioKind::kSimple ? 0.0 : model.polyphase);
  return static_cast<uint64_t>(model.fixed[static_cast<int>(kind)] + channels * per_channel);
}

// CPU-seconds per sample and channel, by quality, of soxr's stages and this processor's staging
// and ring: per input sample, per output sample, and per sample of the faster side when the
// ratio is a fraction (both terms above 1: soxr's polyphase stage). LOW, MEDIUM and HIGH cost
// nearly alike here; fitted within 0.64-1.28x of every quality and ratio measured (16 kHz to
// 8, 44.1, 96 and 192 kHz mono, 48 kHz stereo and 192 kHz 8 channels to the same, 8 kHz mono
// up to each) with soxr's default DFT sizes, then all scaled by 1.45 for the smallest ones
// (kLog2LargeDftSize; processors_bench's resample and cost/resample benchmarks measured 0.94
// to 1.9 times as long, 1.4 typical, not refitted per quality and ratio). Equal rates copy.
constexpr double kSoxrInputSeconds[] = {2.39e-9, 2.65e-9, 2.78e-9, 5.09e-9};
constexpr double kSoxrOutputSeconds[] = {2.55e-9, 2.70e-9, 2.70e-9, 4.42e-9};
constexpr double kSoxrFractionSeconds[] = {2.12e-9, 1.80e-9, 2.13e-9, 3.00e-9};
constexpr double kResampleCopySeconds = 0.16e-9;

}  // namespace

absl::StatusOr<StageEstimate> ResampleProcessor::Estimate(const ParamValues& params,
                                                          const ProcessSpec& input) {
  if (absl::Status status = CheckInput(input); !status.ok()) return status;
  const auto output_rate = static_cast<uint32_t>(params.Int("sample_rate_hz"));
  const ResampleQuality quality = QualityNamed(params.Text("quality"));
  const Steps steps = StepsFor(input.sample_rate_hz, output_rate);
  StageEstimate estimate;
  estimate.output = input;
  estimate.output.sample_rate_hz = output_rate;
  estimate.output.max_block_frames = MaxOutFrames(input.max_block_frames, steps);
  estimate.in_place = false;
  estimate.memory_bytes = cost::HeapBlock(sizeof(ResampleProcessor));
  const double in_rate = input.sample_rate_hz;
  if (steps.in == steps.out) {
    estimate.cpu_cores = in_rate * input.channels * kResampleCopySeconds;
    return estimate;
  }
  const double ratio = static_cast<double>(steps.out) / static_cast<double>(steps.in);
  const auto q = static_cast<size_t>(quality);
  const SoxrModel& model = kSoxrModels[q];
  const uint32_t typical_latency = LatencyFor(TypicalHeldBack(model, ratio), ratio);
  const uint64_t channels = input.channels;
  estimate.memory_bytes +=
      3 * cost::VectorBytes<std::vector<float>>(channels) +
      channels * (cost::VectorBytes<float>(kResampleBlockFrames) +
                  cost::VectorBytes<float>(PullFrames(ratio)) +
                  cost::VectorBytes<float>(RingCapacity(typical_latency, ratio))) +
      SoxrBytes(model, steps, input.channels);
  const bool fraction = steps.in > 1 && steps.out > 1;
  estimate.cpu_cores =
      channels *
      (in_rate * kSoxrInputSeconds[q] + output_rate * kSoxrOutputSeconds[q] +
       (fraction ? std::max<double>(in_rate, output_rate) * kSoxrFractionSeconds[q] : 0.0));
  estimate.max_latency_frames = LatencyFor(HeldBackBound(model, ratio), ratio);
  return estimate;
}

ProcessorDefinition ResampleDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "resample";
  definition.info.summary =
      "Sample-rate conversion (libsoxr, linear phase); output aligned with the input and "
      "exactly round(frames x out/in) frames long.";
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
      "soxr recipe: LOW, MEDIUM (16-bit), HIGH (20-bit), VERY_HIGH (28-bit); higher costs "
      "more CPU and latency.";
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

ResampleProcessor::~ResampleProcessor() { soxr_delete(soxr_); }

absl::StatusOr<ProcessSpec> ResampleProcessor::Prepare(const ProcessSpec& input) {
  if (absl::Status status = CheckInput(input); !status.ok()) return status;
  input_ = input;
  channels_ = input.channels;
  const Steps steps = StepsFor(input.sample_rate_hz, output_rate_hz_);
  in_step_ = steps.in;
  out_step_ = steps.out;
  passthrough_ = in_step_ == out_step_;
  max_out_frames_ = MaxOutFrames(input.max_block_frames, steps);
  latency_frames_ = 0;
  if (!passthrough_) {
    if (absl::Status status = Start(/*measure=*/true); !status.ok()) return status;
  }
  ProcessSpec output = input;
  output.sample_rate_hz = output_rate_hz_;
  output.max_block_frames = max_out_frames_;
  return output;
}

absl::Status ResampleProcessor::Start(bool measure) {
  soxr_delete(soxr_);
  soxr_ = nullptr;
  const double ratio = static_cast<double>(out_step_) / static_cast<double>(in_step_);
  const uint64_t in_rate = static_cast<uint64_t>(input_.sample_rate_hz);
  // The warm-up is a whole multiple of in_step_ frames, so that its output is a whole number
  // of frames and the stream after it starts exactly on an output frame. What does not fill
  // a last fixed block stays staged, as zeros ahead of the stream's first frames.
  const uint64_t warm_frames =
      RoundUpTo(static_cast<uint64_t>(kWarmUpBlockSeconds * in_rate), in_step_);
  if (measure) {
    absl::StatusOr<double> held =
        MeasureHeldBack(input_.sample_rate_hz, output_rate_hz_, quality_, warm_frames);
    if (!held.ok()) return held.status();
    // Besides what soxr holds, up to a block less one frame waits in staging.
    latency_frames_ = LatencyFor(*held, ratio);
    pull_frames_ = PullFrames(ratio);
    scratch_.assign(channels_, std::vector<float>(pull_frames_, 0.0f));
    // Before a release the ring holds at most the latency plus one Process call's worth;
    // a pull needs room for pull_frames_ more.
    ring_capacity_ = RingCapacity(latency_frames_, ratio);
    ring_.assign(channels_, std::vector<float>(ring_capacity_, 0.0f));
    staging_.assign(channels_, std::vector<float>(kResampleBlockFrames, 0.0f));
  }
  absl::StatusOr<soxr_t> converter =
      CreateSoxr(input_.sample_rate_hz, output_rate_hz_, channels_, quality_);
  if (!converter.ok()) return converter.status();
  soxr_ = *converter;

  // Warm-up: fixed blocks of silence, drained exactly as Pump drains.
  std::vector<std::vector<float>> zeros(channels_, std::vector<float>(kResampleBlockFrames, 0.0f));
  std::array<const float*, kMaxChannels> in{};
  std::array<float*, kMaxChannels> sink{};
  for (uint32_t c = 0; c < channels_; ++c) {
    in[c] = zeros[c].data();
    sink[c] = scratch_[c].data();
  }
  uint64_t produced = 0;
  uint64_t fed = 0;
  for (; warm_frames - fed >= kResampleBlockFrames; fed += kResampleBlockFrames) {
    produced += FeedAndDrain(soxr_, in.data(), kResampleBlockFrames, sink.data(), pull_frames_);
  }
  if (const char* failure = soxr_error(soxr_); failure != nullptr) {
    return absl::InternalError(absl::StrCat("resample: soxr failed while warming up: ", failure));
  }
  const uint64_t warm_output = warm_frames / in_step_ * out_step_;
  discard_frames_ = warm_output - std::min(warm_output, produced);
  for (std::vector<float>& channel : staging_) std::fill(channel.begin(), channel.end(), 0.0f);
  staged_ = static_cast<uint32_t>(warm_frames - fed);
  silence_left_ = latency_frames_;
  owed_frames_ = 0;
  late_frames_ = 0;
  phase_ = 0;
  ring_start_ = 0;
  ring_size_ = 0;
  return absl::OkStatus();
}

void ResampleProcessor::Reset() noexcept {
  phase_ = 0;
  if (passthrough_ || soxr_ == nullptr) return;
  // A failure leaves soxr_ null: Process then emits silence of the scheduled length.
  if (!Start(/*measure=*/false).ok()) {
    soxr_delete(soxr_);
    soxr_ = nullptr;
  }
}

void ResampleProcessor::Store(uint32_t frames) noexcept {
  // The warm-up's own output is dropped as it arrives.
  const uint32_t drop = static_cast<uint32_t>(std::min<uint64_t>(discard_frames_, frames));
  discard_frames_ -= drop;
  const uint32_t keep = frames - drop;
  const uint32_t end = (ring_start_ + ring_size_) % ring_capacity_;
  const uint32_t first = std::min(keep, ring_capacity_ - end);
  for (uint32_t c = 0; c < channels_; ++c) {
    const float* from = scratch_[c].data() + drop;
    std::copy_n(from, first, ring_[c].data() + end);
    std::copy_n(from + first, keep - first, ring_[c].data());
  }
  ring_size_ += keep;
}

void ResampleProcessor::Pump() noexcept {
  std::array<const float*, kMaxChannels> in{};
  std::array<float*, kMaxChannels> sink{};
  for (uint32_t c = 0; c < channels_; ++c) {
    in[c] = staging_[c].data();
    sink[c] = scratch_[c].data();
  }
  // The same calls as the warm-up's fixed blocks, so soxr's FIFOs see the pattern they were
  // grown for. Without idone soxr takes all of the input whatever the room for output.
  const bool room = ring_capacity_ - ring_size_ >= pull_frames_;
  size_t got = 0;
  soxr_process(soxr_, in.data(), kResampleBlockFrames, nullptr, sink.data(),
               room ? pull_frames_ : 0, &got);
  Store(static_cast<uint32_t>(got));
  // A full ring (never seen; the capacity allows for the worst case) leaves the rest inside
  // soxr until the next block.
  while (got == pull_frames_ && ring_capacity_ - ring_size_ >= pull_frames_) {
    got = soxr_output(soxr_, sink.data(), pull_frames_);
    Store(static_cast<uint32_t>(got));
  }
}

uint32_t ResampleProcessor::TakeFromRing(const AudioBlock& out, uint32_t offset,
                                         uint32_t frames) noexcept {
  const uint32_t take = std::min(frames, ring_size_);
  const uint32_t first = std::min(take, ring_capacity_ - ring_start_);
  for (uint32_t c = 0; c < channels_; ++c) {
    const float* ring = ring_[c].data();
    float* y = out.channel(c) + offset;
    std::copy_n(ring + ring_start_, first, y);
    std::copy_n(ring, take - first, y + first);
  }
  ring_start_ = (ring_start_ + take) % ring_capacity_;
  ring_size_ -= take;
  return take;
}

uint32_t ResampleProcessor::Release(const AudioBlock& out, uint32_t written,
                                    uint32_t frames) noexcept {
  // The share of the schedule of `frames` more input frames: floor(F x out/in) frames after F
  // input frames in all.
  const uint64_t scaled = phase_ + uint64_t{frames} * out_step_;
  const uint64_t due = scaled / in_step_ + owed_frames_;
  phase_ = scaled % in_step_;
  const uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(due, max_out_frames_ - written));
  uint32_t released = 0;
  if (silence_left_ > 0) {
    const uint32_t zeros = static_cast<uint32_t>(std::min<uint64_t>(silence_left_, want));
    for (uint32_t c = 0; c < channels_; ++c) std::fill_n(out.channel(c) + written, zeros, 0.0f);
    silence_left_ -= zeros;
    released = zeros;
  }
  if (soxr_ == nullptr) {
    // soxr could not be re-created on Reset: keep the stream's length with silence.
    for (uint32_t c = 0; c < channels_; ++c) {
      std::fill_n(out.channel(c) + written + released, want - released, 0.0f);
    }
    released = want;
  }
  released += TakeFromRing(out, written + released, want - released);
  owed_frames_ = due - released;
  return released;
}

void ResampleProcessor::Process(AudioBlock& in, AudioBlock& out) noexcept {
  const uint32_t frames = in.num_frames();
  if (passthrough_) {
    for (uint32_t c = 0; c < channels_; ++c) std::copy_n(in.channel(c), frames, out.channel(c));
    out.set_num_frames(frames);
    return;
  }
  // What is due is released after each block soxr is fed rather than once at the end, which
  // keeps the ring a block's output past the latency instead of a whole Process call's. The
  // frames released in all, and so the output, are the same either way.
  uint32_t written = 0;
  uint32_t unreleased = 0;  // input frames of this call not yet scheduled
  for (uint32_t offset = 0; offset < frames;) {
    const uint32_t take = std::min(kResampleBlockFrames - staged_, frames - offset);
    for (uint32_t c = 0; c < channels_; ++c) {
      std::copy_n(in.channel(c) + offset, take, staging_[c].data() + staged_);
    }
    staged_ += take;
    offset += take;
    unreleased += take;
    if (staged_ == kResampleBlockFrames) {
      if (soxr_ != nullptr) Pump();
      staged_ = 0;
      written += Release(out, written, unreleased);
      unreleased = 0;
    }
  }
  written += Release(out, written, unreleased);
  late_frames_ = std::max(late_frames_, owed_frames_);
  out.set_num_frames(written);
}

}  // namespace audioproc
