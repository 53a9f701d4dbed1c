// dsp-echo-peers: one echo canceller of `make bench-dsp` over raw float32 files (mono, as
// dsp-echo-material writes them). Each output is as long as the microphone input and
// time-aligned to it: the contender's delay is dropped from the front and the tail flushed with
// silence, so the scorer compares sample n with sample n.
//
//   dsp-echo-peers --contender=<name> --jobs=<tsv>
//
// Each line of the TSV is `mic.f32<TAB>ref.f32<TAB>rate<TAB>out.f32<TAB>delay_ms`, the last the
// echo's true delay, which only webrtc-aec-known-delay reads. For each job one line
// goes to stdout: `out.f32<TAB>cpu seconds<TAB>audio seconds`, the CPU time of the contender's
// processing alone (no file I/O). Contenders (--list prints them with their rates):
//   webrtc-aec       WebRTC APM 0.3, echo_cancellation() alone at kHighSuppression, with
//                    ExtendedFilter and DelayAgnostic on (the caller does not know the delay,
//                    so set_stream_delay_ms(0)); ProcessReverseStream on the reference, then
//                    ProcessStream on the microphone, per 10 ms;
//   webrtc-aec-known-delay  the same told the echo's true delay (set_stream_delay_ms), with
//                    DelayAgnostic off: an oracle, not a contender, showing what WebRTC's
//                    canceller does when its delay estimation is not in the way;
//   webrtc-aecm      APM 0.3's echo_control_mobile() alone (kSpeakerphone, its default, comfort
//                    noise on), set_stream_delay_ms(0); 16 kHz only (APM refuses it above);
//   speexdsp-aec     speex_echo_cancellation with a 0.5 s filter (it has no delay estimator:
//                    the filter must span the delay and the room's tail), 10 ms int16 frames,
//                    then speex_preprocess with the echo state (residual echo suppression at
//                    its defaults, -40 dB, -15 dB while the near end talks). Its denoiser stays
//                    on (default -15 dB): speex_preprocess applies the residual echo
//                    suppressor's gain only with it, so off the preprocessor changes nothing;
//   audioproc-aec         the chain "aec" through StreamPipeline, 2-channel interleaved input
//                         (channel 0 microphone, channel 1 reference), 1 channel out;
//   audioproc-aec-denoise the chain "aec,denoise" the same way;
//   audioproc-aec-linear  the chain "aec:suppression=0": the adaptive filter alone, its residual
//                         echo suppressor passing everything (what the filter leaves, beside
//                         what the suppressor then removes and costs the near end).
// The audioproc chains are looked up by name when they run, so this builds before the aec
// processor exists; until then they fail with the registry's unknown-processor error.
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audio_io/codec.h"
#include "bench/dsp/raw_files.h"
#include "chain/parameters.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "webrtc/common.h"
#include "webrtc/modules/audio_processing/include/audio_processing.h"

ABSL_FLAG(std::string, contender, "", "which contender to run (see --list)");
ABSL_FLAG(std::string, jobs, "", "TSV of mic.f32, ref.f32, rate, out.f32 per line");
ABSL_FLAG(bool, list, false, "print the contenders, one per line, with the rates they take");

namespace audioproc {
namespace {

// The contenders' output delays behind the microphone, in samples at the job's rate.
// speex_echo_cancellation returns the frame it is given (no delay); speex_preprocess hands back
// the frame the previous call completed: one 10 ms frame. WebRTC APM 0.3 does not state its
// delays; these are where the cross-correlation of the output with the clean near end peaks in
// double talk (run_aec_bench.py measures every double-talk output's lag and reports any other):
// 7 ms at 16 kHz for both, the AEC cores' 80-sample frames cut into 64-sample blocks; at
// 48 kHz the same 112 samples of the low band (336) and the three-band filter bank's 47.
constexpr size_t kWebrtcAecLatency16k = 112;
constexpr size_t kWebrtcAecLatency48k = 383;
constexpr size_t kWebrtcAecmLatency16k = 112;
constexpr double kSpeexFilterSeconds = 0.5;

struct Job {
  std::vector<float> mic;
  std::vector<float> ref;
  int rate = 0;
  int delay_ms = 0;  // the echo's true delay, for the oracle
};

size_t Hop(int rate) { return static_cast<size_t>(rate / 100); }

// Runs `frame_fn(mic, ref, n)` over 10 ms frames of the inputs padded with `latency` samples of
// silence (and to whole frames), then drops the first `latency` samples of what `frame_fn` wrote
// over `mic`: the output aligned to the microphone.
template <typename FrameFn>
std::vector<float> Aligned(const Job& job, size_t latency, FrameFn frame_fn) {
  const size_t hop = Hop(job.rate);
  const size_t n = (job.mic.size() + latency + hop - 1) / hop * hop;
  std::vector<float> mic = job.mic, ref = job.ref;
  mic.resize(n, 0.0f);
  ref.resize(n, 0.0f);
  for (size_t at = 0; at < n; at += hop) frame_fn(mic.data() + at, ref.data() + at, hop);
  return std::vector<float>(mic.begin() + static_cast<std::ptrdiff_t>(latency),
                            mic.begin() + static_cast<std::ptrdiff_t>(latency + job.mic.size()));
}

// WebRTC's AEC (or with `mobile` its AECM). `known_delay`: set_stream_delay_ms(job.delay_ms)
// without DelayAgnostic, instead of delay 0 with it.
absl::StatusOr<std::vector<float>> Webrtc(const Job& job, bool mobile, bool known_delay) {
  if (mobile && job.rate != 16000) {
    return absl::InvalidArgumentError("webrtc-aecm runs at 16 kHz only");
  }
  webrtc::Config config;
  config.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(true));
  config.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(!known_delay));
  std::unique_ptr<webrtc::AudioProcessing> apm(webrtc::AudioProcessing::Create(config));
  if (apm == nullptr) return absl::InternalError("webrtc::AudioProcessing::Create failed");
  if (mobile) {
    apm->echo_control_mobile()->enable_comfort_noise(true);
    if (apm->echo_control_mobile()->Enable(true) != 0) {
      return absl::InternalError("echo_control_mobile()->Enable failed");
    }
  } else {
    apm->echo_cancellation()->set_suppression_level(webrtc::EchoCancellation::kHighSuppression);
    apm->echo_cancellation()->enable_drift_compensation(false);
    if (apm->echo_cancellation()->Enable(true) != 0) {
      return absl::InternalError("echo_cancellation()->Enable failed");
    }
  }
  const webrtc::StreamConfig stream(job.rate, 1);
  int error = 0;
  const size_t latency = mobile ? kWebrtcAecmLatency16k
                                : (job.rate == 16000 ? kWebrtcAecLatency16k : kWebrtcAecLatency48k);
  std::vector<float> out = Aligned(job, latency, [&](float* mic, float* ref, size_t) {
    if (int e = apm->ProcessReverseStream(&ref, stream, stream, &ref); e != 0) error = e;
    apm->set_stream_delay_ms(known_delay ? job.delay_ms : 0);
    if (int e = apm->ProcessStream(&mic, stream, stream, &mic); e != 0) error = e;
  });
  if (error != 0) return absl::InternalError(absl::StrCat("APM returned ", error));
  return out;
}

int16_t ToS16(float x) {
  return static_cast<int16_t>(std::lround(std::clamp(x * 32768.0f, -32768.0f, 32767.0f)));
}

absl::StatusOr<std::vector<float>> Speex(const Job& job) {
  const int hop = static_cast<int>(Hop(job.rate));
  const int taps = static_cast<int>(kSpeexFilterSeconds * job.rate);
  SpeexEchoState* echo = speex_echo_state_init(hop, taps);
  int rate = job.rate;
  speex_echo_ctl(echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
  SpeexPreprocessState* pre = speex_preprocess_state_init(hop, job.rate);
  int on = 1;
  speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_DENOISE, &on);
  speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_ECHO_STATE, echo);
  std::vector<int16_t> mic16(static_cast<size_t>(hop)), ref16(mic16.size()), out16(mic16.size());
  std::vector<float> out = Aligned(job, Hop(job.rate), [&](float* mic, float* ref, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      mic16[i] = ToS16(mic[i]);
      ref16[i] = ToS16(ref[i]);
    }
    speex_echo_cancellation(echo, mic16.data(), ref16.data(), out16.data());
    speex_preprocess_run(pre, out16.data());
    for (size_t i = 0; i < n; ++i) mic[i] = out16[i] / 32768.0f;
  });
  speex_preprocess_state_destroy(pre);
  speex_echo_state_destroy(echo);
  return out;
}

// The chain through StreamPipeline (which drops the chain's latency and flushes its tail), fed
// one second at a time as interleaved (mic, reference) float32 bytes.
absl::StatusOr<std::vector<float>> Audioproc(const Job& job, std::vector<ProcessorConfig> chain) {
  PipelineConfig config;
  config.input = {SampleEncoding::kF32, static_cast<uint32_t>(job.rate), 2};
  config.output = {SampleEncoding::kF32, static_cast<uint32_t>(job.rate), 1};
  config.chain = std::move(chain);
  absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
      StreamPipeline::Create(ProcessorRegistry::Default(), config);
  if (!pipeline.ok()) return pipeline.status();
  std::vector<float> interleaved(2 * job.mic.size());
  for (size_t i = 0; i < job.mic.size(); ++i) {
    interleaved[2 * i] = job.mic[i];
    interleaved[2 * i + 1] = job.ref[i];
  }
  const absl::string_view bytes(reinterpret_cast<const char*>(interleaved.data()),
                                interleaved.size() * sizeof(float));
  const size_t chunk_bytes = 2 * static_cast<size_t>(job.rate) * sizeof(float);
  std::string out;
  out.reserve(job.mic.size() * sizeof(float));
  for (size_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
    (*pipeline)->ProcessChunk(bytes.substr(offset, chunk_bytes), &out);
    (*pipeline)->TakeEvents();
  }
  (*pipeline)->Finish(&out);
  if (out.size() != job.mic.size() * sizeof(float)) {
    return absl::InternalError(absl::StrCat("the pipeline returned ", out.size() / sizeof(float),
                                            " samples for ", job.mic.size()));
  }
  std::vector<float> samples(job.mic.size());
  std::copy_n(out.data(), out.size(), reinterpret_cast<char*>(samples.data()));
  return samples;
}

struct Contender {
  const char* name;
  const char* rates;  // what --list prints: the rates it takes
  absl::StatusOr<std::vector<float>> (*run)(const Job& job);
};

const Contender kContenders[] = {
    {"audioproc-aec", "16000,48000",
     [](const Job& job) {
       return Audioproc(job, {{"aec", {}}});
     }},
    {"audioproc-aec-denoise", "16000,48000",
     [](const Job& job) {
       return Audioproc(job, {{"aec", {}}, {"denoise", {}}});
     }},
    {"audioproc-aec-linear", "16000,48000",
     [](const Job& job) {
       ParamValues linear;
       linear.Set("suppression", 0.0);
       return Audioproc(job, {{"aec", std::move(linear)}});
     }},
    {"webrtc-aec", "16000,48000", [](const Job& job) { return Webrtc(job, false, false); }},
    {"webrtc-aec-known-delay", "16000,48000",
     [](const Job& job) { return Webrtc(job, false, true); }},
    {"webrtc-aecm", "16000", [](const Job& job) { return Webrtc(job, true, false); }},
    {"speexdsp-aec", "16000,48000", Speex},
};

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

absl::Status RunJob(const Contender& contender, const std::vector<std::string>& fields) {
  Job job;
  if (!absl::SimpleAtoi(fields[2], &job.rate) || (job.rate != 16000 && job.rate != 48000)) {
    return absl::InvalidArgumentError(absl::StrCat("rate ", fields[2], " is not 16000 or 48000"));
  }
  if (!absl::SimpleAtoi(fields[4], &job.delay_ms) || job.delay_ms < 0) {
    return absl::InvalidArgumentError(absl::StrCat("delay_ms ", fields[4]));
  }
  absl::StatusOr<std::vector<float>> mic = bench::ReadF32(fields[0]);
  if (!mic.ok()) return mic.status();
  absl::StatusOr<std::vector<float>> ref = bench::ReadF32(fields[1]);
  if (!ref.ok()) return ref.status();
  job.mic = *std::move(mic);
  job.ref = *std::move(ref);
  job.ref.resize(job.mic.size(), 0.0f);
  const double started = CpuSeconds();
  absl::StatusOr<std::vector<float>> out = contender.run(job);
  const double cpu = CpuSeconds() - started;
  if (!out.ok()) return out.status();
  if (out->size() != job.mic.size()) return absl::InternalError("output length differs");
  std::ofstream file(fields[3], std::ios::binary);
  file.write(reinterpret_cast<const char*>(out->data()),
             static_cast<std::streamsize>(out->size() * sizeof(float)));
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", fields[3]));
  std::printf("%s\t%.6f\t%.6f\n", fields[3].c_str(), cpu,
              static_cast<double>(job.mic.size()) / job.rate);
  return absl::OkStatus();
}

absl::Status Run() {
  if (absl::GetFlag(FLAGS_list)) {
    for (const Contender& c : kContenders) std::printf("%s\t%s\n", c.name, c.rates);
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
    if (fields.size() != 5) return absl::InvalidArgumentError(absl::StrCat("bad job: ", line));
    if (absl::Status s = RunJob(*contender, fields); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(name, " on ", fields[0], ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace audioproc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return audioproc::bench::ExitCode("dsp-echo-peers", audioproc::Run());
}
