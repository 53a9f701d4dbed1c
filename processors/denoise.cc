#include "processors/denoise.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "dsp/cost_model.h"
#include "dsp/spectral_gain.h"

namespace audioproc {
namespace {

constexpr double kMaxFrameSeconds = 0.032;

// The band where the noise tracker looks for a crowd (NoiseTracker, step 5): where every
// voice of a babble has its energy, and all of it below an 8 kHz stream's Nyquist frequency.
constexpr double kCrowdBandLowHz = 250.0;
constexpr double kCrowdBandHighHz = 4000.0;

NoiseTracker::Band CrowdBand(uint32_t frame_size, double sample_rate_hz) {
  const auto bin_of = [&](double hz) {
    return static_cast<size_t>(std::lround(hz * frame_size / sample_rate_hz));
  };
  return {bin_of(kCrowdBandLowHz), bin_of(kCrowdBandHighHz) + 1};
}

// The decision-directed weight of Cohen's OM-LSA at the same 8 ms hop. Nearer 1 leaves less
// residual noise but smears speech onsets (0.98 cost 0.9 dB of SNR gain on the speech test,
// 0.92 gains it back; the two-step estimate and the smoothing below restore the quiet).
constexpr float kDecisionDirectedAlpha = 0.92f;
// The a priori SNR's lower bound (-25 dB): with the decision-directed rule it bounds how far
// the gain follows noise fluctuations (Cappe 1994).
constexpr float kPrioriSnrMin = 0.0031622776601683794f;

// Esch & Vary's musical-noise smoothing: frames whose gains keep under 20% of the power are
// noise; their gains are averaged over up to +-312.5 Hz (10 bins at 16 kHz, as Esch & Vary's
// 31.25 Hz bins). 0.2 rather than their 0.4: measured on the speech test, 0.4 starts to
// smooth away weak speech in pink noise.
constexpr double kNoiseFrameThreshold = 0.2;
constexpr double kSmoothingHalfWidthHz = 312.5;

// Bounds that keep the per-bin arithmetic finite whatever the input: a periodogram of huge
// (or overflowed) values is held at kMaxPower, and SNRs are held below kMaxSnr.
constexpr float kMaxPower = 1e30f;
constexpr float kMaxSnr = 1e12f;

// CPU-seconds per bin and channel of a frame (the LSA gain's exponential integral, the
// two-step SNR, the noise tracker's two minimum searches, the presence-weighted gain, the
// smoothing), and per sample and channel (FIFO, windows, overlap-add); the frame's two FFTs
// are cost::RealFftSeconds. Recalibrated when the per-bin work went to vectorized float (55 ->
// 24 ns per bin; resource_estimate_test's ratios).
constexpr double kDenoiseBinSeconds = 24e-9;
constexpr double kDenoiseChannelSeconds = 5e-9;

}  // namespace

absl::StatusOr<StageEstimate> DenoiseProcessor::Estimate(const ParamValues& /*params*/,
                                                         const ProcessSpec& input) {
  const uint32_t frame = DenoiseFrameSize(input.sample_rate_hz);
  const uint32_t hop = frame / 4;
  const uint32_t bins = frame / 2 + 1;
  StageEstimate estimate;
  estimate.output = input;
  // The plans and windows are the process's, made once per frame size (FrameTables).
  const uint64_t shared =
      cost::HeapBlock(sizeof(DenoiseProcessor)) + cost::FftwBufferBytes<float>(frame) +
      cost::FftwBufferBytes<fftwf_complex>(bins) + 4 * cost::VectorBytes<float>(bins) +
      cost::VectorBytes<double>(bins + 1) + cost::VectorBytes<Channel>(input.channels);
  const uint64_t per_channel =
      2 * cost::VectorBytes<float>(frame) + cost::VectorBytes<float>(hop) +
      cost::VectorBytes<float>(bins) +
      NoiseTracker::InitBytes(bins, CrowdBand(frame, input.sample_rate_hz));
  estimate.memory_bytes = shared + input.channels * per_channel;
  const double frames_per_second = input.sample_rate_hz / hop;
  estimate.cpu_cores =
      input.channels *
      (frames_per_second * (2 * cost::RealFftSeconds(frame) + bins * kDenoiseBinSeconds) +
       input.sample_rate_hz * kDenoiseChannelSeconds);
  estimate.max_latency_frames = frame - 1;
  return estimate;
}

ProcessorDefinition DenoiseDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "denoise";
  definition.info.summary =
      "STFT noise suppression: IMCRA noise tracking, OM-LSA (MMSE log-spectral amplitude) gain.";
  ParamInfo reduction_db;
  reduction_db.name = "reduction_db";
  reduction_db.type = ParamType::kFloat;
  reduction_db.unit = "dB";
  reduction_db.default_value = 24.0;
  reduction_db.min = 0.0;
  reduction_db.max = 60.0;
  reduction_db.runtime_updatable = true;
  reduction_db.summary = "Most attenuation of any frequency bin; 0 passes the input through.";
  definition.info.params.push_back(std::move(reduction_db));
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    return std::make_unique<DenoiseProcessor>(params.Number("reduction_db"));
  };
  definition.resolve_update = [](const ParamValues& changes) -> std::unique_ptr<ProcessorUpdate> {
    DenoiseRuntimeSettings settings;
    if (changes.Has("reduction_db")) settings.reduction_db = changes.Number("reduction_db");
    return std::make_unique<TypedUpdate<DenoiseRuntimeSettings>>(settings);
  };
  definition.estimate = DenoiseProcessor::Estimate;
  return definition;
}

struct DenoiseProcessor::FrameTables {
  const RealFftPlan* fft = nullptr;
  std::vector<float> analysis_window;
  std::vector<float> synthesis_window;  // includes 1 / (2 N): the FFT's scale and the overlap
};

namespace {

// The tables of frame size `n`, made on first use and kept for the life of the process (a
// handful of sizes: one per power of two up to 32 ms at 192 kHz).
template <typename Tables>
absl::StatusOr<const Tables*> SharedTables(uint32_t n) {
  static absl::Mutex* const mutex = new absl::Mutex();
  static auto* const tables = new std::map<uint32_t, std::unique_ptr<Tables>>();
  absl::MutexLock lock(mutex);
  auto it = tables->find(n);
  if (it != tables->end()) return it->second.get();
  absl::StatusOr<const RealFftPlan*> fft = RealFftPlan::Shared(static_cast<int>(n));
  if (!fft.ok()) return fft.status();
  auto made = std::make_unique<Tables>();
  made->fft = *fft;
  made->analysis_window.resize(n);
  made->synthesis_window.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    // sqrt of the periodic Hann window 0.5 - 0.5 cos(2 pi i / N).
    const double w = std::sin(M_PI * i / n);
    made->analysis_window[i] = static_cast<float>(w);
    made->synthesis_window[i] = static_cast<float>(w / (2.0 * n));
  }
  return tables->emplace(n, std::move(made)).first->second.get();
}

}  // namespace

uint32_t DenoiseFrameSize(double sample_rate_hz) {
  uint32_t size = 16;
  while (2.0 * size <= kMaxFrameSeconds * sample_rate_hz) size *= 2;
  return size;
}

DenoiseProcessor::DenoiseProcessor(double reduction_db) : reduction_db_(reduction_db) {}

absl::StatusOr<ProcessSpec> DenoiseProcessor::Prepare(const ProcessSpec& input) {
  frame_size_ = DenoiseFrameSize(input.sample_rate_hz);
  hop_ = frame_size_ / 4;
  bins_ = frame_size_ / 2 + 1;
  absl::StatusOr<const FrameTables*> tables = SharedTables<FrameTables>(frame_size_);
  if (!tables.ok()) return tables.status();
  tables_ = *tables;
  frame_ = FftwBuffer<float>(frame_size_);
  spectrum_ = FftwBuffer<fftwf_complex>(bins_);
  below_speech_bins_ = std::min<uint32_t>(
      bins_,
      static_cast<uint32_t>(std::ceil(kDenoiseSpeechLowHz * frame_size_ / input.sample_rate_hz)));
  smoothing_half_width_ = kSmoothingHalfWidthHz * frame_size_ / input.sample_rate_hz;
  power_.assign(bins_, 0.0f);
  xi_.assign(bins_, 0.0f);
  gain_h1_.assign(bins_, 0.0f);
  gain_.assign(bins_, 0.0f);
  scratch_.assign(bins_ + 1, 0.0);

  const double frame_rate = input.sample_rate_hz / hop_;
  const NoiseTracker::Band crowd_band = CrowdBand(frame_size_, input.sample_rate_hz);
  reduction_db_.Reset(std::max<uint32_t>(
      1, static_cast<uint32_t>(std::ceil(kDenoiseRampMs / 1000.0 * frame_rate))));
  channels_.resize(input.channels);
  for (Channel& channel : channels_) {
    channel.input.assign(frame_size_, 0.0f);
    channel.overlap.assign(frame_size_, 0.0f);
    channel.ready.assign(hop_, 0.0f);
    channel.previous_snr.assign(bins_, 0.0f);
    channel.noise.Init(bins_, frame_rate, crowd_band);
  }
  Reset();
  return input;
}

void DenoiseProcessor::Reset() noexcept {
  for (Channel& channel : channels_) {
    std::fill(channel.input.begin(), channel.input.end(), 0.0f);
    std::fill(channel.overlap.begin(), channel.overlap.end(), 0.0f);
    std::fill(channel.ready.begin(), channel.ready.end(), 0.0f);
    std::fill(channel.previous_snr.begin(), channel.previous_snr.end(), 0.0f);
    channel.noise.Reset();
  }
  position_ = 0;
  frames_run_ = 0;
  reduction_db_.SetCurrentAndTargetValue(reduction_db_.GetTargetValue());
}

void DenoiseProcessor::ApplySettings(const DenoiseRuntimeSettings& settings) noexcept {
  // From wherever a ramp in flight has got to, so the floor stays continuous.
  if (settings.reduction_db.has_value()) reduction_db_.SetTargetValue(*settings.reduction_db);
}

namespace {
constexpr StateTag kDenoiseStateTag = MakeStateTag("dnoi");
constexpr uint16_t kDenoiseStateVersion = 2;  // 2: the noise tracker's crowd detector
}  // namespace

absl::Status DenoiseProcessor::SaveState(StateWriter& writer) const {
  writer.PutTag(kDenoiseStateTag, kDenoiseStateVersion);
  reduction_db_.SaveState(writer);
  writer.PutU32(frame_size_);
  writer.PutU32(static_cast<uint32_t>(channels_.size()));
  writer.PutU32(position_);
  writer.PutU32(frames_run_);
  for (const Channel& channel : channels_) {
    writer.PutFloats(channel.input);
    writer.PutFloats(channel.overlap);
    writer.PutFloats(channel.ready);
    writer.PutFloats(channel.previous_snr);
    channel.noise.SaveState(writer);
  }
  return writer.status();
}

absl::Status DenoiseProcessor::RestoreState(StateReader& reader) {
  reader.ExpectTag(kDenoiseStateTag, kDenoiseStateVersion);
  reduction_db_.RestoreState(reader, 0.0, 60.0);
  const uint32_t frame_size = reader.GetU32();
  const uint32_t channels = reader.GetU32();
  if (reader.ok() && (frame_size != frame_size_ || channels != channels_.size())) {
    reader.Fail("denoise of another frame size or channel count");
  }
  position_ = reader.GetU32AtMost(hop_ - 1);
  frames_run_ = reader.GetU32AtMost(frame_size_ / hop_);
  for (Channel& channel : channels_) {
    reader.GetFiniteFloats(channel.input);
    reader.GetFiniteFloats(channel.overlap);
    reader.GetFiniteFloats(channel.ready);
    reader.GetFiniteFloats(channel.previous_snr);
    channel.noise.RestoreState(reader);
  }
  return FinishRestore(reader);
}

double DenoiseProcessor::NextFloorGain() noexcept {
  // Landing exactly on the target is what makes reduction_db = 0 exact again.
  return std::pow(10.0, -reduction_db_.GetNextValue() / 20.0);
}

void DenoiseProcessor::Process(AudioBlock& in, AudioBlock& /*out*/) noexcept {
  const uint32_t frames = in.num_frames();
  const auto channels = static_cast<uint32_t>(channels_.size());
  uint32_t done = 0;
  while (done < frames) {
    const uint32_t run = std::min(frames - done, hop_ - position_);
    const bool completes_hop = position_ + run == hop_;
    for (uint32_t c = 0; c < channels; ++c) {
      Channel& channel = channels_[c];
      float* x = in.channel(c) + done;
      std::copy(x, x + run, channel.input.data() + (frame_size_ - hop_ + position_));
      // The sample at FIFO position p leaves as ready[p + 1]; the one that completes the hop
      // waits for the frame it completes and leaves as that frame's ready[0]. Either way the
      // delay is N - 1.
      const uint32_t from_ready = completes_hop ? run - 1 : run;
      const float* ready = channel.ready.data() + position_ + 1;
      std::copy(ready, ready + from_ready, x);
    }
    position_ += run;
    done += run;
    if (completes_hop) {
      ProcessFrame();
      position_ = 0;
      for (uint32_t c = 0; c < channels; ++c) in.channel(c)[done - 1] = channels_[c].ready[0];
    }
  }
}

void DenoiseProcessor::ProcessFrame() noexcept {
  const double floor_gain = NextFloorGain();
  // Frames run before the FIFO first filled hold silence from before the stream: they pass
  // through, and the tracker starts on the first frame made only of stream samples.
  const bool tracking = frames_run_ + 1 >= frame_size_ / hop_;
  for (Channel& channel : channels_) ProcessChannelFrame(channel, tracking, floor_gain);
  if (!tracking) ++frames_run_;
}

void DenoiseProcessor::ProcessChannelFrame(Channel& channel, bool tracking,
                                           double floor_gain) noexcept {
  const auto n = static_cast<int>(frame_size_);
  float* frame = frame_.data();
  // fftwf_complex is float[2]: the spectrum as interleaved re, im for the per-bin helpers.
  auto* spectrum = reinterpret_cast<float*>(spectrum_.data());
  MultiplyByWindow(channel.input.data(), tables_->analysis_window.data(), frame, n);
  tables_->fft->Forward(frame, spectrum_.data());
  if (tracking) {
    ComputeGains(channel, floor_gain);
    ApplyGains(gain_.data(), spectrum, static_cast<int>(bins_));
  }
  tables_->fft->Inverse(spectrum_.data(), frame);

  float* overlap = channel.overlap.data();
  OverlapAdd(frame, tables_->synthesis_window.data(), overlap, n);
  std::copy(overlap, overlap + hop_, channel.ready.begin());
  std::copy(overlap + hop_, overlap + frame_size_, overlap);
  std::fill(overlap + (frame_size_ - hop_), overlap + frame_size_, 0.0f);
  std::copy(channel.input.begin() + hop_, channel.input.end(), channel.input.begin());
}

void DenoiseProcessor::ComputeGains(Channel& channel, double floor_gain) noexcept {
  const auto bins = static_cast<int>(bins_);
  PowerSpectrum(reinterpret_cast<const float*>(spectrum_.data()), kMaxPower, power_.data(), bins);
  // The gain if speech is present (Ephraim & Malah's LSA), against the noise estimated up to
  // the frame before; its |G Y|^2 / noise seeds the next frame's decision-directed estimate.
  LsaGains(power_.data(), channel.noise.noise(), kDecisionDirectedAlpha, kPrioriSnrMin, kMaxSnr,
           channel.previous_snr.data(), xi_.data(), gain_h1_.data(), bins);
  channel.noise.Update(power_.data(), xi_.data());

  // OM-LSA (Cohen & Berdugo 2001): G = G_H1^p G_min^(1 - p), the floor being G_min, so bins
  // where speech is surely absent fall to the floor rather than to the LSA's noise gain.
  const auto floor = static_cast<float>(floor_gain);
  PresenceWeightedGains(gain_h1_.data(), channel.noise.speech_presence(), floor, gain_.data(),
                        bins);
  SmoothGainsInNoise(gain_.data(), power_.data(), bins, kNoiseFrameThreshold, smoothing_half_width_,
                     scratch_.data());
  // Below the lowest voice there is only noise (and these bins' minimum-statistics estimate
  // fails there: see kDenoiseSpeechLowHz).
  std::fill(gain_.begin(), gain_.begin() + below_speech_bins_, floor);
  // The floor caps the attenuation; at reduction_db = 0 every gain is exactly 1.
  FloorGains(floor, gain_.data(), bins);
}

}  // namespace audioproc
