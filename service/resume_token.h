// Resume tokens (issue 14): a stream's config and processing state at a checkpoint, signed so
// that any replica holding the deployment's key can go on with it and nobody else can forge
// or alter one.
//
//   ASSIGN_OR_RETURN(std::string token,
//                    SealResumeToken(key, principal, now, ttl, point, config, pipeline, max));
//   ASSIGN_OR_RETURN(OpenedResumeToken opened, OpenResumeToken(token, keys, principal, now));
//   // plan opened.config, build the pipeline, then RestoreState from opened.state
//
// Form (version 1), little-endian as dsp/state_codec.h writes it: tag "arsm" and version,
// issued and expiry times (Unix ms), the principal's binding (HMAC-SHA256 of the principal
// under the signing key: the principal itself, a bearer token perhaps, is never in the
// token), the checkpoint's sequence, the session's next server-assigned sequence and chunk
// count, the StreamConfig (the chain as it runs, updates applied, and the stream id, which
// keys the dither), the pipeline's state; then the HMAC-SHA256 of all of that. Nothing in it
// is secret: it holds filter memories and settings, which the client sent or could compute.
//
// Errors, from OpenResumeToken, each precise, and checked in this order so that nothing of
// an unsigned token is parsed: malformed or truncated INVALID_ARGUMENT; a signature no key
// in force verifies UNAUTHENTICATED; another format version FAILED_PRECONDITION; expired
// FAILED_PRECONDITION (with its expiry); another principal PERMISSION_DENIED.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_SERVICE_RESUME_TOKEN_H_
#define AUDIOPROC_SERVICE_RESUME_TOKEN_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/stream_pipeline.h"

namespace audioproc {

// Where a checkpoint stands in the stream.
struct ResumePoint {
  uint64_t sequence = 0;       // the last chunk whose output was sent before the checkpoint
  uint64_t next_sequence = 0;  // what the server numbers the next unnumbered chunk
  uint64_t chunks = 0;         // chunks processed so far (for the summary)
};

// A token's contents once verified. `state` is a view into the token passed to Open.
struct OpenedResumeToken {
  ResumePoint point;
  v1::StreamConfig config;
  std::span<const uint8_t> state;
  absl::Time expires;
};

// Signs the stream's checkpoint with `key`: RESOURCE_EXHAUSTED when it would pass `max_bytes`
// (the pipeline's state is written straight into the token's buffer, which is allocated once,
// at most max_bytes long), UNIMPLEMENTED when a processor cannot save its state.
absl::StatusOr<std::string> SealResumeToken(absl::string_view key, absl::string_view principal,
                                            absl::Time now, absl::Duration ttl,
                                            const ResumePoint& point,
                                            const v1::StreamConfig& config,
                                            const StreamPipeline& pipeline, size_t max_bytes);

// Verifies `token` with each of `keys` and checks its version, expiry and principal.
absl::StatusOr<OpenedResumeToken> OpenResumeToken(absl::string_view token,
                                                  const std::vector<std::string>& keys,
                                                  absl::string_view principal, absl::Time now);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_RESUME_TOKEN_H_
