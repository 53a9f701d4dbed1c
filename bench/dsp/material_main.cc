// dsp-material: the speech and noise `make bench-dsp` scores denoisers and VADs on, written as
// raw little-endian float32 files at 48 kHz mono (what every contender reads without a codec
// between it and the samples), with the 10 ms speech labels and a manifest.json naming each
// file's voice, noise and SNR.
//
//   dsp-material --out_dir=build/bench-dsp/material [--voices=6] [--snrs=-5,0,5,10,15]
//                [--noises=white,pink,brown,fan,babble]
//
// Everything is made from the build's espeak-ng speech (tests/testing/speech_material.h) and
// seeded noises, so two runs write the same bytes.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "bench/dsp/raw_files.h"
#include "tests/testing/babble.h"
#include "tests/testing/noises.h"
#include "tests/testing/speech_material.h"

ABSL_FLAG(std::string, out_dir, "", "directory to write into (created by the caller)");
ABSL_FLAG(int, voices, 6, "how many of the kSpeechVoices to use, in their order");
ABSL_FLAG(std::vector<std::string>, snrs, std::vector<std::string>({"-5", "0", "5", "10", "15"}),
          "input SNRs in dB");
ABSL_FLAG(std::vector<std::string>, noises,
          std::vector<std::string>({"white", "pink", "brown", "fan", "babble"}), "noises to mix");

namespace audioproc {
namespace {

constexpr uint32_t kRate = 48000;

absl::Status WriteLabels(const std::string& path, const std::vector<bool>& speech) {
  std::ofstream out(path);
  for (bool s : speech) out << (s ? "1\n" : "0\n");
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> Noise(const std::string& name, int voice, size_t frames,
                                         uint32_t seed) {
  if (name == "babble") return testing::MakeBabble(voice, frames, kRate, seed);
  for (testing::NoiseKind kind : testing::kStationaryNoises) {
    if (testing::NoiseName(kind) == name) return testing::MakeNoise(kind, frames, kRate, seed);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown noise ", name));
}

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_out_dir);
  if (dir.empty()) return absl::InvalidArgumentError("--out_dir is required");
  const int voices = absl::GetFlag(FLAGS_voices);
  if (voices < 1 || voices > static_cast<int>(std::size(testing::kSpeechVoices))) {
    return absl::InvalidArgumentError("--voices must be 1 to 6");
  }
  std::vector<double> snrs;
  for (const std::string& s : absl::GetFlag(FLAGS_snrs)) {
    double snr = 0;
    if (!absl::SimpleAtod(s, &snr)) return absl::InvalidArgumentError(absl::StrCat("snr ", s));
    snrs.push_back(snr);
  }
  std::vector<std::string> entries;
  for (int v = 0; v < voices; ++v) {
    // Seeds of their own: the tests' talks (1000 + v) are not the bench's.
    absl::StatusOr<testing::Talk> talk = testing::MakeTalk(v, 5000 + v);
    if (!talk.ok()) return talk.status();
    talk = testing::Resampled(*talk, kRate);
    if (!talk.ok()) return talk.status();
    const std::string voice = absl::StrReplaceAll(testing::kSpeechVoices[v], {{"+", "_"}});
    const std::string clean = absl::StrCat("clean_", voice, ".f32");
    const std::string labels = absl::StrCat("labels_", voice, ".txt");
    if (absl::Status s = bench::WriteF32(absl::StrCat(dir, "/", clean), talk->samples); !s.ok())
      return s;
    if (absl::Status s = WriteLabels(absl::StrCat(dir, "/", labels), talk->speech); !s.ok()) {
      return s;
    }
    const std::string common =
        absl::StrCat("\"voice\": \"", voice, "\", \"rate\": ", kRate, ", \"clean\": \"", clean,
                     "\", \"labels\": \"", labels, "\", \"active_power\": ", talk->active_power,
                     ", \"frames\": ", talk->samples.size());
    entries.push_back(absl::StrCat("{\"file\": \"", clean, "\", ", common,
                                   ", \"noise\": \"none\", \"snr\": null}"));
    int n = 0;
    for (const std::string& name : absl::GetFlag(FLAGS_noises)) {
      ++n;
      // One noise per voice and kind, at every SNR: the SNRs differ only in the scale.
      absl::StatusOr<std::vector<float>> noise =
          Noise(name, v, talk->samples.size(), 100u * static_cast<uint32_t>(v) + n);
      if (!noise.ok()) return noise.status();
      for (double snr : snrs) {
        const std::string file = absl::StrCat("noisy_", name, "_", snr, "_", voice, ".f32");
        const std::vector<float> mixed =
            testing::MixAtSnr(talk->samples, talk->active_power, *noise, snr);
        if (absl::Status s = bench::WriteF32(absl::StrCat(dir, "/", file), mixed); !s.ok())
          return s;
        entries.push_back(absl::StrCat("{\"file\": \"", file, "\", ", common, ", \"noise\": \"",
                                       name, "\", \"snr\": ", snr, "}"));
      }
    }
    std::printf("dsp-material: %s, %.1f s\n", voice.c_str(),
                talk->samples.size() / static_cast<double>(kRate));
  }
  std::ofstream manifest(absl::StrCat(dir, "/manifest.json"));
  manifest << "{\"rate\": " << kRate << ", \"files\": [\n  " << absl::StrJoin(entries, ",\n  ")
           << "\n]}\n";
  if (!manifest) return absl::InternalError("cannot write manifest.json");
  return absl::OkStatus();
}

}  // namespace
}  // namespace audioproc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return audioproc::bench::ExitCode("dsp-material", audioproc::Run());
}
