#include "processors/loudness.h"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

constexpr double kHopSeconds = 0.1;
// BS.1770 gates and the offset of its loudness formula.
constexpr double kAbsoluteGateLufs = -70.0;
constexpr double kRelativeGateLu = -10.0;
constexpr double kLufsOffset = -0.691;
// The gain is never cut further than this, whatever the target and the input.
constexpr double kMinGainDb = -80.0;
// A momentary reading needs 400 ms of audio: four hops.
constexpr uint64_t kHopsPerMomentaryBlock = 4;
constexpr float kMaxMagnitude = std::numeric_limits<float>::max();

double EnergyOf(double lufs) { return std::pow(10.0, (lufs - kLufsOffset) / 10.0); }
double LufsOf(double energy) { return kLufsOffset + 10.0 * std::log10(energy); }
float DbToGain(double db) { return static_cast<float>(std::pow(10.0, db / 20.0)); }

// CPU-seconds per sample (interleaving, libebur128's K-weighting and its 400 ms block sums,
// the gain ramp) and per 100 ms hop (three readings, one over the 1000-bin histogram). Once
// libebur128's 400 ms of doubles outgrow a core's L2 cache (2 MiB here: 192 kHz 8 channels
// holds 4.9 MB) every sample costs kLoudnessOutOfCacheSeconds more (measured 25.9 against
// 11.4 ns per sample).
constexpr double kLoudnessChannelSeconds = 11.3e-9;
constexpr double kLoudnessHopSeconds = 1.0e-6;
constexpr double kLoudnessOutOfCacheSeconds = 14.5e-9;
constexpr double kLoudnessCacheBytes = 2 << 20;

// What libebur128 1.2.6's ebur128_init(channels, rate, EBUR128_MODE_I | EBUR128_MODE_HISTOGRAM)
// allocates, measured with the counting malloc: its state and the two 1000-bin histograms
// (about 17 KiB), then per channel 400 ms of doubles for the momentary block and, whatever the
// mode, its true-peak interpolator's buffers: 400 ms of floats in and that times the
// oversampling out (4x below 96 kHz, 2x below 192 kHz, none from 192 kHz).
uint64_t Ebur128Bytes(uint32_t channels, double sample_rate_hz) {
  constexpr uint64_t kFixedBytes = 17300;
  const double oversampling = sample_rate_hz < 96000 ? 4 : sample_rate_hz < 192000 ? 2 : 0;
  const double per_channel =
      0.4 * sample_rate_hz * sizeof(double) +
      (oversampling > 0 ? 0.4 * sample_rate_hz * sizeof(float) * (1 + oversampling) : 0.0);
  return kFixedBytes + static_cast<uint64_t>(channels * per_channel);
}

// Prepare's requirements of the input, with its message.
absl::Status CheckInput(const ProcessSpec& input) {
  if (input.sample_rate_hz < 1 || input.channels == 0 || input.channels > kMaxChannels) {
    return absl::InvalidArgumentError(absl::StrCat("loudness needs a positive rate and 1 to ",
                                                   kMaxChannels, " channels; got ",
                                                   input.sample_rate_hz, " Hz, ", input.channels));
  }
  return absl::OkStatus();
}

uint32_t HopFrames(double sample_rate_hz) {
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(kHopSeconds * sample_rate_hz)));
}

absl::StatusOr<StageEstimate> EstimateLoudness(const ParamValues& /*params*/,
                                               const ProcessSpec& input) {
  if (absl::Status status = CheckInput(input); !status.ok()) return status;
  const uint32_t hop = HopFrames(input.sample_rate_hz);
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes =
      cost::HeapBlock(sizeof(LoudnessProcessor)) +
      cost::VectorBytes<float>(uint64_t{input.max_block_frames} * input.channels) +
      Ebur128Bytes(input.channels, input.sample_rate_hz);
  const double window_bytes = 0.4 * input.sample_rate_hz * input.channels * sizeof(double);
  const double per_sample = kLoudnessChannelSeconds +
                            (window_bytes > kLoudnessCacheBytes ? kLoudnessOutOfCacheSeconds : 0.0);
  estimate.cpu_cores = input.sample_rate_hz * input.channels * per_sample +
                       input.sample_rate_hz / hop * kLoudnessHopSeconds;
  // One event per hop ended: a call of n frames ends at most ceil(n / hop) hops.
  estimate.events = {1.0 / hop, 0};
  return estimate;
}

// A libebur128 reading for an event: finite, floored at kLoudnessFloorLufs.
float Reading(int status, double lufs) {
  if (status != EBUR128_SUCCESS || !(lufs > kLoudnessFloorLufs)) return kLoudnessFloorLufs;
  return static_cast<float>(lufs);
}

}  // namespace

ProcessorDefinition LoudnessDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "loudness";
  definition.info.summary =
      "Streaming loudness normalization (ITU-R BS.1770-4 / EBU R128): a slow, gated gain "
      "toward target_lufs; reports momentary, short-term and integrated loudness every 100 ms.";
  ParamInfo target;
  target.name = "target_lufs";
  target.type = ParamType::kFloat;
  target.unit = "LUFS";
  target.default_value = -16.0;
  target.min = -60.0;
  target.max = -5.0;
  target.runtime_updatable = true;
  target.summary = "Integrated loudness to steer the output to; changes glide over seconds.";
  ParamInfo max_gain;
  max_gain.name = "max_gain_db";
  max_gain.type = ParamType::kFloat;
  max_gain.unit = "dB";
  max_gain.default_value = 20.0;
  max_gain.min = 0.0;
  max_gain.max = 60.0;
  max_gain.summary = "The most gain applied to quiet input.";
  definition.info.params = {std::move(target), std::move(max_gain)};
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<LoudnessProcessor>(params.Number("target_lufs"),
                                               params.Number("max_gain_db"));
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    LoudnessRuntimeSettings settings;
    if (changes.Has("target_lufs")) settings.target_lufs = changes.Number("target_lufs");
    return std::make_unique<TypedUpdate<LoudnessRuntimeSettings>>(settings);
  };
  definition.estimate = EstimateLoudness;
  return definition;
}

LoudnessProcessor::LoudnessProcessor(double target_lufs, double max_gain_db)
    : target_lufs_(target_lufs), max_gain_db_(max_gain_db) {}

LoudnessProcessor::~LoudnessProcessor() {
  if (meter_ != nullptr) ebur128_destroy(&meter_);
}

absl::StatusOr<ProcessSpec> LoudnessProcessor::Prepare(const ProcessSpec& input) {
  if (absl::Status status = CheckInput(input); !status.ok()) return status;
  channels_ = input.channels;
  input_rate_ = input.sample_rate_hz;
  hop_frames_ = HopFrames(input.sample_rate_hz);
  const double hop_seconds = hop_frames_ / input.sample_rate_hz;
  forget_ = std::exp(-hop_seconds / kEstimateSeconds);
  gain_alpha_ = 1.0 - std::exp(-hop_seconds / kGainSeconds);
  interleaved_.assign(size_t{input.max_block_frames} * channels_, 0.0f);
  if (!StartMeter()) {
    return absl::InternalError("loudness: libebur128 could not be initialized");
  }
  return input;
}

bool LoudnessProcessor::StartMeter() noexcept {
  if (meter_ != nullptr) ebur128_destroy(&meter_);
  meter_ = ebur128_init(channels_, static_cast<unsigned long>(std::lround(input_rate_)),
                        EBUR128_MODE_I | EBUR128_MODE_HISTOGRAM);
  if (meter_ == nullptr) return false;
  // libebur128 guesses layouts for 4 and 5 channels too and drops channels past the sixth;
  // only 5.1 has a layout here, everything else counts every channel once.
  for (uint32_t c = 0; c < channels_; ++c) {
    int role = EBUR128_CENTER;  // weight 1
    if (channels_ == 6) {
      constexpr int kSurround51[6] = {EBUR128_LEFT,          EBUR128_RIGHT,
                                      EBUR128_CENTER,        EBUR128_UNUSED,
                                      EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND};
      role = kSurround51[c];
    }
    ebur128_set_channel(meter_, c, role);
  }
  frames_ = 0;
  hop_position_ = 0;
  hop_energy_.fill(0.0);
  hop_energy_next_ = 0;
  absolute_sum_ = absolute_weight_ = gated_sum_ = gated_weight_ = 0;
  gain_db_ = 0;
  ramp_from_ = ramp_to_ = 1.0f;
  return true;
}

void LoudnessProcessor::Reset() noexcept { StartMeter(); }

void LoudnessProcessor::ApplySettings(const LoudnessRuntimeSettings& settings) noexcept {
  if (settings.target_lufs.has_value()) target_lufs_ = *settings.target_lufs;
}

void LoudnessProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  for (uint32_t offset = 0; offset < frames;) {
    const uint32_t run = std::min(frames - offset, hop_frames_ - hop_position_);
    if (meter_ != nullptr) {
      // libebur128 reads interleaved frames; it measures the input, before the gain.
      for (uint32_t c = 0; c < channels_; ++c) {
        const float* x = in.channel(c) + offset;
        for (uint32_t i = 0; i < run; ++i) interleaved_[size_t{i} * channels_ + c] = x[i];
      }
      ebur128_add_frames_float(meter_, interleaved_.data(), run);
    }
    // The gain ramps linearly across the hop, by position, so block sizes do not matter.
    const float step = (ramp_to_ - ramp_from_) / static_cast<float>(hop_frames_);
    for (uint32_t c = 0; c < channels_; ++c) {
      float* x = in.channel(c) + offset;
      for (uint32_t i = 0; i < run; ++i) {
        const float gain = ramp_from_ + step * static_cast<float>(hop_position_ + i + 1);
        x[i] = std::clamp(x[i] * gain, -kMaxMagnitude, kMaxMagnitude);
      }
    }
    hop_position_ += run;
    frames_ += run;
    offset += run;
    if (hop_position_ == hop_frames_) {
      hop_position_ = 0;
      EndHop();
    }
  }
}

void LoudnessProcessor::EndHop() noexcept {
  double momentary = -HUGE_VAL, short_term = -HUGE_VAL, integrated = -HUGE_VAL;
  int momentary_status = EBUR128_ERROR_NOMEM, short_status = EBUR128_ERROR_NOMEM,
      integrated_status = EBUR128_ERROR_NOMEM;
  if (meter_ != nullptr) {
    momentary_status = ebur128_loudness_momentary(meter_, &momentary);
    integrated_status = ebur128_loudness_global(meter_, &integrated);
    double hop_lufs = -HUGE_VAL;
    short_status = ebur128_loudness_window(
        meter_, static_cast<unsigned long>(std::lround(kHopSeconds * 1000)), &hop_lufs);
    if (short_status == EBUR128_SUCCESS) {
      hop_energy_[hop_energy_next_] = hop_lufs > -HUGE_VAL ? EnergyOf(hop_lufs) : 0.0;
      hop_energy_next_ = (hop_energy_next_ + 1) % kShortTermHops;
      double sum = 0;
      for (double energy : hop_energy_) sum += energy;
      short_term = sum > 0 ? LufsOf(sum / kShortTermHops) : -HUGE_VAL;
    }
  }

  // Step 1: the gated, forgetting estimate, from whole 400 ms blocks only.
  const bool whole_block = frames_ >= kHopsPerMomentaryBlock * hop_frames_;
  if (whole_block && momentary_status == EBUR128_SUCCESS && momentary > kAbsoluteGateLufs) {
    const double energy = EnergyOf(momentary);
    absolute_sum_ = absolute_sum_ * forget_ + energy;
    absolute_weight_ = absolute_weight_ * forget_ + 1.0;
    const double relative_gate = LufsOf(absolute_sum_ / absolute_weight_) + kRelativeGateLu;
    if (momentary > relative_gate) {
      gated_sum_ = gated_sum_ * forget_ + energy;
      gated_weight_ = gated_weight_ * forget_ + 1.0;
    }
  }
  // Steps 2 and 3: the desired gain, approached slowly and by bounded steps. It takes effect
  // over the next hop; the event reports the gain this hop ended at.
  const double applied_db = gain_db_;
  if (gated_weight_ > 0) {
    const double estimate = LufsOf(gated_sum_ / gated_weight_);
    const double desired = std::clamp(target_lufs_ - estimate, kMinGainDb, max_gain_db_);
    const double move =
        std::clamp((desired - gain_db_) * gain_alpha_, -kMaxGainStepDb, kMaxGainStepDb);
    gain_db_ = std::min(gain_db_ + move, max_gain_db_);
  }
  ramp_from_ = ramp_to_;
  ramp_to_ = DbToGain(gain_db_);

  Emit(frames_,
       LoudnessEvent{Reading(momentary_status, momentary), Reading(short_status, short_term),
                     Reading(integrated_status, integrated), static_cast<float>(applied_db)});
}

}  // namespace audioproc
