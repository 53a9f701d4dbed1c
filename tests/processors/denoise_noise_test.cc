// denoise on material it was not tuned on (issue 13): six espeak-ng voices, male and female,
// saying sentences between pauses over a -70 dBFS microphone floor
// (tests/testing/speech_material.h), in white, pink, brown and fan noise and babble (eight
// talks of the other voices, tests/testing/babble.h) at -5, 0, 5, 10 and 15 dB (mixed against
// the speech's active level), at 16 and 48 kHz.
//
// SNR as DESIGN §4: 10 log10(sum clean^2 / sum (out - clean)^2) over the aligned signal (the
// chain drops denoise's latency). The gain is the output's SNR less the input's, averaged over
// the voices and then over the SNRs. Bars (issue 13, on this material): brown >= 9.0 dB, every
// noise at -5 dB >= 10.7 dB on average; white, pink and fan no worse than before the
// below-speech bins were held at the floor (measured with both on this material: 9.55, 5.67,
// 9.88 dB at 16 kHz; 11.72, 6.77, 8.93 dB at 48 kHz) less 0.1 dB; babble >= 2.8 dB (1.8 and
// 2.1 dB before the noise tracker's crowd bias; 2.96 and 2.97 with it); clean speech's level
// within 0.3 dB.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "chain/registry.h"
#include "gtest/gtest.h"
#include "processors/denoise.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/testing/babble.h"
#include "tests/testing/chunking.h"
#include "tests/testing/noises.h"
#include "tests/testing/signals.h"
#include "tests/testing/speech_material.h"

namespace audioproc {
namespace {

using testing::kSpeechVoices;
using testing::NoiseKind;
using testing::Proc;
using testing::Talk;

constexpr int kVoices = static_cast<int>(std::size(kSpeechVoices));
constexpr double kSnrsDb[] = {-5.0, 0.0, 5.0, 10.0, 15.0};

double SumSquares(const std::vector<float>& x) {
  double sum = 0;
  for (float v : x) sum += static_cast<double>(v) * v;
  return sum;
}

double SnrDb(const std::vector<float>& clean, const std::vector<float>& out) {
  double error = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    const double d = static_cast<double>(out[i]) - clean[i];
    error += d * d;
  }
  return 10.0 * std::log10(SumSquares(clean) / error);
}

// `audio` through denoise at its defaults, as one chunk (chunking invariance is
// denoise_test's), aligned and as long as the input.
std::vector<float> Denoised(const std::vector<float>& audio, double rate) {
  const std::string input = testing::ToF32Bytes(audio);
  absl::StatusOr<std::string> out = testing::RunInChunks(
      testing::SameFormat(SampleEncoding::kF32, static_cast<uint32_t>(rate), 1, {Proc("denoise")}),
      input, {input.size() + 1}, ProcessorRegistry::Default());
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return std::vector<float>(audio.size(), 0.0f);
  std::vector<float> samples = testing::FromF32Bytes(*out);
  samples.resize(audio.size(), 0.0f);
  return samples;
}

// Every voice's talk (seed 1000 + voice) at `rate`; empty, with the failure reported, if the
// material cannot be made.
std::vector<Talk> Talks(uint32_t rate) {
  absl::StatusOr<std::vector<Talk>> talks = testing::MakeTalks(1000, rate);
  EXPECT_TRUE(talks.ok()) << talks.status();
  return talks.ok() ? *std::move(talks) : std::vector<Talk>();
}

struct Baseline {
  double white, pink, fan;
};

class DenoiseNoiseTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(DenoiseNoiseTest, SnrGainPerNoiseHoldsIssue13sBars) {
  const uint32_t rate = GetParam();
  const Baseline baseline =
      rate == 16000 ? Baseline{9.55, 5.67, 9.88} : Baseline{11.72, 6.77, 8.93};
  const std::vector<Talk> talks = Talks(rate);
  ASSERT_EQ(talks.size(), static_cast<size_t>(kVoices));
  const std::vector<std::string> noises = {"white", "pink", "brown", "fan", "babble"};
  std::map<std::string, double> mean_gain;
  double at_minus_five = 0;
  for (const std::string& name : noises) {
    // Each voice's noise of this kind, at RMS 1.
    std::vector<std::vector<float>> noise(kVoices);
    for (int v = 0; v < kVoices; ++v) {
      const size_t frames = talks[v].samples.size();
      if (name == "babble") {
        absl::StatusOr<std::vector<float>> babble = testing::MakeBabble(v, frames, rate, 77 + v);
        ASSERT_TRUE(babble.ok()) << babble.status();
        noise[v] = *std::move(babble);
      } else {
        for (NoiseKind kind : testing::kStationaryNoises) {
          if (testing::NoiseName(kind) == name)
            noise[v] = testing::MakeNoise(kind, frames, rate, 77 + v);
        }
      }
    }
    std::string row;
    for (double snr : kSnrsDb) {
      double gain = 0;
      for (int v = 0; v < kVoices; ++v) {
        const Talk& talk = talks[v];
        const std::vector<float> noisy =
            testing::MixAtSnr(talk.samples, talk.active_power, noise[v], snr);
        gain += SnrDb(talk.samples, Denoised(noisy, rate)) - SnrDb(talk.samples, noisy);
      }
      gain /= kVoices;
      mean_gain[name] += gain / std::size(kSnrsDb);
      if (snr == -5.0) at_minus_five += gain / noises.size();
      absl::StrAppend(&row, absl::StrFormat(" %6.2f", gain));
    }
    std::printf(
        "[ measured ] denoise at %u Hz, %-6s noise, SNR gain at -5/0/5/10/15 dB:%s, mean %.2f\n",
        rate, name.c_str(), row.c_str(), mean_gain[name]);
  }
  std::printf("[ measured ] denoise at %u Hz, every noise at -5 dB: %.2f\n", rate, at_minus_five);
  EXPECT_GE(mean_gain["brown"], 9.0);
  EXPECT_GE(mean_gain["babble"], 2.8);
  EXPECT_GE(at_minus_five, 10.7);
  EXPECT_GE(mean_gain["white"], baseline.white - 0.1);
  EXPECT_GE(mean_gain["pink"], baseline.pink - 0.1);
  EXPECT_GE(mean_gain["fan"], baseline.fan - 0.1);
}

TEST_P(DenoiseNoiseTest, CleanSpeechKeepsItsLevelWithinAThirdOfADb) {
  const uint32_t rate = GetParam();
  for (const Talk& talk : Talks(rate)) {
    const double change_db =
        10.0 * std::log10(SumSquares(Denoised(talk.samples, rate)) / SumSquares(talk.samples));
    EXPECT_NEAR(change_db, 0.0, 0.3);
  }
}

INSTANTIATE_TEST_SUITE_P(Rates, DenoiseNoiseTest, ::testing::Values(16000u, 48000u),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return absl::StrCat(info.param, "Hz");
                         });

}  // namespace
}  // namespace audioproc
