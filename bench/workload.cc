#include "bench/workload.h"

#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "clients/chain_parser.h"
#include "clients/pcm.h"

namespace audioproc::bench {
namespace {

constexpr double kAudioSeconds = 3;
constexpr uint32_t kNoiseSeed = 11;  // processors_bench's

// Interleaved noise in `format`: uniform in [-0.3, 0.3], as the microbenchmarks feed.
std::string Noise(const v1::AudioFormat& format, uint64_t frames) {
  std::mt19937 rng(kNoiseSeed);
  std::uniform_real_distribution<float> dist(-0.3f, 0.3f);
  const uint64_t samples = frames * format.channels();
  std::string audio;
  if (format.encoding() == v1::PCM_F32LE) {
    audio.resize(samples * sizeof(float));
    for (uint64_t i = 0; i < samples; ++i) {
      const float x = dist(rng);
      std::memcpy(&audio[i * sizeof(float)], &x, sizeof(float));
    }
  } else {  // PCM_S16LE
    audio.resize(samples * 2);
    for (uint64_t i = 0; i < samples; ++i) {
      const auto x = static_cast<int16_t>(dist(rng) * 32768.0f);
      audio[2 * i] = static_cast<char>(x & 0xff);
      audio[2 * i + 1] = static_cast<char>((x >> 8) & 0xff);
    }
  }
  return audio;
}

}  // namespace

absl::StatusOr<Workload> MakeWorkload(absl::string_view name, uint32_t chunk_ms,
                                      absl::string_view chain) {
  if (chunk_ms == 0) return absl::InvalidArgumentError("chunk_ms must be at least 1");
  Workload workload;
  workload.name = std::string(name);
  v1::AudioFormat& input = *workload.config.mutable_input();
  absl::string_view chain_text = chain;
  if (name == "null" || name == "light" || name == "voice") {
    input.set_encoding(v1::PCM_S16LE);
    input.set_sample_rate_hz(16000);
    input.set_channels(1);
    if (chain.empty() && name == "voice") chain_text = kVoiceChainJson;
    if (chain.empty() && name == "light") chain_text = kLightChainJson;
  } else if (name == "music") {
    input.set_encoding(v1::PCM_F32LE);
    input.set_sample_rate_hz(48000);
    input.set_channels(2);
    if (chain.empty()) {
      chain_text = kMusicChainJson;
      // The chain ends at 44.1 kHz; unset, the output would be the input's 48 kHz and the
      // server would append a second resampler to get back there.
      workload.config.mutable_output()->set_sample_rate_hz(44100);
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown workload '", name, "': null, light, voice or music"));
  }
  absl::StatusOr<std::vector<v1::ProcessorSpec>> specs = client::ParseChain(chain_text);
  if (!specs.ok()) return specs.status();
  for (v1::ProcessorSpec& spec : *specs) *workload.config.add_chain() = std::move(spec);

  workload.chunk_frames = input.sample_rate_hz() * chunk_ms / 1000;
  if (workload.chunk_frames == 0) return absl::InvalidArgumentError("chunk_ms is under one frame");
  workload.chunk_bytes = workload.chunk_frames * BytesPerFrame(input);
  // As a real-time client does: the server then holds room for chunks of this size, not for
  // the largest it allows (StreamConfig.max_chunk_bytes).
  workload.config.set_max_chunk_bytes(workload.chunk_bytes);
  workload.chunk_seconds = static_cast<double>(workload.chunk_frames) / input.sample_rate_hz();
  const uint64_t chunks =
      std::max<uint64_t>(1, static_cast<uint64_t>(kAudioSeconds / workload.chunk_seconds));
  workload.audio = Noise(input, chunks * workload.chunk_frames);
  return workload;
}

}  // namespace audioproc::bench
