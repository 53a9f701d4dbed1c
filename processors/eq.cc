#include "processors/eq.h"

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_format.h"
#include "dsp/biquad.h"
#include "dsp/biquad_design.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

constexpr double kMaxFrequencyHz = 96000;  // Nyquist of the highest stream rate

// The proto's EqBandType names, in its order, and the design each stands for.
struct BandType {
  const char* name;
  FilterType type;
};
constexpr std::array<BandType, 7> kBandTypes = {{
    {"PEAKING", FilterType::kPeaking},
    {"LOWSHELF", FilterType::kLowshelf},
    {"HIGHSHELF", FilterType::kHighshelf},
    {"LOWPASS", FilterType::kLowpass},
    {"HIGHPASS", FilterType::kHighpass},
    {"BANDPASS", FilterType::kBandpass},
    {"NOTCH", FilterType::kNotch},
}};

// Validation has already restricted the name to kBandTypes.
FilterType TypeNamed(const std::string& name) {
  for (const BandType& band : kBandTypes) {
    if (name == band.name) return band.type;
  }
  return FilterType::kPeaking;
}

class EqProcessor final : public Processor {
 public:
  explicit EqProcessor(const ParamValues& params) {
    const ParamValue* bands = params.Find("bands");
    if (bands == nullptr) return;
    for (const ParamValues& band : std::get<std::vector<ParamValues>>(*bands)) {
      // order 2 makes LOWPASS / HIGHPASS the single section of quality q.
      bands_.push_back({TypeNamed(band.Text("type")), band.Number("freq_hz"), band.Number("q"),
                        band.Number("gain_db"), /*order=*/2});
    }
  }

  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override {
    const double nyquist = input.sample_rate_hz / 2;
    std::array<BiquadCoefficients, kMaxEqBands> sections;
    if (bands_.size() > sections.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "eq.bands may hold at most %d entries, got %d", kMaxEqBands, bands_.size()));
    }
    for (size_t i = 0; i < bands_.size(); ++i) {
      if (!(bands_[i].frequency_hz > 0 && bands_[i].frequency_hz < nyquist)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("eq.bands[%d].freq_hz must be in (0, %g) Hz, got %g", i, nyquist,
                            bands_[i].frequency_hz));
      }
      // Every band type designs to exactly one section.
      sections[i] = DesignBiquadFilter(bands_[i], input.sample_rate_hz)[0];
    }
    cascade_.Prepare(input.channels);
    cascade_.SetSections({sections.data(), bands_.size()});
    return input;
  }

  void Process(AudioBlock& in, AudioBlock& /*out*/) noexcept override {
    if (cascade_.num_sections() > 0) cascade_.Process(in, 0, in.num_frames());
  }

  void Reset() noexcept override { cascade_.Reset(); }

  // The bands' registers (their coefficients are the config's).
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override {
    writer.PutTag(kStateTag, kStateVersion);
    cascade_.SaveState(writer);
    return writer.status();
  }
  absl::Status RestoreState(StateReader& reader) override {
    reader.ExpectTag(kStateTag, kStateVersion);
    cascade_.RestoreState(reader);
    return FinishRestore(reader);
  }

 private:
  static constexpr StateTag kStateTag = MakeStateTag("eq  ");
  static constexpr uint16_t kStateVersion = 1;

  std::vector<FilterDesign> bands_;
  BiquadCascadeOf<kMaxEqBands> cascade_;
};

// The processor with its fixed cascade, and the bands it keeps (a vector grown band by band);
// the cost is the cascade's, one section per band (none: Process does nothing).
absl::StatusOr<StageEstimate> EstimateEq(const ParamValues& params, const ProcessSpec& input) {
  const ParamValue* bands = params.Find("bands");
  const size_t count = bands == nullptr ? 0 : std::get<std::vector<ParamValues>>(*bands).size();
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(EqProcessor)) +
                          cost::HeapBlock(cost::GrownCapacity(count) * sizeof(FilterDesign));
  estimate.cpu_cores = count == 0 ? 0.0
                                  : cost::BiquadCascadeCores(input.sample_rate_hz, input.channels,
                                                             static_cast<int>(count));
  return estimate;
}

ParamInfo BandField(const char* name, const char* unit, double min, double max,
                    const char* summary) {
  ParamInfo info;
  info.name = name;
  info.unit = unit;
  info.min = min;
  info.max = max;
  info.summary = summary;
  return info;
}

}  // namespace

ProcessorDefinition EqDefinition() {
  ParamInfo type;
  type.name = "type";
  type.type = ParamType::kEnum;
  type.required = true;
  for (const BandType& band : kBandTypes) type.allowed_values.emplace_back(band.name);
  type.summary = "Shape of the band (RBJ cookbook biquad).";

  ParamInfo freq_hz = BandField(
      "freq_hz", "Hz", 0, kMaxFrequencyHz,
      "Center (PEAKING, BANDPASS, NOTCH), shelf midpoint, or cutoff (LOWPASS, HIGHPASS).");
  freq_hz.min_bound = Bound::kExclusive;
  freq_hz.max_bound = Bound::kExclusive;
  freq_hz.below_nyquist = true;
  freq_hz.required = true;

  ParamInfo q =
      BandField("q", "", 0.1, 40,
                "Center over bandwidth, or resonance; higher is narrower (0.7071 is Butterworth).");
  q.default_value = 0.7071;

  ParamInfo gain_db =
      BandField("gain_db", "dB", -48, 48, "Gain of PEAKING at its center, of a shelf at its end.");
  gain_db.default_value = 0;

  ParamInfo bands;
  bands.name = "bands";
  bands.type = ParamType::kRecordList;
  bands.max = kMaxEqBands;
  bands.summary = "The bands, applied in series; at most 16.";
  bands.fields = {std::move(type), std::move(freq_hz), std::move(q), std::move(gain_db)};

  ProcessorDefinition definition;
  definition.info.name = "eq";
  definition.info.summary = "Parametric equalizer: up to 16 biquad bands in series.";
  definition.info.params.push_back(std::move(bands));
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<EqProcessor>(params);
  };
  definition.estimate = EstimateEq;
  // A gentle three-band tone shape, valid at every rate from 16 kHz up.
  std::vector<ParamValues> example(3);
  example[0].Set("type", std::string("LOWSHELF"));
  example[0].Set("freq_hz", 120.0);
  example[0].Set("gain_db", 3.0);
  example[1].Set("type", std::string("PEAKING"));
  example[1].Set("freq_hz", 1000.0);
  example[1].Set("q", 1.0);
  example[1].Set("gain_db", -2.0);
  example[2].Set("type", std::string("HIGHSHELF"));
  example[2].Set("freq_hz", 6000.0);
  example[2].Set("gain_db", 2.0);
  definition.example.Set("bands", std::move(example));
  return definition;
}

}  // namespace audioproc
