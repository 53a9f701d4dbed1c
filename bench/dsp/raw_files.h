// What the tools of `make bench-dsp` share: the raw little-endian float32 files the material
// tools write and the peers read and write, and how a tool ends.
#ifndef AUDIOPROC_BENCH_DSP_RAW_FILES_H_
#define AUDIOPROC_BENCH_DSP_RAW_FILES_H_

#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace audioproc::bench {

// The whole file at `path` as float32 samples (the host is little-endian, as the format is).
absl::StatusOr<std::vector<float>> ReadF32(const std::string& path);

// Writes `samples` to `path` as float32.
absl::Status WriteF32(const std::string& path, std::span<const float> samples);

// A tool's exit code for `status`: 0 when ok; otherwise 1, after "<tool>: <status>" on stderr.
int ExitCode(const char* tool, const absl::Status& status);

}  // namespace audioproc::bench

#endif  // AUDIOPROC_BENCH_DSP_RAW_FILES_H_
