// What the EchoSuppressor tests share (echo_suppressor_test.cc,
// echo_suppressor_double_talk_test.cc): the suppressor's hop and rate, and how much its output, one
// hop late, removed.
#ifndef AUDIOPROC_TESTS_DSP_ECHO_SUPPRESSOR_TESTING_H_
#define AUDIOPROC_TESTS_DSP_ECHO_SUPPRESSOR_TESTING_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/testing/signals.h"

namespace audioproc::echo_suppressor_testing {

inline constexpr uint32_t kHop = 128;
inline constexpr double kRate = 16000;

// How much less energy `out` has over [from, to) than `in`, in dB, `out` being one hop late (as a
// suppressor's output is).
inline double RemovedDb(const std::vector<float>& in, const std::vector<float>& out, size_t from,
                        size_t to) {
  return 10 *
         std::log10(testing::Energy(in, from, to) / testing::Energy(out, from + kHop, to + kHop));
}

}  // namespace audioproc::echo_suppressor_testing

#endif  // AUDIOPROC_TESTS_DSP_ECHO_SUPPRESSOR_TESTING_H_
