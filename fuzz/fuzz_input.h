// Helpers shared by the fuzz targets and the seed corpus generator (make_corpus.cc).
//
// Targets that take a message and something more (audio, a second message) read their input
// as a length-prefixed message followed by the rest:
//
//   [n: 2 bytes, little-endian][n bytes: the message][the rest]
//
// An input too short for its prefix gives its whole remainder to the message and leaves the
// rest empty, so every byte string still means something.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_FUZZ_FUZZ_INPUT_H_
#define AUDIOPROC_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

namespace audioproc::fuzz {

struct SplitInput {
  absl::string_view message;
  absl::string_view rest;
};

inline SplitInput SplitMessage(const uint8_t* data, size_t size) {
  const absl::string_view all(reinterpret_cast<const char*>(data), size);
  if (size < 2) return {all.substr(size), all.substr(size)};
  const size_t n = std::min<size_t>(data[0] | (size_t{data[1]} << 8), size - 2);
  return {all.substr(2, n), all.substr(2 + n)};
}

// The inverse of SplitMessage, for writing seeds. `message` must be shorter than 64 KiB.
inline std::string JoinMessage(absl::string_view message, absl::string_view rest) {
  std::string out;
  out.push_back(static_cast<char>(message.size() & 0xFF));
  out.push_back(static_cast<char>(message.size() >> 8));
  out.append(message.data(), message.size());
  out.append(rest.data(), rest.size());
  return out;
}

[[noreturn]] inline void CheckFailed(const char* condition, const char* file, int line,
                                     absl::string_view detail) {
  std::fprintf(stderr, "%s:%d: invariant failed: %s %.*s\n", file, line, condition,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace audioproc::fuzz

// Stops the fuzzer when an invariant of the code under test does not hold (libFuzzer then
// saves the input as a crash artifact). `...` is an optional absl::string_view of detail.
#define AUDIOPROC_FUZZ_CHECK(condition, ...)                            \
  do {                                                                  \
    if (!(condition)) {                                                 \
      ::audioproc::fuzz::CheckFailed(#condition, __FILE__, __LINE__,    \
                                     ::absl::string_view(__VA_ARGS__)); \
    }                                                                   \
  } while (false)

#endif  // AUDIOPROC_FUZZ_FUZZ_INPUT_H_
