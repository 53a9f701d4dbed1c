#include "processors/biquad.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <limits>

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

void BiquadCascade::Prepare(uint32_t channels) {
  assert(channels <= kMaxChannels);
  channels_ = std::min(channels, kMaxChannels);
  Reset();
}

void BiquadCascade::SetSections(std::span<const BiquadCoefficients> sections) noexcept {
  assert(sections.size() <= kMaxBiquadSections);
  const int count = static_cast<int>(std::min<size_t>(sections.size(), kMaxBiquadSections));
  // Sections that did not run before start from silence rather than from stale state.
  for (int s = num_sections_; s < count; ++s) {
    for (uint32_t c = 0; c < channels_; ++c) state_[c][s] = State{};
  }
  std::copy_n(sections.begin(), count, sections_.begin());
  num_sections_ = count;
}

void BiquadCascade::Process(const AudioBlock& block, uint32_t offset, uint32_t frames) noexcept {
  assert(block.num_channels() == channels_);
  assert(offset + frames <= block.num_frames());
  constexpr double kMax = std::numeric_limits<float>::max();
  const int sections = num_sections_;
  for (uint32_t c = 0; c < channels_; ++c) {
    float* samples = block.channel(c) + offset;
    // Local copies let the compiler keep coefficients and state in registers.
    std::array<State, kMaxBiquadSections> state = state_[c];
    for (uint32_t n = 0; n < frames; ++n) {
      double x = samples[n];
      for (int s = 0; s < sections; ++s) {
        const BiquadCoefficients& k = sections_[s];
        State& z = state[s];
        const double y = k.b0 * x + z.z1;
        z.z1 = k.b1 * x - k.a1 * y + z.z2;
        z.z2 = k.b2 * x - k.a2 * y;
        x = y;
      }
      samples[n] = static_cast<float>(std::clamp(x, -kMax, kMax));
    }
    state_[c] = state;
  }
}

void BiquadCascade::Reset() noexcept {
  for (auto& channel : state_) channel.fill(State{});
}

}  // namespace audioproc
