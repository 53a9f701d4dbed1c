#include "processors/limiter.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "dsp/cost_model.h"

namespace audioproc {
namespace {

// CPU-seconds per frame (the gain computer: sliding minimum, release, moving average) and per
// sample (peak, delay line, clamp), and per sample for the true-peak detector (three 32-tap
// interpolations). The frame cost is an average: while nothing needs limiting the gain
// computer is skipped (6.2 ns before it was, 3.0 ns on the calibration signal since).
constexpr double kLimiterFrameSeconds = 3.0e-9;
constexpr double kLimiterChannelSeconds = 1.24e-9;
constexpr double kLimiterTruePeakChannelSeconds = 16.5e-9;

// A release within this distance of its target snaps to it: a one-pole filter in floating
// point otherwise stalls one ulp short of 1.0 forever, and the gain would never return to
// exactly 1 (the step, -180 dB, is inaudible).
constexpr double kReleaseSnap = 1e-9;

double DbToLinear(double db) { return std::pow(10.0, db / 20.0); }

LimiterSettings SettingsFrom(const ParamValues& params) {
  LimiterSettings settings;
  settings.ceiling_db = params.Number("ceiling_db");
  settings.lookahead_ms = params.Number("lookahead_ms");
  settings.release_ms = params.Number("release_ms");
  settings.true_peak = params.Bool("true_peak");
  return settings;
}

// The processor, its gain computer's windows, the delay line and the true-peak history.
absl::StatusOr<StageEstimate> EstimateLimiter(const ParamValues& params, const ProcessSpec& input) {
  const LimiterSettings settings = SettingsFrom(params);
  const LimiterFrames frames = LimiterFramesFor(settings, input.sample_rate_hz);
  const uint32_t guard = settings.true_peak ? kTruePeakGuardFrames : 0;
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes =
      cost::HeapBlock(sizeof(LimiterProcessor)) +
      SlidingMin::InitBytes(frames.lookahead + 2 * guard + 1) +
      cost::VectorBytes<double>(frames.lookahead + 1) +
      cost::VectorBytes<float>(uint64_t{input.channels} * frames.delay) +
      (settings.true_peak ? cost::VectorBytes<float>(uint64_t{input.channels} * 2 * kTruePeakTaps)
                          : 0);
  estimate.cpu_cores =
      input.sample_rate_hz *
      (kLimiterFrameSeconds +
       input.channels *
           (kLimiterChannelSeconds + (settings.true_peak ? kLimiterTruePeakChannelSeconds : 0.0)));
  estimate.max_latency_frames = frames.delay;
  return estimate;
}

}  // namespace

LimiterFrames LimiterFramesFor(const LimiterSettings& settings, double sample_rate_hz) {
  LimiterFrames frames;
  frames.lookahead = std::max<uint32_t>(
      1, static_cast<uint32_t>(std::lround(settings.lookahead_ms * sample_rate_hz / 1000.0)));
  const uint32_t guard = settings.true_peak ? kTruePeakGuardFrames : 0;
  const uint32_t detector_delay = settings.true_peak ? TruePeakDetector::DelayFrames() : 0;
  frames.delay = frames.lookahead + guard + detector_delay;
  return frames;
}

ProcessorDefinition LimiterDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "limiter";
  definition.info.summary =
      "Lookahead peak limiter, channels linked; optional 4x oversampled true-peak detection.";
  ParamInfo true_peak;
  true_peak.name = "true_peak";
  true_peak.type = ParamType::kBool;
  true_peak.default_value = 0.0;
  true_peak.summary = "Limit 4x oversampled (inter-sample) peaks, not just samples.";
  definition.info.params = {
      FloatParam("ceiling_db", "dB", -1.0, -60.0, 0.0, true,
                 "No output sample exceeds this level (dBFS)."),
      FloatParam("lookahead_ms", "ms", 5.0, 0.5, 50.0, false,
                 "How far ahead the gain starts to fall; also the added latency."),
      FloatParam("release_ms", "ms", 50.0, 1.0, 1000.0, false,
                 "Time constant of the gain's recovery after a peak."),
      std::move(true_peak),
  };
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<LimiterProcessor>(SettingsFrom(params));
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    LimiterRuntimeSettings settings;
    if (changes.Has("ceiling_db")) settings.ceiling_db = changes.Number("ceiling_db");
    return std::make_unique<TypedUpdate<LimiterRuntimeSettings>>(settings);
  };
  definition.estimate = EstimateLimiter;
  return definition;
}

LimiterProcessor::LimiterProcessor(const LimiterSettings& settings) : settings_(settings) {
  ceiling_ = DbToLinear(settings_.ceiling_db);
  clamp_ceiling_ = next_clamp_ceiling_ = static_cast<float>(ceiling_);
}

absl::StatusOr<ProcessSpec> LimiterProcessor::Prepare(const ProcessSpec& input) {
  const double rate = input.sample_rate_hz;
  channels_ = input.channels;
  const LimiterFrames frames = LimiterFramesFor(settings_, rate);
  lookahead_frames_ = frames.lookahead;
  delay_frames_ = frames.delay;
  const uint32_t guard = settings_.true_peak ? kTruePeakGuardFrames : 0;
  hold_.Init(lookahead_frames_ + 2 * guard + 1);
  reductions_.assign(lookahead_frames_ + 1, 0.0);
  release_coefficient_ = 1.0 - std::exp(-1000.0 / (settings_.release_ms * rate));
  if (settings_.true_peak) true_peak_.Init(channels_);
  delay_.assign(size_t{channels_} * delay_frames_, 0.0f);
  Reset();
  return input;
}

void LimiterProcessor::Reset() noexcept {
  hold_.Reset();
  unity_pushes_ = 0;
  released_gain_ = 1.0;
  std::fill(reductions_.begin(), reductions_.end(), 0.0);
  reduction_position_ = 0;
  reduction_sum_ = 0.0;
  nonzero_reductions_ = 0;
  if (settings_.true_peak) true_peak_.Reset();
  clamp_ceiling_ = next_clamp_ceiling_;
  clamp_countdown_ = 0;
  std::fill(delay_.begin(), delay_.end(), 0.0f);
  delay_position_ = 0;
}

void LimiterProcessor::ApplySettings(const LimiterRuntimeSettings& settings) noexcept {
  if (!settings.ceiling_db.has_value()) return;
  ceiling_ = DbToLinear(*settings.ceiling_db);
  next_clamp_ceiling_ = static_cast<float>(ceiling_);
  if (next_clamp_ceiling_ >= clamp_ceiling_) {
    // Everything in the delay line was limited to a lower ceiling already.
    clamp_ceiling_ = next_clamp_ceiling_;
    clamp_countdown_ = 0;
  } else {
    // The delay line still holds audio limited to the old ceiling: clamping it to the new one
    // would clip it. The frame that enters next leaves delay_frames_ frames later.
    clamp_countdown_ = delay_frames_ + 1;
  }
}

namespace {
constexpr StateTag kLimiterStateTag = MakeStateTag("lmtr");
constexpr uint16_t kLimiterStateVersion = 1;
}  // namespace

absl::Status LimiterProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kLimiterStateTag, kLimiterStateVersion);
  writer.PutDouble(ceiling_);
  hold_.SaveState(writer);
  writer.PutU32(unity_pushes_);
  writer.PutDouble(released_gain_);
  writer.PutDoubles(reductions_);
  writer.PutU32(reduction_position_);
  writer.PutDouble(reduction_sum_);
  writer.PutU32(nonzero_reductions_);
  if (settings_.true_peak) true_peak_.SaveState(writer);
  writer.PutFloat(clamp_ceiling_);
  writer.PutFloat(next_clamp_ceiling_);
  writer.PutU32(clamp_countdown_);
  writer.PutFloats(delay_);
  writer.PutU32(delay_position_);
  return writer.status();
}

absl::Status LimiterProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kLimiterStateTag, kLimiterStateVersion);
  const double ceiling = reader.GetFiniteDouble();
  // ceiling_db's range, [-60, 0] dB, with room for rounding.
  if (!(ceiling > 0 && ceiling <= 1.01)) reader.Fail("limiter ceiling out of range");
  ceiling_ = ceiling;
  hold_.RestoreState(reader);
  unity_pushes_ = reader.GetU32AtMost(hold_.window());
  released_gain_ = reader.GetFiniteDouble();
  reader.GetFiniteDoubles(reductions_);
  reduction_position_ = reader.GetU32AtMost(static_cast<uint32_t>(reductions_.size()) - 1);
  reduction_sum_ = reader.GetFiniteDouble();
  nonzero_reductions_ = reader.GetU32AtMost(static_cast<uint32_t>(reductions_.size()));
  if (settings_.true_peak) true_peak_.RestoreState(reader);
  clamp_ceiling_ = reader.GetFiniteFloat();
  next_clamp_ceiling_ = reader.GetFiniteFloat();
  clamp_countdown_ = reader.GetU32AtMost(delay_frames_ + 1);
  reader.GetFiniteFloats(delay_);
  delay_position_ = reader.GetU32AtMost(delay_frames_ - 1);
  return FinishRestore(reader);
}

float LimiterProcessor::NextGain(float peak) noexcept {
  const double required = peak > ceiling_ ? ceiling_ / peak : 1.0;
  // Nothing to limit, none in the window, nothing releasing or averaging: the gain is exactly
  // 1 and every state would stay as it is. Skipping hold_ is exact: it holds only ones, which
  // the next smaller value evicts at once, so its minimum is what it would have been.
  if (required == 1.0 && unity_pushes_ >= hold_.window() && released_gain_ == 1.0 &&
      nonzero_reductions_ == 0) {
    return 1.0f;
  }
  unity_pushes_ = required == 1.0 ? std::min(unity_pushes_ + 1, hold_.window()) : 0;
  const double held = hold_.Push(required);
  if (held <= released_gain_) {
    released_gain_ = held;
  } else {
    released_gain_ += release_coefficient_ * (held - released_gain_);
    if (held - released_gain_ < kReleaseSnap) released_gain_ = held;
  }
  // Moving average of the released gain over L + 1 frames, kept as reductions so that an
  // all-unity window is recognized exactly by its count rather than by a drifting sum.
  const double reduction = 1.0 - released_gain_;
  double& oldest = reductions_[reduction_position_];
  if (oldest != 0.0) --nonzero_reductions_;
  if (reduction != 0.0) ++nonzero_reductions_;
  reduction_sum_ += reduction - oldest;
  oldest = reduction;
  if (++reduction_position_ == reductions_.size()) reduction_position_ = 0;
  if (nonzero_reductions_ == 0) {
    reduction_sum_ = 0.0;  // drops whatever rounding the sum picked up during the episode
    return 1.0f;
  }
  const double gain = 1.0 - reduction_sum_ / static_cast<double>(reductions_.size());
  return static_cast<float>(std::clamp(gain, 0.0, 1.0));
}

void LimiterProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  for (uint32_t i = 0; i < frames; ++i) {
    float peak = 0.0f;
    if (settings_.true_peak) {
      peak = true_peak_.Push(in, i);
    } else {
      for (uint32_t c = 0; c < channels_; ++c) peak = std::max(peak, std::fabs(in.channel(c)[i]));
    }
    const float gain = NextGain(peak);
    if (clamp_countdown_ > 0 && --clamp_countdown_ == 0) clamp_ceiling_ = next_clamp_ceiling_;
    const float limit = clamp_ceiling_;
    float* slot = delay_.data() + delay_position_;
    for (uint32_t c = 0; c < channels_; ++c, slot += delay_frames_) {
      const float delayed = *slot;
      *slot = in.channel(c)[i];
      in.channel(c)[i] = std::clamp(delayed * gain, -limit, limit);
    }
    if (++delay_position_ == delay_frames_) delay_position_ = 0;
  }
}

}  // namespace audioproc
