#include "processors/dc_block.h"

#include <memory>

#include "dsp/biquad.h"
#include "dsp/biquad_design.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

class DcBlockProcessor final : public Processor {
 public:
  explicit DcBlockProcessor(double cutoff_hz) : cutoff_hz_(cutoff_hz) {}

  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override {
    const BiquadCoefficients section =
        FirstOrderPass(/*highpass=*/true, cutoff_hz_, input.sample_rate_hz);
    cascade_.Prepare(input.channels);
    cascade_.SetSections({&section, 1});
    return input;
  }

  void Process(AudioBlock& in, AudioBlock& /*out*/) noexcept override {
    cascade_.Process(in, 0, in.num_frames());
  }

  void Reset() noexcept override { cascade_.Reset(); }

  // The section's registers (its coefficients are the config's).
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
  static constexpr StateTag kStateTag = MakeStateTag("dcbk");
  static constexpr uint16_t kStateVersion = 1;

  const double cutoff_hz_;
  BiquadCascade cascade_;
};

std::unique_ptr<Processor> Create(const ParamValues& params) {
  return std::make_unique<DcBlockProcessor>(params.Number("cutoff_hz"));
}

// One first-order section; the state is the processor's own fixed array.
absl::StatusOr<StageEstimate> Estimate(const ParamValues& /*params*/, const ProcessSpec& input) {
  StageEstimate estimate;
  estimate.output = input;
  estimate.memory_bytes = cost::HeapBlock(sizeof(DcBlockProcessor));
  estimate.cpu_cores = cost::BiquadCascadeCores(input.sample_rate_hz, input.channels, 1);
  return estimate;
}

}  // namespace

ProcessorDefinition DcBlockDefinition() {
  ParamInfo cutoff;
  cutoff.name = "cutoff_hz";
  cutoff.unit = "Hz";
  cutoff.default_value = 5;
  cutoff.min = 0.5;
  cutoff.max = 50;
  cutoff.summary = "-3 dB point of the first-order highpass; lower settles more slowly";
  return {{"dc_block", "removes DC offset (first-order highpass, exact zero at DC)", {cutoff}},
          nullptr,
          &Create,
          &Estimate,
          {},
          nullptr};
}

}  // namespace audioproc
