#include "bench/dsp/raw_files.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace audioproc::bench {

absl::StatusOr<std::vector<float>> ReadF32(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  const std::streamsize bytes = file.tellg();
  std::vector<float> samples(static_cast<size_t>(bytes) / sizeof(float));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(samples.data()),
            static_cast<std::streamsize>(samples.size() * sizeof(float)));
  if (!file) return absl::DataLossError(absl::StrCat("short read of ", path));
  return samples;
}

absl::Status WriteF32(const std::string& path, std::span<const float> samples) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(samples.data()),
            static_cast<std::streamsize>(samples.size() * sizeof(float)));
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

int ExitCode(const char* tool, const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s: %s\n", tool, status.ToString().c_str());
  return 1;
}

}  // namespace audioproc::bench
