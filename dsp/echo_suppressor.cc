#include "dsp/echo_suppressor.h"

#include <algorithm>
#include <cmath>

#include "dsp/cost_model.h"
#include "dsp/power_fluctuations.h"

namespace audioproc {
namespace {

// Time constant of the per-bin running means the leak's fluctuations are taken about.
constexpr double kMeanSeconds = 0.1;
// Time constant of the per-bin powers whose ratio is the bin's residual share (0.2 s, measured
// on aec_echo_test's scenes: 0.1 s costs 0.6 dB of double-talk SDR on the 0 dB echo scene, 0.5 s
// 1.5 dB of the 48 kHz delay jump's recovery).
constexpr double kBinSeconds = 0.2;
// Time constant of the echo path gain's lasting averages (EchoSuppressor::ReferencePrediction).
// The recent gain (kBinSeconds) follows the far end's voice from word to word: in a room whose
// response is as ragged as a real one's, a strong harmonic moved by a few Hz meets a gain 10 dB
// away within the same bin. After an echo path change or a delay jump the filter's echo
// estimate stops dominating, so neither gain learns; the recent one, kept from the last words
// before, then misreads the next (bench-dsp's other material, earlier_16k_p2_r0: at 188 Hz, a
// quarter of the echo's energy, a gain 9 dB under the one the same room showed a second
// earlier), the frame goes unexplained and the echo passes as a near end for 2 s. Measured
// (bench-dsp, both materials, the lasting gain used as below): 0.5 / 1 / 2 s all take that
// recovery under 1 s, 1 s the least double-talk cost.
constexpr double kLastingGainSeconds = 1.0;
// The leak's smoothing: its time constant where the echo estimate dominates the error (far
// end alone); slower, down to a tenth, as the error grows past the echo (double talk).
constexpr double kLeakSeconds = 0.25;
constexpr float kMaxLeak = 2.0f;
constexpr float kRatioTrust = 8.0f;
// The minimum of the smoothed power is below the noise's mean; this puts it back (measured on
// white noise, tests/dsp/echo_suppressor_test.cc: the minimum sits 6.3 dB under).
constexpr float kNoiseBias = 4.3f;
constexpr float kPowerSmoothing = 0.7f;
// A bin is free of echo, for the noise floor, when the residual estimate is under this share of
// its power.
constexpr float kEchoFreeShare = 0.1f;
// The over-subtraction's multiple in frames the echo dominates with no near end detected (the
// far end alone: nothing to lose). Measured on aec_echo_test's scenes with the reference floor
// (Process), before the near-end detector held its prediction: single-talk ERLE
// +3.3/+1.0/+0.9/+1.1/+0.5 dB, recovery +0.3 to +2.3 dB, double talk within 0.2 dB; 8 and 16
// add less than 0.2 dB more.
constexpr float kFarAloneOverSubtraction = 4.0f;
// A near end the filter's detector reports is believed only if the reference cannot explain the
// frame: at least kUnexplainedShare of the microphone's energy in bins kUnexplainedMargin (9 dB)
// or more over what the reference predicts there (ReferenceExplains). Measured on bench-dsp's
// scenes: the reference explains 48 to 80 % of the frames the detector flags in single talk
// (all of them false), 73 to 91 % after a path change or a delay jump, and 13 to 23 % of those
// it flags in double talk (the near end quiet, or the far end alone between its phrases).
constexpr float kUnexplainedMargin = 8.0f;
constexpr double kUnexplainedShare = 0.1;
// A reference frame whose mean square is under this (-70 dBFS) is silence for the cold start.
constexpr double kColdStartActiveMeanSquare = 1e-7;
constexpr uint32_t kSeed = 0x2545F491u;
// CPU-seconds per bin of a frame and per sample.
constexpr double kBinCpuSeconds = 20e-9;
constexpr double kSampleSeconds = 3e-9;

uint32_t NextRandom(uint32_t& state) noexcept {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

// Uniform in [-1, 1).
float Uniform(uint32_t& state) noexcept {
  return static_cast<float>(NextRandom(state) >> 8) * (2.0f / 16777216.0f) - 1.0f;
}

}  // namespace

absl::Status EchoSuppressor::Init(uint32_t hop, double sample_rate_hz) {
  if (hop < 2 || !(sample_rate_hz > 0)) {
    return absl::InvalidArgumentError("EchoSuppressor needs a hop and a rate");
  }
  hop_ = hop;
  fft_size_ = 2 * hop;
  bins_ = hop + 1;
  const double hop_seconds = hop / sample_rate_hz;
  gain_floor_ = static_cast<float>(std::pow(10.0, kGainFloorDb / 20.0));
  tail_decay_ = static_cast<float>(std::pow(10.0, -6.0 * hop_seconds / kTailSeconds));
  reference_decay_ = static_cast<float>(std::pow(10.0, -6.0 * hop_seconds / kReferenceTailSeconds));
  noise_rise_ = static_cast<float>(std::pow(10.0, kNoiseRiseDbPerSecond * hop_seconds / 10.0));
  cold_learn_frames_ = static_cast<uint32_t>(std::ceil(kColdStartLearnSeconds / hop_seconds));
  cold_max_frames_ = static_cast<uint32_t>(std::ceil(kColdStartMaxSeconds / hop_seconds));
  near_warm_frames_ = static_cast<uint32_t>(std::ceil(kNearWarmSeconds / hop_seconds));
  cold_gain_ = static_cast<float>(std::pow(10.0, kColdStartGainDb / 10.0));
  cold_decay_ =
      static_cast<float>(std::pow(10.0, -kColdStartDecayDbPerSecond * hop_seconds / 10.0));
  // The analysis window's energy is hop (sin^2 over 2 hop samples).
  cold_active_energy_ = static_cast<float>(kColdStartActiveMeanSquare * hop);
  beta_ = static_cast<float>(std::min(1.0, hop_seconds / kLeakSeconds));
  mean_weight_ = static_cast<float>(std::min(1.0, hop_seconds / kMeanSeconds));
  bin_weight_ = static_cast<float>(std::min(1.0, hop_seconds / kBinSeconds));
  lasting_weight_ = static_cast<float>(std::min(1.0, hop_seconds / kLastingGainSeconds));
  explained_weight_ = std::min(1.0, hop_seconds / kExplainedSeconds);
  double_talk_end_frames_ = static_cast<uint32_t>(std::ceil(kDoubleTalkEndSeconds / hop_seconds));
  near_level_weight_ = std::min(1.0, hop_seconds / kNearLevelSeconds);
  absl::StatusOr<const RealFftPlan*> fft = RealFftPlan::Shared(static_cast<int>(fft_size_));
  if (!fft.ok()) return fft.status();
  fft_ = *fft;
  analysis_window_.resize(fft_size_);
  synthesis_window_.resize(fft_size_);
  for (uint32_t i = 0; i < fft_size_; ++i) {
    const double w = std::sin(M_PI * i / fft_size_);
    analysis_window_[i] = static_cast<float>(w);
    synthesis_window_[i] = static_cast<float>(w / fft_size_);
  }
  frame_ = FftwBuffer<float>(fft_size_);
  error_spectrum_ = FftwBuffer<fftwf_complex>(bins_);
  echo_spectrum_ = FftwBuffer<fftwf_complex>(bins_);
  error_history_.assign(fft_size_, 0.0f);
  echo_history_.assign(fft_size_, 0.0f);
  overlap_.assign(hop, 0.0f);
  for (auto* v :
       {&error_power_, &echo_power_, &error_mean_, &echo_mean_, &bin_error_, &bin_mic_, &residual_,
        &previous_clean_, &smoothed_power_, &noise_, &reference_power_, &reference_mic_,
        &reference_held_, &lasting_mic_, &lasting_held_, &earlier_power_, &cold_power_}) {
    v->assign(bins_, 0.0f);
  }
  Reset();
  return absl::OkStatus();
}

uint64_t EchoSuppressor::InitBytes(uint32_t hop) {
  const uint32_t n = 2 * hop;
  const uint32_t bins = hop + 1;
  return 2 * cost::VectorBytes<float>(n) + cost::FftwBufferBytes<float>(n) +
         2 * cost::FftwBufferBytes<fftwf_complex>(bins) + 2 * cost::VectorBytes<float>(n) +
         cost::VectorBytes<float>(hop) + 17 * cost::VectorBytes<float>(bins);
}

double EchoSuppressor::CpuCores(double sample_rate_hz, uint32_t hop) {
  const double frames = sample_rate_hz / hop;
  // The echo estimate's, the error's, the reference's and the earlier reference's FFTs, the
  // inverse, and in the cold start the newest reference's.
  return frames * (6 * cost::RealFftSeconds(2 * hop) + (hop + 1) * kBinCpuSeconds) +
         sample_rate_hz * kSampleSeconds;
}

void EchoSuppressor::Reset() noexcept {
  for (auto* v :
       {&error_history_,  &echo_history_,   &overlap_,      &error_power_,     &echo_power_,
        &error_mean_,     &echo_mean_,      &bin_error_,    &bin_mic_,         &residual_,
        &previous_clean_, &smoothed_power_, &noise_,        &reference_power_, &reference_mic_,
        &reference_held_, &lasting_mic_,    &lasting_held_, &earlier_power_,   &cold_power_}) {
    std::fill(v->begin(), v->end(), 0.0f);
  }
  cold_frames_left_ = cold_learn_frames_;
  cold_far_frames_left_ = cold_max_frames_;
  warm_frames_ = 0;
  covariance_ = 0;
  variance_ = 0;
  leak_ = 0;
  regression_leak_ = 0;
  ratio_leak_ = 0;
  explained_share_ = 1;
  double_talk_ = false;
  unexplained_frames_left_ = 0;
  near_level_ = 0;
  believes_near_ = false;
  frames_ = 0;
  random_ = kSeed;
}

void EchoSuppressor::UpdateLeak(double error_total, double echo_total) noexcept {
  const PowerFluctuations sums =
      TrackFluctuations(error_power_, echo_power_, error_mean_, echo_mean_, mean_weight_);
  // Adapt at full speed while the echo estimate dominates the error; slower as the near end
  // (in the error only) takes over.
  const double share = echo_total / (error_total + echo_total + 1e-30);
  const double beta = beta_ * std::clamp(2 * share, 0.1, 1.0);
  covariance_ += beta * (sums.covariance - covariance_);
  variance_ += beta * (sums.variance - variance_);
  if (variance_ > 1e-30) {
    regression_leak_ =
        static_cast<float>(std::clamp(covariance_ / variance_, 0.0, double{kMaxLeak}));
  }
  // The regression is safe in double talk but reads low: the residual's envelope follows the
  // echo estimate's only loosely. The plain ratio of the powers is the leak while the far end
  // talks alone, so it is followed too, but only in frames whose ratio the regression can
  // vouch for (within kRatioTrust of it): near speech, which the regression ignores, lifts the
  // ratio far past it.
  echo_dominates_ = false;
  if (echo_total > 1e-12 * bins_) {
    const double ratio = error_total / echo_total;
    if (ratio < kRatioTrust * regression_leak_) {
      echo_dominates_ = true;
      ratio_leak_ += static_cast<float>(beta_ * (std::min(ratio, double{kMaxLeak}) - ratio_leak_));
    }
  }
  leak_ = std::max(regression_leak_, std::min(ratio_leak_, kRatioTrust * regression_leak_));
}

float EchoSuppressor::ReferencePrediction(uint32_t k, bool lasting) const noexcept {
  float gain = reference_mic_[k] / (reference_held_[k] + 1e-30f);
  if (lasting) gain = std::max(gain, lasting_mic_[k] / (lasting_held_[k] + 1e-30f));
  return gain * std::max(reference_power_[k], earlier_power_[k]);
}

void EchoSuppressor::TrackColdStart(const float* newest_reference) noexcept {
  if (!cold_start()) return;
  const double energy = HoldPower(newest_reference, cold_decay_, cold_power_);
  // A far end that has talked this long without an echo the gain could learn from (a headset,
  // or a near end talking over it throughout) ends the cold start too.
  if (energy > cold_active_energy_ && cold_far_frames_left_ > 0 && --cold_far_frames_left_ == 0) {
    cold_frames_left_ = 0;
  }
}

EchoSuppressor::Explained EchoSuppressor::ReferenceExplains(const float* error,
                                                            const float* echo) const noexcept {
  double total = 0;
  double unexplained_recent = 0;
  double unexplained_either = 0;
  for (uint32_t k = 0; k < bins_; ++k) {
    const float re = error[2 * k] + echo[2 * k];
    const float im = error[2 * k + 1] + echo[2 * k + 1];
    const double mic_power = double{re} * re + double{im} * im;
    total += mic_power;
    if (mic_power > kUnexplainedMargin * double{ReferencePrediction(k, false)}) {
      unexplained_recent += mic_power;
      if (mic_power > kUnexplainedMargin * double{ReferencePrediction(k, true)}) {
        unexplained_either += mic_power;
      }
    }
  }
  const auto explains = [&](double unexplained) {
    return total > 0 && unexplained < kUnexplainedShare * total;
  };
  return {.recent = explains(unexplained_recent), .either = explains(unexplained_either)};
}

void EchoSuppressor::Process(const float* error, const float* echo, float strength,
                             float* out) noexcept {
  Process(error, echo, FarEnd{}, strength, out);
}

double EchoSuppressor::HoldPower(const float* samples, float decay,
                                 std::vector<float>& held) noexcept {
  float* frame = frame_.data();
  double energy = 0;
  for (uint32_t i = 0; i < fft_size_; ++i) {
    frame[i] = samples[i] * analysis_window_[i];
    energy += double{frame[i]} * frame[i];
  }
  fft_->Forward(frame, echo_spectrum_.data());
  const auto* x = reinterpret_cast<const float*>(echo_spectrum_.data());
  for (uint32_t k = 0; k < bins_; ++k) {
    const float power = std::min(x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1], 1e30f);
    held[k] = std::max(power, decay * held[k]);
  }
  return energy;
}

void EchoSuppressor::Process(const float* error, const float* echo, const FarEnd& far_end,
                             float strength, float* out) noexcept {
  std::copy(error_history_.begin() + hop_, error_history_.end(), error_history_.begin());
  std::copy(error, error + hop_, error_history_.begin() + hop_);
  std::copy(echo_history_.begin() + hop_, echo_history_.end(), echo_history_.begin());
  std::copy(echo, echo + hop_, echo_history_.begin() + hop_);

  const float* reference = far_end.reference;
  const bool near = far_end.near;
  // The reference's power at the echo's delay, and the earlier reference's, held as the longest
  // room decays (the room's reverberation of what it played).
  if (reference != nullptr) HoldPower(reference, reference_decay_, reference_power_);
  if (far_end.earlier != nullptr) HoldPower(far_end.earlier, reference_decay_, earlier_power_);
  float* frame = frame_.data();
  for (uint32_t i = 0; i < fft_size_; ++i) frame[i] = echo_history_[i] * analysis_window_[i];
  fft_->Forward(frame, echo_spectrum_.data());
  for (uint32_t i = 0; i < fft_size_; ++i) frame[i] = error_history_[i] * analysis_window_[i];
  fft_->Forward(frame, error_spectrum_.data());
  auto* e = reinterpret_cast<float*>(error_spectrum_.data());
  const auto* y = reinterpret_cast<const float*>(echo_spectrum_.data());
  double error_total = 0;
  double echo_total = 0;
  for (uint32_t k = 0; k < bins_; ++k) {
    error_power_[k] = std::min(e[2 * k] * e[2 * k] + e[2 * k + 1] * e[2 * k + 1], 1e30f);
    echo_power_[k] = std::min(y[2 * k] * y[2 * k] + y[2 * k + 1] * y[2 * k + 1], 1e30f);
    error_total += error_power_[k];
    echo_total += echo_power_[k];
  }
  UpdateLeak(error_total, echo_total);

  const bool first = frames_ == 0;
  if (frames_ < 2) ++frames_;
  // The floor and the stronger over-subtraction hold back for a near end only if the reference
  // cannot explain the frame: the detector reads the microphone against the filter's model,
  // and a model the room has just outgrown (a changed path, a moved delay) leaves echo that
  // looks like a near end to it until the filter has re-learned, seconds later. But in double
  // talk (the reference explaining few of the flagged frames lately) the detector's flag in its
  // very block is believed even where the reference explains the frame, and so is any frame
  // about as loud as the near end, flagged or not (kHeldNearShare), and a frame the detector
  // missed that the echo estimate does not dominate and the reference cannot explain
  // (kDoubleTalkExplainedShare). A flag counts as explained, for its belief and for the share
  // that finds double talk, where the reference explains the frame with the bins' recent or
  // their lasting gain (kLastingGainSeconds): a changed room the recent gain misreads must not
  // pass for double talk. Once in double talk the belief asks the recent gain alone, the closer
  // fit, so that less of a near end is taken for echo. Measured on bench-dsp's own material, its
  // least double talk (12.1 / 10.8 dB before the lasting gain): 11.4 / 10.6 dB; with the lasting
  // gain in double talk too, 11.4 / 10.5; out of the share, 12.1 / 10.6, but then
  // a room the recent gain misreads everywhere passes for double talk and its echo with it
  // (AChangedRoomIsTakenForEchoAfterTheLastWordsMetANotch: 0.0 dB removed).
  if (far_end.near_now) near_level_ += near_level_weight_ * (error_total - near_level_);
  const bool predictable = far_end.unpredicted_share < kPredictableShare;
  Explained explained = near ? ReferenceExplains(e, y) : Explained{};
  if (near) {
    // Outside double talk a flag over a frame the caller finds predictable counts as explained
    // (kDoubleTalkExplainedShare); in it, not: a probe that never stops adapting follows a near
    // end in part.
    const bool counts_explained = explained.either || (!double_talk_ && predictable);
    explained_share_ += explained_weight_ * ((counts_explained ? 1.0 : 0.0) - explained_share_);
    if (!double_talk_ && explained_share_ < kDoubleTalkExplainedShare) {
      double_talk_ = true;
      // Its end counted from here even where the caller explains the flag that starts it (then
      // the count below does not restart, but counts this frame down).
      unexplained_frames_left_ = double_talk_end_frames_ + 1;
    }
  }
  // The caller's explanation (FarEnd::echo_explained) after the share: counted there too, it let
  // double talk end over a near end the probe had followed, and a stray delay estimate the double
  // talk held back then moved aec's alignment off the room (with a 0.3 s probe, bench-dsp's other
  // material's double_16k_p2_r1: 497.5 ms in a 250 ms room for 4.5 s, its double talk 3.4 dB).
  if (near && far_end.echo_explained) explained = {.recent = true, .either = true};
  if (near && !explained.either) {
    unexplained_frames_left_ = double_talk_end_frames_;
  } else if (unexplained_frames_left_ > 0 && --unexplained_frames_left_ == 0) {
    explained_share_ = 1;
    double_talk_ = false;
  }
  // About as loud as the near end has lately been (kHeldNearShare).
  const bool at_near_level = error_total >= kHeldNearShare * near_level_;
  bool believes_near = near && !(double_talk_ ? explained.recent : explained.either);
  if (double_talk_ && !believes_near) {
    // A frame the detector missed is not believed for its level alone where it is predictable.
    believes_near = (near && far_end.near_now) || (at_near_level && (near || !predictable)) ||
                    (!near && !echo_dominates_ && !ReferenceExplains(e, y).recent);
  }
  believes_near_ = believes_near;
  const bool far_alone = reference != nullptr && !believes_near;
  const bool far_alone_over = far_alone && echo_dominates_;
  // The cold start's floor, with or without a delay estimate (nothing before TrackColdStart has
  // held a power).
  const bool cold_floor = cold_start() && !believes_near;
  const bool learns = reference != nullptr && !near && echo_dominates_;
  const bool warm = warm_frames_ == near_warm_frames_;
  const float over = std::max(0.0f, strength) * kOverSubtraction *
                     (far_alone_over          ? kFarAloneOverSubtraction
                      : believes_near && warm ? kNearOverSubtraction
                                              : 1.0f);
  const float alpha = kDecisionDirectedAlpha;
  for (uint32_t k = 0; k < bins_; ++k) {
    const float power = error_power_[k];
    smoothed_power_[k] =
        first ? power : kPowerSmoothing * smoothed_power_[k] + (1 - kPowerSmoothing) * power;
    if (echo_dominates_) {
      const float mic_re = e[2 * k] + y[2 * k];
      const float mic_im = e[2 * k + 1] + y[2 * k + 1];
      const float mic_power = std::min(mic_re * mic_re + mic_im * mic_im, 1e30f);
      bin_error_[k] += bin_weight_ * (power - bin_error_[k]);
      bin_mic_[k] += bin_weight_ * (mic_power - bin_mic_[k]);
      if (learns) {
        // The echo path's gain in the bin, as the ratio of the averages of the microphone's
        // power and the held reference's, over the frames the echo dominates.
        reference_mic_[k] += bin_weight_ * (mic_power - reference_mic_[k]);
        reference_held_[k] += bin_weight_ * (reference_power_[k] - reference_held_[k]);
        lasting_mic_[k] += lasting_weight_ * (mic_power - lasting_mic_[k]);
        lasting_held_[k] += lasting_weight_ * (reference_power_[k] - lasting_held_[k]);
      }
    }
    // The bin's own residual share, |E|^2 / |E + Y|^2 over the frames the echo dominates: a
    // bin the filter has not yet converged in keeps most of its echo, more than the leak (one
    // number for every bin) allows for.
    const float share = std::min(1.0f, bin_error_[k] / (bin_mic_[k] + 1e-30f));
    residual_[k] = std::max(std::max(leak_, share) * echo_power_[k], tail_decay_ * residual_[k]);
    // The reference floor: without near speech, what the reference predicts through the bin's
    // learned echo path gain is echo, up to the bin's whole power. It does not depend on the
    // filter's estimate, so it covers what the filter misses (a tail past its length, a path it
    // has not re-learned yet). Not held into the next frame's residual (its reference power is
    // held already). Against the bound it replaces (share_k of the prediction, in the frames
    // the echo dominates), measured on aec_echo_test's scenes: single-talk ERLE
    // 34.9/41.4/27.9/26.1/36.7 -> 40.0/46.8/31.4/27.9/39.2 dB, recovery 19.3-26.8 ->
    // 22.5-34.6 dB, double talk within 0.1 dB.
    float residual = residual_[k];
    if (far_alone || cold_floor) {
      float prediction = far_alone ? ReferencePrediction(k, true) : 0.0f;
      if (cold_floor) prediction = std::max(prediction, cold_gain_ * cold_power_[k]);
      residual = std::max(residual, std::min(power, prediction));
    }
    // The floor follows the power's minimum down at once, but rises only where the echo does
    // not dominate: a residual that never pauses must not be taken for the room's noise.
    const bool echo_free = residual < kEchoFreeShare * smoothed_power_[k];
    noise_[k] = first
                    ? smoothed_power_[k]
                    : std::min(smoothed_power_[k], echo_free ? noise_[k] * noise_rise_ : noise_[k]);
    const float echo_to_remove = over * residual;
    float gain = 1.0f;
    if (echo_to_remove > 1e-6f * power + 1e-30f) {
      const float posterior = power / echo_to_remove;
      const float priori = alpha * previous_clean_[k] / echo_to_remove +
                           (1 - alpha) * std::max(posterior - 1.0f, 0.0f);
      gain = std::max(priori / (1.0f + priori), gain_floor_);
    }
    previous_clean_[k] = gain * gain * power;
    float noise_re = 0;
    float noise_im = 0;
    if (gain < 1.0f) {
      // sqrt(1.5): a uniform pair's mean square is 2/3.
      const float level = std::sqrt((1.0f - gain * gain) * kNoiseBias * 1.5f * noise_[k]);
      noise_re = level * Uniform(random_);
      noise_im = level * Uniform(random_);
    }
    e[2 * k] = gain * e[2 * k] + noise_re;
    e[2 * k + 1] = gain * e[2 * k + 1] + noise_im;
  }
  if (learns && cold_frames_left_ > 0) --cold_frames_left_;
  if (!cold_start() && warm_frames_ < near_warm_frames_) ++warm_frames_;
  fft_->Inverse(error_spectrum_.data(), frame);
  for (uint32_t i = 0; i < hop_; ++i) {
    out[i] = overlap_[i] + frame[i] * synthesis_window_[i];
    overlap_[i] = frame[hop_ + i] * synthesis_window_[hop_ + i];
  }
}

void EchoSuppressor::SaveState(StateWriter& writer) const noexcept {
  for (const auto* v : {&error_history_, &echo_history_, &overlap_, &error_mean_, &echo_mean_,
                        &bin_error_, &bin_mic_, &residual_, &previous_clean_, &smoothed_power_,
                        &noise_, &reference_power_, &reference_mic_, &reference_held_,
                        &lasting_mic_, &lasting_held_, &earlier_power_, &cold_power_}) {
    writer.PutFloats(*v);
  }
  writer.PutU32(cold_frames_left_);
  writer.PutU32(cold_far_frames_left_);
  writer.PutU32(warm_frames_);
  writer.PutDouble(covariance_);
  writer.PutDouble(variance_);
  writer.PutFloat(leak_);
  writer.PutFloat(regression_leak_);
  writer.PutFloat(ratio_leak_);
  writer.PutU32(double_talk_ ? 1 : 0);
  writer.PutDouble(explained_share_);
  writer.PutDouble(near_level_);
  writer.PutU32(believes_near_ ? 1 : 0);
  writer.PutU32(unexplained_frames_left_);
  writer.PutU32(frames_);
  writer.PutU32(random_);
}

void EchoSuppressor::RestoreState(StateReader& reader) noexcept {
  for (auto* v : {&error_history_, &echo_history_, &overlap_, &error_mean_, &echo_mean_,
                  &bin_error_, &bin_mic_, &residual_, &previous_clean_, &smoothed_power_, &noise_,
                  &reference_power_, &reference_mic_, &reference_held_, &lasting_mic_,
                  &lasting_held_, &earlier_power_, &cold_power_}) {
    reader.GetFiniteFloats(*v);
  }
  cold_frames_left_ = reader.GetU32AtMost(cold_learn_frames_);
  cold_far_frames_left_ = reader.GetU32AtMost(cold_max_frames_);
  warm_frames_ = reader.GetU32AtMost(near_warm_frames_);
  covariance_ = reader.GetFiniteDouble();
  variance_ = reader.GetFiniteDouble();
  leak_ = reader.GetFiniteFloat();
  regression_leak_ = reader.GetFiniteFloat();
  ratio_leak_ = reader.GetFiniteFloat();
  double_talk_ = reader.GetU32AtMost(1) == 1;
  explained_share_ = reader.GetFiniteDouble();
  near_level_ = reader.GetFiniteDouble();
  believes_near_ = reader.GetU32AtMost(1) == 1;
  unexplained_frames_left_ = reader.GetU32AtMost(double_talk_end_frames_);
  frames_ = reader.GetU32AtMost(2);
  random_ = reader.GetU32();
  if (!reader.ok()) return;
  // xorshift never leaves zero, and Reset never seeds it.
  if (random_ == 0) return reader.Fail("a comfort noise generator at zero");
  if (explained_share_ < 0 || explained_share_ > 1) {
    return reader.Fail("an explained share outside [0, 1] in the echo suppressor");
  }
  if (near_level_ < 0) return reader.Fail("a negative near-end level in the echo suppressor");
  if (double_talk_ && unexplained_frames_left_ == 0) {
    return reader.Fail("double talk that would never end in the echo suppressor");
  }
  for (const auto* v : {&bin_error_, &bin_mic_, &residual_, &previous_clean_, &smoothed_power_,
                        &noise_, &reference_power_, &reference_mic_, &reference_held_,
                        &lasting_mic_, &lasting_held_, &earlier_power_, &cold_power_}) {
    for (const float x : *v) {
      if (x < 0) return reader.Fail("a negative power in the echo suppressor");
    }
  }
}

}  // namespace audioproc
