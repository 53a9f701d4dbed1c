#include "clients/test_signal.h"

#include <cmath>
#include <cstdint>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "clients/pcm.h"

namespace audioproc::client {

PcmAudio GenerateTestSignal(double seconds) {
  constexpr uint32_t kRate = 16000;
  constexpr double kToneHz = 440.0;
  constexpr double kToneAmplitude = 0.25;    // -12 dBFS
  constexpr double kNoiseAmplitude = 0.003;  // about -50 dBFS
  PcmAudio audio;
  audio.format.set_encoding(v1::PCM_S16LE);
  audio.format.set_sample_rate_hz(kRate);
  audio.format.set_channels(1);
  const uint64_t frames = seconds > 0 ? static_cast<uint64_t>(std::llround(seconds * kRate)) : 0;
  audio.data.resize(frames * 2);
  // A fixed-seed linear congruential generator (Numerical Recipes' constants): the same bytes
  // on every machine, unlike std::uniform_real_distribution.
  uint32_t state = 0x2545F491u;
  for (uint64_t i = 0; i < frames; ++i) {
    state = state * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(state >> 8) / (1u << 24)) * 2.0 - 1.0;
    const double x = kToneAmplitude * std::sin(2.0 * std::numbers::pi * kToneHz * i / kRate) +
                     kNoiseAmplitude * noise;
    const auto sample = static_cast<int16_t>(std::lround(x * 32768.0));
    audio.data[2 * i] = static_cast<char>(static_cast<uint16_t>(sample) & 0xff);
    audio.data[2 * i + 1] = static_cast<char>(static_cast<uint16_t>(sample) >> 8);
  }
  return audio;
}

absl::Status CheckStreamResult(const StreamResult& result, const v1::AudioFormat& input_format,
                               uint64_t input_frames) {
  if (!result.status.ok()) return ToAbslStatus(result.status);
  auto fail = [](auto&&... parts) {
    return absl::InternalError(absl::StrCat("check failed: ", parts...));
  };
  if (!result.protocol_error.empty()) return fail(result.protocol_error);
  if (!result.ready.has_value()) return fail("no StreamReady");
  if (!result.got_tail) return fail("no tail chunk");
  if (!result.summary.has_value()) return fail("no StreamSummary");
  // One response per chunk sent, then the tail.
  if (result.chunks.size() != result.chunks_sent + 1) {
    return fail(result.chunks.size(), " chunk responses for ", result.chunks_sent,
                " chunks sent (plus the tail)");
  }
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  for (size_t i = 0; i < result.chunks.size(); ++i) {
    const v1::ChunkMetrics& chunk = result.chunks[i];
    if (i < result.chunks_sent && chunk.sequence() != i + 1) {
      return fail("chunk response ", i, " has sequence ", chunk.sequence());
    }
    frames_in += chunk.frames_in();
    frames_out += chunk.frames_out();
  }
  const v1::StreamSummary& summary = *result.summary;
  if (summary.frames_in() != frames_in) {
    return fail("summary frames_in ", summary.frames_in(), " but the chunks took ", frames_in);
  }
  if (summary.frames_in() != input_frames) {
    return fail("summary frames_in ", summary.frames_in(), " but ", input_frames, " were sent");
  }
  if (summary.chunks() != result.chunks_sent) {
    return fail("summary counts ", summary.chunks(), " chunks, ", result.chunks_sent, " sent");
  }
  const uint32_t in_rate = input_format.sample_rate_hz();
  const uint32_t out_rate = result.ready->output().sample_rate_hz();
  if (in_rate == 0 || out_rate == 0) return fail("a sample rate is 0");
  const auto expected_out = static_cast<uint64_t>(
      std::llround(static_cast<double>(summary.frames_in()) * out_rate / in_rate));
  if (summary.frames_out() != expected_out) {
    return fail("summary frames_out ", summary.frames_out(), ", expected ", expected_out, " (",
                summary.frames_in(), " frames at ", in_rate, " Hz out at ", out_rate, " Hz)");
  }
  if (frames_out != summary.frames_out()) {
    return fail("the chunks carried ", frames_out, " frames, the summary says ",
                summary.frames_out());
  }
  const uint32_t frame_bytes = BytesPerFrame(result.ready->output());
  if (!result.output.empty() && result.output.size() != frames_out * frame_bytes) {
    return fail(result.output.size(), " output bytes for ", frames_out, " frames of ", frame_bytes,
                " bytes");
  }
  return absl::OkStatus();
}

}  // namespace audioproc::client
