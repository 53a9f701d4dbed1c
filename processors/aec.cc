#include "processors/aec.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

constexpr double kMaxBlockSeconds = 0.008;
// CPU-seconds per input sample and channel (FIFOs, history, the output's finiteness check).
constexpr double kAecSampleSeconds = 3e-9;

struct AecSizes {
  uint32_t mics;
  uint32_t block;
  uint32_t partitions;
  uint32_t probe_partitions;
  uint64_t max_alignment;
  uint32_t history;
};

AecSizes SizesFor(double rate, uint32_t channels, uint32_t references) {
  AecSizes sizes;
  sizes.mics = channels - references;
  sizes.block = AecBlockSize(rate);
  sizes.partitions = static_cast<uint32_t>(std::ceil(kAecFilterSeconds * rate / sizes.block));
  sizes.probe_partitions = static_cast<uint32_t>(std::ceil(kAecProbeSeconds * rate / sizes.block));
  sizes.max_alignment =
      static_cast<uint64_t>(std::floor(kAecMaxDelaySeconds * rate / sizes.block)) * sizes.block;
  // The oldest window a rebuild of the filter's reference needs ends max_alignment +
  // (partitions - 1) blocks back and is two blocks long.
  sizes.history = static_cast<uint32_t>(sizes.max_alignment) + (sizes.partitions + 2) * sizes.block;
  return sizes;
}

absl::Status ValidateChannels(uint32_t references, const ProcessSpec& input) {
  if (input.channels <= references) {
    return absl::InvalidArgumentError(absl::StrCat(
        "aec.reference_channels is ", references, " but the input has ", input.channels,
        " channel(s): aec needs the microphone channels first and then the ", references,
        " reference channel(s), so more than ", references, " channels"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAec(const ParamValues& resolved, const ProcessSpec& input) {
  return ValidateChannels(static_cast<uint32_t>(resolved.Int("reference_channels")), input);
}

}  // namespace

uint32_t AecBlockSize(double sample_rate_hz) {
  uint32_t size = 16;
  while (2.0 * size <= kMaxBlockSeconds * sample_rate_hz) size *= 2;
  return size;
}

absl::StatusOr<StageEstimate> AecProcessor::Estimate(const ParamValues& params,
                                                     const ProcessSpec& input) {
  const auto references = static_cast<uint32_t>(params.Int("reference_channels"));
  if (absl::Status valid = ValidateAec(params, input); !valid.ok()) return valid;
  const AecSizes sizes = SizesFor(input.sample_rate_hz, input.channels, references);
  StageEstimate estimate;
  estimate.output = input;
  estimate.output.channels = sizes.mics;
  estimate.in_place = false;
  estimate.memory_bytes =
      cost::HeapBlock(sizeof(AecProcessor)) +
      EchoDelayEstimator::InitBytes(input.sample_rate_hz, kAecMaxDelaySeconds) +
      BlockAdaptiveFilter::InitBytes(sizes.block, sizes.partitions, sizes.mics, references) +
      BlockAdaptiveFilter::InitBytes(sizes.block, sizes.probe_partitions, sizes.mics, references) +
      cost::VectorBytes<EchoSuppressor>(sizes.mics) +
      sizes.mics * EchoSuppressor::InitBytes(sizes.block) +
      cost::VectorBytes<std::vector<float>>(references) +
      references * cost::VectorBytes<float>(2 * uint64_t{sizes.history}) +
      cost::VectorBytes<std::vector<float>>(input.channels) +
      input.channels * cost::VectorBytes<float>(sizes.block) +
      cost::VectorBytes<std::vector<float>>(sizes.mics) +
      sizes.mics * cost::VectorBytes<float>(sizes.block) +
      5 * cost::VectorBytes<float>(sizes.block) + 2 * cost::VectorBytes<float>(2 * sizes.block) +
      cost::VectorBytes<const float*>(references);
  estimate.cpu_cores =
      EchoDelayEstimator::CpuCores(input.sample_rate_hz, kAecMaxDelaySeconds) +
      BlockAdaptiveFilter::CpuCores(input.sample_rate_hz, sizes.block, sizes.partitions, sizes.mics,
                                    references) +
      BlockAdaptiveFilter::CpuCores(input.sample_rate_hz, sizes.block, sizes.probe_partitions,
                                    sizes.mics, references) +
      sizes.mics * EchoSuppressor::CpuCores(input.sample_rate_hz, sizes.block) +
      input.sample_rate_hz * input.channels * kAecSampleSeconds;
  // One report per block at most.
  estimate.events = {1.0 / sizes.block, 1};
  estimate.max_latency_frames = 2 * sizes.block - 1;
  return estimate;
}

ProcessorDefinition AecDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "aec";
  definition.info.summary =
      "Acoustic echo cancellation: the last reference_channels channels are the far-end "
      "reference, the others microphones, which come out with its echo removed (delay "
      "estimation, partitioned-block adaptive filter, residual echo suppression, comfort "
      "noise). Reports the echo's estimated delay as events.";
  ParamInfo references;
  references.name = "reference_channels";
  references.type = ParamType::kInt;
  references.default_value = 1;
  references.min = 1;
  references.max = kMaxChannels - 1;
  references.summary =
      "How many of the input's last channels are the far-end reference (what the loudspeaker "
      "played); the rest are microphones, and only they are output.";
  ParamInfo suppression;
  suppression.name = "suppression";
  suppression.type = ParamType::kFloat;
  suppression.default_value = 1.0;
  suppression.min = 0.0;
  suppression.max = 4.0;
  suppression.runtime_updatable = true;
  suppression.summary =
      "Strength of the residual echo suppressor after the adaptive filter; 0 leaves the "
      "linear filter alone.";
  definition.info.params = {std::move(references), std::move(suppression)};
  // One microphone beside the default single reference channel.
  definition.info.min_input_channels = 2;
  definition.validate = ValidateAec;
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<AecProcessor>(static_cast<uint32_t>(params.Int("reference_channels")),
                                          params.Number("suppression"));
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    AecRuntimeSettings settings;
    if (changes.Has("suppression")) settings.suppression = changes.Number("suppression");
    return std::make_unique<TypedUpdate<AecRuntimeSettings>>(settings);
  };
  definition.estimate = AecProcessor::Estimate;
  return definition;
}

AecProcessor::AecProcessor(uint32_t reference_channels, double suppression)
    : reference_channels_(reference_channels), suppression_(static_cast<float>(suppression)) {}

absl::StatusOr<ProcessSpec> AecProcessor::Prepare(const ProcessSpec& input) {
  if (absl::Status valid = ValidateChannels(reference_channels_, input); !valid.ok()) {
    return valid;
  }
  rate_ = input.sample_rate_hz;
  const AecSizes sizes = SizesFor(rate_, input.channels, reference_channels_);
  mics_ = sizes.mics;
  block_ = sizes.block;
  partitions_ = sizes.partitions;
  probe_partitions_ = sizes.probe_partitions;
  max_alignment_ = sizes.max_alignment;
  hold_decay_ = std::exp(-static_cast<double>(block_) / (kAecHoldAveragingSeconds * rate_));
  history_size_ = sizes.history;
  if (absl::Status status = delay_.Init(rate_, kAecMaxDelaySeconds); !status.ok()) return status;
  if (absl::Status status = filter_.Init(block_, partitions_, mics_, reference_channels_);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = probe_.Init(block_, probe_partitions_, mics_, reference_channels_);
      !status.ok()) {
    return status;
  }
  probe_.SetDoubleTalkControl(false);
  {
    const double block_seconds = block_ / rate_;
    filter_.SetStepProfile(
        static_cast<uint32_t>(std::lround(kAecStepFlatSeconds / block_seconds)),
        static_cast<float>(std::pow(10.0, -3.0 * block_seconds / kAecStepDecaySeconds)));
    filter_.SetPredictionHold(
        static_cast<uint32_t>(std::lround(kAecPredictionHoldSeconds / block_seconds)));
  }
  suppressors_.resize(mics_);
  for (EchoSuppressor& suppressor : suppressors_) {
    if (absl::Status status = suppressor.Init(block_, rate_); !status.ok()) return status;
  }
  history_.assign(reference_channels_, std::vector<float>(2 * size_t{history_size_}, 0.0f));
  input_.assign(input.channels, std::vector<float>(block_, 0.0f));
  ready_.assign(mics_, std::vector<float>(block_, 0.0f));
  reference_sum_.assign(block_, 0.0f);
  error_.assign(block_, 0.0f);
  echo_.assign(block_, 0.0f);
  probe_error_.assign(block_, 0.0f);
  probe_echo_.assign(block_, 0.0f);
  reference_frame_.assign(2 * size_t{block_}, 0.0f);
  earlier_frame_.assign(2 * size_t{block_}, 0.0f);
  windows_.assign(reference_channels_, nullptr);
  // One ramp step per block.
  suppression_.Reset(RampSteps(rate_ / block_, kParameterRampMs));
  Reset();
  ProcessSpec output = input;
  output.channels = mics_;
  return output;
}

void AecProcessor::Reset() noexcept {
  delay_.Reset();
  filter_.Reset();
  probe_.Reset();
  for (EchoSuppressor& suppressor : suppressors_) suppressor.Reset();
  for (auto& h : history_) std::fill(h.begin(), h.end(), 0.0f);
  for (auto& x : input_) std::fill(x.begin(), x.end(), 0.0f);
  for (auto& x : ready_) std::fill(x.begin(), x.end(), 0.0f);
  position_ = 0;
  blocks_run_ = 0;
  alignment_ = 0;
  written_ = 0;
  delay_samples_ = -1;
  mic_energy_ = 0;
  error_energy_ = 0;
  suppression_.SetCurrentAndTargetValue(suppression_.GetTargetValue());
}

namespace {
constexpr StateTag kAecStateTag = MakeStateTag("aec_");
// 4: the adaptive filter's double-talk state (leak, reference level, near-end detector); 5: the
// suppressors' reference bound; 6: the near-end detector's microphone noise floor and held
// predictions; 7: its loud-near test's ratio and hangover; 8: the loud-near test's run and the
// background's held adaptation; 9: the suppressors' cold start; 10: their earlier reference's
// held power; 11: their warm-up count (EchoSuppressor::kNearWarmSeconds); 12: the delay followed
// and the energies that hold it (kAecHoldErleDb); 13: the near-end detector's count of its gain's
// updates (BlockAdaptiveFilter::kLearningBlocks); 14: whether its last block was over its margin,
// and the delay estimator's confirmations up to EchoDelayEstimator::kFirstConfirmations; 15: the
// suppressors' share of explained flags and frames until double talk ends
// (EchoSuppressor::kDoubleTalkExplainedShare, kDoubleTalkEndSeconds); 16: their near end's
// level (kHeldNearShare); 17: whether they believed a near end in their last frame (the filter's
// double-talk step follows it); 18: their echo path gain's lasting averages; 19: the probe filter
// (kAecProbeSeconds); 20: whether they are in double talk (it no longer follows the share).
constexpr uint16_t kAecStateVersion = 20;
}  // namespace

absl::Status AecProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kAecStateTag, kAecStateVersion);
  suppression_.SaveState(writer);
  writer.PutU32(block_);
  writer.PutU32(mics_);
  writer.PutU32(reference_channels_);
  writer.PutU32(history_size_);
  writer.PutU32(position_);
  writer.PutU64(blocks_run_);
  writer.PutU64(alignment_);
  writer.PutU64(written_);
  writer.PutI64(delay_samples_);
  writer.PutDouble(mic_energy_);
  writer.PutDouble(error_energy_);
  delay_.SaveState(writer);
  filter_.SaveState(writer);
  probe_.SaveState(writer);
  for (const EchoSuppressor& suppressor : suppressors_) suppressor.SaveState(writer);
  // One copy of each ring (it is written twice, at i and i + size).
  for (const std::vector<float>& h : history_) {
    writer.PutFloats(std::span<const float>(h.data(), history_size_));
  }
  for (const std::vector<float>& x : input_) writer.PutFloats(x);
  for (const std::vector<float>& x : ready_) writer.PutFloats(x);
  return writer.status();
}

absl::Status AecProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kAecStateTag, kAecStateVersion);
  suppression_.RestoreState(reader, 0.0f, 4.0f);
  const uint32_t block = reader.GetU32();
  const uint32_t mics = reader.GetU32();
  const uint32_t references = reader.GetU32();
  const uint32_t history = reader.GetU32();
  if (reader.ok() && (block != block_ || mics != mics_ || references != reference_channels_ ||
                      history != history_size_)) {
    reader.Fail("aec of another block, channel count or history");
  }
  position_ = reader.GetU32AtMost(block_ - 1);
  blocks_run_ = reader.GetU64();
  alignment_ = reader.GetU64AtMost(max_alignment_);
  written_ = reader.GetU64();
  if (reader.ok() && (alignment_ % block_ != 0 || written_ != blocks_run_ * block_)) {
    reader.Fail("aec counters that do not agree");
  }
  delay_samples_ = reader.GetI64();
  mic_energy_ = reader.GetFiniteDouble();
  error_energy_ = reader.GetFiniteDouble();
  if (reader.ok() && (delay_samples_ < -1 ||
                      delay_samples_ > static_cast<int64_t>(kAecMaxDelaySeconds * rate_) + block_ ||
                      mic_energy_ < 0 || error_energy_ < 0)) {
    reader.Fail("aec's followed delay or its energies out of range");
  }
  delay_.RestoreState(reader);
  uint32_t pushes = 0;
  filter_.RestoreState(reader, &pushes);
  uint32_t probe_pushes = 0;
  probe_.RestoreState(reader, &probe_pushes);
  for (EchoSuppressor& suppressor : suppressors_) suppressor.RestoreState(reader);
  for (std::vector<float>& h : history_) {
    reader.GetFiniteFloats(std::span<float>(h.data(), history_size_));
    std::copy(h.begin(), h.begin() + history_size_, h.begin() + history_size_);
  }
  for (std::vector<float>& x : input_) reader.GetFiniteFloats(x);
  for (std::vector<float>& x : ready_) reader.GetFiniteFloats(x);
  if (reader.ok()) {
    // The filters' reference spectra again, oldest first, as the last `pushes` blocks pushed
    // them (every push since the last alignment was at this alignment).
    for (uint32_t p = std::max(pushes, probe_pushes); p >= 1; --p) {
      for (uint32_t r = 0; r < reference_channels_; ++r) {
        windows_[r] = Window(r, alignment_ + uint64_t{p - 1} * block_);
      }
      if (p <= pushes) filter_.PushReference(windows_.data());
      if (p <= probe_pushes) probe_.PushReference(windows_.data());
    }
  }
  return FinishRestore(reader);
}

uint32_t AecProcessor::MaxEventsPerBlock(uint32_t frames) const {
  return block_ == 0 ? 1 : frames / block_ + 1;
}

void AecProcessor::ApplySettings(const AecRuntimeSettings& settings) noexcept {
  if (settings.suppression.has_value()) {
    suppression_.SetTargetValue(static_cast<float>(*settings.suppression));
  }
}

void AecProcessor::Process(AudioBlock& in, AudioBlock& out) noexcept {
  const uint32_t frames = in.num_frames();
  out.set_num_frames(frames);
  const auto channels = static_cast<uint32_t>(input_.size());
  uint32_t done = 0;
  while (done < frames) {
    const uint32_t run = std::min(frames - done, block_ - position_);
    const bool completes_block = position_ + run == block_;
    for (uint32_t c = 0; c < channels; ++c) {
      const float* x = in.channel(c) + done;
      std::copy(x, x + run, input_[c].data() + position_);
    }
    // As denoise's FIFO: the sample at position p leaves as ready[p + 1]; the one that
    // completes the block leaves as the next block's ready[0].
    const uint32_t from_ready = completes_block ? run - 1 : run;
    for (uint32_t m = 0; m < mics_; ++m) {
      const float* ready = ready_[m].data() + position_ + 1;
      std::copy(ready, ready + from_ready, out.channel(m) + done);
    }
    position_ += run;
    done += run;
    if (completes_block) {
      RunBlock();
      position_ = 0;
      for (uint32_t m = 0; m < mics_; ++m) out.channel(m)[done - 1] = ready_[m][0];
    }
  }
}

const float* AecProcessor::Window(uint32_t r, uint64_t age) const noexcept {
  // Samples [written_ - age - 2B, written_ - age); before the stream's start the ring holds
  // zeros, which it has not yet overwritten (history_size_ covers the oldest window).
  const uint64_t size = history_size_;
  const uint64_t start = (written_ + 2 * size - (age % size) - 2 * block_) % size;
  return history_[r].data() + start;
}

void AecProcessor::SumWindows(uint64_t age, std::vector<float>& frame) noexcept {
  std::fill(frame.begin(), frame.end(), 0.0f);
  for (uint32_t r = 0; r < reference_channels_; ++r) {
    const float* w = Window(r, age);
    for (uint32_t i = 0; i < 2 * block_; ++i) frame[i] += w[i];
  }
}

void AecProcessor::FollowDelay() noexcept {
  if (!delay_.has_estimate() || delay_.delay_samples() == delay_samples_) return;
  static const double hold_share = std::pow(10.0, -kAecHoldErleDb / 10.0);
  if (delay_samples_ >= 0 && error_energy_ < hold_share * mic_energy_) return;
  const auto margin = static_cast<uint64_t>(kAecAlignmentMarginSeconds * rate_);
  // A move past the alignment margin waits out double talk (aec.h, kAecAlignmentMarginSeconds).
  if (delay_samples_ >= 0 &&
      static_cast<uint64_t>(std::abs(delay_.delay_samples() - delay_samples_)) > margin &&
      std::any_of(suppressors_.begin(), suppressors_.end(),
                  [](const EchoSuppressor& s) { return s.double_talk(); })) {
    return;
  }
  delay_samples_ = delay_.delay_samples();
  const auto delay = static_cast<uint64_t>(delay_samples_);
  const uint64_t wanted = delay > margin ? (delay - margin) / block_ * block_ : 0;
  const uint64_t alignment = std::min(wanted, max_alignment_);
  if (alignment != alignment_) Align(alignment);
  Emit(blocks_run_ * block_, EchoDelayEvent{static_cast<float>(1000.0 * delay / rate_)});
}

void AecProcessor::Align(uint64_t alignment) noexcept {
  const auto shift =
      static_cast<int>((static_cast<int64_t>(alignment) - static_cast<int64_t>(alignment_)) /
                       static_cast<int64_t>(block_));
  alignment_ = alignment;
  filter_.ShiftTaps(shift);
  filter_.ClearReference();
  probe_.ShiftTaps(shift);
  probe_.ClearReference();
  // The reference spectra again at the new alignment, oldest first; the newest is pushed by
  // RunBlock.
  for (uint32_t p = partitions_ - 1; p >= 1; --p) {
    for (uint32_t r = 0; r < reference_channels_; ++r) {
      windows_[r] = Window(r, alignment_ + uint64_t{p} * block_);
    }
    filter_.PushReference(windows_.data());
    if (p < probe_partitions_) probe_.PushReference(windows_.data());
  }
}

void AecProcessor::RunBlock() noexcept {
  // The reference's new block into its history, and the sum of the references.
  std::fill(reference_sum_.begin(), reference_sum_.end(), 0.0f);
  const uint64_t size = history_size_;
  for (uint32_t r = 0; r < reference_channels_; ++r) {
    const std::vector<float>& x = input_[mics_ + r];
    float* h = history_[r].data();
    for (uint32_t i = 0; i < block_; ++i) {
      const uint64_t at = (written_ + i) % size;
      h[at] = x[i];
      h[at + size] = x[i];
      reference_sum_[i] += x[i];
    }
  }
  written_ += block_;

  // Not from loud near speech (BlockAdaptiveFilter::loud_near_active, which does not depend on
  // the filter; the near-end detector's flag also follows a delay jump, which the estimator must
  // see).
  bool loud_near = false;
  for (uint32_t m = 0; m < mics_; ++m) loud_near = loud_near || filter_.loud_near_active(m);
  delay_.Update(reference_sum_.data(), input_[0].data(), block_, loud_near);
  FollowDelay();
  for (uint32_t r = 0; r < reference_channels_; ++r) windows_[r] = Window(r, alignment_);
  filter_.PushReference(windows_.data());
  probe_.PushReference(windows_.data());

  const float strength = suppression_.GetNextValue();
  // The suppressors' cold start: the references' newest 2B samples (the echo's delay unknown).
  if (std::any_of(suppressors_.begin(), suppressors_.end(),
                  [](const EchoSuppressor& s) { return s.cold_start(); })) {
    SumWindows(0, reference_frame_);
    for (EchoSuppressor& suppressor : suppressors_) {
      suppressor.TrackColdStart(reference_frame_.data());
    }
  }
  // The references' 2B samples the echo in the suppressor's frame comes from (at the estimated
  // delay, not the block-aligned one), for its reference floor.
  const bool have_reference = delay_samples_ >= 0;
  if (have_reference) {
    const auto delay = static_cast<uint64_t>(delay_samples_);
    const auto earlier = static_cast<uint64_t>(std::lround(kAecEarlierEchoSeconds * rate_));
    SumWindows(delay, reference_frame_);
    SumWindows(delay > earlier ? delay - earlier : 0, earlier_frame_);
  }
  double mic_energy = 0;  // the block's, over every microphone
  double error_energy = 0;
  for (uint32_t m = 0; m < mics_; ++m) {
    probe_.Process(m, input_[m].data(), probe_error_.data(), probe_echo_.data());
    // The suppressor's near end (a block late) slows the filter where the detector missed it.
    filter_.Process(m, input_[m].data(), error_.data(), echo_.data(),
                    suppressors_[m].believes_near());
    for (uint32_t i = 0; i < block_; ++i) {
      mic_energy += double{input_[m][i]} * input_[m][i];
      error_energy += double{error_[i]} * error_[i];
    }
    float* out = ready_[m].data();
    EchoSuppressor::FarEnd far_end;
    if (have_reference) {
      far_end.reference = reference_frame_.data();
      far_end.earlier = earlier_frame_.data();
    }
    far_end.near = filter_.near_active(m);
    far_end.near_now = filter_.near_now(m);
    static const double probe_explains = std::pow(10.0, kAecProbeExplainsDb / 10.0);
    const double probe_error = probe_.error_energy(m);
    const double probe_mic = probe_.mic_energy(m);
    if (probe_mic > 0) far_end.unpredicted_share = static_cast<float>(probe_error / probe_mic);
    far_end.echo_explained = probe_error * probe_explains < probe_mic &&
                             probe_error < kAecProbeBetterShare * filter_.error_energy(m);
    suppressors_[m].Process(error_.data(), echo_.data(), far_end, strength, out);
    for (uint32_t i = 0; i < block_; ++i) {
      if (!std::isfinite(out[i])) out[i] = 0.0f;
    }
  }
  // A microphone sample that is not finite makes the filter pass the block on and start again
  // (BlockAdaptiveFilter::Process); the averages skip it.
  if (std::isfinite(mic_energy) && std::isfinite(error_energy)) {
    mic_energy_ = hold_decay_ * mic_energy_ + (1 - hold_decay_) * mic_energy;
    error_energy_ = hold_decay_ * error_energy_ + (1 - hold_decay_) * error_energy;
  }
  ++blocks_run_;
}

}  // namespace audioproc
