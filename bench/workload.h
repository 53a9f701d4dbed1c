// Workloads of the load generator: the DESIGN.md section 8 streams, as StreamConfigs with the
// audio each stream sends.
//
//   null   16 kHz mono PCM_S16LE, empty chain (the gRPC floor)
//   voice  16 kHz mono PCM_S16LE: highpass 80 Hz, denoise, compressor, loudness -16 LUFS,
//          limiter -1 dBFS
//   music  48 kHz stereo PCM_F32LE: 3-band eq, compressor, limiter, resample to 44.1 kHz
//
// The voice and music chains are the ones bench/processors_bench.cc runs in-process (same
// processors, same parameters), so the gRPC path can be compared with them. The audio is the
// same seeded uniform noise in [-0.3, 0.3] the microbenchmarks use.
//
// Thread safety: a Workload is immutable once made; any number of streams may share one.
#ifndef AUDIOPROC_BENCH_WORKLOAD_H_
#define AUDIOPROC_BENCH_WORKLOAD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audioproc/v1/audioproc.pb.h"

namespace audioproc::bench {

// The voice and music chains as proto3 JSON (what `--chain` of the command-line tools takes).
inline constexpr char kVoiceChainJson[] =
    R"([{"highpass":{"cutoffHz":80}},{"denoise":{}},{"compressor":{}},)"
    R"({"loudness":{"targetLufs":-16}},{"limiter":{"ceilingDb":-1}}])";
// light, 16 kHz mono: what a call centre leg often needs and nothing more (issue 12's "light").
inline constexpr char kLightChainJson[] =
    R"([{"highpass":{"cutoffHz":80}},{"gain":{"gainDb":-3}},{"limiter":{"ceilingDb":-1}}])";
inline constexpr char kMusicChainJson[] =
    R"([{"eq":{"bands":[{"type":"LOWSHELF","freqHz":120,"gainDb":3},)"
    R"({"type":"PEAKING","freqHz":2500,"gainDb":-2},{"type":"HIGHSHELF","freqHz":9000,"gainDb":2}]}},)"
    R"({"compressor":{}},{"limiter":{"ceilingDb":-1}},{"resample":{"sampleRateHz":44100}}])";

struct Workload {
  std::string name;
  // The first request of every stream (stream_id left empty: the server assigns one).
  v1::StreamConfig config;
  // Input frames per chunk, and the bytes and audio seconds they make.
  uint32_t chunk_frames = 0;
  uint32_t chunk_bytes = 0;
  double chunk_seconds = 0;
  // A few seconds of input audio, a whole number of chunks; streams send it round and round.
  std::string audio;
};

// Makes workload `name` ("null", "voice" or "music") with `chunk_ms` milliseconds per chunk.
// A non-empty `chain` (either form of clients/chain_parser.h) replaces the workload's chain.
// INVALID_ARGUMENT for an unknown name, a zero chunk_ms or a chain that does not parse.
// Allocates the audio.
absl::StatusOr<Workload> MakeWorkload(absl::string_view name, uint32_t chunk_ms,
                                      absl::string_view chain = "");

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_WORKLOAD_H_
