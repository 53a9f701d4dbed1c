// loudness's own BS.1770 meter against libebur128, the reference implementation it replaced
// on the audio path (libebur128 keeps about 200 KiB a stream, over the voice workload's whole
// memory bar; issue 12): every 100 ms event's momentary, short-term and integrated readings
// agree with libebur128 fed the same input up to the event's frame, for speech at 16 kHz mono,
// noise at 44.1 kHz stereo and a tone mix with a level envelope at 48 kHz stereo.
#include <ebur128.h>

#include <cmath>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "chain/stream_pipeline.h"
#include "gtest/gtest.h"
#include "processors/loudness.h"
#include "tests/processors/dsp_core_test_util.h"
#include "tests/processors/event_test_util.h"
#include "tests/testing/chunking.h"
#include "tests/testing/signals.h"
#include "tests/testing/wav.h"

namespace audioproc {
namespace {

constexpr auto LoudnessRegistry = testing::RegistryOf<LoudnessDefinition>;

struct Ebur128Deleter {
  void operator()(ebur128_state* state) const { ebur128_destroy(&state); }
};

struct Case {
  std::string name;
  uint32_t rate;
  std::vector<std::vector<float>> channels;
};

std::vector<float> Speech(uint32_t frames) {
  absl::StatusOr<testing::WavAudio> wav =
      testing::ReadWavS16(testing::SourcePath("clients/demo/speech_16k.wav"));
  EXPECT_TRUE(wav.ok()) << wav.status();
  std::vector<float> out(frames, 0.0f);
  if (!wav.ok() || wav->samples.empty()) return out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = 0.5f * wav->samples[i % wav->samples.size()];
  return out;
}

std::vector<float> ToneMix(uint32_t rate, uint32_t frames, double phase_hz) {
  std::vector<float> out(frames);
  for (uint32_t i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) / rate;
    const double envelope = 0.05 + 0.3 * (0.5 + 0.5 * std::sin(2 * M_PI * 0.3 * t));
    out[i] = static_cast<float>(envelope * (std::sin(2 * M_PI * 110 * t + phase_hz) +
                                            0.5 * std::sin(2 * M_PI * 2500 * t) +
                                            0.25 * std::sin(2 * M_PI * 9000 * t)));
  }
  return out;
}

TEST(LoudnessReferenceTest, EventReadingsAgreeWithLibebur128) {
  const std::vector<Case> cases = {
      {"speech 16 kHz mono", 16000, {Speech(16000 * 8)}},
      {"noise 44.1 kHz stereo",
       44100,
       {testing::WhiteNoise(44100 * 6, 0.2, 3), testing::WhiteNoise(44100 * 6, 0.05, 4)}},
      {"tone mix 48 kHz stereo",
       48000,
       {ToneMix(48000, 48000 * 6, 0), ToneMix(48000, 48000 * 6, 1)}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const uint32_t channels = static_cast<uint32_t>(c.channels.size());
    const std::vector<float> interleaved = testing::Interleave(c.channels);
    ProcessorConfig loudness{"loudness", {}};
    loudness.params.Set("target_lufs", -23.0);
    const PipelineConfig config =
        testing::SameFormat(SampleEncoding::kF32, c.rate, channels, {loudness});
    absl::StatusOr<testing::StreamResult> result = testing::RunCollectingEvents(
        LoudnessRegistry(), config, testing::ToF32Bytes(interleaved), {4000, 333});
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_GE(result->events.size(), 50u);

    std::unique_ptr<ebur128_state, Ebur128Deleter> meter(
        ebur128_init(channels, c.rate, EBUR128_MODE_S | EBUR128_MODE_I | EBUR128_MODE_HISTOGRAM));
    ASSERT_NE(meter, nullptr);
    uint64_t fed = 0;
    int compared = 0;
    for (size_t k = 0; k < result->events.size(); ++k) {
      const uint64_t frame = result->events[k].frame;
      ASSERT_EQ(
          ebur128_add_frames_float(meter.get(), interleaved.data() + fed * channels, frame - fed),
          EBUR128_SUCCESS);
      fed = frame;
      const auto& event = std::get<LoudnessEvent>(result->events[k].payload);
      double momentary, short_term, integrated;
      ASSERT_EQ(ebur128_loudness_momentary(meter.get(), &momentary), EBUR128_SUCCESS);
      ASSERT_EQ(ebur128_loudness_shortterm(meter.get(), &short_term), EBUR128_SUCCESS);
      ASSERT_EQ(ebur128_loudness_global(meter.get(), &integrated), EBUR128_SUCCESS);
      if (k >= 3 && std::isfinite(momentary) && momentary > -70) {
        EXPECT_NEAR(event.momentary_lufs, momentary, 0.01) << "event " << k;
        ++compared;
      }
      if (k >= 29 && std::isfinite(short_term) && short_term > -70) {
        EXPECT_NEAR(event.short_term_lufs, short_term, 0.01) << "event " << k;
      }
      if (k >= 3 && std::isfinite(integrated)) {
        // Both keep integrated loudness in 0.1 LU histogram bins.
        EXPECT_NEAR(event.integrated_lufs, integrated, 0.1) << "event " << k;
      }
    }
    EXPECT_GE(compared, 40);
  }
}

}  // namespace
}  // namespace audioproc
