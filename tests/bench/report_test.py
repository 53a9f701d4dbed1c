#!/usr/bin/python3
"""`make bench`'s report logic (bench/run_bench.py and bench/bench_markdown.py) on a report
made to order, so that the ratios and verdicts of issue 12 are checked without the 20-minute
run: capacity shares, the first failing trial's busy cores, the CPU split per chunk, what the
default budget would admit, the echo peer at equal load, the search's CPU budget flag.

    /usr/bin/python3 tests/bench/report_test.py
"""

from __future__ import annotations

import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import bench_markdown  # noqa: E402
import run_bench  # noqa: E402


def trial(streams, passed, busy, p99=5.0, server_cores=1.0, chunks_per_s=None):
    """One capacity trial as audioproc-loadgen reports it, plus what run_bench adds."""
    return {
        "streams": streams, "passed": passed, "all_answered": True,
        "latency_ms": {"p50": 1.0, "p99": p99, "p999": 2 * p99, "max": 3 * p99, "count": 1000},
        "errors": {}, "streams_failed": 0,
        "chunks_per_s": chunks_per_s if chunks_per_s is not None else streams * 50.0,
        "server": {"cpu_cores": server_cores, "rss_kib_max": 60000},
        "loadgen": {"cpu_cores": 0.5}, "machine": {"busy_cores": busy, "other_cores": 0.0},
        "loadavg_before": [1.0, 1.0, 1.0],
        "server_queue_wait_ms": {"p99": 0.04}, "server_process_ms": {"p50": 0.05, "p99": 0.2},
    }


def half_load(workload, streams, server_cores, committed):
    run = trial(streams, True, 1.0, p99=2.0, server_cores=server_cores)
    run.update({"workload": workload, "server_idle_rss_kib": 20000,
                "rss_kib_per_stream": 40.0, "server_cpu_per_stream": server_cores / streams,
                "committed": {"cpu": committed}, "committed_cpu_per_stream": committed / streams,
                "model_over_measured_cpu": committed / server_cores,
                "admission_capacity": int(0.85 * 2 / (committed / streams)),
                "server_queue_wait_ms": {"p99": 0.05},
                "server_process_ms": {"p50": 0.01, "p99": 0.1}})
    return run


def made_report():
    return {
        "date": "2026-12-05T00:00:00+00:00", "mode": "full", "elapsed_s": 1,
        "commit": "abc1234",
        "host": {"cpus": 2, "cpu_model": "test", "kernel": "6", "loadavg_start": [0, 0, 0],
                 "loadavg_end": [0, 0, 0]},
        "loadgen": {"threads": 2, "connections": 4},
        "server_flags": ["--max_streams=4096"],
        "search_flags": ["--max_streams=4096", "--cpu_budget=64"],
        "criteria": {"p99_ms": 20.0, "p999_ms": 100.0},
        "throughput": [], "versus_in_process": [],
        "in_process": {"voice": {"x_realtime_per_core": 800.0, "ns_per_frame": 50.0}},
        "capacity": [
            {"workload": "null", "capacity": 1000, "capped": False,
             "trials": [trial(800, True, 1.5), trial(1100, False, 1.9),
                        trial(1050, False, 1.95)]},
            {"workload": "light", "capacity": 900, "capped": False,
             "trials": [trial(900, True, 1.7), trial(950, False, 1.92)]},
            {"workload": "voice", "capacity": 400, "capped": False,
             "trials": [trial(400, True, 1.5), trial(420, False, 1.6)]},
        ],
        "peers": [
            {"peer": "echo", "workload": "null", "capacity": 1250, "capped": False,
             "trials": [trial(1250, True, 1.8)]},
            {"peer": "python_asyncio", "workload": "voice", "capacity": 20, "capped": False,
             "trials": [trial(20, True, 1.0)]},
        ],
        "echo_side_by_side": {
            "streams": 900, "share_of_capacity": 0.9,
            "cpu_us_per_chunk": {"ours": 20.0, "echo": 19.0},
            "ours_over_echo_cpu": 20.0 / 19.0,
            "runs": {"ours": [{"cpu_us_per_chunk": 20.0, "p99_ms": 9.0, "all_answered": True}],
                     "echo": [{"cpu_us_per_chunk": 19.0, "p99_ms": 8.0, "all_answered": True}]}},
        # 200 voice streams at 0.6 cores: 60 us per chunk; null as many at 0.4: 40 us.
        "half_load": [half_load("null", 500, 0.7, 0.8), half_load("voice", 200, 0.6, 0.9)],
        "null_at_voice_half_load": half_load("null", 200, 0.4, 0.3),
    }


class Issue12RatiosTest(unittest.TestCase):
    def setUp(self):
        self.report = made_report()
        self.report["issue12"] = run_bench.issue12(self.report)
        self.i12 = self.report["issue12"]

    def test_capacity_shares_and_peers(self):
        self.assertAlmostEqual(self.i12["light_over_null"], 0.9)
        self.assertAlmostEqual(self.i12["voice_over_null"], 0.4)
        self.assertAlmostEqual(self.i12["null_over_echo"], 0.8)
        self.assertAlmostEqual(self.i12["voice_over_python_asyncio"], 20.0)
        self.assertAlmostEqual(self.i12["null_cpu_over_echo_at_equal_load"], 20.0 / 19.0)

    def test_first_failing_trial_is_the_smallest_failing_count_above_capacity(self):
        busy = self.i12["first_failing_trial"]
        self.assertEqual(busy["null"]["streams"], 1050)
        self.assertAlmostEqual(busy["null"]["busy_share"], 0.975)
        self.assertAlmostEqual(busy["voice"]["busy_share"], 0.8)

    def test_cpu_per_chunk_split(self):
        split = self.i12["cpu_per_chunk_us"]
        self.assertAlmostEqual(split["null"], 40.0)
        self.assertAlmostEqual(split["voice"], 60.0)
        self.assertAlmostEqual(split["voice_dsp_in_process"], 16.0)  # 50 ns x 320 frames
        self.assertAlmostEqual(split["voice_engine_beyond_null_and_dsp"], 4.0)
        self.assertAlmostEqual(split["bound"], 40.0 + 1.2 * 16.0)

    def test_what_the_default_budget_admits(self):
        # 0.9 cores committed over 200 streams: 1.7 cores hold 377 such streams.
        self.assertEqual(self.i12["admission_capacity"], {"null": 1062, "voice": 377})

    def test_markdown_verdicts(self):
        text = bench_markdown.render(self.report, "# Processor microbenchmarks\n")
        self.assertIn("| light capacity >= 90% of null | 900 = 90% of null | met |", text)
        self.assertIn("| voice capacity >= 60% of null | 400 = 40% of null | **missed** |", text)
        self.assertIn("| null capacity >= 0.95 × the C++ callback echo server | 0.80 × "
                      "(1250 streams) | **missed** |", text)
        self.assertIn("equal load (900 streams, alternated) | 20.0 vs 19.0 µs (× 1.05) | met |",
                      text)
        self.assertIn("| voice: capacity bound by CPU (first failing trial >= 90% busy) | 1.60 "
                      "cores busy = 80% at 420 streams; p99 5.0 ms, the server's own p99s "
                      "0.04 ms waiting for a worker, 0.20 ms in the chain | **missed** |",
                      text)
        self.assertIn("`audioproc-server --max_streams=4096 --cpu_budget=64`", text)
        self.assertIn("Null at 900 paced streams (90% of our null capacity)", text)
        # The half-load table's last column: what the default budget would admit.
        self.assertIn("| 0.00 | 377 |", text)


class SearchFlagsTest(unittest.TestCase):
    def test_the_searches_get_a_budget_no_load_reaches(self):
        with mock.patch.dict(os.environ, {"BENCH_SERVER_FLAGS": "--workers=2"}):
            bench = run_bench.Bench("build", "/tmp", quick=True)
        self.assertEqual(bench.server_flags, ["--workers=2"])
        self.assertEqual(bench.search_flags,
                         ["--workers=2", f"--cpu_budget={run_bench.SEARCH_CPU_BUDGET}"])

    def test_a_budget_given_in_the_flags_is_kept(self):
        with mock.patch.dict(os.environ, {"BENCH_SERVER_FLAGS": "--cpu_budget=1.5"}):
            bench = run_bench.Bench("build", "/tmp", quick=True)
        self.assertEqual(bench.search_flags, ["--cpu_budget=1.5"])


if __name__ == "__main__":
    unittest.main()
