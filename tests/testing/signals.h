// Test signals: deterministic (seeded) sines, noise and their PCM encodings.
#ifndef AUDIOPROC_TESTS_TESTING_SIGNALS_H_
#define AUDIOPROC_TESTS_TESTING_SIGNALS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace audioproc::testing {

// `frames` samples of amplitude * sin(2 pi f n / rate + phase).
std::vector<float> Sine(double frequency_hz, double sample_rate_hz, size_t frames,
                        double amplitude = 1.0, double phase = 0.0);

// Uniform white noise in [-amplitude, amplitude), from a fixed seed.
std::vector<float> WhiteNoise(size_t frames, double amplitude, uint32_t seed);

// Interleaves equally long planar channels.
std::vector<float> Interleave(const std::vector<std::vector<float>>& channels);

// Interleaved float samples as little-endian s16 / f32 bytes (s16 rounds and clips).
std::string ToS16Bytes(const std::vector<float>& interleaved);
std::string ToF32Bytes(const std::vector<float>& interleaved);
std::vector<int16_t> FromS16Bytes(const std::string& bytes);
std::vector<float> FromF32Bytes(const std::string& bytes);

// Peak absolute value and RMS.
double Peak(const std::vector<float>& samples);
double Rms(const std::vector<float>& samples);
// The sum of squares of samples [from, to).
double Energy(const std::vector<float>& samples, size_t from, size_t to);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_SIGNALS_H_
