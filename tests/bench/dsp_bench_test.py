#!/usr/bin/python3
"""`make bench-dsp`'s pipeline end to end in its quick mode (bench/dsp/run_dsp_bench.py
--quick): the real dsp-material and dsp-peers over two voices at 0 and 10 dB, scored. The
report must have every contender's rows with finite numbers, and audioproc's denoise must gain
more than 3 dB of SNR on white noise at 10 dB: a sanity check that the material, the alignment
and the scoring fit together (the processor's own bars are in tests/processors/), not a bar. The WASM peers are left out (--no-wasm): RNNoise in Node alone would take the run
past a minute, and bench/dsp/wasm_peers.mjs has its own test.

The echo part (bench/dsp/run_aec_bench.py --quick: one voice pair, one room, 12 s scenes at 16
and 48 kHz) the same way: every echo canceller dsp-echo-peers lists has its row at each rate it
takes, with finite numbers; only audioproc's chains may be missing, and only while the build's
registry has no `aec` processor (the report says so). The scorer itself is checked on outputs
made to order from the same scenes: mic * 0.01 is 40 dB of ERLE (before a change and 0-1 s and
1-3 s after it), the clean near end itself is found at lag 0 with no level change, and shifted
by 5 samples at lag 5; the bars' summary is checked on scores made to order. Not timed.

CTest passes the build directory; by hand:

    /usr/bin/python3 tests/bench/dsp_bench_test.py build
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
sys.path.insert(0, os.path.join(ROOT, "bench", "dsp"))
import aec_timeline  # noqa: E402
import run_aec_bench  # noqa: E402


class DspBenchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "dsp", "run_dsp_bench.py"),
                        "--build-dir", BUILD_DIR, "--quick", "--no-wasm", "--out-dir", cls.tmp.name],
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        with open(os.path.join(cls.tmp.name, "report.json"), encoding="utf-8") as f:
            cls.report = json.load(f)
        with open(os.path.join(cls.tmp.name, "report.md"), encoding="utf-8") as f:
            cls.markdown = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_contender_has_finite_rows(self):
        tables = self.report["tables"]
        denoisers = {"audioproc-denoise", "speexdsp", "speexdsp-30", "webrtc-ns-high",
                     "webrtc-ns-veryhigh"}
        vads = {"audioproc-vad", "speexdsp", "webrtc-vad"}
        self.assertLessEqual(denoisers, set(tables["snr_gain"]))
        self.assertLessEqual(vads, set(tables["vad"]))
        for key in ("snr_gain", "segsnr_gain"):
            for name, row in tables[key].items():
                for noise in self.report["noises"]:
                    self.assertTrue(math.isfinite(row[noise]), f"{key} {name} {noise}: {row[noise]}")
        for name, row in tables["damage"].items():
            for value in row.values():
                self.assertTrue(math.isfinite(value), f"damage {name}: {row}")
        for name, row in tables["vad"].items():
            for cond in ("clean", "noisy"):
                for key in ("accuracy", "false_alarms", "misses"):
                    value = row[f"{cond}.{key}"]
                    self.assertTrue(math.isfinite(value), f"vad {name} {cond}.{key}: {value}")
                    self.assertGreaterEqual(value, 0.0)
                    self.assertLessEqual(value, 100.0)
        # Each noise on its own (the quick run's 10 dB files), for every detector.
        self.assertEqual(set(tables["vad_by_noise"]), set(tables["vad"]))
        for name, row in tables["vad_by_noise"].items():
            for noise in self.report["noises"]:
                value = row[f"{noise}.accuracy"]
                self.assertTrue(math.isfinite(value), f"vad {name} {noise}: {value}")
        self.assertIn("Each noise on its own", self.markdown)
        for name in denoisers | vads:
            self.assertIn(f"| {name} |", self.markdown)

    def test_audioproc_denoise_gains_on_white_noise_at_10_db(self):
        gains = [r["snr_gain"] for r in self.report["scores"]["audioproc-denoise"]
                 if r["noise"] == "white" and r["snr"] == 10]
        self.assertEqual(len(gains), 2)  # the quick mode's two voices
        self.assertGreater(sum(gains) / len(gains), 3.0)

    def test_outputs_are_aligned(self):
        # Every contender states its delay; the scorer's cross-correlation must agree with it,
        # to a sample (WebRTC's phase is not linear: its correlation peaks a sample either side
        # of its delay on some files).
        for name, results in self.report["scores"].items():
            for r in results:
                self.assertFalse(r.get("error"), f"{name} {r['file']}: {r.get('error')}")
                self.assertLessEqual(abs(r.get("lag", 0)), 1, f"{name} {r['file']}")


class AecBenchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "dsp", "run_aec_bench.py"),
                        "--build-dir", BUILD_DIR, "--quick", "--out-dir", cls.tmp.name],
                       check=True, stdout=subprocess.DEVNULL, timeout=240)
        with open(os.path.join(cls.tmp.name, "report.json"), encoding="utf-8") as f:
            cls.report = json.load(f)
        with open(os.path.join(cls.tmp.name, "report.md"), encoding="utf-8") as f:
            cls.markdown = f.read()
        cls.material = os.path.join(cls.tmp.name, "material")
        with open(os.path.join(cls.material, "manifest.json"), encoding="utf-8") as f:
            cls.scenes = {s["kind"] + str(s["rate"]): s for s in json.load(f)["scenes"]}
        listed = subprocess.run([os.path.join(BUILD_DIR, "bench", "dsp", "dsp-echo-peers"), "--list"],
                                capture_output=True, text=True, check=True).stdout
        cls.listed = {line.split("\t")[0]: [int(r) for r in line.split("\t")[1].split(",")]
                      for line in listed.split("\n") if line.strip()}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_contender_has_finite_rows_at_its_rates(self):
        self.assertLessEqual({"webrtc-aec", "webrtc-aecm", "speexdsp-aec", "audioproc-aec",
                              "audioproc-aec-denoise", "audioproc-aec-linear"}, set(self.listed))
        tables = self.report["tables"]
        self.assertEqual(set(tables), {"16000", "48000"})
        for name, rates in self.listed.items():
            if not any(f"| {name} |" in line for line in self.markdown.split("\n")):
                # Only audioproc's chains, and only while the registry lacks the processor.
                self.assertTrue(name.startswith("audioproc-"), name)
                self.assertTrue(any(f"`{name}` is left out" in n and "unknown processor" in n
                                    for n in self.report["notes"]), self.report["notes"])
                continue
            for rate in rates:
                row = tables[str(rate)][name]
                for key in ("single_erle_db", "double_erle_db", "double_sdr_db", "double_level_db",
                            "path_erle_before_db", "delay_erle_before_db", "cpu_us_per_10ms"):
                    self.assertTrue(row[key] is not None and math.isfinite(row[key]),
                                    f"{name} at {rate}: {key} = {row[key]}")
                self.assertEqual(row["path_scenes"], 1)
                self.assertEqual(row["delay_scenes"], 1)
                self.assertEqual(row["bars"]["change_scenes"], 3)
                for key in ("single_erle_worst_db", "double_sdr_least_db", "erle_1_3s_mean_db"):
                    value = row["bars"][key]
                    self.assertTrue(value is not None and math.isfinite(value),
                                    f"{name} at {rate}: {key} = {value}")
        self.assertEqual(self.markdown.count("Issue 15's bars scene by scene"), 2)
        for scores in self.report["scores"].values():
            for r in scores:
                self.assertFalse(r.get("error"), r)

    def test_the_suppressor_removes_echo_the_linear_filter_leaves(self):
        # audioproc-aec-linear is the same canceller with its suppressor off: the row beside
        # audioproc-aec must show the suppressor's share, which is far from nothing.
        for rate, rows in self.report["tables"].items():
            full, linear = rows["audioproc-aec"], rows["audioproc-aec-linear"]
            self.assertGreater(full["single_erle_db"], linear["single_erle_db"] + 6, rate)
            self.assertGreater(linear["single_erle_db"], 3, rate)

    def test_double_talk_outputs_are_aligned(self):
        # Each contender's stated delay must agree with the near end's cross-correlation, to a
        # sample (the scorer would compensate, but a wrong delay is a bug in the peer).
        for name, results in self.report["scores"].items():
            for r in results:
                if r["kind"] == "double":
                    self.assertLessEqual(abs(r["lag"]), 1, f"{name} {r['scene']}")

    def scored(self, key, out):
        path = os.path.join(self.tmp.name, "made.f32")
        out.astype("<f4").tofile(path)
        return run_aec_bench.score_job((self.scenes[key], path, self.material))

    def read(self, key, what):
        return run_aec_bench.read_f32(os.path.join(self.material, self.scenes[key][what]))

    def test_erle_of_mic_times_a_hundredth_is_40_db(self):
        for rate in (16000, 48000):
            mic = self.read(f"single{rate}", "mic")
            self.assertAlmostEqual(self.scored(f"single{rate}", mic * 0.01)["erle_db"], 40.0, places=3)
            path = self.scored(f"path{rate}", self.read(f"path{rate}", "mic") * 0.01)
            self.assertAlmostEqual(path["erle_before_db"], 40.0, places=3)
            self.assertAlmostEqual(path["recovery_s"], 0.25)  # the first window's end
            self.assertAlmostEqual(path["erle_0_1s_db"], 40.0, places=3)
            self.assertAlmostEqual(path["erle_1_3s_db"], 40.0, places=3)
            # The microphone itself for the first second after the change, a hundredth after:
            # 0 dB then 40, and the recovery the first window wholly after that second.
            change = int(self.scenes[f"path{rate}"]["change_sample"])
            out = self.read(f"path{rate}", "mic") * 0.01
            out[change:change + rate] *= 100
            late = self.scored(f"path{rate}", out)
            self.assertAlmostEqual(late["erle_0_1s_db"], 0.0, places=3)
            self.assertAlmostEqual(late["erle_1_3s_db"], 40.0, places=3)
            self.assertGreaterEqual(late["recovery_s"], 1.0)

    def test_timeline_adds_up_to_the_scene_scores(self):
        # bench/dsp/aec_timeline.py, on outputs made to order: a hundredth of the microphone is
        # 40 dB of ERLE in every step with far-end-only frames; the near end with a tenth of the
        # echo left has its distortion's shares summing to 100 % and, step by step, the SDR that
        # run_aec_bench's whole-scene sum gives when the steps are added up.
        single = self.scenes["single16000"]
        hundredth = self.read("single16000", "mic") * 0.01
        rows = aec_timeline.timeline(self.material, single, [hundredth])
        erles = [r["outputs"][0]["erle_db"] for r in rows if r["far_only"]]
        self.assertGreater(len(erles), 5)
        for erle in erles:
            self.assertAlmostEqual(erle, 40.0, places=3)
        near, echo = self.read("double16000", "near"), self.read("double16000", "echo")
        out = near + 0.1 * echo
        rows = aec_timeline.timeline(self.material, self.scenes["double16000"], [out], step_s=0.5)
        talking = [r["outputs"][0] for r in rows if r["near_active"]]
        self.assertGreater(len(talking), 5)
        self.assertAlmostEqual(sum(s["share"] for s in talking), 100.0, places=6)
        whole = self.scored("double16000", out)["sdr_db"]
        settled = [s for r, s in zip([r for r in rows if r["near_active"]], talking)
                   if r["start_s"] >= run_aec_bench.SETTLE_S]
        # 10 log10(sum near^2 / sum d^2) over the steps from 2 s, from each step's SDR and share.
        signal = sum(s["share"] * 10 ** (s["sdr_db"] / 10) for s in settled)
        self.assertAlmostEqual(10 * math.log10(signal / 100), whole, places=6)
        with self.assertRaises(ValueError):
            aec_timeline.timeline(self.material, single, [np.zeros(10)])

    def test_bars_take_the_worst_scene_and_count_the_misses(self):
        results = [
            {"scene": "s1", "kind": "single", "erle_db": 41.0},
            {"scene": "s2", "kind": "single", "erle_db": 29.5},
            {"scene": "d1", "kind": "double", "sdr_db": 12.0, "level_db": -1.5},
            {"scene": "d2", "kind": "double", "sdr_db": 9.5, "level_db": 0.4},
            {"scene": "p1", "kind": "path", "recovery_s": 0.5, "erle_0_1s_db": 10.0,
             "erle_1_3s_db": 30.0},
            {"scene": "j1", "kind": "delay", "recovery_s": 1.2, "erle_0_1s_db": 20.0,
             "erle_1_3s_db": None},
        ]
        bars = run_aec_bench.bars(results)
        self.assertEqual((bars["single_erle_worst_db"], bars["single_erle_misses"]), (29.5, 1))
        self.assertEqual((bars["double_sdr_least_db"], bars["double_sdr_misses"]), (9.5, 1))
        self.assertEqual((bars["double_level_worst_db"], bars["double_level_misses"]), (-1.5, 1))
        self.assertEqual((bars["recovery_slowest_s"], bars["recovery_misses"]), (1.2, 1))
        self.assertEqual((bars["erle_0_1s_mean_db"], bars["erle_0_1s_least_db"]), (15.0, 10.0))
        self.assertEqual((bars["erle_1_3s_mean_db"], bars["erle_1_3s_least_db"]), (30.0, 30.0))
        self.assertEqual(len(bars["misses"]), 4)
        self.assertIn("d2 double-talk SDR 9.50 dB", bars["misses"])
        never = run_aec_bench.bars(
            results + [{"scene": "e1", "kind": "earlier", "recovery_s": None}])
        self.assertIsNone(never["recovery_slowest_s"])  # rendered "never"
        self.assertEqual(never["recovery_misses"], 2)
        self.assertIn("e1 recovery never", never["misses"])

    def test_near_end_is_found_at_its_lag_with_its_level(self):
        near = self.read("double16000", "near")
        exact = self.scored("double16000", near)
        self.assertEqual(exact["lag"], 0)
        self.assertAlmostEqual(exact["level_db"], 0.0, places=3)
        self.assertGreater(exact["sdr_db"], 100.0)
        late = self.scored("double16000", np.concatenate([np.zeros(5), near[:-5]]))
        self.assertEqual(late["lag"], 5)
        self.assertGreater(late["sdr_db"], 40.0)


if __name__ == "__main__":
    unittest.main()
