#include "tests/testing/speech_material.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>

#include "absl/strings/str_cat.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "tests/testing/signals.h"
#include "tests/testing/wav.h"

namespace audioproc::testing {

namespace {

// A microphone's AC coupling (a first-order high-pass's -3 dB point).
constexpr double kMicrophoneCouplingHz = 20.0;

// `samples` at `rate_hz` through the processors of `chain`, converted to `output_rate_hz`.
absl::StatusOr<std::vector<float>> ThroughPipeline(const std::vector<float>& samples,
                                                   double rate_hz, double output_rate_hz,
                                                   std::vector<ProcessorConfig> chain) {
  PipelineConfig config;
  config.input = {SampleEncoding::kF32, static_cast<uint32_t>(rate_hz), 1};
  config.output = {SampleEncoding::kF32, static_cast<uint32_t>(output_rate_hz), 1};
  config.chain = std::move(chain);
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  if (!pipeline.ok()) return pipeline.status();
  std::string out;
  (*pipeline)->ProcessChunk(ToF32Bytes(samples), &out);
  (*pipeline)->Finish(&out);
  return FromF32Bytes(out);
}

}  // namespace

uint32_t FrameSamples(double sample_rate_hz) {
  return static_cast<uint32_t>(std::lround(sample_rate_hz / 100.0));
}

void Label(Talk& talk) {
  const uint32_t hop = FrameSamples(talk.sample_rate_hz);
  const size_t frames = talk.samples.size() / hop;
  std::vector<double> energy(frames, 0.0);
  for (size_t f = 0; f < frames; ++f) {
    for (uint32_t i = 0; i < hop; ++i) {
      const double x = talk.samples[f * hop + i];
      energy[f] += x * x / hop;
    }
  }
  const double loudest = frames ? *std::max_element(energy.begin(), energy.end()) : 0.0;
  double sum = 0.0;
  size_t active = 0;
  for (double e : energy) {
    if (e >= loudest * 1e-4) {
      sum += e;
      ++active;
    }
  }
  talk.active_power = active ? sum / active : 0.0;
  talk.speech.assign(frames, false);
  for (size_t f = 0; f < frames; ++f) talk.speech[f] = energy[f] >= talk.active_power * 1e-3;
}

absl::StatusOr<Talk> MakeTalk(int voice, uint32_t seed, double floor_dbfs) {
  Talk talk;
  talk.sample_rate_hz = kSpeechRateHz;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> pause_s(0.6, 1.6);
  auto pause = [&] { talk.samples.resize(talk.samples.size() + pause_s(rng) * kSpeechRateHz); };
  pause();
  for (int s = 0; s < kSpeechSentences; ++s) {
    absl::StatusOr<WavAudio> wav =
        ReadWavS16(absl::StrCat(AUDIOPROC_SPEECH_DIR, "/", kSpeechVoices[voice], "_", s, ".wav"));
    if (!wav.ok()) return wav.status();
    auto sound = [](float x) { return std::abs(x) > 1e-4f; };
    const auto first = std::find_if(wav->samples.begin(), wav->samples.end(), sound);
    const auto last = std::find_if(wav->samples.rbegin(), wav->samples.rend(), sound).base();
    for (auto it = first; it < last; ++it) talk.samples.push_back(0.5f * *it);
    pause();
  }
  // A microphone's coupling: espeak-ng's utterances carry a DC offset (-27 dB of their
  // energy), which no microphone delivers and which would count as speech in every SNR.
  ProcessorConfig coupling{"dc_block", {}};
  coupling.params.Set("cutoff_hz", kMicrophoneCouplingHz);
  absl::StatusOr<std::vector<float>> coupled =
      ThroughPipeline(talk.samples, kSpeechRateHz, kSpeechRateHz, {coupling});
  if (!coupled.ok()) return coupled.status();
  talk.samples = *std::move(coupled);
  // The clean speech labels the frames; the floor is what a microphone adds.
  const uint32_t hop = FrameSamples(kSpeechRateHz);
  talk.samples.resize(talk.samples.size() / hop * hop);
  Label(talk);
  const std::vector<float> floor = WhiteNoise(talk.samples.size(), 1.0, seed ^ 0xf100u);
  // Uniform noise in [-1, 1) has a mean square of 1/3.
  const double scale = std::pow(10.0, floor_dbfs / 20.0) * std::sqrt(3.0);
  for (size_t i = 0; i < talk.samples.size(); ++i) {
    talk.samples[i] += static_cast<float>(scale * floor[i]);
  }
  return talk;
}

absl::StatusOr<Talk> Resampled(const Talk& talk, uint32_t sample_rate_hz) {
  absl::StatusOr<std::vector<float>> samples =
      ThroughPipeline(talk.samples, talk.sample_rate_hz, sample_rate_hz, {});
  if (!samples.ok()) return samples.status();
  Talk resampled;
  resampled.sample_rate_hz = sample_rate_hz;
  resampled.samples = *std::move(samples);
  const uint32_t hop = FrameSamples(sample_rate_hz);
  resampled.samples.resize(resampled.samples.size() / hop * hop);
  Label(resampled);
  return resampled;
}

absl::StatusOr<std::vector<Talk>> MakeTalks(uint32_t first_seed, uint32_t sample_rate_hz) {
  std::vector<Talk> talks;
  for (int v = 0; v < static_cast<int>(std::size(kSpeechVoices)); ++v) {
    absl::StatusOr<Talk> talk = MakeTalk(v, first_seed + v);
    if (talk.ok() && sample_rate_hz != kSpeechRateHz) talk = Resampled(*talk, sample_rate_hz);
    if (!talk.ok()) return talk.status();
    talks.push_back(*std::move(talk));
  }
  return talks;
}

}  // namespace audioproc::testing
