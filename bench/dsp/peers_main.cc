// dsp-peers: one denoiser or VAD of `make bench-dsp` over raw float32 files (48 kHz mono, as
// dsp-material writes them). Each output is as long as its input and time-aligned to it: the
// contender's delay is dropped from the front and the tail flushed with silence, so the scorer
// compares sample n with sample n. VAD contenders write one 0/1 decision per 10 ms frame.
//
//   dsp-peers --contender=<name> --jobs=<tsv>
//
// Each line of the TSV is `in.f32<TAB>out.f32<TAB>out_vad.txt`, "-" for an output the
// contender does not make. Contenders (--list prints them):
//   audioproc-denoise   the denoise processor, its defaults;
//   audioproc-vad       the vad processor, its defaults, its speech segments per frame;
//   audioproc-vad-100   the same with hangover_ms 100 (the default is 300);
//   audioproc-denoise-vad  vad after denoise in one chain (StreamPipeline), both at defaults;
//   speexdsp            speex_preprocess, denoise at its default suppression (-15 dB), 10 ms
//                       frames, int16; its VAD (from a second state, so that turning the VAD
//                       on cannot change the denoised output);
//   speexdsp-30         the same denoiser at -30 dB suppression;
//   webrtc-ns-high      WebRTC APM 0.3, only noise_suppression, kHigh;
//   webrtc-ns-veryhigh  the same, kVeryHigh;
//   webrtc-vad          WebRTC APM 0.3, only voice_detection, at the APM's default likelihood
//                       (kLowLikelihood), on the unprocessed input.
#include <speex/speex_preprocess.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/dsp/raw_files.h"
#include "chain/events.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "dsp/audio_block.h"
#include "webrtc/modules/audio_processing/include/audio_processing.h"

ABSL_FLAG(std::string, contender, "", "which contender to run (see --list)");
ABSL_FLAG(std::string, jobs, "", "TSV of in.f32, out.f32, out_vad.txt per line");
ABSL_FLAG(bool, list, false, "print the contenders, one per line, with what they produce");

namespace audioproc {
namespace {

constexpr int kRate = 48000;
constexpr size_t kHop = kRate / 100;  // 10 ms, every contender's frame and the labels'
// Delays of the peers' outputs behind their inputs at 48 kHz with 10 ms frames, in samples.
// speex_preprocess overlap-adds a 2N window and hands back the frame that the previous call's
// input completed: one frame. WebRTC's APM 0.3 does not state its delay; 335 samples is where
// the cross-correlation of its output with the clean speech peaks (its noise suppressor's
// 96-sample overlap at 16 kHz in the low band, 288 at 48 kHz, and the three-band filter
// bank's 47). run_dsp_bench.py checks every output's alignment, so a wrong value shows.
constexpr size_t kSpeexLatency = kHop;
constexpr size_t kWebrtcLatency = 335;

struct Result {
  std::vector<float> audio;  // empty for a VAD-only contender
  std::vector<int> vad;      // per 10 ms frame, empty for a denoiser
};

// Runs `block_fn(samples, n)` over `in` padded with `latency` samples of silence and whole
// frames of `frame`, then drops the first `latency` samples: the output aligned to the input.
template <typename BlockFn>
std::vector<float> Aligned(const std::vector<float>& in, size_t latency, size_t frame,
                           BlockFn block_fn) {
  std::vector<float> x = in;
  x.resize((in.size() + latency + frame - 1) / frame * frame, 0.0f);
  for (size_t at = 0; at < x.size(); at += frame) block_fn(x.data() + at, frame);
  return std::vector<float>(x.begin() + static_cast<std::ptrdiff_t>(latency),
                            x.begin() + static_cast<std::ptrdiff_t>(latency + in.size()));
}

absl::StatusOr<std::unique_ptr<Processor>> Create(const std::string& name,
                                                  const ParamValues& params = {}) {
  return ProcessorRegistry::Default().Create(ProcessorConfig{name, params},
                                             ProcessSpec{kRate, kHop, 1}, nullptr);
}

absl::StatusOr<Result> AudioprocDenoise(const std::vector<float>& in) {
  absl::StatusOr<std::unique_ptr<Processor>> denoise = Create("denoise");
  if (!denoise.ok()) return denoise.status();
  if (absl::StatusOr<ProcessSpec> s = (*denoise)->Prepare({kRate, kHop, 1}); !s.ok()) {
    return s.status();
  }
  const size_t latency = static_cast<size_t>((*denoise)->LatencyFrames());
  Result result;
  result.audio = Aligned(in, latency, kHop, [&](float* x, size_t n) {
    AudioBlock block(&x, 1, static_cast<uint32_t>(n));
    (*denoise)->Process(block, block);
  });
  return result;
}

// Collects the vad processor's start/stop events, as the chain's buffer would.
class VadEvents : public EventSink {
 public:
  void Emit(uint64_t frame, const EventPayload& payload) noexcept override {
    if (const auto* voice = std::get_if<VoiceActivityEvent>(&payload)) {
      changes_.emplace_back(frame, voice->active);
    }
  }
  // The state in each 10 ms frame: the last change at or before the frame's first sample
  // (tests/processors/vad_noise_test.cc reads the events the same way).
  std::vector<int> PerFrame(size_t frames) const {
    std::vector<int> active(frames, 0);
    bool state = false;
    size_t next = 0;
    for (size_t f = 0; f < frames; ++f) {
      while (next < changes_.size() && changes_[next].first <= f * kHop) {
        state = changes_[next].second;
        ++next;
      }
      active[f] = state ? 1 : 0;
    }
    return active;
  }

 private:
  std::vector<std::pair<uint64_t, bool>> changes_;
};

// The vad processor with its hangover at `hangover_ms`.
absl::StatusOr<Result> AudioprocVad(const std::vector<float>& in, double hangover_ms) {
  ParamValues params;
  params.Set("hangover_ms", hangover_ms);
  absl::StatusOr<std::unique_ptr<Processor>> vad = Create("vad", params);
  if (!vad.ok()) return vad.status();
  if (absl::StatusOr<ProcessSpec> s = (*vad)->Prepare({kRate, kHop, 1}); !s.ok()) {
    return s.status();
  }
  VadEvents events;
  (*vad)->set_event_sink(&events);
  // Its events name input frames, so no alignment is needed; its audio is not scored.
  Aligned(in, 0, kHop, [&](float* x, size_t n) {
    AudioBlock block(&x, 1, static_cast<uint32_t>(n));
    (*vad)->Process(block, block);
  });
  Result result;
  result.vad = events.PerFrame(in.size() / kHop);
  return result;
}

// The vad processor after denoise in one chain, as a stream runs it (StreamPipeline drops
// denoise's latency, so the events name input frames): what a voice assistant's chain hears.
absl::StatusOr<Result> AudioprocDenoiseThenVad(const std::vector<float>& in) {
  PipelineConfig config;
  config.input = {SampleEncoding::kF32, static_cast<uint32_t>(kRate), 1};
  config.output = config.input;
  config.chain = {ProcessorConfig{"denoise", {}}, ProcessorConfig{"vad", {}}};
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  if (!pipeline.ok()) return pipeline.status();
  VadEvents events;
  auto take = [&] {
    for (const ProcessorEvent& event : (*pipeline)->TakeEvents()) {
      events.Emit(event.frame, event.payload);
    }
  };
  // One second at a time, as bytes; the audio out is not scored.
  const absl::string_view bytes(reinterpret_cast<const char*>(in.data()),
                                in.size() * sizeof(float));
  constexpr size_t kChunkBytes = 100 * kHop * sizeof(float);
  std::string out;
  for (size_t offset = 0; offset < bytes.size(); offset += kChunkBytes) {
    (*pipeline)->ProcessChunk(bytes.substr(offset, kChunkBytes), &out);
    out.clear();
    take();
  }
  (*pipeline)->Finish(&out);
  take();
  Result result;
  result.vad = events.PerFrame(in.size() / kHop);
  return result;
}

int16_t ToS16(float x) {
  return static_cast<int16_t>(std::lround(std::clamp(x * 32768.0f, -32768.0f, 32767.0f)));
}

// speex_preprocess works on one int16 frame in place (its API has no float path); a float
// sample is scaled by 32768 and clamped, which the material's peaks (under 0.6) never reach.
absl::StatusOr<Result> Speex(const std::vector<float>& in, int suppress_db, bool vad) {
  SpeexPreprocessState* state = speex_preprocess_state_init(static_cast<int>(kHop), kRate);
  SpeexPreprocessState* vad_state =
      vad ? speex_preprocess_state_init(static_cast<int>(kHop), kRate) : nullptr;
  int on = 1;
  speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_DENOISE, &on);
  if (suppress_db != 0) {
    speex_preprocess_ctl(state, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &suppress_db);
  }
  if (vad_state != nullptr) speex_preprocess_ctl(vad_state, SPEEX_PREPROCESS_SET_VAD, &on);
  Result result;
  std::vector<int16_t> frame(kHop), vad_frame(kHop);
  result.audio = Aligned(in, kSpeexLatency, kHop, [&](float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) frame[i] = ToS16(x[i]);
    vad_frame = frame;
    speex_preprocess_run(state, frame.data());
    if (vad_state != nullptr) {
      result.vad.push_back(speex_preprocess_run(vad_state, vad_frame.data()) ? 1 : 0);
    }
    for (size_t i = 0; i < n; ++i) x[i] = frame[i] / 32768.0f;
  });
  result.vad.resize(in.size() / kHop);  // the flush's frames are not the input's
  speex_preprocess_state_destroy(state);
  if (vad_state != nullptr) speex_preprocess_state_destroy(vad_state);
  return result;
}

absl::StatusOr<Result> Webrtc(const std::vector<float>& in, bool ns,
                              webrtc::NoiseSuppression::Level level) {
  std::unique_ptr<webrtc::AudioProcessing> apm(webrtc::AudioProcessing::Create());
  if (apm == nullptr) return absl::InternalError("webrtc::AudioProcessing::Create failed");
  if (ns) {
    apm->noise_suppression()->set_level(level);
    apm->noise_suppression()->Enable(true);
  } else {
    apm->voice_detection()->set_likelihood(webrtc::VoiceDetection::kLowLikelihood);
    apm->voice_detection()->set_frame_size_ms(10);
    apm->voice_detection()->Enable(true);
  }
  const webrtc::StreamConfig config(kRate, 1);
  Result result;
  int error = 0;
  std::vector<float> audio = Aligned(in, ns ? kWebrtcLatency : 0, kHop, [&](float* x, size_t) {
    const int e = apm->ProcessStream(&x, config, config, &x);
    if (e != 0) error = e;
    if (!ns) result.vad.push_back(apm->voice_detection()->stream_has_voice() ? 1 : 0);
  });
  if (error != 0) return absl::InternalError(absl::StrCat("ProcessStream returned ", error));
  if (ns) result.audio = std::move(audio);
  result.vad.resize(ns ? 0 : in.size() / kHop);
  return result;
}

struct Contender {
  const char* name;
  bool audio;
  bool vad;
  absl::StatusOr<Result> (*run)(const std::vector<float>& in);
};

const Contender kContenders[] = {
    {"audioproc-denoise", true, false, AudioprocDenoise},
    {"audioproc-vad", false, true,
     [](const std::vector<float>& in) { return AudioprocVad(in, 300.0); }},
    // Accuracy counts the hangover's frames (speech kept on through pauses) as errors; a shorter
    // hangover shows the detector itself.
    {"audioproc-vad-100", false, true,
     [](const std::vector<float>& in) { return AudioprocVad(in, 100.0); }},
    {"audioproc-denoise-vad", false, true, AudioprocDenoiseThenVad},
    {"speexdsp", true, true, [](const std::vector<float>& in) { return Speex(in, 0, true); }},
    {"speexdsp-30", true, false,
     [](const std::vector<float>& in) { return Speex(in, -30, false); }},
    {"webrtc-ns-high", true, false,
     [](const std::vector<float>& in) {
       return Webrtc(in, true, webrtc::NoiseSuppression::kHigh);
     }},
    {"webrtc-ns-veryhigh", true, false,
     [](const std::vector<float>& in) {
       return Webrtc(in, true, webrtc::NoiseSuppression::kVeryHigh);
     }},
    {"webrtc-vad", false, true,
     [](const std::vector<float>& in) {
       return Webrtc(in, false, webrtc::NoiseSuppression::kHigh);
     }},
};

absl::Status RunJob(const Contender& contender, const std::string& in_path,
                    const std::string& out_path, const std::string& vad_path) {
  absl::StatusOr<std::vector<float>> in = bench::ReadF32(in_path);
  if (!in.ok()) return in.status();
  absl::StatusOr<Result> result = contender.run(*in);
  if (!result.ok()) return result.status();
  if (contender.audio && out_path != "-" && !out_path.empty()) {
    if (result->audio.size() != in->size()) return absl::InternalError("output length differs");
    std::ofstream out(out_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(result->audio.data()),
              static_cast<std::streamsize>(result->audio.size() * sizeof(float)));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", out_path));
  }
  if (contender.vad && vad_path != "-" && !vad_path.empty()) {
    std::ofstream out(vad_path);
    for (int d : result->vad) out << d << '\n';
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", vad_path));
  }
  return absl::OkStatus();
}

absl::Status Run() {
  if (absl::GetFlag(FLAGS_list)) {
    for (const Contender& c : kContenders) {
      std::printf("%s\t%s\n", c.name,
                  c.audio && c.vad ? "denoise+vad" : (c.audio ? "denoise" : "vad"));
    }
    return absl::OkStatus();
  }
  const std::string name = absl::GetFlag(FLAGS_contender);
  const Contender* contender = nullptr;
  for (const Contender& c : kContenders) {
    if (name == c.name) contender = &c;
  }
  if (contender == nullptr) return absl::InvalidArgumentError(absl::StrCat("no contender ", name));
  std::ifstream jobs(absl::GetFlag(FLAGS_jobs));
  if (!jobs) return absl::NotFoundError("cannot read --jobs");
  std::string line;
  while (std::getline(jobs, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 3) return absl::InvalidArgumentError(absl::StrCat("bad job: ", line));
    if (absl::Status s = RunJob(*contender, fields[0], fields[1], fields[2]); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(name, " on ", fields[0], ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace audioproc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return audioproc::bench::ExitCode("dsp-peers", audioproc::Run());
}
