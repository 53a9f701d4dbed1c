// Building blocks of the processors' resource estimates (resource_estimate.h): the heap bytes
// of what processors and chains keep (vectors, audio buffers, FFTW buffers and plans,
// resolved parameters), and the CPU cost of the kernels several processors share (real FFTs,
// biquad sections), calibrated on the reference machine.
//
// Bytes are counted as glibc's malloc holds them (a block's usable size: the request rounded
// up, at least 24 bytes), which is what tests/processors/resource_estimate_memory_test.cc
// measures with its counting malloc. Containers are assumed to be libstdc++'s (a vector made
// with n elements has capacity n; one grown by push_back doubles from 1; strings up to 15
// characters live inside the object).
//
//   uint64_t bytes = sizeof(MyProcessor) + cost::VectorBytes<float>(frames) +
//                    cost::RealFftPlanBytes(512) + cost::FftwBufferBytes<float>(512);
//   double cores = rate * channels * kNsPerSample * 1e-9 + hops * cost::RealFftSeconds(512);
//
// CPU constants here and in each processor's estimate are CPU-seconds on one core of the
// reference machine, where they were measured: lscpu "Intel(R) Xeon(R) Processor" (family 6,
// model 167, stepping 1; AVX-512), 2 vCPUs under KVM, 2.6 GHz TSC; Debian 12's gcc 12 at -O2
// (RelWithDebInfo). They were fitted to tests/processors/cost_probe.h's measurements (each
// processor alone, thread CPU time, the fastest of several runs, on the calibration signal
// below) over the parameters each model names, and are checked against `make bench`
// (processors_bench: its "Cost model vs measured" table gives the ratio to recalibrate by).
//
// Thread safety: pure functions.
#ifndef AUDIOPROC_DSP_COST_MODEL_H_
#define AUDIOPROC_DSP_COST_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "dsp/audio_block.h"

namespace audioproc::cost {

// The usable size of the block malloc returns for `bytes` (0 for none): at least 24 bytes,
// otherwise the request rounded up to 8 past a multiple of 16. Blocks served by mmap round to
// pages instead, which this ignores (under 4 KiB on blocks of 128 KiB and more).
uint64_t HeapBlock(uint64_t bytes);

// A std::vector<T> made with `n` elements (assign, resize or the sizing constructor).
template <typename T>
uint64_t VectorBytes(uint64_t n) {
  return HeapBlock(n * sizeof(T));
}

// The capacity of a vector after `n` push_backs from empty: 0, 1, 2, 4, 8, ...
uint64_t GrownCapacity(uint64_t n);

// The heap of a std::string of `size` characters made by copying (capacity = size): none up
// to 15 characters.
uint64_t StringBytes(uint64_t size);

// An AudioBuffer(channels, frames): the vector of channels and each channel's samples.
uint64_t AudioBufferBytes(uint32_t channels, uint32_t frames);

// An FftwBuffer<T>(n): one fftwf_malloc'd (memalign'd) block of n T.
template <typename T>
uint64_t FftwBufferBytes(uint64_t n) {
  return HeapBlock(n * sizeof(T));
}

// What a RealFftPlan of `n` points (n a power of two) keeps: FFTW's forward and inverse plans,
// with their twiddle factors, as they stand when no other plan of that size is alive. FFTW
// shares twiddle tables between live plans of one size (refcounted), so a second processor
// of the same size costs less: the statement is an upper bound per processor. What FFTW
// keeps process-wide (planner, wisdom: a few KiB per size ever planned) is not a stream's.
uint64_t RealFftPlanBytes(uint32_t n);

// CPU-seconds of one real FFT of `n` points (n a power of two), forward or inverse, with an
// FFTW_ESTIMATE plan on fftwf_malloc'd arrays.
double RealFftSeconds(uint32_t n);

// CPU-seconds per second of audio of BiquadCascadeOf::Process with `sections` sections
// (transposed direct form II in double) on `channels` channels at `sample_rate_hz`.
double BiquadCascadeCores(double sample_rate_hz, uint32_t channels, int sections);

// The signal the CPU constants are calibrated on (processors_bench, resource_estimate_test):
// white noise whose level alternates every 250 ms between -11 and -55 dBFS RMS, which keeps
// the dynamics processors' gains moving (their costliest path) and gates open and shut.
// Fills `block` with frames [first_frame, first_frame + block.num_frames()) of it; each
// channel is its own noise. Deterministic, stateless, allocates nothing.
void FillCalibrationSignal(const AudioBlock& block, uint64_t first_frame, double sample_rate_hz);

}  // namespace audioproc::cost

#endif  // AUDIOPROC_DSP_COST_MODEL_H_
