// dsp-echo-material: the echo scenes `make bench-dsp` scores echo cancellers on, written as raw
// little-endian float32 files (microphone, reference, clean near end, echo alone) with their
// 10 ms labels and a manifest.json naming each scene's parameters.
//
//   dsp-echo-material --out_dir=build/bench-dsp/echo/material [--rates=16000,48000]
//                     [--pairs=3] [--rooms=3] [--seconds=0]
//
// Per rate, voice pair and room, five scenes (tests/testing/echo_material.h): single talk
// (far end only), double talk, an echo path change, a 50 ms delay jump later and one earlier
// (all three at 8 s, far end only, so the recovery shows in the ERLE). The labels file of a scene
// is a TSV with the header `far_only<TAB>near_active` and one line per 10 ms frame. Everything is
// made from the build's espeak-ng speech and seeded rooms, so two runs write the same bytes.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <span>
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
#include "bench/dsp/raw_files.h"
#include "tests/testing/echo_material.h"
#include "tests/testing/speech_material.h"

ABSL_FLAG(std::string, out_dir, "", "directory to write into (created by the caller)");
ABSL_FLAG(std::vector<std::string>, rates, std::vector<std::string>({"16000", "48000"}),
          "sample rates in Hz");
ABSL_FLAG(int, pairs, 3, "how many (far, near) voice pairs: (0, 1), (2, 3), (4, 5)");
ABSL_FLAG(int, rooms, 3, "how many of the rooms (delay, RT60, echo level), in their order");
ABSL_FLAG(int, voice_shift, 0,
          "pair the voices differently, for material the canceller was not tuned on: pair p is "
          "(2p + shift, 2p + 1 + shift), modulo the six voices");
ABSL_FLAG(int, seed_offset, 0,
          "add this to every scene's seed (other rooms, noise and talk), for other material");
ABSL_FLAG(double, seconds, 0, "cut every scene to this long (0: the whole talk)");

namespace audioproc {
namespace {

using testing::EchoChange;

// The rooms span issue 15's ranges: delays 30-300 ms, RT60 0.2-0.5 s, echo -20 to 0 dB.
struct Room {
  double delay_ms;
  double rt60_s;
  double echo_level_db;
};
constexpr Room kRooms[] = {{100, 0.3, -10}, {250, 0.5, 0}, {30, 0.2, -20}};

// "delay" jumps 50 ms later, "earlier" 50 ms earlier (the 30 ms room's 30 ms, to no delay) on the
// material of the "delay" scene before it (its seed), so the two directions compare scene by scene.
struct Kind {
  const char* name;
  bool double_talk;
  EchoChange change;
  double jump_ms;
};
constexpr Kind kKinds[] = {{"single", false, EchoChange::kNone, 0},
                           {"double", true, EchoChange::kNone, 0},
                           {"path", false, EchoChange::kPathChange, 0},
                           {"delay", false, EchoChange::kDelayJump, 50},
                           {"earlier", false, EchoChange::kDelayJump, -50}};

absl::Status WriteLabels(const std::string& path, const testing::EchoScene& scene, size_t frames) {
  std::ofstream out(path);
  out << "far_only\tnear_active\n";
  for (size_t f = 0; f < frames; ++f) {
    out << (scene.far_only[f] ? 1 : 0) << '\t' << (scene.near_active[f] ? 1 : 0) << '\n';
  }
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string VoiceName(int v) {
  return absl::StrReplaceAll(testing::kSpeechVoices[v], {{"+", "_"}});
}

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_out_dir);
  if (dir.empty()) return absl::InvalidArgumentError("--out_dir is required");
  const int pairs = absl::GetFlag(FLAGS_pairs);
  if (pairs < 1 || 2 * pairs > static_cast<int>(std::size(testing::kSpeechVoices))) {
    return absl::InvalidArgumentError("--pairs must be 1 to 3");
  }
  const int rooms = absl::GetFlag(FLAGS_rooms);
  if (rooms < 1 || rooms > static_cast<int>(std::size(kRooms))) {
    return absl::InvalidArgumentError("--rooms must be 1 to 3");
  }
  const int voices = static_cast<int>(std::size(testing::kSpeechVoices));
  const int shift = absl::GetFlag(FLAGS_voice_shift);
  if (shift < 0 || shift >= voices) {
    return absl::InvalidArgumentError(absl::StrCat("--voice_shift must be 0 to ", voices - 1));
  }
  const int seed_offset = absl::GetFlag(FLAGS_seed_offset);
  if (seed_offset < 0) return absl::InvalidArgumentError("--seed_offset must be >= 0");
  std::vector<uint32_t> rates;
  for (const std::string& s : absl::GetFlag(FLAGS_rates)) {
    uint32_t rate = 0;
    if (!absl::SimpleAtoi(s, &rate) || rate % 100 != 0) {
      return absl::InvalidArgumentError(absl::StrCat("rate ", s));
    }
    rates.push_back(rate);
  }
  std::vector<std::string> entries;
  uint32_t seed = 1;
  for (uint32_t rate : rates) {
    for (int p = 0; p < pairs; ++p) {
      for (int r = 0; r < rooms; ++r) {
        for (const Kind& kind : kKinds) {
          testing::EchoSceneSpec spec;
          spec.sample_rate_hz = rate;
          spec.far_voice = (2 * p + shift) % voices;
          spec.near_voice = (2 * p + 1 + shift) % voices;
          spec.double_talk = kind.double_talk;
          spec.delay_ms = kRooms[r].delay_ms;
          spec.rt60_s = kRooms[r].rt60_s;
          spec.echo_level_db = kRooms[r].echo_level_db;
          spec.change = kind.change;
          spec.delay_jump_ms = std::max(kind.jump_ms, -spec.delay_ms);
          // Every kind but "earlier" takes a seed of its own (the material of the scenes before
          // "earlier" was added is unchanged).
          spec.seed = (kind.jump_ms < 0 ? seed - 1 : seed++) + static_cast<uint32_t>(seed_offset);
          absl::StatusOr<testing::EchoScene> scene = testing::MakeEchoScene(spec);
          if (!scene.ok()) return scene.status();
          const size_t hop = rate / 100;
          const double seconds = absl::GetFlag(FLAGS_seconds);
          size_t n = scene->mic.size();
          if (seconds > 0) n = std::min(n, static_cast<size_t>(seconds * 100) * hop);
          const size_t frames = std::min(n / hop, scene->far_only.size());
          const std::string name = absl::StrCat(kind.name, "_", rate / 1000, "k_p", p, "_r", r);
          const std::string mic = name + "_mic.f32", ref = name + "_ref.f32",
                            near = name + "_near.f32", echo = name + "_echo.f32",
                            labels = name + "_labels.tsv";
          for (const auto& [file, samples] :
               {std::pair{mic, &scene->mic}, std::pair{ref, &scene->reference},
                std::pair{near, &scene->near}, std::pair{echo, &scene->echo}}) {
            if (absl::Status s = bench::WriteF32(absl::StrCat(dir, "/", file),
                                                 std::span<const float>(samples->data(), n));
                !s.ok()) {
              return s;
            }
          }
          if (absl::Status s = WriteLabels(absl::StrCat(dir, "/", labels), *scene, frames);
              !s.ok()) {
            return s;
          }
          const bool changed = kind.change != EchoChange::kNone && scene->change_sample < n;
          entries.push_back(absl::StrCat(
              "{\"name\": \"", name, "\", \"kind\": \"", kind.name, "\", \"rate\": ", rate,
              ", \"far_voice\": \"", VoiceName(spec.far_voice), "\", \"near_voice\": \"",
              kind.double_talk ? VoiceName(spec.near_voice) : "",
              "\", \"delay_ms\": ", spec.delay_ms, ", \"rt60_s\": ", spec.rt60_s,
              ", \"echo_level_db\": ", spec.echo_level_db, ", \"floor_dbfs\": ", spec.floor_dbfs,
              ", \"change_at_s\": ", changed ? spec.change_at_s : 0, ", \"delay_jump_ms\": ",
              kind.change == EchoChange::kDelayJump ? spec.delay_jump_ms : 0,
              ", \"change_sample\": ", changed ? scene->change_sample : 0,
              ", \"seed\": ", spec.seed, ", \"samples\": ", n, ", \"mic\": \"", mic,
              "\", \"ref\": \"", ref, "\", \"near\": \"", near, "\", \"echo\": \"", echo,
              "\", \"labels\": \"", labels, "\"}"));
          std::printf("dsp-echo-material: %s, %.1f s\n", name.c_str(),
                      static_cast<double>(n) / rate);
        }
      }
    }
  }
  std::ofstream manifest(absl::StrCat(dir, "/manifest.json"));
  manifest << "{\"scenes\": [\n  " << absl::StrJoin(entries, ",\n  ") << "\n]}\n";
  if (!manifest) return absl::InternalError("cannot write manifest.json");
  return absl::OkStatus();
}

}  // namespace
}  // namespace audioproc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return audioproc::bench::ExitCode("dsp-echo-material", audioproc::Run());
}
