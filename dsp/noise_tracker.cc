#include "dsp/noise_tracker.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "dsp/cost_model.h"
#include "dsp/spectral_gain.h"

namespace audioproc {
namespace {

// Cohen (2003), Table I, at his 8 ms hop: a_s = 0.9 and a_d = 0.85, as time constants.
constexpr double kPowerSmoothingSeconds = 0.076;
constexpr double kNoiseAveragingSeconds = 0.049;
// The minimum of the smoothed periodogram of noise, over the window, is below its mean by
// about this factor (Cohen's B_min).
constexpr float kMinimumBias = 1.66f;
// Speech is surely absent where P / (B_min S_min) < gamma0 and S / (B_min S_min) < zeta0.
constexpr float kGamma0 = 4.6f;
constexpr float kZeta0 = 1.67f;
// q falls from 1 at P / (B_min S_min) = 1 to 0 at gamma1.
constexpr float kGamma1 = 3.0f;
// Averaging only while speech is absent picks the lower values of P: this restores the mean.
constexpr float kNoiseBias = 1.47f;

// The crowd detector (step 5): the local moments' time constant, and how many of them the
// moments take to settle from their start; the fluctuation at which the bias starts and where
// it is full; the bias; how fast the bias follows the detector. The bias was chosen on the
// tests' six voices in babble at -5..15 dB (denoise_noise_test): x 3.5 to 5 give the best SNR
// gain, 2.8 to 3.0 dB against 1.8 (16 kHz) and 2.1 (48 kHz) without; 4 gives 2.96 and 2.97.
constexpr double kFluctuationSeconds = 0.036;
constexpr double kFluctuationSettlingTimeConstants = 4.0;
constexpr float kCrowdFluctuationStart = 2.0f;
constexpr float kCrowdFluctuationFull = 3.0f;
constexpr float kCrowdBias = 4.0f;
constexpr double kCrowdBiasSeconds = 0.5;
// One frame's normalized periodogram is held below this before it is squared (so the moments
// stay finite whatever the input), and a bin's fluctuation below kMaxFluctuation (so one bin
// of a sudden tone cannot decide for the band).
constexpr float kMaxNormalizedPower = 1e3f;
constexpr float kMaxFluctuation = 8.0f;

// The estimate never drops below this: digital silence would otherwise make it 0 and every
// later SNR infinite. Far below one s16 LSB's power in any bin, far above float's smallest.
constexpr float kNoiseFloor = 1e-20f;

double Coefficient(double seconds, double frame_rate_hz) {
  return std::exp(-1.0 / (seconds * frame_rate_hz));
}

// out[k] = 0.25 x[k - 1] + 0.5 x[k] + 0.25 x[k + 1] (Cohen's b with w = 1), folded at the
// band edges so it keeps its unit sum; the interior loop vectorizes.
AUDIOPROC_SIMD_CLONES void AcrossBins(const float* x, size_t bins, float* out) {
  if (bins == 1) {
    out[0] = x[0];
    return;
  }
  const size_t last = bins - 1;
  out[0] = 0.25f * x[1] + 0.5f * x[0] + 0.25f * x[1];
#pragma omp simd
  for (size_t k = 1; k < last; ++k) out[k] = 0.25f * x[k - 1] + 0.5f * x[k] + 0.25f * x[k + 1];
  out[last] = 0.25f * x[last - 1] + 0.5f * x[last] + 0.25f * x[last - 1];
}

// One smoothing step S = a S + (1 - a) value with both minimum trackers, per bin.
AUDIOPROC_SIMD_CLONES void Smooth(const float* value, float alpha, size_t bins, float* smoothed,
                                  float* minimum, float* current_minimum) {
#pragma omp simd
  for (size_t k = 0; k < bins; ++k) {
    const float s = alpha * smoothed[k] + (1.0f - alpha) * value[k];
    smoothed[k] = s;
    minimum[k] = s < minimum[k] ? s : minimum[k];
    current_minimum[k] = s < current_minimum[k] ? s : current_minimum[k];
  }
}

}  // namespace

void NoiseTracker::MinimumSearch::Init(size_t bins) {
  smoothed.assign(bins, 0.0f);
  minimum.assign(bins, 0.0f);
  current_minimum.assign(bins, 0.0f);
  subwindows.assign(bins * kSubwindows, 0);
}

void NoiseTracker::MinimumSearch::Start(const float* value, size_t bins) {
  std::copy(value, value + bins, smoothed.begin());
  std::copy(value, value + bins, minimum.begin());
  std::copy(value, value + bins, current_minimum.begin());
}

void NoiseTracker::MinimumSearch::EndSubwindow(uint32_t slot, uint32_t stored, size_t bins) {
  uint16_t* stored_slot = subwindows.data() + slot * bins;
  for (size_t k = 0; k < bins; ++k) {
    stored_slot[k] = static_cast<uint16_t>(std::bit_cast<uint32_t>(current_minimum[k]) >> 16);
  }
  const auto expand = [](uint16_t upper) { return std::bit_cast<float>(uint32_t{upper} << 16); };
  for (size_t k = 0; k < bins; ++k) minimum[k] = expand(subwindows[k]);
  for (uint32_t w = 1; w < stored; ++w) {
    const uint16_t* window_minimum = subwindows.data() + w * bins;
    for (size_t k = 0; k < bins; ++k) minimum[k] = std::min(minimum[k], expand(window_minimum[k]));
  }
  std::copy(smoothed.begin(), smoothed.end(), current_minimum.begin());
}

NoiseTracker::Band NoiseTracker::Clipped(size_t bins, Band band) {
  band.end = std::min(band.end, bins);
  band.first = std::min(band.first, band.end);
  return band.first < band.end ? band : Band{0, bins};
}

uint64_t NoiseTracker::InitBytes(size_t bins, Band band) {
  band = Clipped(bins, band);
  // Two minimum searches (three spectra and kSubwindows more each), five spectra, the crowd
  // detector's two moments over the band and its ring.
  return 2 * (3 * cost::VectorBytes<float>(bins) +
              cost::VectorBytes<uint16_t>(bins * kSubwindows)) +
         5 * cost::VectorBytes<float>(bins) + 2 * cost::VectorBytes<float>(band.end - band.first) +
         SlidingMin::InitBytes(kFluctuationSubwindows);
}

void NoiseTracker::Init(size_t bins, double frame_rate_hz, Band band) {
  bins_ = bins;
  band_ = Clipped(bins, band);
  alpha_f_ = static_cast<float>(Coefficient(kFluctuationSeconds, frame_rate_hz));
  alpha_c_ = static_cast<float>(Coefficient(kCrowdBiasSeconds, frame_rate_hz));
  fluctuation_settling_frames_ = static_cast<uint32_t>(
      std::ceil(kFluctuationSettlingTimeConstants * kFluctuationSeconds * frame_rate_hz));
  moment1_.assign(band_.end - band_.first, 0.0f);
  moment2_.assign(band_.end - band_.first, 0.0f);
  fluctuation_minima_.Init(kFluctuationSubwindows);
  alpha_s_ = static_cast<float>(Coefficient(kPowerSmoothingSeconds, frame_rate_hz));
  alpha_d_ = static_cast<float>(Coefficient(kNoiseAveragingSeconds, frame_rate_hz));
  subwindow_frames_ =
      std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(kSubwindowSeconds * frame_rate_hz)));
  first_.Init(bins);
  second_.Init(bins);
  across_.assign(bins, 0.0f);
  absent_.assign(bins, 0.0f);
  average_.assign(bins, 0.0f);
  presence_.assign(bins, 0.0f);
  noise_.assign(bins, kNoiseFloor);
  Reset();
}

void NoiseTracker::Reset() noexcept {
  initialized_ = false;
  subwindow_position_ = 0;
  oldest_subwindow_ = 0;
  stored_subwindows_ = 0;
  std::fill(moment1_.begin(), moment1_.end(), 0.0f);
  std::fill(moment2_.begin(), moment2_.end(), 0.0f);
  fluctuation_minima_.Reset();
  fluctuation_stored_ = 0;
  fluctuation_minimum_ = std::numeric_limits<float>::max();
  settling_frames_ = fluctuation_settling_frames_;
  crowd_bias_ = 1.0f;
  std::fill(presence_.begin(), presence_.end(), 0.0f);
  std::fill(noise_.begin(), noise_.end(), kNoiseFloor);
}

AUDIOPROC_SIMD_CLONES void NoiseTracker::Update(const float* power,
                                                const float* priori_snr) noexcept {
  const size_t bins = bins_;
  float* across = across_.data();
  float* absent = absent_.data();
  AcrossBins(power, bins, across);
  if (!initialized_) {
    first_.Start(across, bins);
    second_.Start(across, bins);
    for (size_t k = 0; k < bins; ++k) {
      average_[k] = power[k];
      noise_[k] = std::max(power[k], kNoiseFloor);
      presence_[k] = 0.0f;
    }
    // The moments start as the noise's own: P / estimate = 1, fluctuation 1.
    std::fill(moment1_.begin(), moment1_.end(), 1.0f);
    std::fill(moment2_.begin(), moment2_.end(), 2.0f);
    initialized_ = true;
    return;
  }
  UpdateCrowdBias(power);

  // First pass, and the rough decision from it.
  Smooth(across, alpha_s_, bins, first_.smoothed.data(), first_.minimum.data(),
         first_.current_minimum.data());
  {
    const float* smoothed = first_.smoothed.data();
    const float* minimum = first_.minimum.data();
#pragma omp simd
    for (size_t k = 0; k < bins; ++k) {
      const float floor = kMinimumBias * minimum[k];
      // & rather than &&: both comparisons are cheap, and a branch would stop vectorization.
      absent[k] = ((power[k] < kGamma0 * floor) & (smoothed[k] < kZeta0 * floor)) ? 1.0f : 0.0f;
    }
  }
  // Second pass over the bins where speech is absent; where none of a bin's neighbourhood
  // is, it keeps its value. `across` now holds absent x P, `weights` absent, both smoothed
  // across bins (the first pass is done with `across`).
  float* weighted = across;
  {
    float* masked = presence_.data();  // scratch until the presence loop below
#pragma omp simd
    for (size_t k = 0; k < bins; ++k) masked[k] = absent[k] * power[k];
    AcrossBins(masked, bins, weighted);
  }
  float* weights = presence_.data();
  AcrossBins(absent, bins, weights);
  {
    const float* smoothed = second_.smoothed.data();
#pragma omp simd
    for (size_t k = 0; k < bins; ++k) {
      const float weight = weights[k];
      const float kept = smoothed[k];
      const float mean = weighted[k] / (weight > 0.0f ? weight : 1.0f);
      weighted[k] = weight > 0.0f ? mean : kept;
    }
  }
  Smooth(weighted, alpha_s_, bins, second_.smoothed.data(), second_.minimum.data(),
         second_.current_minimum.data());

  {
    const float* first_smoothed = first_.smoothed.data();
    const float* second_minimum = second_.minimum.data();
    float* presence = presence_.data();
    float* average = average_.data();
    float* noise = noise_.data();
    const float alpha_d = alpha_d_;
    const float bias = kNoiseBias * crowd_bias_;
#pragma omp simd
    for (size_t k = 0; k < bins; ++k) {
      // Against the second pass's minimum. kNoiseFloor keeps a silent bin's ratios finite.
      const float bias_minimum = kMinimumBias * second_minimum[k];
      const float floor = bias_minimum > kNoiseFloor ? bias_minimum : kNoiseFloor;
      const float gamma_min = power[k] / floor;
      const float zeta = first_smoothed[k] / floor;
      // q = 1 at gamma_min <= 1 (p = 0), falling to 0 at gamma1 (p = 1); p = 1 wherever P
      // or S stands well above the minimum.
      // q is in (0, 1) exactly where the conditional probability is used; elsewhere it is
      // replaced by 0 so that no lane computes an infinite odds ratio.
      const float q = (kGamma1 - gamma_min) / (kGamma1 - 1.0f);
      const float q_used = q > 0.0f && q < 1.0f ? q : 0.0f;
      const float conditional =
          SpeechPresenceProbabilityF(priori_snr[k], power[k] / noise[k], q_used);
      const float p = !(zeta < kZeta0)      ? 1.0f
                      : gamma_min <= 1.0f   ? 0.0f
                      : gamma_min < kGamma1 ? conditional
                                            : 1.0f;
      presence[k] = p;
      const float alpha = alpha_d + (1.0f - alpha_d) * p;
      average[k] = alpha * average[k] + (1.0f - alpha) * power[k];
      const float estimate = bias * average[k];
      noise[k] = estimate > kNoiseFloor ? estimate : kNoiseFloor;
    }
  }

  if (++subwindow_position_ < subwindow_frames_) return;
  subwindow_position_ = 0;
  stored_subwindows_ = std::min(stored_subwindows_ + 1, kSubwindows);
  first_.EndSubwindow(oldest_subwindow_, stored_subwindows_, bins_);
  second_.EndSubwindow(oldest_subwindow_, stored_subwindows_, bins_);
  oldest_subwindow_ = (oldest_subwindow_ + 1) % kSubwindows;

  fluctuation_minima_.Push(fluctuation_minimum_);
  fluctuation_stored_ = std::min(fluctuation_stored_ + 1, kFluctuationSubwindows);
  fluctuation_minimum_ = std::numeric_limits<float>::max();
}

AUDIOPROC_SIMD_CLONES void NoiseTracker::UpdateCrowdBias(const float* power) noexcept {
  const size_t first = band_.first;
  const size_t width = band_.end - band_.first;
  const float* average = average_.data() + first;
  const float* band_power = power + first;
  float* moment1 = moment1_.data();
  float* moment2 = moment2_.data();
  const float alpha = alpha_f_;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (size_t k = 0; k < width; ++k) {
    // Against the estimate without the crowd bias, so the bias does not feed back into its
    // own detector.
    const float unbiased = kNoiseBias * average[k];
    const float reference = unbiased > kNoiseFloor ? unbiased : kNoiseFloor;
    const float ratio = band_power[k] / reference;
    const float x = ratio < kMaxNormalizedPower ? ratio : kMaxNormalizedPower;
    const float m1 = alpha * moment1[k] + (1.0f - alpha) * x;
    const float m2 = alpha * moment2[k] + (1.0f - alpha) * x * x;
    moment1[k] = m1;
    moment2[k] = m2;
    const float variance = m2 - m1 * m1;
    const float clamped = variance > 0.0f ? variance : 0.0f;
    sum += clamped < kMaxFluctuation ? clamped : kMaxFluctuation;
  }
  const float fluctuation = sum / static_cast<float>(width);
  // The moments start at the noise's own and need a few time constants to be the signal's.
  if (settling_frames_ > 0) {
    --settling_frames_;
  } else {
    fluctuation_minimum_ = std::min(fluctuation_minimum_, fluctuation);
  }

  float target = 1.0f;
  if (fluctuation_stored_ >= kFluctuationMinSubwindows) {
    const float calmest =
        std::min(fluctuation_minimum_, static_cast<float>(fluctuation_minima_.Min()));
    const float share = std::clamp(
        (calmest - kCrowdFluctuationStart) / (kCrowdFluctuationFull - kCrowdFluctuationStart), 0.0f,
        1.0f);
    target = 1.0f + (kCrowdBias - 1.0f) * share;
  }
  crowd_bias_ = alpha_c_ * crowd_bias_ + (1.0f - alpha_c_) * target;
}

namespace {

void PutPowers(StateWriter& writer, const std::vector<float>& values) { writer.PutFloats(values); }

// Powers, probabilities and minima: finite and not negative.
void GetPowers(StateReader& reader, std::vector<float>& values) {
  reader.GetFiniteFloats(values);
  if (!reader.ok()) return;
  for (const float x : values) {
    if (x < 0) return reader.Fail("a negative power in the noise tracker");
  }
}

}  // namespace

void NoiseTracker::SaveState(StateWriter& writer) const noexcept {
  writer.PutU32(subwindow_position_);
  writer.PutU32(oldest_subwindow_);
  writer.PutU32(stored_subwindows_);
  writer.PutBool(initialized_);
  for (const MinimumSearch* search : {&first_, &second_}) {
    PutPowers(writer, search->smoothed);
    PutPowers(writer, search->minimum);
    PutPowers(writer, search->current_minimum);
    writer.PutBytes({reinterpret_cast<const uint8_t*>(search->subwindows.data()),
                     search->subwindows.size() * sizeof(uint16_t)});
  }
  PutPowers(writer, average_);
  PutPowers(writer, presence_);
  PutPowers(writer, noise_);
  PutPowers(writer, moment1_);
  PutPowers(writer, moment2_);
  fluctuation_minima_.SaveState(writer);
  writer.PutU32(fluctuation_stored_);
  writer.PutFloat(fluctuation_minimum_);
  writer.PutU32(settling_frames_);
  writer.PutFloat(crowd_bias_);
}

void NoiseTracker::RestoreState(StateReader& reader) noexcept {
  subwindow_position_ = reader.GetU32AtMost(subwindow_frames_ - 1);
  oldest_subwindow_ = reader.GetU32AtMost(kSubwindows - 1);
  stored_subwindows_ = reader.GetU32AtMost(kSubwindows);
  initialized_ = reader.GetBool();
  for (MinimumSearch* search : {&first_, &second_}) {
    GetPowers(reader, search->smoothed);
    GetPowers(reader, search->minimum);
    GetPowers(reader, search->current_minimum);
    const size_t bytes = search->subwindows.size() * sizeof(uint16_t);
    const std::span<const uint8_t> ring = reader.GetBytes(bytes);
    if (!reader.ok()) return;
    if (ring.size() != bytes) return reader.Fail("a noise tracker of another size");
    std::memcpy(search->subwindows.data(), ring.data(), bytes);
  }
  GetPowers(reader, average_);
  GetPowers(reader, presence_);
  GetPowers(reader, noise_);
  GetPowers(reader, moment1_);
  GetPowers(reader, moment2_);
  fluctuation_minima_.RestoreState(reader);
  fluctuation_stored_ = reader.GetU32AtMost(kFluctuationSubwindows);
  fluctuation_minimum_ = reader.GetFiniteFloat();
  settling_frames_ = reader.GetU32AtMost(fluctuation_settling_frames_);
  crowd_bias_ = reader.GetFiniteFloat();
  if (!reader.ok()) return;
  // The current sub-window's minimum is max() until its first frame.
  if (!(fluctuation_minimum_ >= 0)) return reader.Fail("a negative fluctuation");
  if (!(crowd_bias_ >= 1 && crowd_bias_ <= kCrowdBias)) {
    return reader.Fail("a crowd bias out of its range");
  }
  for (size_t k = 0; k < bins_; ++k) {
    if (presence_[k] > 1) return reader.Fail("a speech presence above 1");
    if (!(noise_[k] > 0)) return reader.Fail("a noise estimate that is not positive");
  }
}

}  // namespace audioproc
