#include "tests/testing/echo_material.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/status/status.h"
#include "dsp/audio_block.h"
#include "dsp/partitioned_convolver.h"
#include "tests/testing/signals.h"
#include "tests/testing/speech_material.h"

namespace audioproc::testing {

namespace {

// The far end as a bridge sends it carries its own (low) floor; the near end's talk is clean,
// since the microphone's floor is added once, to the mix.
constexpr double kFarFloorDbfs = -90.0;
constexpr double kCleanFloorDbfs = -200.0;
// The near-end talker starts after the far end has had the room to itself for this long, as
// the canceller's bars are stated from 2 s on.
constexpr double kNearStartS = 2.0;
constexpr uint32_t kConvolverPartition = 256;

// `signal` convolved with `impulse`, as long as `signal` (the tail past its end dropped).
absl::StatusOr<std::vector<float>> Convolve(const std::vector<float>& signal,
                                            const std::vector<float>& impulse) {
  PartitionedConvolver convolver;
  if (absl::Status status = convolver.Init(impulse, kConvolverPartition, 1); !status.ok()) {
    return status;
  }
  const size_t lag = convolver.latency_frames();
  std::vector<float> buffer(signal.size() + lag, 0.0f);
  std::copy(signal.begin(), signal.end(), buffer.begin());
  constexpr uint32_t kBlock = 4096;
  const std::vector<float> wet(kBlock, 1.0f);
  for (size_t start = 0; start < buffer.size(); start += kBlock) {
    const auto frames = static_cast<uint32_t>(std::min<size_t>(kBlock, buffer.size() - start));
    float* channel = buffer.data() + start;
    AudioBlock block(&channel, 1, frames);
    convolver.Process(block, wet.data());
  }
  return std::vector<float>(buffer.begin() + static_cast<std::ptrdiff_t>(lag), buffer.end());
}

// `signal` `delay` samples later, as long as before.
std::vector<float> Delayed(const std::vector<float>& signal, size_t delay) {
  std::vector<float> out(signal.size(), 0.0f);
  if (delay < signal.size()) {
    std::copy(signal.begin(), signal.end() - static_cast<std::ptrdiff_t>(delay),
              out.begin() + static_cast<std::ptrdiff_t>(delay));
  }
  return out;
}

// `voice`'s talk at `rate`, with a floor at `floor_dbfs`.
absl::StatusOr<Talk> TalkAt(int voice, uint32_t seed, double floor_dbfs, uint32_t rate) {
  absl::StatusOr<Talk> talk = MakeTalk(voice, seed, floor_dbfs);
  if (talk.ok() && rate != kSpeechRateHz) talk = Resampled(*talk, rate);
  return talk;
}

}  // namespace

std::vector<float> RoomResponse(double sample_rate_hz, double rt60_s, double level_db,
                                uint32_t seed) {
  const auto taps = static_cast<size_t>(std::lround(rt60_s * sample_rate_hz));
  std::vector<float> impulse(std::max<size_t>(taps, 1), 0.0f);
  std::mt19937 rng(seed);
  std::normal_distribution<double> gaussian(0.0, 1.0);
  // Amplitude falls 60 dB over rt60_s: exp(-ln(1000) n / (rt60 rate)).
  const double decay = std::log(1000.0) / (rt60_s * sample_rate_hz);
  // The direct path stands out of the first milliseconds' diffuse field.
  impulse[0] = 1.0f;
  for (size_t n = 1; n < impulse.size(); ++n) {
    impulse[n] = static_cast<float>(0.3 * gaussian(rng) * std::exp(-decay * n));
  }
  double energy = 0.0;
  for (float h : impulse) energy += static_cast<double>(h) * h;
  const double scale = std::sqrt(std::pow(10.0, level_db / 10.0) / energy);
  for (float& h : impulse) h = static_cast<float>(h * scale);
  return impulse;
}

absl::StatusOr<EchoScene> MakeEchoScene(const EchoSceneSpec& spec) {
  const double rate = spec.sample_rate_hz;
  const int voices = static_cast<int>(std::size(kSpeechVoices));
  if (spec.far_voice < 0 || spec.far_voice >= voices || spec.near_voice < 0 ||
      spec.near_voice >= voices || spec.delay_ms < 0 || spec.rt60_s <= 0 || spec.change_at_s <= 0 ||
      spec.delay_ms + spec.delay_jump_ms < 0) {
    return absl::InvalidArgumentError("echo scene: voice, delay, RT60 or change out of range");
  }
  absl::StatusOr<Talk> far = TalkAt(spec.far_voice, spec.seed, kFarFloorDbfs, spec.sample_rate_hz);
  if (!far.ok()) return far.status();

  EchoScene scene;
  scene.sample_rate_hz = rate;
  scene.reference = far->samples;
  const size_t length = scene.reference.size();

  const std::vector<float> room =
      RoomResponse(rate, spec.rt60_s, spec.echo_level_db, spec.seed * 7 + 1);
  absl::StatusOr<std::vector<float>> reverberant = Convolve(scene.reference, room);
  if (!reverberant.ok()) return reverberant.status();
  const auto delay = static_cast<size_t>(std::lround(spec.delay_ms * rate / 1000.0));
  scene.echo = Delayed(*reverberant, delay);

  if (spec.change != EchoChange::kNone) {
    scene.change_sample = std::min(length, static_cast<size_t>(spec.change_at_s * rate));
    std::vector<float> after;
    if (spec.change == EchoChange::kPathChange) {
      const std::vector<float> moved =
          RoomResponse(rate, spec.rt60_s, spec.echo_level_db, spec.seed * 7 + 2);
      absl::StatusOr<std::vector<float>> other = Convolve(scene.reference, moved);
      if (!other.ok()) return other.status();
      after = Delayed(*other, delay);
    } else {
      const auto jumped =
          static_cast<size_t>(std::lround((spec.delay_ms + spec.delay_jump_ms) * rate / 1000.0));
      after = Delayed(*reverberant, jumped);
    }
    std::copy(after.begin() + static_cast<std::ptrdiff_t>(scene.change_sample), after.end(),
              scene.echo.begin() + static_cast<std::ptrdiff_t>(scene.change_sample));
  }

  const uint32_t hop = FrameSamples(rate);
  const size_t frames = length / hop;
  scene.near.assign(length, 0.0f);
  scene.near_active.assign(frames, false);
  if (spec.double_talk) {
    absl::StatusOr<Talk> near =
        TalkAt(spec.near_voice, spec.seed + 7919, kCleanFloorDbfs, spec.sample_rate_hz);
    if (!near.ok()) return near.status();
    // Starts kNearStartS in, on a frame boundary so its labels carry over.
    const size_t offset = static_cast<size_t>(kNearStartS * 100) * hop;
    for (size_t i = 0; i + offset < length && i < near->samples.size(); ++i) {
      scene.near[i + offset] = near->samples[i];
    }
    for (size_t f = 0; f < near->speech.size() && f + offset / hop < frames; ++f) {
      scene.near_active[f + offset / hop] = near->speech[f];
    }
  }

  // The echo's own labels, as a talk's: active within 30 dB of its active level.
  Talk echo_talk;
  echo_talk.sample_rate_hz = rate;
  echo_talk.samples = scene.echo;
  Label(echo_talk);
  scene.far_only.assign(frames, false);
  for (size_t f = 0; f < frames; ++f) {
    scene.far_only[f] = echo_talk.speech[f] && !scene.near_active[f];
  }

  const std::vector<float> floor = WhiteNoise(length, 1.0, spec.seed ^ 0xec40u);
  // Uniform noise in [-1, 1) has a mean square of 1/3.
  const double floor_scale = std::pow(10.0, spec.floor_dbfs / 20.0) * std::sqrt(3.0);
  scene.mic.resize(length);
  for (size_t i = 0; i < length; ++i) {
    scene.mic[i] = scene.near[i] + scene.echo[i] + static_cast<float>(floor_scale * floor[i]);
  }
  return scene;
}

double Erle(const EchoScene& scene, const std::vector<float>& out, size_t from, size_t to) {
  const uint32_t hop = FrameSamples(scene.sample_rate_hz);
  to = std::min({to, out.size(), scene.mic.size()});
  double mic_energy = 0.0;
  double out_energy = 0.0;
  for (size_t f = (from + hop - 1) / hop; f < scene.far_only.size() && (f + 1) * hop <= to; ++f) {
    if (!scene.far_only[f]) continue;
    for (size_t i = f * hop; i < (f + 1) * hop; ++i) {
      mic_energy += static_cast<double>(scene.mic[i]) * scene.mic[i];
      out_energy += static_cast<double>(out[i]) * out[i];
    }
  }
  if (mic_energy == 0.0) return 0.0;
  return 10.0 * std::log10(mic_energy / std::max(out_energy, 1e-30));
}

}  // namespace audioproc::testing
