// denoise: SNR gain on speech in white and pink noise (DESIGN §4's bar), clean speech level,
// exact latency and pass-through at reduction_db = 0, chunking invariance, independent
// channels, validation, finite output on hostile input, and click-free runtime updates.
#include "processors/denoise.h"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chain/stream_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/signals.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wav.h"

namespace audioproc {
namespace {

using ::audioproc::testing::Proc;
using ::audioproc::testing::SameFormat;
using ::audioproc::testing::Spec;
using ::audioproc::testing::StatusIs;
using ::testing::HasSubstr;

constexpr auto DenoiseRegistry = testing::RegistryOf<DenoiseDefinition>;

// The demo's speech: 5.4 s of espeak-ng at 16 kHz that starts at once (no noise-only lead-in
// to learn from) and pauses once, for 0.3 s.
const std::vector<float>& Speech() {
  static const std::vector<float>* const speech = [] {
    absl::StatusOr<testing::WavAudio> wav =
        testing::ReadWavS16(testing::SourcePath("clients/demo/speech_16k.wav"));
    if (!wav.ok() || wav->sample_rate_hz != 16000 || wav->channels != 1) {
      ADD_FAILURE() << "clients/demo/speech_16k.wav: " << wav.status();
      return new std::vector<float>(16000, 0.0f);
    }
    return new std::vector<float>(std::move(wav->samples));
  }();
  return *speech;
}

// Pink (1/f) noise, Voss-McCartney: row r of white values is redrawn every 2^r samples, and
// the rows and a fresh white value are summed. Ten rows give -3 dB per octave from about
// 30 Hz to 8 kHz at 16 kHz; more rows would add sub-audio drift (row 15 changes every 2 s),
// the business of dc_block or a highpass rather than of a speech denoiser. Seeded.
std::vector<float> PinkNoise(size_t frames, uint32_t seed) {
  constexpr int kRows = 10;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  double rows[kRows];
  double sum = 0;
  for (double& row : rows) sum += row = uniform(rng);
  std::vector<float> out(frames);
  for (size_t n = 0; n < frames; ++n) {
    // The row redrawn at n is its number of trailing zero bits.
    const int r = n == 0 ? kRows : __builtin_ctzll(n);
    if (r < kRows) {
      sum -= rows[r];
      sum += rows[r] = uniform(rng);
    }
    out[n] = static_cast<float>((sum + uniform(rng)) / (kRows + 1));
  }
  return out;
}

double SumSquares(const std::vector<float>& x) {
  double sum = 0;
  for (float v : x) sum += double{v} * v;
  return sum;
}

// DESIGN's SNR: 10 log10(sum clean^2 / sum (out - clean)^2).
double SnrDb(const std::vector<float>& clean, const std::vector<float>& out) {
  double error = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    const double d = double{out[i]} - clean[i];
    error += d * d;
  }
  return 10 * std::log10(SumSquares(clean) / error);
}

// clean + noise, the noise scaled for an SNR of `snr_db`.
std::vector<float> Mix(const std::vector<float>& clean, const std::vector<float>& noise,
                       double snr_db) {
  const double scale = std::sqrt(SumSquares(clean) / SumSquares(noise) / std::pow(10, snr_db / 10));
  std::vector<float> mixed(clean.size());
  for (size_t i = 0; i < clean.size(); ++i) {
    mixed[i] = static_cast<float>(clean[i] + scale * noise[i]);
  }
  return mixed;
}

// Interleaved f32 `input` through a chain of one denoise, in one chunk: the chain drops the
// latency, so the output is aligned with the input.
std::vector<float> Denoise(const std::vector<float>& input, double reduction_db,
                           uint32_t rate = 16000, uint32_t channels = 1) {
  absl::StatusOr<std::string> output =
      testing::RunInChunks(SameFormat(SampleEncoding::kF32, rate, channels,
                                      {Proc("denoise", {{"reduction_db", reduction_db}})}),
                           testing::ToF32Bytes(input), {input.size() * 4 + 1}, DenoiseRegistry());
  EXPECT_TRUE(output.ok()) << output.status();
  return output.ok() ? testing::FromF32Bytes(*output) : std::vector<float>();
}

TEST(DenoiseTest, ImprovesTheSnrOfSpeechInWhiteAndPinkNoise) {
  const std::vector<float>& clean = Speech();
  const std::pair<const char*, std::vector<float>> noises[] = {
      {"white", testing::WhiteNoise(clean.size(), 1.0, 7)}, {"pink", PinkNoise(clean.size(), 8)}};
  std::printf("[ measured ] denoise (reduction_db 24) on 5.4 s of speech, SNR in dB:\n");
  std::printf("[ measured ]   noise   input  output   gain\n");
  for (const auto& [name, noise] : noises) {
    for (double snr_db : {0.0, 5.0, 10.0}) {
      SCOPED_TRACE(absl::StrCat(name, " noise at ", snr_db, " dB"));
      const std::vector<float> noisy = Mix(clean, noise, snr_db);
      const std::vector<float> out = Denoise(noisy, 24.0);
      ASSERT_EQ(out.size(), clean.size());
      const double in_snr = SnrDb(clean, noisy);
      const double out_snr = SnrDb(clean, out);
      std::printf("[ measured ]   %-5s  %6.2f  %6.2f  %5.2f\n", name, in_snr, out_snr,
                  out_snr - in_snr);
      EXPECT_NEAR(in_snr, snr_db, 0.01);
      // DESIGN's bar is white noise at 5 dB: a gain of 6 dB. The others guard against
      // regressions (measured: 4.3 dB and up).
      const bool bar = snr_db == 5.0 && std::string(name) == "white";
      EXPECT_GE(out_snr - in_snr, bar ? 6.0 : 3.5);
    }
  }
}

TEST(DenoiseTest, CleanSpeechKeepsItsLevelWithinOneDb) {
  const std::vector<float>& clean = Speech();
  const std::vector<float> out = Denoise(clean, 24.0);
  ASSERT_EQ(out.size(), clean.size());
  const double change_db = 10 * std::log10(SumSquares(out) / SumSquares(clean));
  std::printf("[ measured ] denoise: clean speech RMS level change %.3f dB\n", change_db);
  EXPECT_LT(std::fabs(change_db), 1.0);
}

TEST(DenoiseTest, ReductionZeroReturnsTheInputSampleForSample) {
  const std::vector<float>& speech = Speech();
  const std::vector<float> left = Mix(speech, testing::WhiteNoise(speech.size(), 1.0, 3), 5.0);
  const std::vector<float> right = Mix(speech, PinkNoise(speech.size(), 4), 0.0);
  for (uint32_t channels : {1u, 2u}) {
    SCOPED_TRACE(absl::StrCat(channels, " channels"));
    const std::vector<float> input = channels == 1 ? left : testing::Interleave({left, right});
    const std::vector<float> out = Denoise(input, 0.0, 16000, channels);
    ASSERT_EQ(out.size(), input.size());
    double worst = 0;
    for (size_t i = 0; i < input.size(); ++i) {
      worst = std::max(worst, std::fabs(double{out[i]} - input[i]));
    }
    // The FFT round trip in float: a few ulps of the frame's largest values (peak about 2).
    std::printf("[ measured ] denoise at 0 dB: largest |out - in| %.2g\n", worst);
    EXPECT_LT(worst, 2e-6);
  }
}

TEST(DenoiseTest, LatencyIsTheFrameLessOneSample) {
  const std::pair<double, uint32_t> sizes[] = {{8000, 256},   {16000, 512},  {22050, 512},
                                               {44100, 1024}, {48000, 1024}, {96000, 2048},
                                               {192000, 4096}};
  for (const auto& [rate, size] : sizes) {
    SCOPED_TRACE(absl::StrCat(rate, " Hz"));
    EXPECT_EQ(DenoiseFrameSize(rate), size);
    // 16 to 32 ms: long enough to resolve the harmonics of a voice, short enough for onsets.
    EXPECT_GT(size / rate, 0.016);
    EXPECT_LE(size / rate, 0.032);
    DenoiseProcessor denoise(0.0);
    ASSERT_TRUE(denoise.Prepare(ProcessSpec{rate, 1024, 1}).ok());
    EXPECT_EQ(denoise.LatencyFrames(), static_cast<int>(size) - 1);
    // An impulse comes out exactly LatencyFrames() later, fed in blocks of 300 frames.
    std::vector<float> x(4 * size, 0.0f);
    x[size / 3] = 1.0f;
    for (size_t at = 0; at < x.size(); at += 300) {
      float* channel = x.data() + at;
      AudioBlock block(&channel, 1, static_cast<uint32_t>(std::min<size_t>(300, x.size() - at)));
      denoise.Process(block, block);
    }
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_NEAR(x[i], i == size / 3 + size - 1 ? 1.0f : 0.0f, 1e-6) << "sample " << i;
    }
  }
}

TEST(DenoiseTest, OutputDoesNotDependOnChunking) {
  const std::vector<float> speech(Speech().begin(), Speech().begin() + 9600);  // 0.6 s
  const std::vector<float> left = Mix(speech, testing::WhiteNoise(speech.size(), 1.0, 5), 5.0);
  const std::vector<float> right = Mix(speech, PinkNoise(speech.size(), 6), 10.0);
  for (SampleEncoding encoding : {SampleEncoding::kS16, SampleEncoding::kF32}) {
    for (uint32_t channels : {1u, 2u}) {
      SCOPED_TRACE(absl::StrCat(encoding == SampleEncoding::kS16 ? "s16" : "f32", " x", channels));
      const std::vector<float> input = channels == 1 ? left : testing::Interleave({left, right});
      testing::ExpectChunkingInvariant(
          SameFormat(encoding, 16000, channels, {Proc("denoise", {{"reduction_db", 24.0}})}),
          testing::EncodeAs(encoding, input), DenoiseRegistry());
    }
  }
}

TEST(DenoiseTest, ChannelsAreDenoisedIndependently) {
  const std::vector<float> speech(Speech().begin(), Speech().begin() + 16000);
  const std::vector<float> noisy = Mix(speech, testing::WhiteNoise(speech.size(), 1.0, 9), 5.0);
  const std::vector<float> mono = Denoise(noisy, 24.0);
  // Eight channels: the noisy speech in channel 3, silence in the others.
  std::vector<std::vector<float>> planar(8, std::vector<float>(noisy.size(), 0.0f));
  planar[3] = noisy;
  const std::vector<float> out = Denoise(testing::Interleave(planar), 24.0, 16000, 8);
  ASSERT_EQ(out.size(), noisy.size() * 8);
  for (size_t i = 0; i < noisy.size(); ++i) {
    for (uint32_t c = 0; c < 8; ++c) {
      ASSERT_EQ(out[i * 8 + c], c == 3 ? mono[i] : 0.0f) << "frame " << i << " channel " << c;
    }
  }
}

TEST(DenoiseTest, RejectsReductionOutsideZeroToSixtyNamingIt) {
  const ProcessorRegistry& registry = DenoiseRegistry();
  for (double bad : {-0.5, 60.5, 1000.0}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(registry.Resolve(Proc("denoise", {{"reduction_db", bad}}), Spec(16000, 1)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("denoise.reduction_db must be in [0, 60] dB")));
    ParamValues current;
    current.Set("reduction_db", 24.0);
    EXPECT_THAT(
        registry.ValidateUpdate(Proc("denoise", {{"reduction_db", bad}}), current, Spec(16000, 1)),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("denoise.reduction_db")));
  }
  for (double good : {0.0, 24.0, 60.0}) {
    EXPECT_TRUE(registry.Resolve(Proc("denoise", {{"reduction_db", good}}), Spec(8000, 8)).ok());
  }
  absl::StatusOr<ParamValues> resolved = registry.Resolve(Proc("denoise"), Spec(48000, 2));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->Number("reduction_db"), 24.0);
}

TEST(DenoiseTest, OutputIsFiniteOnSilenceFullScaleNoiseImpulsesAndHugeValues) {
  constexpr size_t kFrames = 48000;
  std::vector<float> silence(kFrames, 0.0f);
  std::vector<float> full_scale = testing::WhiteNoise(kFrames, 1.0, 11);
  for (float& x : full_scale) x = x < 0 ? -1.0f : 1.0f;
  std::vector<float> impulses(kFrames, 0.0f);
  for (size_t i = 100; i < kFrames; i += 4001) impulses[i] = (i / 4001) % 2 ? -1.0f : 1.0f;
  // Silence, then float's largest values (the FFT overflows), then speech-like noise: the
  // state must come back from it.
  std::vector<float> huge = testing::WhiteNoise(kFrames, 0.1, 12);
  for (size_t i = 1000; i < 3000; ++i) huge[i] = i % 2 ? FLT_MAX : -FLT_MAX;
  for (size_t i = 3000; i < 3100; ++i) huge[i] = 1e30f;
  const std::pair<const char*, const std::vector<float>*> inputs[] = {
      {"silence", &silence},
      {"full-scale noise", &full_scale},
      {"impulses", &impulses},
      {"huge values", &huge}};
  for (const auto& [name, input] : inputs) {
    for (double reduction_db : {0.0, 24.0, 60.0}) {
      SCOPED_TRACE(absl::StrCat(name, ", reduction ", reduction_db, " dB"));
      const std::vector<float> out = Denoise(*input, reduction_db, 48000);
      ASSERT_EQ(out.size(), input->size());
      size_t nonfinite = 0;
      for (float x : out) nonfinite += !std::isfinite(x);
      EXPECT_EQ(nonfinite, 0u);
      if (input == &silence) {
        EXPECT_EQ(testing::Peak(out), 0.0);
      }
      if (input == &huge) {
        // A second after the overflow, the output is ordinary again.
        const std::vector<float> tail(out.begin() + 3100 + 48000 / 2, out.end());
        EXPECT_LT(testing::Peak(tail), 0.2);
      }
    }
  }
}

double MaxSecondDifference(const std::vector<float>& x, size_t begin, size_t end) {
  double worst = 0;
  for (size_t i = begin + 1; i + 1 < end; ++i) {
    worst = std::max(worst, std::fabs(double{x[i + 1]} - 2.0 * x[i] + x[i - 1]));
  }
  return worst;
}

double RmsDb(const std::vector<float>& x, size_t begin, size_t end) {
  return 20 * std::log10(testing::Rms(std::vector<float>(x.begin() + begin, x.begin() + end)));
}

TEST(DenoiseTest, ReductionUpdatesRampWithoutClicks) {
  // A steady 200 Hz tone is, to a noise tracker, noise: at reduction_db 0 it passes exactly;
  // raised to 40 dB mid-stream, the tone fades; back at 0 it passes exactly again. A click
  // (a gain step) would show as a second difference far above the tone's own,
  // A (2 pi 200 / 16000)^2 = 0.0015.
  constexpr size_t kRate = 16000;
  const std::vector<float> tone = testing::Sine(200.0, kRate, 5 * kRate, 0.25);
  DenoiseProcessor denoise(0.0);
  ASSERT_TRUE(denoise.Prepare(ProcessSpec{kRate, 160, 1}).ok());
  const size_t up = 5 * kRate / 2;  // 2.5 s: 40 dB
  const size_t down = 4 * kRate;    // 4 s: back to 0
  const size_t latency = static_cast<size_t>(denoise.LatencyFrames());
  std::vector<float> padded = tone;
  padded.resize(tone.size() + latency, 0.0f);
  for (size_t at = 0; at < padded.size(); at += 160) {
    if (at == up || at == down) {
      denoise.ApplySettings({.reduction_db = at == up ? 40.0 : 0.0});
    }
    float* channel = padded.data() + at;
    AudioBlock block(&channel, 1, static_cast<uint32_t>(std::min<size_t>(160, padded.size() - at)));
    denoise.Process(block, block);
  }
  const std::vector<float> out(padded.begin() + latency, padded.end());

  const double tone_curvature = MaxSecondDifference(tone, 0, tone.size());
  const double out_curvature = MaxSecondDifference(out, 0, out.size());
  const double faded_db = RmsDb(out, up + kRate / 2, down) - RmsDb(tone, up + kRate / 2, down);
  std::printf("[ measured ] denoise update: curvature %.5f (tone %.5f), tone faded %.1f dB\n",
              out_curvature, tone_curvature, faded_db);
  EXPECT_LT(out_curvature, 1.1 * tone_curvature);
  EXPECT_LT(faded_db, -20.0);
  // Exact up to the first frame that saw the update (its first sample is a frame before
  // the update in aligned time), and again once the ramp back and the last frame with a
  // reduced gain are over.
  const size_t frame = denoise.frame_size();
  double worst_before = 0;
  for (size_t i = 0; i + frame < up; ++i) {
    worst_before = std::max(worst_before, std::fabs(double{out[i]} - tone[i]));
  }
  double worst_after = 0;
  for (size_t i = down + 2 * frame; i < tone.size(); ++i) {
    worst_after = std::max(worst_after, std::fabs(double{out[i]} - tone[i]));
  }
  EXPECT_LT(worst_before, 1e-6);
  EXPECT_LT(worst_after, 1e-6);
}

}  // namespace
}  // namespace audioproc
