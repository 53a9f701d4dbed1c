// A short generated input and a check of what the server made of it, for smoke tests that
// have no audio file at hand: `audioproc-client --generate_seconds=2 --check` (the chart's
// `helm test` hook runs it against the Service).
//
//   PcmAudio signal = GenerateTestSignal(2.0);            // 16 kHz mono s16, deterministic
//   StreamResult result = client->Process(config, signal.data);
//   if (absl::Status s = CheckStreamResult(result, signal.format, signal.frames()); !s.ok()) ...
//
// Thread safety: stateless functions, safe to call from any thread.
#ifndef AUDIOPROC_CLIENTS_TEST_SIGNAL_H_
#define AUDIOPROC_CLIENTS_TEST_SIGNAL_H_

#include "absl/status/status.h"
#include "audioproc/v1/audioproc.pb.h"
#include "clients/audio_file.h"
#include "clients/stream_client.h"

namespace audioproc::client {

// `seconds` of 16 kHz mono PCM_S16LE: a 440 Hz tone at -12 dBFS plus noise at about -50 dBFS
// from a fixed-seed generator, so the same call always gives the same bytes. Allocates.
PcmAudio GenerateTestSignal(double seconds);

// OK if `result` is a complete, well-formed stream of `input_frames` frames of `input_format`
// (DESIGN.md section 3): status OK, StreamReady, every chunk sent answered in order and then
// the tail, a summary whose frames_in is input_frames (and result.chunks' frames_in added up),
// whose frames_out is round(frames_in x output rate / input rate) and matches the frames received;
// when the output was kept (no sink), its size is frames_out whole frames. Otherwise INTERNAL (or
// the call's own status) saying the first thing that is wrong.
absl::Status CheckStreamResult(const StreamResult& result, const v1::AudioFormat& input_format,
                               uint64_t input_frames);

}  // namespace audioproc::client

#endif  // AUDIOPROC_CLIENTS_TEST_SIGNAL_H_
