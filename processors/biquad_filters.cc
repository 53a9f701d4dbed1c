#include "processors/biquad_filters.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_format.h"
#include "dsp/biquad.h"
#include "dsp/biquad_design.h"
#include "dsp/cost_model.h"
#include "dsp/smoothed_value.h"

namespace audioproc {
namespace {

// Parameters reach a new value over kParameterRampMs (DESIGN allows up to 20 ms). While they
// ramp, the filter is redesigned at every sample: redesigning every N samples instead makes
// small coefficient steps that transposed direct form II turns into zipper noise on low tones
// (measured by UpdateRampsWithoutDiscontinuity: the output's second difference reached 4.5
// times the steady signal's with N = 16 and 2.4 times with N = 8; it stays within 1.5 times
// with N = 1). The cost, a few transcendental functions per sample for the 10 ms of a ramp, is
// small, and per-sample steps make the output trivially independent of block sizes.

constexpr double kMaxFrequencyHz = 96000;  // Nyquist of the highest stream rate
constexpr double kDefaultQ = 0.7071;

// The names and defaults of one filter type's parameters.
struct FilterKind {
  FilterType type;
  const char* name;
  const char* frequency_param;  // "cutoff_hz" or "center_hz"
};

// Frequency and q move geometrically (equal ratios per step sound even), gain in dB linearly;
// in double, from the position, as the filters have always ramped.
using GeometricParam = SmoothedValue<double, RampLaw::kMultiplicative>;
using LinearParam = SmoothedValue<double, RampLaw::kLinear>;

class BiquadFilterProcessor final : public UpdatableProcessor<BiquadRuntimeSettings> {
 public:
  BiquadFilterProcessor(const FilterKind& kind, const ParamValues& params)
      : kind_(kind),
        frequency_(params.Number(kind.frequency_param)),
        q_(params.Number("q")),
        gain_db_(params.Has("gain_db") ? params.Number("gain_db") : 0.0) {
    if (params.Has("order")) order_ = params.Int("order");
  }

  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override {
    const double nyquist = input.sample_rate_hz / 2;
    const double frequency = frequency_.GetTargetValue();
    if (!(frequency > 0 && frequency < nyquist)) {
      return absl::InvalidArgumentError(absl::StrFormat("%s.%s must be in (0, %g) Hz, got %g",
                                                        kind_.name, kind_.frequency_param, nyquist,
                                                        frequency));
    }
    sample_rate_hz_ = input.sample_rate_hz;
    const uint32_t ramp_steps = RampSteps(sample_rate_hz_, kParameterRampMs);
    frequency_.Reset(ramp_steps);
    q_.Reset(ramp_steps);
    gain_db_.Reset(ramp_steps);
    cascade_.Prepare(input.channels);
    Reset();
    return input;
  }

  void Process(AudioBlock& in, AudioBlock& /*out*/) noexcept override {
    const uint32_t frames = in.num_frames();
    uint32_t offset = 0;
    for (; offset < frames && Ramping(); ++offset) {
      frequency_.GetNextValue();
      q_.GetNextValue();
      gain_db_.GetNextValue();
      Redesign();
      cascade_.Process(in, offset, 1);
    }
    if (offset < frames) cascade_.Process(in, offset, frames - offset);
  }

  // Keeps the latest parameters (those of any update applied since Prepare), without a ramp:
  // the chain's resolved parameters already show them.
  void Reset() noexcept override {
    frequency_.SetCurrentAndTargetValue(frequency_.GetTargetValue());
    q_.SetCurrentAndTargetValue(q_.GetTargetValue());
    gain_db_.SetCurrentAndTargetValue(gain_db_.GetTargetValue());
    cascade_.Reset();
    Redesign();
  }

  void ApplySettings(const BiquadRuntimeSettings& settings) noexcept override {
    // Every parameter starts a new ramp from where it is, a ramp in flight included, so
    // parameters never jump and all of them arrive together.
    frequency_.SetTargetValue(settings.frequency_hz.value_or(frequency_.GetTargetValue()));
    q_.SetTargetValue(settings.q.value_or(q_.GetTargetValue()));
    gain_db_.SetTargetValue(settings.gain_db.value_or(gain_db_.GetTargetValue()));
  }

  // The parameters' ramps and the cascade's registers; the sections are redesigned from the
  // ramps, as Process last designed them.
  bool SupportsState() const override { return true; }

  absl::Status SaveState(StateWriter& writer) const override {
    writer.PutTag(kBiquadStateTag, kBiquadStateVersion);
    frequency_.SaveState(writer);
    q_.SaveState(writer);
    gain_db_.SaveState(writer);
    cascade_.SaveState(writer);
    return writer.status();
  }

  absl::Status RestoreState(StateReader& reader) override {
    reader.ExpectTag(kBiquadStateTag, kBiquadStateVersion);
    // In (0, Nyquist), as Prepare and updates require.
    frequency_.RestoreState(reader, kMinRestoredHz, std::nextafter(sample_rate_hz_ / 2, 0.0));
    q_.RestoreState(reader, 0.1, 40);
    gain_db_.RestoreState(reader, -48, 48);
    if (reader.ok()) Redesign();
    cascade_.RestoreState(reader);
    return FinishRestore(reader);
  }

 private:
  static constexpr StateTag kBiquadStateTag = MakeStateTag("bqdf");
  static constexpr uint16_t kBiquadStateVersion = 1;
  // A frequency the designs take; parameters are validated to (0, Nyquist).
  static constexpr double kMinRestoredHz = 1e-3;

  bool Ramping() const noexcept {
    return frequency_.IsSmoothing() || q_.IsSmoothing() || gain_db_.IsSmoothing();
  }

  void Redesign() noexcept {
    cascade_.SetSections(
        DesignBiquadFilter({kind_.type, frequency_.GetCurrentValue(), q_.GetCurrentValue(),
                            gain_db_.GetCurrentValue(), order_},
                           sample_rate_hz_));
  }

  const FilterKind kind_;
  int order_ = 2;
  GeometricParam frequency_;
  GeometricParam q_;
  LinearParam gain_db_;
  double sample_rate_hz_ = 48000;
  BiquadCascade cascade_;
};

ParamInfo FrequencyParam(const char* name, const char* summary) {
  ParamInfo info;
  info.name = name;
  info.unit = "Hz";
  info.min = 0;
  info.min_bound = Bound::kExclusive;
  info.max = kMaxFrequencyHz;
  info.max_bound = Bound::kExclusive;
  info.below_nyquist = true;
  info.required = true;
  info.runtime_updatable = true;
  info.summary = summary;
  return info;
}

ParamInfo QParam(double default_value, bool runtime_updatable, const char* summary) {
  ParamInfo info;
  info.name = "q";
  info.default_value = default_value;
  info.min = 0.1;
  info.max = 40;
  info.runtime_updatable = runtime_updatable;
  info.summary = summary;
  return info;
}

ParamInfo GainParam(const char* summary) {
  ParamInfo info;
  info.name = "gain_db";
  info.unit = "dB";
  info.default_value = 0;
  info.min = -48;
  info.max = 48;
  info.runtime_updatable = true;
  info.summary = summary;
  return info;
}

ParamInfo OrderParam() {
  ParamInfo info;
  info.name = "order";
  info.type = ParamType::kInt;
  info.default_value = 2;
  info.min = 1;
  info.max = 2 * kMaxBiquadSections;
  info.summary = "Butterworth order: slope of 6 dB per octave per order";
  return info;
}

// q only shapes a second-order section; a cascade's q values are fixed by Butterworth.
template <const FilterKind& kKind>
absl::Status ValidatePass(const ParamValues& params, const ProcessSpec& /*input*/) {
  const int order = params.Int("order");
  const double q = params.Number("q");
  // Compared as float: q arrives from a proto float, so an explicit 0.7071 is 0.7071f.
  if (order != 2 && static_cast<float>(q) != static_cast<float>(kDefaultQ)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s.q applies only to order 2 (where it must be in [0.1, 40]); with order %d leave it "
        "at its default %g, got %g",
        kKind.name, order, kDefaultQ, q));
  }
  return absl::OkStatus();
}

template <const FilterKind& kKind>
std::unique_ptr<Processor> Create(const ParamValues& params) {
  return std::make_unique<BiquadFilterProcessor>(kKind, params);
}

template <const FilterKind& kKind>
std::unique_ptr<ProcessorUpdate> ResolveUpdate(const ParamValues& changes) {
  BiquadRuntimeSettings settings;
  if (changes.Has(kKind.frequency_param)) {
    settings.frequency_hz = changes.Number(kKind.frequency_param);
  }
  if (changes.Has("q")) settings.q = changes.Number("q");
  if (changes.Has("gain_db")) settings.gain_db = changes.Number("gain_db");
  return std::make_unique<TypedUpdate<BiquadRuntimeSettings>>(settings);
}

// What Prepare keeps is the processor itself (its cascade's state is a fixed array). The cost
// is its cascade's, at the order's number of sections; the per-sample redesign while a
// runtime update ramps (10 ms) is not counted.
template <const FilterKind& kKind>
absl::StatusOr<StageEstimate> Estimate(const ParamValues& params, const ProcessSpec& input) {
  FilterDesign design{kKind.type, params.Number(kKind.frequency_param), params.Number("q"), 0,
                      params.Has("order") ? params.Int("order") : 2};
  const int sections = DesignBiquadFilter(design, input.sample_rate_hz).size();
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(BiquadFilterProcessor));
  estimate.cpu_cores = cost::BiquadCascadeCores(input.sample_rate_hz, input.channels, sections);
  return estimate;
}

constexpr FilterKind kHighpass{FilterType::kHighpass, "highpass", "cutoff_hz"};
constexpr FilterKind kLowpass{FilterType::kLowpass, "lowpass", "cutoff_hz"};
constexpr FilterKind kBandpass{FilterType::kBandpass, "bandpass", "center_hz"};
constexpr FilterKind kNotch{FilterType::kNotch, "notch", "center_hz"};
constexpr FilterKind kPeaking{FilterType::kPeaking, "peaking", "center_hz"};
constexpr FilterKind kLowshelf{FilterType::kLowshelf, "lowshelf", "cutoff_hz"};
constexpr FilterKind kHighshelf{FilterType::kHighshelf, "highshelf", "cutoff_hz"};

template <const FilterKind& kKind>
ProcessorDefinition PassDefinition(const char* summary, const char* cutoff_summary) {
  return {{kKind.name,
           summary,
           {FrequencyParam("cutoff_hz", cutoff_summary),
            QParam(kDefaultQ, false,
                   "resonance of an order-2 filter (0.7071 is Butterworth); other orders "
                   "take no q"),
            OrderParam()}},
          &ValidatePass<kKind>,
          &Create<kKind>,
          &Estimate<kKind>,
          {},
          &ResolveUpdate<kKind>};
}

}  // namespace

ProcessorDefinition HighpassDefinition() {
  return PassDefinition<kHighpass>("Butterworth highpass filter, orders 1 to 8",
                                   "frequency below which the signal is cut, -3 dB point");
}

ProcessorDefinition LowpassDefinition() {
  return PassDefinition<kLowpass>("Butterworth lowpass filter, orders 1 to 8",
                                  "frequency above which the signal is cut, -3 dB point");
}

ProcessorDefinition BandpassDefinition() {
  return {{kBandpass.name,
           "band-pass filter (RBJ cookbook), 0 dB at the center",
           {FrequencyParam("center_hz", "center of the pass band"),
            QParam(kDefaultQ, true, "center over bandwidth: higher is narrower")}},
          nullptr,
          &Create<kBandpass>,
          &Estimate<kBandpass>,
          {},
          &ResolveUpdate<kBandpass>};
}

ProcessorDefinition NotchDefinition() {
  return {{kNotch.name,
           "notch filter (RBJ cookbook) removing one frequency",
           {FrequencyParam("center_hz", "frequency removed"),
            QParam(kDefaultQ, true, "center over bandwidth: higher is narrower")}},
          nullptr,
          &Create<kNotch>,
          &Estimate<kNotch>,
          {},
          &ResolveUpdate<kNotch>};
}

ProcessorDefinition PeakingDefinition() {
  return {{kPeaking.name,
           "peaking equalizer (RBJ cookbook): boost or cut around a center frequency",
           {FrequencyParam("center_hz", "center of the boost or cut"),
            QParam(1, true, "center over bandwidth: higher is narrower"),
            GainParam("gain at the center frequency")}},
          nullptr,
          &Create<kPeaking>,
          &Estimate<kPeaking>,
          {},
          &ResolveUpdate<kPeaking>};
}

ProcessorDefinition LowshelfDefinition() {
  return {{kLowshelf.name,
           "low shelf (RBJ cookbook): boost or cut below a frequency",
           {FrequencyParam("cutoff_hz", "shelf midpoint frequency"),
            GainParam("gain of the shelf, reached at DC"),
            QParam(kDefaultQ, true, "steepness of the transition; above 0.7071 it overshoots")}},
          nullptr,
          &Create<kLowshelf>,
          &Estimate<kLowshelf>,
          {},
          &ResolveUpdate<kLowshelf>};
}

ProcessorDefinition HighshelfDefinition() {
  return {{kHighshelf.name,
           "high shelf (RBJ cookbook): boost or cut above a frequency",
           {FrequencyParam("cutoff_hz", "shelf midpoint frequency"),
            GainParam("gain of the shelf, reached at Nyquist"),
            QParam(kDefaultQ, true, "steepness of the transition; above 0.7071 it overshoots")}},
          nullptr,
          &Create<kHighshelf>,
          &Estimate<kHighshelf>,
          {},
          &ResolveUpdate<kHighshelf>};
}

}  // namespace audioproc
