#!/usr/bin/python3
"""`make bench-dsp`'s pipeline end to end in its quick mode (bench/dsp/run_dsp_bench.py
--quick): the real dsp-material and dsp-peers over two voices at 0 and 10 dB, scored. The
report must have every contender's rows with finite numbers, and audioproc's denoise must gain
more than 3 dB of SNR on white noise at 10 dB: a sanity check that the material, the alignment
and the scoring fit together (the processor's own bars are in tests/processors/), not a bar. The WASM peers are left out (--no-wasm): RNNoise in Node alone would take the run
past a minute, and bench/dsp/wasm_peers.mjs has its own test.

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

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build"))


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


if __name__ == "__main__":
    unittest.main()
