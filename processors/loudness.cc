#include "processors/loudness.h"

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

// CPU-seconds per sample (the K-weighting's two biquads and the sum of squares, the gain
// ramp; 11.3 ns through libebur128, 4.3 ns now) and per 100 ms hop (the readings, one over the
// 1000-bin histogram).
constexpr double kLoudnessChannelSeconds = 4.3e-9;
constexpr double kLoudnessHopSeconds = 1.0e-6;

// The gating histogram's bins: 0.1 LU wide from the absolute gate up.
constexpr double kHistogramBinLu = 0.1;

// Below this a K-weighting register is silence (-600 dB); zeroing it at hop ends keeps a
// decaying filter out of double's subnormal range, which is slow without flush-to-zero.
constexpr double kFilterFlush = 1e-30;

// BS.1770's K-weighting for `rate`: the high shelf and the high pass designed from their
// analog prototypes by the bilinear transform, with the prototype constants (centre
// frequencies, Q, shelf gain) that reproduce the standard's 48 kHz coefficients, as
// libebur128's ebur128_init_filter does.
std::array<BiquadCoefficients, 2> KWeighting(double rate) {
  std::array<BiquadCoefficients, 2> sections;
  {
    constexpr double kF0 = 1681.974450955533;
    constexpr double kGainDb = 3.999843853973347;
    constexpr double kQ = 0.7071752369554196;
    const double k = std::tan(M_PI * kF0 / rate);
    const double vh = std::pow(10.0, kGainDb / 20.0);
    const double vb = std::pow(vh, 0.4996667741545416);
    const double a0 = 1.0 + k / kQ + k * k;
    sections[0] = {(vh + vb * k / kQ + k * k) / a0, 2.0 * (k * k - vh) / a0,
                   (vh - vb * k / kQ + k * k) / a0, 2.0 * (k * k - 1.0) / a0,
                   (1.0 - k / kQ + k * k) / a0};
  }
  {
    constexpr double kF0 = 38.13547087602444;
    constexpr double kQ = 0.5003270373238773;
    const double k = std::tan(M_PI * kF0 / rate);
    const double a0 = 1.0 + k / kQ + k * k;
    sections[1] = {1.0, -2.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / kQ + k * k) / a0};
  }
  return sections;
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
  // Everything is in the processor's fixed arrays (the histogram is most of it).
  estimate.memory_bytes = cost::HeapBlock(sizeof(LoudnessProcessor));
  estimate.cpu_cores = input.sample_rate_hz * input.channels * kLoudnessChannelSeconds +
                       input.sample_rate_hz / hop * kLoudnessHopSeconds;
  // One event per hop ended: a call of n frames ends at most ceil(n / hop) hops.
  estimate.events = {1.0 / hop, 0};
  return estimate;
}

// The energy a gating block in each histogram bin counts for: the bin's centre, -70 +
// 0.1 (i + 1/2) LUFS. One table for the process.
const std::array<double, 1000>& HistogramEnergies() {
  static const std::array<double, 1000> energies = [] {
    std::array<double, 1000> e{};
    for (size_t i = 0; i < e.size(); ++i) {
      e[i] = EnergyOf(kAbsoluteGateLufs + kHistogramBinLu * (static_cast<double>(i) + 0.5));
    }
    return e;
  }();
  return energies;
}

// A reading for an event: finite, floored at kLoudnessFloorLufs.
float Reading(double lufs) {
  if (!(lufs > kLoudnessFloorLufs)) return kLoudnessFloorLufs;
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

absl::StatusOr<ProcessSpec> LoudnessProcessor::Prepare(const ProcessSpec& input) {
  if (absl::Status status = CheckInput(input); !status.ok()) return status;
  channels_ = input.channels;
  hop_frames_ = HopFrames(input.sample_rate_hz);
  const double hop_seconds = hop_frames_ / input.sample_rate_hz;
  forget_ = std::exp(-hop_seconds / kEstimateSeconds);
  gain_alpha_ = 1.0 - std::exp(-hop_seconds / kGainSeconds);
  k_weighting_ = KWeighting(input.sample_rate_hz);
  for (uint32_t c = 0; c < channels_; ++c) {
    // 5.1 (L R C LFE Ls Rs): the LFE does not count and the surrounds weigh 1.41.
    constexpr double kWeights51[6] = {1.0, 1.0, 1.0, 0.0, 1.41, 1.41};
    channel_weight_[c] = channels_ == 6 ? kWeights51[c] : 1.0;
  }
  Reset();
  return input;
}

void LoudnessProcessor::Reset() noexcept {
  for (auto& state : filter_state_) state.fill(FilterState{});
  hop_squares_.fill(0.0);
  histogram_.fill(0);
  histogram_sum_ = 0;
  histogram_count_ = 0;
  frames_ = 0;
  hop_position_ = 0;
  hop_energy_.fill(0.0);
  hop_energy_next_ = 0;
  absolute_sum_ = absolute_weight_ = gated_sum_ = gated_weight_ = 0;
  gain_db_ = 0;
  ramp_from_ = ramp_to_ = 1.0f;
}

void LoudnessProcessor::ApplySettings(const LoudnessRuntimeSettings& settings) noexcept {
  if (settings.target_lufs.has_value()) target_lufs_ = *settings.target_lufs;
}

namespace {
constexpr StateTag kLoudnessStateTag = MakeStateTag("loud");
constexpr uint16_t kLoudnessStateVersion = 1;
}  // namespace

absl::Status LoudnessProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kLoudnessStateTag, kLoudnessStateVersion);
  writer.PutDouble(target_lufs_);
  writer.PutU32(channels_);
  for (uint32_t c = 0; c < channels_; ++c) {
    for (const FilterState& state : filter_state_[c]) {
      writer.PutDouble(state.z1);
      writer.PutDouble(state.z2);
    }
    writer.PutDouble(hop_squares_[c]);
  }
  for (const uint32_t count : histogram_) writer.PutU32(count);
  writer.PutDouble(histogram_sum_);
  writer.PutU64(histogram_count_);
  writer.PutU64(frames_);
  writer.PutU32(hop_position_);
  writer.PutDoubles(hop_energy_);
  writer.PutU32(hop_energy_next_);
  writer.PutDouble(absolute_sum_);
  writer.PutDouble(absolute_weight_);
  writer.PutDouble(gated_sum_);
  writer.PutDouble(gated_weight_);
  writer.PutDouble(gain_db_);
  writer.PutFloat(ramp_from_);
  writer.PutFloat(ramp_to_);
  return writer.status();
}

absl::Status LoudnessProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kLoudnessStateTag, kLoudnessStateVersion);
  const double target = reader.GetFiniteDouble();
  if (!(target >= -60 && target <= -5)) reader.Fail("loudness target out of range");
  target_lufs_ = target;
  const uint32_t channels = reader.GetU32();
  if (reader.ok() && channels != channels_) reader.Fail("loudness of another channel count");
  for (uint32_t c = 0; c < channels_; ++c) {
    for (FilterState& state : filter_state_[c]) {
      state.z1 = reader.GetFiniteDouble();
      state.z2 = reader.GetFiniteDouble();
    }
    hop_squares_[c] = reader.GetFiniteDouble();
  }
  for (uint32_t& count : histogram_) count = reader.GetU32();
  histogram_sum_ = reader.GetFiniteDouble();
  histogram_count_ = reader.GetU64();
  frames_ = reader.GetU64();
  hop_position_ = reader.GetU32AtMost(hop_frames_ - 1);
  reader.GetFiniteDoubles(hop_energy_);
  hop_energy_next_ = reader.GetU32AtMost(kShortTermHops - 1);
  absolute_sum_ = reader.GetFiniteDouble();
  absolute_weight_ = reader.GetFiniteDouble();
  gated_sum_ = reader.GetFiniteDouble();
  gated_weight_ = reader.GetFiniteDouble();
  const double gain_db = reader.GetFiniteDouble();
  // The gain never leaves [kMinGainDb, max_gain_db].
  if (!(gain_db >= kMinGainDb && gain_db <= max_gain_db_))
    reader.Fail("loudness gain out of range");
  gain_db_ = gain_db;
  ramp_from_ = reader.GetFiniteFloat();
  ramp_to_ = reader.GetFiniteFloat();
  if (reader.ok() &&
      !(ramp_from_ >= 0 && ramp_from_ <= 1001 && ramp_to_ >= 0 && ramp_to_ <= 1001)) {
    reader.Fail("loudness gain ramp out of range");
  }
  return FinishRestore(reader);
}

void LoudnessProcessor::Measure(uint32_t c, const float* x, uint32_t frames) noexcept {
  const BiquadCoefficients& shelf = k_weighting_[0];
  const BiquadCoefficients& high_pass = k_weighting_[1];
  // Registers in locals, so that they stay in registers across the loop. The squares add up
  // in one running sum per hop, in sample order, however the hop was cut into blocks: the
  // readings, and so the gain, do not depend on block sizes down to the last bit.
  FilterState s = filter_state_[c][0];
  FilterState h = filter_state_[c][1];
  double squares = hop_squares_[c];
  for (uint32_t i = 0; i < frames; ++i) {
    const double in = x[i];
    const double y = shelf.b0 * in + s.z1;
    s.z1 = shelf.b1 * in - shelf.a1 * y + s.z2;
    s.z2 = shelf.b2 * in - shelf.a2 * y;
    const double k = high_pass.b0 * y + h.z1;
    h.z1 = high_pass.b1 * y - high_pass.a1 * k + h.z2;
    h.z2 = high_pass.b2 * y - high_pass.a2 * k;
    squares += k * k;
  }
  filter_state_[c][0] = s;
  filter_state_[c][1] = h;
  hop_squares_[c] = squares;
}

void LoudnessProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  for (uint32_t offset = 0; offset < frames;) {
    const uint32_t run = std::min(frames - offset, hop_frames_ - hop_position_);
    // The gain ramps linearly across the hop, by position, so block sizes do not matter. The
    // meter measures the input, before the gain.
    const float step = (ramp_to_ - ramp_from_) / static_cast<float>(hop_frames_);
    for (uint32_t c = 0; c < channels_; ++c) {
      float* x = in.channel(c) + offset;
      Measure(c, x, run);
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

double LoudnessProcessor::IntegratedLufs() const noexcept {
  if (histogram_count_ == 0) return -HUGE_VAL;
  const std::array<double, kHistogramBins>& bin_energy = HistogramEnergies();
  // The relative gate, 10 LU under the mean of the blocks above the absolute gate: the bins
  // whose centre lies above it count.
  const double gate_lufs = LufsOf(histogram_sum_ / histogram_count_) + kRelativeGateLu;
  const int first = std::max(
      0, static_cast<int>(std::ceil((gate_lufs - kAbsoluteGateLufs) / kHistogramBinLu - 0.5)));
  double sum = 0;
  uint64_t count = 0;
  for (int i = first; i < kHistogramBins; ++i) {
    sum += histogram_[i] * bin_energy[i];
    count += histogram_[i];
  }
  return count == 0 ? -HUGE_VAL : LufsOf(sum / count);
}

void LoudnessProcessor::EndHop() noexcept {
  // The hop's weighted mean square, then the 400 ms block's and the 3 s window's.
  double hop_power = 0;
  for (uint32_t c = 0; c < channels_; ++c) {
    hop_power += channel_weight_[c] * hop_squares_[c] / hop_frames_;
    hop_squares_[c] = 0;
    for (FilterState& state : filter_state_[c]) {
      if (std::fabs(state.z1) < kFilterFlush) state.z1 = 0;
      if (std::fabs(state.z2) < kFilterFlush) state.z2 = 0;
    }
  }
  hop_energy_[hop_energy_next_] = hop_power;
  double block_power = 0;
  for (uint32_t i = 1; i <= kHopsPerMomentaryBlock; ++i) {
    block_power += hop_energy_[(hop_energy_next_ + kShortTermHops + 1 - i) % kShortTermHops];
  }
  block_power /= kHopsPerMomentaryBlock;
  hop_energy_next_ = (hop_energy_next_ + 1) % kShortTermHops;
  double window_power = 0;
  for (double energy : hop_energy_) window_power += energy;
  window_power /= kShortTermHops;
  const double momentary = block_power > 0 ? LufsOf(block_power) : -HUGE_VAL;
  const double short_term = window_power > 0 ? LufsOf(window_power) : -HUGE_VAL;

  // A gating block ends every hop from the fourth on (BS.1770: 400 ms blocks, 75% overlap).
  const bool whole_block = frames_ >= kHopsPerMomentaryBlock * hop_frames_;
  if (whole_block && momentary >= kAbsoluteGateLufs) {
    const int bin = static_cast<int>((momentary - kAbsoluteGateLufs) / kHistogramBinLu);
    const int index = std::clamp(bin, 0, kHistogramBins - 1);
    ++histogram_[index];
    histogram_sum_ += HistogramEnergies()[index];
    ++histogram_count_;
  }
  const double integrated = IntegratedLufs();

  // Step 1: the gated, forgetting estimate, from whole 400 ms blocks only.
  if (whole_block && momentary > kAbsoluteGateLufs) {
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

  Emit(frames_, LoudnessEvent{Reading(momentary), Reading(short_term), Reading(integrated),
                              static_cast<float>(applied_db)});
}

}  // namespace audioproc
