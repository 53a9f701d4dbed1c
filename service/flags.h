// The server's command-line flags (Abseil), each also settable as an environment variable
// AUDIOPROC_<NAME> (e.g. AUDIOPROC_MAX_STREAMS=200); the command line wins.
#ifndef AUDIOPROC_SERVICE_FLAGS_H_
#define AUDIOPROC_SERVICE_FLAGS_H_

#include "absl/status/statusor.h"
#include "service/logging.h"
#include "service/server_options.h"

namespace audioproc {

// Applies AUDIOPROC_<NAME> environment variables to the flags defined in flags.cc. Call before
// absl::ParseCommandLine so that the command line overrides them. INVALID_ARGUMENT names the
// variable whose value does not parse.
absl::Status ApplyEnvironmentToFlags();

// Reads the parsed flags into options, checking ranges (INVALID_ARGUMENT names the flag).
absl::StatusOr<ServerOptions> ServerOptionsFromFlags();

// Reads --log_format and --log_level.
absl::StatusOr<LogOptions> LogOptionsFromFlags();

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_FLAGS_H_
