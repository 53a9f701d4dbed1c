// The built-in processors: one ProcessorDefinition per processor, each from its own file.
#include "chain/registry.h"
#include "processors/aec.h"
#include "processors/analyze.h"
#include "processors/biquad_filters.h"
#include "processors/compressor.h"
#include "processors/convolve.h"
#include "processors/dc_block.h"
#include "processors/denoise.h"
#include "processors/eq.h"
#include "processors/gain.h"
#include "processors/limiter.h"
#include "processors/loudness.h"
#include "processors/mix.h"
#include "processors/noise_gate.h"
#include "processors/resample.h"
#include "processors/vad.h"

namespace audioproc {

const ProcessorRegistry& ProcessorRegistry::Default() {
  static const ProcessorRegistry* const registry = new ProcessorRegistry({
      GainDefinition(),      MixDefinition(),        HighpassDefinition(), LowpassDefinition(),
      BandpassDefinition(),  NotchDefinition(),      PeakingDefinition(),  LowshelfDefinition(),
      HighshelfDefinition(), DcBlockDefinition(),    LimiterDefinition(),  EqDefinition(),
      NoiseGateDefinition(), CompressorDefinition(), ConvolveDefinition(), VadDefinition(),
      AnalyzeDefinition(),   DenoiseDefinition(),    ResampleDefinition(), LoudnessDefinition(),
      AecDefinition(),
  });
  return *registry;
}

}  // namespace audioproc
