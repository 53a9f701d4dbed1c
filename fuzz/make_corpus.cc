// Writes the binary seed inputs of the fuzz targets into fuzz/corpus/<target>/: serialized
// protos (from the text-format messages below) framed as each target reads them, with a
// little audio, and codec inputs. The chain parser's seeds are text files kept by hand.
//
//   build-fuzz/fuzz/fuzz_make_corpus fuzz/corpus
//
// Seeds are small valid (and a few nearly valid) examples: libFuzzer mutates from them, so
// each one covers a processor, an encoding or a format conversion the others do not.
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "audio_io/codec.h"
#include "audio_io/sndfile_memory.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/registry.h"
#include "chain/stream_pipeline.h"
#include "dsp/audio_block.h"
#include "dsp/state_codec.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/pipeline_from_config.h"
#include "google/protobuf/text_format.h"
#include "service/stream_config.h"

namespace audioproc::fuzz {
namespace {

namespace fs = std::filesystem;

template <typename Message>
Message ParsedText(const std::string& text) {
  Message message;
  if (!google::protobuf::TextFormat::ParseFromString(text, &message)) {
    std::fprintf(stderr, "bad text-format %s: %s\n", Message::descriptor()->full_name().c_str(),
                 text.c_str());
    std::exit(1);
  }
  return message;
}

template <typename Message>
std::string Serialized(const std::string& text) {
  return ParsedText<Message>(text).SerializeAsString();
}

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// `frames` frames of a tone (a different one in each channel), encoded.
std::string Tone(SampleEncoding encoding, uint32_t channels, uint32_t frames, double rate_hz) {
  AudioBuffer buffer(channels, frames);
  const AudioBlock block = buffer.Block(frames);
  for (uint32_t c = 0; c < channels; ++c) {
    for (uint32_t i = 0; i < frames; ++i) {
      block.channel(c)[i] =
          static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 440.0 * (c + 1) * i / rate_hz));
    }
  }
  std::string bytes(size_t{frames} * channels * BytesPerSample(encoding), '\0');
  EncodeInterleaved(encoding, block, reinterpret_cast<uint8_t*>(bytes.data()), nullptr, 0);
  return bytes;
}

void AppendLe(std::string& out, uint32_t value, int bytes) {
  for (int b = 0; b < bytes; ++b) out.push_back(static_cast<char>(value >> (8 * b)));
}

// A mono 16-bit WAV file holding `taps`, for convolve.impulse_file.
std::string WavFile(const std::vector<int16_t>& taps) {
  const auto data_bytes = static_cast<uint32_t>(taps.size() * 2);
  std::string wav = "RIFF";
  AppendLe(wav, 36 + data_bytes, 4);
  wav += "WAVEfmt ";
  AppendLe(wav, 16, 4);     // fmt chunk size
  AppendLe(wav, 1, 2);      // PCM
  AppendLe(wav, 1, 2);      // channels
  AppendLe(wav, 16000, 4);  // sample rate
  AppendLe(wav, 32000, 4);  // byte rate
  AppendLe(wav, 2, 2);      // block align
  AppendLe(wav, 16, 2);     // bits per sample
  wav += "data";
  AppendLe(wav, data_bytes, 4);
  for (int16_t tap : taps) AppendLe(wav, static_cast<uint16_t>(tap), 2);
  return wav;
}

// Text format escapes for arbitrary bytes.
std::string Escaped(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    char octal[5];
    std::snprintf(octal, sizeof octal, "\\%03o", c);
    out += octal;
  }
  return out;
}

void StreamRequestSeeds(const fs::path& dir) {
  struct Seed {
    const char* name;
    std::string config;  // text-format StreamConfig
    SampleEncoding encoding;
    uint32_t channels;
    double rate_hz;
    uint32_t frames;
    uint8_t chunk_bytes;
  };
  const std::string impulse_file = Escaped(WavFile({16384, 8192, -4096, 2048, 0, -1024, 512, 0}));
  const std::vector<Seed> seeds = {
      {"s16_16k_mono_voice_chain",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
          chain { highpass { cutoff_hz: 80 } } chain { gain { gain_db: 6 } }
          chain { limiter { ceiling_db: -1 } })",
       SampleEncoding::kS16, 1, 16000, 1000, 37},
      {"f32_48k_stereo_music_chain_to_44k1",
       R"(input { encoding: PCM_F32LE sample_rate_hz: 48000 channels: 2 }
          output { sample_rate_hz: 44100 }
          chain { eq { bands { type: LOWSHELF freq_hz: 100 gain_db: 3 }
                       bands { type: PEAKING freq_hz: 1000 q: 2 gain_db: -4 }
                       bands { type: HIGHSHELF freq_hz: 8000 gain_db: 2 } } }
          chain { compressor { threshold_db: -20 ratio: 4 } }
          chain { limiter { ceiling_db: -1 true_peak: true } })",
       SampleEncoding::kF32, 2, 48000, 512, 0},
      {"mulaw_8k_denoise_vad_to_s16_16k",
       R"(input { encoding: MULAW sample_rate_hz: 8000 channels: 1 }
          output { encoding: PCM_S16LE sample_rate_hz: 16000 }
          chain { denoise { reduction_db: 12 } } chain { vad { mute: true } })",
       SampleEncoding::kMulaw, 1, 8000, 800, 160},
      {"s24_44k1_stereo_loudness_analyze_dither",
       R"(input { encoding: PCM_S24LE sample_rate_hz: 44100 channels: 2 }
          output { encoding: PCM_S16LE } dither: DITHER_TPDF stream_id: "seed-1"
          chain { loudness { target_lufs: -16 } } chain { analyze { bands: 8 } })",
       SampleEncoding::kS24, 2, 44100, 700, 101},
      {"s16_16k_mic_reference_aec_denoise",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 2 }
          chain { aec { reference_channels: 1 suppression: 1 } } chain { denoise {} })",
       SampleEncoding::kS16, 2, 16000, 1200, 64},
      {"s32_96k_6ch_to_stereo_gate_dc_block",
       R"(input { encoding: PCM_S32LE sample_rate_hz: 96000 channels: 6 }
          output { channels: 2 }
          chain { dc_block {} } chain { noise_gate { threshold_db: -50 hold_ms: 5 } })",
       SampleEncoding::kS32, 6, 96000, 300, 24},
      {"alaw_8k_filters_convolve",
       R"(input { encoding: ALAW sample_rate_hz: 8000 channels: 1 }
          chain { convolve { impulse: [0.5, 0.25, 0.125, -0.1] wet: 0.8 } }
          chain { notch { center_hz: 1000 q: 5 } } chain { bandpass { center_hz: 500 } }
          chain { peaking { center_hz: 2000 gain_db: 3 } }
          chain { lowshelf { cutoff_hz: 200 gain_db: -3 } }
          chain { highshelf { cutoff_hz: 3000 gain_db: 2 } }
          chain { lowpass { cutoff_hz: 3000 order: 4 } })",
       SampleEncoding::kAlaw, 1, 8000, 600, 7},
      {"s16_16k_convolve_impulse_file",
       "input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }"
       "chain { convolve { impulse_file: \"" +
           impulse_file + "\" } }",
       SampleEncoding::kS16, 1, 16000, 400, 64},
      {"s16_192k_to_8k_resample_very_high",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 192000 channels: 1 }
          chain { resample { sample_rate_hz: 8000 quality: VERY_HIGH } })",
       SampleEncoding::kS16, 1, 192000, 1500, 0},
      {"s16_48k_stereo_mix_matrix",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 48000 channels: 2 }
          chain { mix { output_channels: 1 matrix: [0.5, 0.5] } } chain { gain { gain_db: -3 } })",
       SampleEncoding::kS16, 2, 48000, 256, 3},
      {"f32_16k_mono_empty_chain_levels_off",
       R"(input { encoding: PCM_F32LE sample_rate_hz: 16000 channels: 1 }
          metrics { omit_levels: true per_channel: true })",
       SampleEncoding::kF32, 1, 16000, 100, 1},
      {"invalid_no_input", R"(chain { gain { gain_db: 1 } })", SampleEncoding::kS16, 1, 16000, 10,
       0},
      {"invalid_highpass_above_nyquist",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 8000 channels: 1 }
          chain { highpass { cutoff_hz: 9000 } })",
       SampleEncoding::kS16, 1, 8000, 10, 0},
  };
  for (const Seed& seed : seeds) {
    const std::string request = Serialized<v1::ProcessRequest>("config { " + seed.config + " }");
    std::string rest(1, static_cast<char>(seed.chunk_bytes));
    rest += Tone(seed.encoding, seed.channels, seed.frames, seed.rate_hz);
    Write(dir, seed.name, JoinMessage(request, rest));
  }
}

void ChainUpdateSeeds(const fs::path& dir) {
  struct Seed {
    const char* name;
    const char* config;  // text-format StreamConfig
    const char* update;  // text-format ChainUpdate
  };
  const std::vector<Seed> seeds = {
      {"gain_update",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
          chain { gain { gain_db: 0 } })",
       R"(updates { index: 0 spec { gain { gain_db: -12 } } })"},
      {"voice_chain_three_updates",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
          chain { highpass { cutoff_hz: 80 } } chain { denoise {} }
          chain { compressor { threshold_db: -20 ratio: 4 } } chain { loudness {} }
          chain { limiter { ceiling_db: -1 } })",
       R"(updates { index: 1 spec { denoise { reduction_db: 20 } } }
          updates { index: 2 spec { compressor { threshold_db: -30 ratio: 8 knee_db: 6 } } }
          updates { index: 3 spec { loudness { target_lufs: -16 } } })"},
      {"stereo_48k_filters_and_vad",
       R"(input { encoding: PCM_F32LE sample_rate_hz: 48000 channels: 2 }
          output { sample_rate_hz: 16000 channels: 1 }
          chain { peaking { center_hz: 1000 gain_db: 3 } } chain { vad {} }
          chain { noise_gate {} } chain { convolve { impulse: [1, 0.5] } })",
       R"(updates { index: 0 spec { peaking { center_hz: 2000 q: 3 gain_db: -6 } } }
          updates { index: 1 spec { vad { threshold: 0.7 mute: true } } }
          updates { index: 2 spec { noise_gate { threshold_db: -40 } } }
          updates { index: 3 spec { convolve { wet: 0.5 } } })"},
      {"refused_not_updatable",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
          chain { highpass { cutoff_hz: 80 order: 2 } })",
       R"(updates { index: 0 spec { highpass { order: 4 } } })"},
      {"refused_wrong_processor",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
          chain { gain {} } chain { limiter {} })",
       R"(updates { index: 1 spec { gain { gain_db: 3 } } })"},
      {"refused_index_past_chain_with_appended_resample",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
          output { sample_rate_hz: 8000 } chain { gain {} })",
       R"(updates { index: 1 spec { resample { quality: LOW } } })"},
      {"refused_out_of_range",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 8000 channels: 1 }
          chain { lowshelf { cutoff_hz: 100 } } chain { limiter {} })",
       R"(updates { index: 0 spec { lowshelf { cutoff_hz: 5000 } } }
          updates { index: 1 spec { limiter { ceiling_db: -3 } } })"},
  };
  for (const Seed& seed : seeds) {
    Write(dir, seed.name,
          JoinMessage(Serialized<v1::StreamConfig>(seed.config),
                      Serialized<v1::ChainUpdate>(seed.update)));
  }
}

void CodecSeeds(const fs::path& dir) {
  const char* const names[] = {"s16", "s24", "s32", "f32", "mulaw", "alaw"};
  for (uint8_t encoding = 0; encoding < 6; ++encoding) {
    for (const uint8_t channels : {1, 2, 8}) {
      std::string input = {static_cast<char>(encoding), static_cast<char>(channels - 1)};
      AppendLe(input, 0x9E3779B9u * (encoding + 1), 4);  // dither seed
      AppendLe(input, 0x7F4A7C15u * channels, 4);
      // Every byte value, then full-scale and special float patterns.
      for (int b = 0; b < 256; ++b) input.push_back(static_cast<char>(b));
      for (const uint32_t bits :
           {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x00000001u, 0x3F800000u, 0xBF800000u,
            0x7F7FFFFFu, 0x80000000u, 0x7FFFFFFFu, 0x80000001u, 0x3F000000u, 0x00800000u}) {
        AppendLe(input, bits, 4);
      }
      Write(dir, std::string(names[encoding]) + "_" + std::to_string(channels) + "ch", input);
    }
  }
}

// A short tone encoded by libsndfile as `sf_format`.
std::string EncodedTone(int sf_format, int rate_hz, int channels) {
  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = channels;
  info.format = sf_format;
  SndfileMemory sink = SndfileMemory::ForWriting();
  SNDFILE* file = sink.Open(SFM_WRITE, &info);
  if (file == nullptr) {
    std::fprintf(stderr, "cannot write format 0x%x: %s\n", sf_format, sf_strerror(nullptr));
    std::exit(1);
  }
  const int frames = rate_hz / 20;  // 50 ms
  std::vector<float> samples(static_cast<size_t>(frames) * channels);
  for (int i = 0; i < frames; ++i) {
    for (int c = 0; c < channels; ++c) {
      samples[static_cast<size_t>(i) * channels + c] =
          static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 440.0 * (c + 1) * i / rate_hz));
    }
  }
  sf_writef_float(file, samples.data(), frames);
  sf_close(file);
  return sink.TakeWritten();
}

void ProcessFileSeeds(const fs::path& dir) {
  struct Seed {
    const char* name;
    int sf_format;
    int rate_hz;
    int channels;
    const char* request;  // text-format ProcessFileRequest, without the file
  };
  const std::vector<Seed> seeds = {
      {"wav_s16_to_same", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1,
       R"(chain { gain { gain_db: -3 } })"},
      {"flac_24_stereo_to_wav_f32_mono", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 2,
       R"(chain { loudness {} } output { container: WAV encoding: PCM_F32LE channels: 1 })"},
      {"vorbis_to_opus", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 1,
       R"(chain { highpass { cutoff_hz: 80 } } output { container: OGG_OPUS })"},
      {"opus_to_flac_16k", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 2,
       R"(output { container: FLAC sample_rate_hz: 16000 })"},
      {"aiff_to_wav_mulaw_8k", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 22050, 1,
       R"(chain { limiter {} } output { container: WAV encoding: MULAW sample_rate_hz: 8000 }
          dither: DITHER_TPDF)"},
      {"wav_alaw_to_aiff_s32", SF_FORMAT_WAV | SF_FORMAT_ALAW, 8000, 1,
       R"(chain { denoise {} } output { container: AIFF encoding: PCM_S32LE })"},
  };
  for (const Seed& seed : seeds) {
    Write(dir, seed.name,
          JoinMessage(Serialized<v1::ProcessFileRequest>(seed.request),
                      EncodedTone(seed.sf_format, seed.rate_hz, seed.channels)));
  }
}

// A StreamConfig's pipeline after a second of tones and noise, and its saved state: seeds that
// restore, which the fuzzer then mutates.
void StateRestoreSeeds(const fs::path& dir) {
  struct Seed {
    const char* name;
    const char* config;  // text-format StreamConfig
  };
  const std::vector<Seed> seeds = {
      {"voice_chain",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
          chain { highpass { cutoff_hz: 80 } } chain { denoise {} } chain { compressor {} }
          chain { loudness { target_lufs: -16 } } chain { limiter { ceiling_db: -1 } })"},
      {"stereo_48k_eq_vad_gate",
       R"(input { encoding: PCM_F32LE sample_rate_hz: 48000 channels: 2 }
          chain { peaking { center_hz: 1000 gain_db: 3 } } chain { vad {} }
          chain { noise_gate {} } chain { convolve { impulse: [1, 0.5, 0.25] } })"},
      {"aec_with_reference",
       R"(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 2 }
          chain { aec {} } chain { denoise {} })"},
      {"dithered_mulaw",
       R"(input { encoding: MULAW sample_rate_hz: 8000 channels: 1 }
          output { encoding: PCM_S16LE } dither: DITHER_TPDF chain { gain { gain_db: -6 } })"},
      // A resample in the chain (exact phases) and one the output format appends (an odd
      // rate: interpolated phases).
      {"music_resampled_twice",
       R"(input { encoding: PCM_F32LE sample_rate_hz: 48000 channels: 2 }
          output { sample_rate_hz: 8001 channels: 1 }
          chain { compressor {} } chain { resample { sample_rate_hz: 44100 } })"},
  };
  for (const Seed& seed : seeds) {
    const auto config = ParsedText<v1::StreamConfig>(seed.config);
    absl::StatusOr<std::unique_ptr<StreamPipeline>> pipeline =
        PipelineFromConfig(config, "seed-stream");
    if (!pipeline.ok()) {
      std::fprintf(stderr, "seed %s: %s\n", seed.name,
                   std::string(pipeline.status().message()).c_str());
      std::exit(1);
    }
    const v1::AudioFormat& input = config.input();
    const size_t frame_bytes =
        BytesPerSample((*pipeline)->config().input.encoding) * input.channels();
    std::string audio(input.sample_rate_hz() * frame_bytes + frame_bytes / 2, '\0');
    uint32_t noise = 7;
    for (char& byte : audio)
      byte = static_cast<char>((noise = noise * 1664525u + 1013904223u) >> 24);
    std::string out;
    (*pipeline)->ProcessChunk(audio, &out);
    StateWriter writer;
    if (!(*pipeline)->SaveState(writer).ok()) std::exit(1);
    const std::span<const uint8_t> state = writer.bytes();
    Write(dir, seed.name,
          JoinMessage(config.SerializeAsString(),
                      std::string(reinterpret_cast<const char*>(state.data()), state.size())));
  }
}

}  // namespace
}  // namespace audioproc::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  audioproc::fuzz::StreamRequestSeeds(root / "stream_request");
  audioproc::fuzz::ChainUpdateSeeds(root / "chain_update");
  audioproc::fuzz::CodecSeeds(root / "codec");
  audioproc::fuzz::ProcessFileSeeds(root / "process_file");
  audioproc::fuzz::StateRestoreSeeds(root / "state_restore");
  return 0;
}
