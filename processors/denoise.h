// denoise: STFT noise suppression for speech, on FFTW single precision.
//
// Each channel is processed on its own (no channel's noise leaks into another's estimate):
//   1. analysis: frames of N samples (the largest power of two up to 32 ms: 512 at 16 kHz,
//      1024 at 48 kHz), every N / 4 samples, under a periodic sqrt-Hann window;
//   2. noise: a NoiseTracker (IMCRA, Cohen 2003, after MCRA, Cohen & Berdugo 2002, with
//      Martin's (2001) sub-window minimum search) estimates each bin's noise power and speech
//      presence probability p; it needs no noise-only lead-in, follows falling noise at once
//      and rising noise within about 2 s, and tells babble from a talker in stationary noise
//      by how much the periodogram fluctuates in the talker's pauses (babble has none), and
//      raises its estimate toward babble's mean power (issue 13: babble 1.8 -> 3.0 dB);
//   3. gain given speech: the MMSE log-spectral amplitude estimator (Ephraim & Malah 1985),
//      with the decision-directed a priori SNR (Ephraim & Malah 1984) refined by the
//      two-step estimate (Plapous, Marro & Scalart 2006), which removes the decision-directed
//      rule's one-frame lag at onsets;
//   4. gain: OM-LSA (Cohen & Berdugo 2001), G = G_H1^p G_min^(1 - p) with G_min the floor
//      10^(-reduction_db / 20), so bins where speech is absent fall to the floor;
//   5. musical noise: besides the decision-directed smoothing and a lower bound on the a
//      priori SNR (Cappe 1994), frames that are noise have their gains averaged across
//      frequency (Esch & Vary 2009), which spreads out the isolated peaks heard as tones;
//   6. floor: no bin is attenuated by more than reduction_db (a cap, not a target: on
//      steady noise the attenuation reaches about 22 dB at the default 24, 28 dB at 60); bins
//      below kDenoiseSpeechLowHz, where no voice is, are held at it;
//   7. synthesis: inverse FFT, the same sqrt-Hann window, overlap-add. Analysis x synthesis is
//      a Hann window, whose four N / 4 shifts sum to exactly 2: with every gain at 1
//      (reduction_db = 0) the output is the input, to float rounding (measured 1.8e-7).
// Samples enter a FIFO and a frame runs every N / 4 input samples whatever the block sizes,
// so the output does not depend on how the input was cut. The output lags the input by
// N - 1 samples (LatencyFrames), which the chain drops.
//
// Measured on 5.4 s of speech (tests/processors/denoise_test.cc), SNR gains at 0, 5 and
// 10 dB input SNR: 8.4, 6.8 and 4.7 dB in white noise, 7.9, 6.2 and 5.1 dB in pink; clean
// speech comes out 0.18 dB quieter. On six voices at -5..15 dB at 16 kHz
// (denoise_noise_test.cc), mean SNR gains: white 9.6, pink 9.6, brown 16.4, fan 10.1 dB.
//
// A runtime reduction_db change ramps the floor, in dB, over kDenoiseRampMs, one step per STFT
// frame (a SmoothedValue); the overlap-add crossfades each frame's gains into the next, so the
// change cannot click.
//
//   chain: {"denoise", {{"reduction_db", 24.0}}}
//
// Per stream it keeps only its own signal state, in float (the FIFO, the overlap-add, the
// noise tracker, one frame of scratch); the FFT plans and the windows of a frame size are made
// once per process and shared read-only by every stream (RealFftPlan::Shared).
//
// Thread safety: a DenoiseProcessor is used by one thread at a time (Processor's contract);
// the shared plans and windows are made in Prepare under a mutex and only read afterwards.
#ifndef AUDIOPROC_PROCESSORS_DENOISE_H_
#define AUDIOPROC_PROCESSORS_DENOISE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "chain/parameters.h"
#include "chain/processor.h"
#include "chain/registry.h"
#include "dsp/audio_block.h"
#include "dsp/fftw_plan.h"
#include "dsp/noise_tracker.h"
#include "dsp/smoothed_value.h"

namespace audioproc {

// How long a runtime reduction_db change takes to reach its new value: twice the other
// processors' kParameterRampMs, as the floor moves once per STFT hop (8 ms at most), not per
// sample. Rounded up to whole hops.
inline constexpr double kDenoiseRampMs = 2 * kParameterRampMs;

// Bins centred below this carry no speech (the lowest voices' fundamentals lie above it) and are
// held at the floor. The noise tracker cannot be trusted there: the DC bin is real, its power a
// chi-square of one degree of freedom rather than two, and its neighbours within the window's
// main lobe take that statistic from the noise's sub-audio energy (pink, brown, rumble), so the
// minimum of their power lies much further below the mean than the tracker's bias assumes,
// the noise is underestimated and the gain opens. Measured on six espeak-ng voices in brown
// noise at -5..15 dB: SNR gain 3.2 dB with these bins tracked, 16.4 dB held (pink 5.7, 9.6);
// white noise and clean speech unchanged (tests/processors/denoise_noise_test.cc).
inline constexpr double kDenoiseSpeechLowHz = 60.0;

// denoise's run-time settings: what an update changes.
struct DenoiseRuntimeSettings {
  std::optional<double> reduction_db;
};

// denoise's metadata (reduction_db: 24, [0, 60] dB, runtime-updatable) and factory.
ProcessorDefinition DenoiseDefinition();

// The STFT frame length denoise uses at `sample_rate_hz`: the largest power of two no longer
// than 32 ms (at least 16).
uint32_t DenoiseFrameSize(double sample_rate_hz);

class DenoiseProcessor : public UpdatableProcessor<DenoiseRuntimeSettings> {
 public:
  explicit DenoiseProcessor(double reduction_db);

  // Plans the FFTs (under the FFTW planner mutex) and sizes every buffer. Allocates.
  absl::StatusOr<ProcessSpec> Prepare(const ProcessSpec& input) override;
  void Process(AudioBlock& in, AudioBlock& out) noexcept override;
  void Reset() noexcept override;
  // N - 1: the FIFO holds a frame, less the sample that completes it.
  int LatencyFrames() const override { return static_cast<int>(frame_size_) - 1; }
  // Takes a new reduction_db, reached over kDenoiseRampMs. Does not allocate.
  void ApplySettings(const DenoiseRuntimeSettings& settings) noexcept override;
  // Per channel the input FIFO, the overlap-add accumulator, the hop ready to leave, the last
  // frame's SNR and the noise tracker (noise and speech-presence estimates); the hop position,
  // the warm-up count and the floor's ramp.
  bool SupportsState() const override { return true; }
  absl::Status SaveState(StateWriter& writer) const override;
  absl::Status RestoreState(StateReader& reader) override;

  uint32_t frame_size() const { return frame_size_; }

  // What Create and Prepare of `params` (resolved) for `input` allocate and cost, for
  // ProcessorDefinition::estimate.
  static absl::StatusOr<StageEstimate> Estimate(const ParamValues& params,
                                                const ProcessSpec& input);

 private:
  struct Channel {
    std::vector<float> input;         // the last N input samples, oldest first
    std::vector<float> overlap;       // overlap-add accumulator, N samples from the current hop on
    std::vector<float> ready;         // the hop of output that the last frame completed
    std::vector<float> previous_snr;  // |G_H1 Y|^2 / noise of the last frame, per bin
    NoiseTracker noise;
  };
  // What every stream of a frame size shares: the plans and the two windows.
  struct FrameTables;

  // Runs one STFT frame of every channel, refilling each channel's `ready`.
  void ProcessFrame() noexcept;
  // Analysis, gains (unless `tracking` is false: the frame passes), synthesis, overlap-add.
  void ProcessChannelFrame(Channel& channel, bool tracking, double floor_gain) noexcept;
  // Fills gain_ for the spectrum in spectrum_, updating the channel's noise estimate.
  void ComputeGains(Channel& channel, double floor_gain) noexcept;
  // Moves the floor one frame's step toward its target; returns the linear floor gain.
  double NextFloorGain() noexcept;

  // The floor in dB, one step per STFT frame, each adding an equal share of the change: the
  // arithmetic denoise's ramp has always had.
  SmoothedValue<double, RampLaw::kLinearBySteps> reduction_db_;
  uint32_t frame_size_ = 0;  // N
  uint32_t hop_ = 0;         // N / 4
  uint32_t bins_ = 0;        // N / 2 + 1
  uint32_t position_ = 0;    // samples of the current hop already in the FIFO
  // Frames run so far, counted up to N / hop - 1: until then a frame is partly silence from
  // before the stream, which must not teach the noise tracker a false floor.
  uint32_t frames_run_ = 0;

  const FrameTables* tables_ = nullptr;  // shared, immutable
  FftwBuffer<float> frame_;
  FftwBuffer<fftwf_complex> spectrum_;
  double smoothing_half_width_ = 0;  // in bins
  uint32_t below_speech_bins_ = 0;   // bins centred below kDenoiseSpeechLowHz
  // Per-bin scratch for ComputeGains, shared by the channels.
  std::vector<float> power_;     // |Y|^2
  std::vector<float> xi_;        // a priori SNR
  std::vector<float> gain_h1_;   // the LSA gain given speech
  std::vector<float> gain_;      // the gain applied
  std::vector<double> scratch_;  // bins + 1, for SmoothGainsInNoise
  std::vector<Channel> channels_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_PROCESSORS_DENOISE_H_
