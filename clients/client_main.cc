// audioproc-client: streams an audio file through an audioproc server and writes the result.
//
//   audioproc-client --input=speech.wav --output=out.wav --realtime
//       --chain='highpass:cutoff_hz=80,limiter:ceiling_db=-1'   (all on one line)
//   arecord -f S16_LE -r 16000 -c 1 -t raw |
//       audioproc-client --input=- --format=s16le:16000:1 --output=- --chain=denoise | aplay ...
//   audioproc-client --list
//
// Exits 0 on success; otherwise prints the status code name and message and exits 1.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/audio_file.h"
#include "clients/chain_parser.h"
#include "clients/health_probe.h"
#include "clients/pcm.h"
#include "clients/stream_client.h"
#include "clients/test_signal.h"
#include "common/command_line.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(std::string, addr, "localhost:50051", "Server address, host:port.");
ABSL_FLAG(std::string, input, "",
          "Audio file to stream: anything libsndfile reads (WAV, FLAC, Ogg Vorbis/Opus, AIFF, "
          "...). 16-bit PCM is sent as PCM_S16LE, everything else as PCM_F32LE, unless a JSON "
          "--chain StreamConfig sets input.encoding. '-': headerless PCM from standard input, "
          "as --format says, streamed as it arrives (a pipe from arecord, say).");
ABSL_FLAG(std::string, format, "",
          "The format of headerless input (--input=-): ENCODING:RATE:CHANNELS with ENCODING "
          "s16le, s24le, s32le, f32le, mulaw or alaw, e.g. s16le:16000:1.");
ABSL_FLAG(std::string, output, "",
          "Where to write the processed audio, in the format the server reports in StreamReady; "
          "the extension picks the container (.wav, .flac, .ogg, .opus, .aif, .aiff). '-': "
          "headerless PCM to standard output as it arrives (the report goes to standard error). "
          "Empty: do not write.");
ABSL_FLAG(std::string, chain, "",
          "The processing chain: one-line 'highpass:cutoff_hz=80,limiter:ceiling_db=-1', or "
          "proto3 JSON: a chain array '[{\"highpass\":{\"cutoffHz\":80}}]' or a whole "
          "StreamConfig '{\"chain\":[...],\"metrics\":{...}}'. Empty: no processing.");
ABSL_FLAG(uint32_t, chunk_ms, 20, "Milliseconds of input audio per chunk.");
ABSL_FLAG(uint32_t, chunk_frames, 0, "Input frames per chunk; non-zero overrides --chunk_ms.");
ABSL_FLAG(bool, realtime, false,
          "Send chunks at the pace of the audio (chunk i at start + i x chunk duration), as a "
          "live source would, instead of as fast as possible.");
ABSL_FLAG(std::string, stream_id, "",
          "Stream id, [A-Za-z0-9._:-]{1,128}. Empty: the server assigns one.");
ABSL_FLAG(uint32_t, output_rate, 0,
          "Output sample rate in Hz; the server appends a resampler. 0: the input's.");
ABSL_FLAG(uint32_t, output_channels, 0,
          "Output channel count; the server appends a standard down/upmix. 0: the input's.");
ABSL_FLAG(std::string, output_encoding, "",
          "Output sample encoding: PCM_S16LE, PCM_S24LE, PCM_S32LE, PCM_F32LE, MULAW, ALAW (or "
          "s16, s24, s32, f32, mulaw, alaw). Empty: the input's.");
ABSL_FLAG(uint32_t, checkpoint_interval_ms, 0,
          "Ask for a checkpoint every this many ms of audio (a server with --resume_key_file): "
          "if the server drains or goes away, the stream resumes on another replica by itself.");
ABSL_FLAG(bool, dither, false, "Ask for TPDF dither when the output encoding is an integer one.");
ABSL_FLAG(std::string, token, "",
          "Bearer token sent as 'authorization: Bearer <token>'. Empty: the AUDIOPROC_TOKEN "
          "environment variable, if set (keeps the token out of the process list).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of root certificates to verify the server with; setting it turns TLS on.");
ABSL_FLAG(bool, tls, false, "Use TLS, verifying the server with the system's root certificates.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain this client presents (mutual TLS, with --tls_key); turns TLS "
          "on.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Check the server's certificate against this name (also sent as SNI) instead of "
          "--addr's host.");
ABSL_FLAG(double, generate_seconds, 0,
          "Instead of --input, stream this many seconds of a generated test signal (16 kHz mono "
          "s16: a 440 Hz tone and low noise; clients/test_signal.h).");
ABSL_FLAG(bool, check, false,
          "Fail (exit 1) unless the stream is complete and consistent: status OK, every chunk "
          "answered, the tail, and a summary whose frame counts match the input and the output "
          "rate.");
ABSL_FLAG(double, timeout_s, 0, "Give up on the call after this many seconds. 0: never.");
ABSL_FLAG(bool, list, false,
          "Print the server's processors and their parameters (ListProcessors) and exit.");
ABSL_FLAG(bool, health, false,
          "Ask --addr for its health (grpc.health.v1.Health/Check, the gRPC port or the "
          "server's --health_port), print SERVING or NOT_SERVING and exit 0 only if SERVING.");
ABSL_FLAG(std::string, health_service, "",
          "With --health: the service to ask about; empty: the server as a whole.");
ABSL_FLAG(bool, json, false,
          "Print the StreamSummary (or, with --list, the ListProcessorsResponse) as proto3 JSON "
          "instead of text.");

namespace audioproc::client {
namespace {

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

absl::StatusOr<StreamClientOptions> OptionsFromFlags() {
  StreamClientOptions options;
  options.address = absl::GetFlag(FLAGS_addr);
  options.chunk_ms = absl::GetFlag(FLAGS_chunk_ms);
  options.chunk_frames = absl::GetFlag(FLAGS_chunk_frames);
  if (options.chunk_ms == 0 && options.chunk_frames == 0) {
    return absl::InvalidArgumentError("--chunk_ms or --chunk_frames must be positive");
  }
  options.realtime = absl::GetFlag(FLAGS_realtime);
  options.stream_id = absl::GetFlag(FLAGS_stream_id);
  options.output.set_sample_rate_hz(absl::GetFlag(FLAGS_output_rate));
  options.output.set_channels(absl::GetFlag(FLAGS_output_channels));
  if (const std::string encoding = absl::GetFlag(FLAGS_output_encoding); !encoding.empty()) {
    absl::StatusOr<v1::Encoding> parsed = ParseEncoding(encoding);
    if (!parsed.ok()) return parsed.status();
    options.output.set_encoding(*parsed);
  }
  options.dither = absl::GetFlag(FLAGS_dither);
  options.bearer_token = absl::GetFlag(FLAGS_token);
  if (const char* env = std::getenv("AUDIOPROC_TOKEN"); options.bearer_token.empty() && env) {
    options.bearer_token = env;
  }
  options.use_tls = absl::GetFlag(FLAGS_tls);
  options.tls_root_cert_path = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert_path = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_path = absl::GetFlag(FLAGS_tls_key);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout_s));
  return options;
}

std::string Number(double value) { return absl::StrFormat("%g", value); }

void PrintProcessors(const v1::ListProcessorsResponse& response) {
  // One row per parameter under its processor; columns as wide as their widest cell.
  std::vector<std::vector<std::string>> rows = {
      {"parameter", "type", "unit", "default", "range", "runtime", "summary"}};
  std::vector<size_t> processor_rows;  // Row index at which each processor starts.
  for (const v1::ProcessorInfo& processor : response.processors()) {
    processor_rows.push_back(rows.size());
    for (const v1::ParameterInfo& p : processor.parameters()) {
      rows.push_back({p.name(), p.type(), p.unit().empty() ? "-" : p.unit(),
                      p.required()            ? "required"
                      : p.has_default_value() ? Number(p.default_value())
                                              : "-",
                      p.allowed_values_size() > 0
                          ? absl::StrJoin(p.allowed_values(), "|")
                          : absl::StrCat(Number(p.min()), "..", Number(p.max())),
                      p.runtime_updatable() ? "yes" : "no", p.summary()});
    }
  }
  std::vector<size_t> widths(rows[0].size() - 1, 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line = "  ";
    for (size_t i = 0; i < widths.size(); ++i) {
      absl::StrAppend(&line, row[i], std::string(widths[i] - row[i].size() + 2, ' '));
    }
    absl::PrintF("%s%s\n", line, row.back());
  };
  print_row(rows[0]);
  for (int i = 0; i < response.processors_size(); ++i) {
    const v1::ProcessorInfo& processor = response.processors(i);
    absl::PrintF("%s: %s\n", processor.name(), processor.summary());
    const size_t end = i + 1 < response.processors_size() ? processor_rows[i + 1] : rows.size();
    for (size_t r = processor_rows[i]; r < end; ++r) print_row(rows[r]);
  }
}

void PrintResult(const StreamResult& result, std::FILE* out) {
  if (result.ready.has_value()) {
    const v1::StreamReady& ready = *result.ready;
    absl::FPrintF(out, "stream %s: output %s, latency %u frames\n", ready.stream_id(),
                  FormatToString(ready.output()), ready.latency_frames());
    absl::FPrintF(out, "chain: %s\n",
                  ready.chain().empty() ? "(empty)" : FormatChain(ready.chain()));
  }
  if (!result.summary.has_value()) return;
  const v1::StreamSummary& s = *result.summary;
  absl::FPrintF(out, "frames in/out: %u / %u (%.3f s of audio), chunks: %u\n", s.frames_in(),
                s.frames_out(), s.audio_seconds(), s.chunks());
  absl::FPrintF(out, "wall time: %.3f s, real-time factor: %.4f\n", s.wall_seconds(),
                s.real_time_factor());
  for (const v1::ProcessorTiming& timing : s.processors()) {
    absl::FPrintF(out, "  %-12s %10.3f ms\n", timing.name(), timing.seconds() * 1e3);
  }
  absl::FPrintF(out, "clipped samples: %u, non-finite input samples: %u\n", s.clipped_samples(),
                s.nonfinite_samples());
  if (s.has_integrated_lufs())
    absl::FPrintF(out, "integrated loudness: %.1f LUFS\n", s.integrated_lufs());
  if (s.discarded_bytes() > 0) {
    absl::FPrintF(out, "discarded: %u bytes of an incomplete last frame\n", s.discarded_bytes());
  }
  if (s.dropped_events() > 0) absl::FPrintF(out, "dropped events: %u\n", s.dropped_events());
  if (result.resumes > 0) {
    absl::FPrintF(out, "resumed on another call %d times (from the server's checkpoints)\n",
                  result.resumes);
  }
  if (!result.chunk_latency.empty()) {
    std::vector<absl::Duration> latency = result.chunk_latency;
    std::sort(latency.begin(), latency.end());
    auto at = [&](double q) {
      return absl::ToDoubleMilliseconds(latency[static_cast<size_t>(q * (latency.size() - 1))]);
    };
    absl::FPrintF(out, "chunk round trip: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", at(0.5),
                  at(0.99), at(1.0));
  }
}

absl::Status List(const StreamClient& client) {
  absl::StatusOr<v1::ListProcessorsResponse> response = client.ListProcessors();
  if (!response.ok()) return response.status();
  if (absl::GetFlag(FLAGS_json)) {
    absl::PrintF("%s", ToJson(*response));
  } else {
    PrintProcessors(*response);
  }
  return absl::OkStatus();
}

// The input of a stream: a whole file decoded up front, or headerless PCM from standard input
// read chunk by chunk as it arrives.
struct StreamInput {
  v1::AudioFormat format;
  std::string file_data;  // Empty for standard input.
  bool from_stdin = false;
};

absl::StatusOr<StreamInput> OpenInput(const std::string& path, v1::Encoding encoding) {
  StreamInput input;
  if (path == "-") {
    const std::string format = absl::GetFlag(FLAGS_format);
    if (format.empty()) {
      return absl::InvalidArgumentError("--input=- needs --format, e.g. --format=s16le:16000:1");
    }
    absl::StatusOr<v1::AudioFormat> parsed = ParseRawFormat(format);
    if (!parsed.ok()) return parsed.status();
    input.format = *parsed;
    input.from_stdin = true;
    return input;
  }
  absl::StatusOr<PcmAudio> audio = ReadAudioFile(path, encoding);
  if (!audio.ok()) return audio.status();
  input.format = audio->format;
  input.file_data = std::move(audio->data);
  return input;
}

StreamInput GeneratedInput(double seconds) {
  PcmAudio signal = GenerateTestSignal(seconds);
  return {.format = signal.format, .file_data = std::move(signal.data)};
}

// Reads standard input in whole chunks; a short read happens only at the end.
bool ReadStdinChunk(size_t max_bytes, std::string& chunk) {
  chunk.resize(max_bytes);
  const size_t n = std::fread(chunk.data(), 1, max_bytes, stdin);
  chunk.resize(n);
  return n > 0;
}

void WriteStdout(absl::string_view data) {
  std::fwrite(data.data(), 1, data.size(), stdout);
  std::fflush(stdout);  // Downstream of a live source: hand each chunk on at once.
}

absl::Status Stream(const StreamClient& client) {
  const std::string input_path = absl::GetFlag(FLAGS_input);
  const double generate_seconds = absl::GetFlag(FLAGS_generate_seconds);
  if (input_path.empty() == (generate_seconds <= 0)) {
    return absl::InvalidArgumentError(
        "one of --input and --generate_seconds is required (or --list)");
  }
  if (absl::GetFlag(FLAGS_check) && input_path == "-") {
    return absl::InvalidArgumentError("--check needs a file --input or --generate_seconds");
  }
  const std::string output_path = absl::GetFlag(FLAGS_output);
  const bool to_stdout = output_path == "-";
  if (!output_path.empty() && !to_stdout) {
    // Refuse an unwritable container before streaming minutes of audio.
    if (absl::StatusOr<Container> c = ContainerForPath(output_path); !c.ok()) return c.status();
  }
  // With the audio on standard output, the report goes to standard error.
  std::FILE* report = to_stdout ? stderr : stdout;
  absl::StatusOr<v1::StreamConfig> config = ParseStreamConfig(absl::GetFlag(FLAGS_chain));
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--chain: ", config.status().message()));
  }
  absl::StatusOr<StreamInput> input = input_path.empty()
                                          ? GeneratedInput(generate_seconds)
                                          : OpenInput(input_path, config->input().encoding());
  if (!input.ok()) return input.status();
  // The input decides the rate and channels; a JSON config that says otherwise is a mistake.
  const v1::AudioFormat& wanted = config->input();
  if ((wanted.sample_rate_hz() != 0 && wanted.sample_rate_hz() != input->format.sample_rate_hz()) ||
      (wanted.channels() != 0 && wanted.channels() != input->format.channels())) {
    return absl::InvalidArgumentError(absl::StrCat("--chain's StreamConfig.input says ",
                                                   FormatToString(wanted), " but ", input_path,
                                                   " is ", FormatToString(input->format)));
  }
  *config->mutable_input() = input->format;
  if (const uint32_t interval = absl::GetFlag(FLAGS_checkpoint_interval_ms); interval != 0) {
    config->set_checkpoint_interval_ms(interval);
  }

  const StreamClient::OutputSink sink =
      to_stdout ? StreamClient::OutputSink(WriteStdout) : StreamClient::OutputSink();
  const StreamResult result = input->from_stdin
                                  ? client.ProcessStream(*std::move(config), ReadStdinChunk, sink)
                                  : client.Process(*std::move(config), input->file_data, sink);
  if (absl::GetFlag(FLAGS_json)) {
    if (result.summary.has_value()) absl::FPrintF(report, "%s", ToJson(*result.summary));
  } else {
    PrintResult(result, report);
  }
  if (!result.status.ok()) {
    absl::Status status = ToAbslStatus(result.status);
    if (!result.ready.has_value()) return status;  // A refused config: nothing was streamed.
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), " (", result.chunks.size(), " of ",
                                     result.chunks_sent, " chunks answered)"));
  }
  if (!result.protocol_error.empty()) return absl::InternalError(result.protocol_error);
  if (absl::GetFlag(FLAGS_check)) {
    if (absl::Status s = CheckStreamResult(result, input->format,
                                           input->file_data.size() / BytesPerFrame(input->format));
        !s.ok()) {
      return s;
    }
  }
  if (!output_path.empty() && !to_stdout) {
    if (absl::Status s = WriteAudioFile(output_path, {result.output, result.ready->output()});
        !s.ok()) {
      return s;
    }
    if (!absl::GetFlag(FLAGS_json)) absl::FPrintF(report, "wrote %s\n", output_path);
  }
  return absl::OkStatus();
}

int Main() {
  absl::StatusOr<StreamClientOptions> options = OptionsFromFlags();
  absl::Status status = options.status();
  if (status.ok() && absl::GetFlag(FLAGS_health)) {
    return RunHealthProbe(*options, absl::GetFlag(FLAGS_health_service));
  }
  if (status.ok()) {
    absl::StatusOr<std::unique_ptr<StreamClient>> client = StreamClient::Connect(*options);
    status = !client.ok()                ? client.status()
             : absl::GetFlag(FLAGS_list) ? List(**client)
                                         : Stream(**client);
  }
  if (status.ok()) return 0;
  absl::FPrintF(stderr, "audioproc-client: %s: %s\n", absl::StatusCodeToString(status.code()),
                status.message());
  return 1;
}

}  // namespace
}  // namespace audioproc::client

int main(int argc, char** argv) {
  audioproc::SetUpCommandLine(
      "audioproc-client",
      "Streams an audio file through an audioproc server and writes the result.\n"
      "  audioproc-client --input=in.wav --output=out.wav "
      "--chain='highpass:cutoff_hz=80,limiter:ceiling_db=-1' [--realtime]\n"
      "  arecord -f S16_LE -r 16000 -c 1 -t raw | audioproc-client --input=- "
      "--format=s16le:16000:1 --output=- --chain=denoise | aplay -f S16_LE -r 16000 -c 1\n"
      "  audioproc-client --list\n"
      "  audioproc-client --health [--addr=localhost:50051]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    absl::FPrintF(stderr, "audioproc-client: unexpected argument '%s' (see --help)\n",
                  positional[1]);
    return 1;
  }
  return audioproc::client::Main();
}
