#include "dsp/biquad.h"

#include <cstdio>
#include <cstdlib>

namespace audioproc {

void BiquadSections::Add(const BiquadCoefficients& section) {
  if (size_ >= kMaxBiquadSections) {
    // Designs are bounded by the validated order; getting here is a programming error.
    std::fprintf(stderr, "audioproc: a biquad design produced more than %d sections\n",
                 kMaxBiquadSections);
    std::abort();
  }
  sections_[size_++] = section;
}

}  // namespace audioproc
