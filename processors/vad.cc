#include "processors/vad.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "dsp/cost_model.h"

namespace audioproc {
namespace {

// CPU-seconds of a 10 ms hop: per FFT point (window, the history's shift), per bin of the
// 200-4000 Hz band (noise floor over the sub-window minima, likelihood ratio: a logarithm and
// two divisions), besides its FFT (cost::RealFftSeconds); per frame and per sample and channel,
// the channels' average and the mute gain (counted whether or not `mute` is on: a runtime
// update can switch it on).
constexpr double kVadPointSeconds = 0.54e-9;
constexpr double kVadBandBinSeconds = 12.0e-9;
constexpr double kVadFrameSeconds = 3.2e-9;
constexpr double kVadChannelSeconds = 0.66e-9;

VadSettings SettingsFrom(const ParamValues& params) {
  VadSettings settings;
  settings.threshold = params.Number("threshold");
  settings.hangover_ms = params.Number("hangover_ms");
  settings.mute = params.Bool("mute");
  settings.report_interval_ms = params.Number("report_interval_ms");
  return settings;
}

// Hops per report for `report_interval_ms` (0: none): whole hops, at least one.
uint32_t ReportHops(double report_interval_ms) {
  if (report_interval_ms <= 0.0) return 0;
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(report_interval_ms / 10.0)));
}

absl::StatusOr<StageEstimate> EstimateVad(const ParamValues& params, const ProcessSpec& input) {
  const VoiceFeatureExtractor::Sizes sizes = VoiceFeatureExtractor::SizesFor(input.sample_rate_hz);
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(VadProcessor)) +
                          VoiceFeatureExtractor::InitBytes(input.sample_rate_hz) +
                          2 * cost::VectorBytes<float>(sizes.hop);
  const double hops_per_second = input.sample_rate_hz / sizes.hop;
  estimate.cpu_cores =
      hops_per_second * (cost::RealFftSeconds(sizes.fft_size) + sizes.fft_size * kVadPointSeconds +
                         sizes.band_bins() * kVadBandBinSeconds) +
      input.sample_rate_hz * (kVadFrameSeconds + input.channels * kVadChannelSeconds);
  // At most one start or stop per hop ended, and a report per interval ended.
  const uint32_t report_hops = ReportHops(params.Number("report_interval_ms"));
  estimate.events = {1.0 / sizes.hop, 0};
  if (report_hops > 0) estimate.events = {1.0 / sizes.hop + 1.0 / (report_hops * sizes.hop), 1};
  return estimate;
}

}  // namespace

ProcessorDefinition VadDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "vad";
  definition.info.summary =
      "Voice activity detection: an event at each start and stop of speech; optionally mutes "
      "what is not speech.";
  ParamInfo threshold;
  threshold.name = "threshold";
  threshold.type = ParamType::kFloat;
  threshold.default_value = 0.5;
  threshold.min = 0.0;
  threshold.max = 1.0;
  threshold.runtime_updatable = true;
  threshold.summary = "Speech probability at which speech starts; lower detects more.";
  ParamInfo hangover;
  hangover.name = "hangover_ms";
  hangover.type = ParamType::kFloat;
  hangover.unit = "ms";
  hangover.default_value = 300.0;
  hangover.min = 0.0;
  hangover.max = 5000.0;
  hangover.summary = "How long a pause must last to end speech; shorter pauses are bridged.";
  ParamInfo mute;
  mute.name = "mute";
  mute.type = ParamType::kBool;
  mute.default_value = 0.0;
  mute.runtime_updatable = true;
  mute.summary = "Fade to silence while there is no speech.";
  ParamInfo report;
  report.name = "report_interval_ms";
  report.type = ParamType::kFloat;
  report.unit = "ms";
  report.default_value = 0.0;
  report.min = 0.0;
  report.max = 10000.0;
  report.summary =
      "Report the mean speech probability every this many ms (whole 10 ms hops); 0: never.";
  definition.info.params = {std::move(threshold), std::move(hangover), std::move(mute),
                            std::move(report)};
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<VadProcessor>(SettingsFrom(params));
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    VadRuntimeSettings settings;
    if (changes.Has("threshold")) settings.threshold = changes.Number("threshold");
    if (changes.Has("mute")) settings.mute = changes.Bool("mute");
    return std::make_unique<TypedUpdate<VadRuntimeSettings>>(settings);
  };
  definition.estimate = EstimateVad;
  return definition;
}

VadProcessor::VadProcessor(const VadSettings& settings) : settings_(settings) {}

absl::StatusOr<ProcessSpec> VadProcessor::Prepare(const ProcessSpec& input) {
  if (absl::Status status = features_.Init(input.sample_rate_hz); !status.ok()) return status;
  channels_ = input.channels;
  hangover_frames_ =
      static_cast<uint64_t>(std::llround(settings_.hangover_ms / 10.0)) * features_.hop_frames();
  report_hops_ = ReportHops(settings_.report_interval_ms);
  hop_.assign(features_.hop_frames(), 0.0f);
  gains_.assign(features_.hop_frames(), 1.0f);
  attack_step_ = static_cast<float>(1000.0 / (kVadMuteAttackMs * input.sample_rate_hz));
  release_step_ = static_cast<float>(1000.0 / (kVadMuteReleaseMs * input.sample_rate_hz));
  Reset();
  return input;
}

void VadProcessor::Reset() noexcept {
  features_.Reset();
  std::fill(hop_.begin(), hop_.end(), 0.0f);
  hop_fill_ = 0;
  frame_ = 0;
  recent_.fill(0.0);
  recent_position_ = 0;
  speechlike_run_ = 0;
  speech_level_db_ = -200.0;
  talker_level_db_ = -200.0;
  active_ = false;
  start_ = 0;
  last_speechlike_ = 0;
  last_stop_ = 0;
  report_fill_ = 0;
  report_sum_ = 0.0;
  gain_ = settings_.mute ? 0.0f : 1.0f;
}

void VadProcessor::ApplySettings(const VadRuntimeSettings& settings) noexcept {
  if (settings.threshold.has_value()) settings_.threshold = *settings.threshold;
  // The gain slews to the new target from where it is, so toggling mute never clicks.
  if (settings.mute.has_value()) settings_.mute = *settings.mute;
}

namespace {
constexpr StateTag kVadStateTag = MakeStateTag("vad ");
constexpr uint16_t kVadStateVersion = 1;
}  // namespace

absl::Status VadProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kVadStateTag, kVadStateVersion);
  writer.PutDouble(settings_.threshold);
  writer.PutBool(settings_.mute);
  features_.SaveState(writer);
  writer.PutFloats(hop_);
  writer.PutU32(hop_fill_);
  writer.PutU64(frame_);
  writer.PutDoubles(recent_);
  writer.PutU32(recent_position_);
  writer.PutU32(speechlike_run_);
  writer.PutDouble(speech_level_db_);
  writer.PutDouble(talker_level_db_);
  writer.PutBool(active_);
  writer.PutU64(start_);
  writer.PutU64(last_speechlike_);
  writer.PutU64(last_stop_);
  writer.PutU32(report_fill_);
  writer.PutDouble(report_sum_);
  writer.PutFloat(gain_);
  return writer.status();
}

absl::Status VadProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kVadStateTag, kVadStateVersion);
  const double threshold = reader.GetFiniteDouble();
  if (!(threshold >= 0 && threshold <= 1)) reader.Fail("vad threshold out of range");
  settings_.threshold = threshold;
  settings_.mute = reader.GetBool();
  features_.RestoreState(reader);
  reader.GetFiniteFloats(hop_);
  hop_fill_ = reader.GetU32AtMost(static_cast<uint32_t>(hop_.size()) - 1);
  frame_ = reader.GetU64();
  reader.GetFiniteDoubles(recent_);
  recent_position_ = reader.GetU32AtMost(kVadSmoothingHops - 1);
  speechlike_run_ = reader.GetU32();
  speech_level_db_ = reader.GetFiniteDouble();
  talker_level_db_ = reader.GetFiniteDouble();
  active_ = reader.GetBool();
  start_ = reader.GetU64();
  last_speechlike_ = reader.GetU64();
  last_stop_ = reader.GetU64();
  report_fill_ = reader.GetU32AtMost(report_hops_);
  report_sum_ = reader.GetFiniteDouble();
  const float gain = reader.GetFiniteFloat();
  if (!(gain >= 0 && gain <= 1)) reader.Fail("vad mute gain out of range");
  gain_ = gain;
  return FinishRestore(reader);
}

void VadProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  const uint32_t hop = static_cast<uint32_t>(hop_.size());
  const float scale = 1.0f / static_cast<float>(channels_);
  uint32_t done = 0;
  while (done < frames) {
    const uint32_t run = std::min(frames - done, hop - hop_fill_);
    for (uint32_t i = 0; i < run; ++i) {
      float sum = 0.0f;
      for (uint32_t c = 0; c < channels_; ++c) sum += in.channel(c)[done + i];
      hop_[hop_fill_ + i] = sum * scale;
    }
    ApplyMute(in, done, run);
    done += run;
    hop_fill_ += run;
    frame_ += run;
    if (hop_fill_ == hop) {
      hop_fill_ = 0;
      EndHop(frame_ - hop);
    }
  }
}

void VadProcessor::ApplyMute(AudioBlock& block, uint32_t offset, uint32_t frames) noexcept {
  const float target = (!settings_.mute || active_) ? 1.0f : 0.0f;
  if (gain_ == 1.0f && target == 1.0f) return;  // the common case: audio untouched
  for (uint32_t i = 0; i < frames; ++i) {
    gain_ = gain_ < target ? std::min(target, gain_ + attack_step_)
                           : std::max(target, gain_ - release_step_);
    gains_[i] = gain_;
  }
  for (uint32_t c = 0; c < channels_; ++c) {
    float* samples = block.channel(c) + offset;
    for (uint32_t i = 0; i < frames; ++i) samples[i] *= gains_[i];
  }
}

void VadProcessor::EndHop(uint64_t hop_start) noexcept {
  const VoiceFeatures& features = features_.Analyze(hop_.data());
  const double threshold = settings_.threshold;
  double probability = features.probability;
  // Far below the talker, ask for far more evidence (kVadFarBelowDb's comment).
  if (features.energy_dbfs >= kVadMinEnergyDbfs &&
      features.energy_dbfs < talker_level_db_ - kVadFarBelowDb) {
    probability = SpeechProbability(features.likelihood, kVadFarBelowEvidence);
    if (!std::isfinite(probability)) probability = 0.0;
  }
  talker_level_db_ =
      probability >= threshold
          ? std::max(talker_level_db_ - kVadTalkerLevelDecayDbPerHop, features.energy_dbfs)
          : talker_level_db_ - kVadTalkerLevelDecayDbPerHop;
  // The speech level: held at each speech-like hop's energy, falling kVadLevelDecayDbPerHop a
  // hop. A hop far below it is a word dying away into the room (or a quiet breath), not the
  // next word, and it must not hold the hangover on for as long as it stays over the noise.
  speech_level_db_ = probability >= threshold
                         ? std::max(speech_level_db_ - kVadLevelDecayDbPerHop, features.energy_dbfs)
                         : speech_level_db_ - kVadLevelDecayDbPerHop;
  if (features.energy_dbfs < speech_level_db_ - kVadLevelSpanDb) probability = 0.0;

  recent_[recent_position_] = probability;
  recent_position_ = (recent_position_ + 1) % kVadSmoothingHops;
  double mean = 0.0;
  for (double p : recent_) mean += p;
  mean /= kVadSmoothingHops;
  speechlike_run_ = probability >= threshold ? speechlike_run_ + 1 : 0;
  Decide(hop_start, probability, mean);

  if (report_hops_ == 0) return;
  report_sum_ += probability;
  if (++report_fill_ < report_hops_) return;
  const uint64_t interval_start = hop_start + hop_.size() - uint64_t{report_hops_} * hop_.size();
  Emit(interval_start,
       SpeechProbabilityEvent{static_cast<float>(report_sum_ / report_hops_), active_});
  report_fill_ = 0;
  report_sum_ = 0.0;
}

void VadProcessor::Decide(uint64_t hop_start, double probability, double mean) noexcept {
  const double threshold = settings_.threshold;
  const uint64_t hop = hop_.size();
  if (!active_) {
    if (mean < threshold) return;
    active_ = true;
    last_speechlike_ = hop_start;
    // Back to the run of speech-like hops that raised the mean, and kVadOnsetHops before it,
    // but not before the last stop.
    const uint64_t back =
        (std::min<uint32_t>(speechlike_run_ > 0 ? speechlike_run_ - 1 : 0, kVadSmoothingHops - 1) +
         kVadOnsetHops) *
        hop;
    start_ = std::max(hop_start >= back ? hop_start - back : 0, last_stop_);
    Emit(start_, VoiceActivityEvent{true, static_cast<float>(mean)});
    return;
  }
  if (probability >= threshold - kVadHysteresis) last_speechlike_ = hop_start;
  // Speech lasts hangover_ms past the last speech-like audio: the start of the window of the
  // last speech-like hop, kVadWindowHops - 1 hops before that hop.
  const uint64_t lag = (kVadWindowHops - 1) * hop;
  const uint64_t held = last_speechlike_ + hangover_frames_;
  const uint64_t stop = std::max(held >= lag ? held - lag : 0, start_);
  if (stop > hop_start + hop) return;
  active_ = false;
  // The pause the hangover waited through was not speech: the stop names the end of the last
  // speech-like hop and its tail (or the hangover's end, if that came first).
  const uint64_t tail_end = last_speechlike_ + uint64_t{1 + kVadTailHops} * hop;
  const uint64_t named = std::max(std::min(stop, tail_end), start_);
  last_stop_ = named + 1;  // a later start lies after this stop
  Emit(named, VoiceActivityEvent{false, static_cast<float>(mean)});
}

}  // namespace audioproc
