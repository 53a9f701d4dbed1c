#!/usr/bin/python3
"""The peers of `make bench` (bench/peers/, issue 12) against the real audioproc-loadgen: each
peer is started on a free loopback port (--port=0 --port_file), 8 paced streams run for 2 s
(the echo peer with --workload=null, the asyncio peer with --workload=voice), and the loadgen's
JSON report must say every stream ended OK, every chunk was answered, and the server broke no
rule of the protocol (ready first, sequences in order, a tail and a summary before OK). Each
peer must refuse a stream whose first message is not a config with INVALID_ARGUMENT and exit
0 on SIGTERM. The Python peer's voice chain is also checked alone: it keeps the length, its
output is finite and under the limiter's ceiling, and its denoiser passes the input through
unchanged when it may not attenuate.

CTest gives the binaries' paths (tests/CMakeLists.txt); by hand:

    AUDIOPROC_LOADGEN=build/bench/audioproc-loadgen \
    AUDIOPROC_ECHO_PEER=build/bench/peers/audioproc-echo-peer /usr/bin/python3 tests/bench/peers_test.py
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.join(ROOT, "build")
LOADGEN = os.environ.get("AUDIOPROC_LOADGEN", os.path.join(BUILD_DIR, "bench", "audioproc-loadgen"))
ECHO_PEER = os.environ.get("AUDIOPROC_ECHO_PEER",
                           os.path.join(BUILD_DIR, "bench", "peers", "audioproc-echo-peer"))
VOICE_PEER = os.path.join(ROOT, "bench", "peers", "asyncio_voice_server.py")
sys.path.insert(0, os.path.join(ROOT, "bench", "peers"))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

import asyncio_voice_server as voice  # noqa: E402
from audioproc.v1 import audioproc_pb2 as pb  # noqa: E402
from audioproc.v1 import audioproc_pb2_grpc as pb_grpc  # noqa: E402

STARTUP_TIMEOUT_S = 30
STREAMS = 8


class Peer:
    """A peer server on a free loopback port, its log in a temporary directory."""

    def __init__(self, command: list[str]) -> None:
        self.dir = tempfile.mkdtemp(prefix="audioproc-peer-")
        self.log_path = os.path.join(self.dir, "peer.log")
        port_file = os.path.join(self.dir, "ports.json")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*command, "--host=127.0.0.1", "--port=0", f"--port_file={port_file}"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"no port file from {command[-1]}:\n{self.log()}")
            time.sleep(0.02)  # polling a file another process writes; bounded by the deadline
        with open(port_file, encoding="ascii") as f:
            ports = json.load(f)
        # The shape bench/run_bench.py's Server reads: no metrics listener is port 0.
        assert ports["metrics"] == 0, ports
        self.address = f"127.0.0.1:{ports['grpc']}"

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> int | None:
        """SIGTERM; the exit code, or None if it had to be killed."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PeerTestMixin:
    """Run by each peer's test case: peer_command() and workload name the peer."""

    workload = ""

    def peer_command(self) -> list[str]:
        raise NotImplementedError

    def setUp(self) -> None:
        self.peer = Peer(self.peer_command())

    def tearDown(self) -> None:
        code = self.peer.stop()
        self.assertEqual(code, 0, "the peer did not exit 0 on SIGTERM")

    def test_loadgen_streams_are_all_answered_without_protocol_errors(self) -> None:
        report_path = os.path.join(self.peer.dir, "report.json")
        run = subprocess.run(
            [LOADGEN, f"--addr={self.peer.address}", f"--workload={self.workload}",
             f"--streams={STREAMS}", "--paced=true", "--duration_s=2", "--warmup_s=0.5",
             "--ramp_s=0.5", "--drain_timeout_s=20", f"--server_pid={self.peer.process.pid}",
             f"--json_out={report_path}"],
            capture_output=True, text=True, timeout=90, check=False)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
        context = f"{run.stderr}\n{json.dumps(report)}\npeer log:\n{self.peer.log()}"
        self.assertEqual(report["streams_ok"], STREAMS, context)
        self.assertEqual(report["streams_failed"], 0, context)
        self.assertEqual(report["errors"], {}, context)
        self.assertEqual(report["protocol_errors"], 0, context)
        self.assertTrue(report["all_answered"], context)
        self.assertGreater(report["chunks_sent"], STREAMS * 50, context)  # 2 s of 20 ms chunks
        self.assertEqual(report["chunks_answered"], report["chunks_sent"], context)

    def test_a_chunk_before_the_config_is_invalid_argument(self) -> None:
        with grpc.insecure_channel(self.peer.address) as channel:
            stub = pb_grpc.AudioProcessorStub(channel)
            chunk = pb.ProcessRequest(chunk=pb.AudioChunk(data=b"\0\0" * 320, sequence=1))
            with self.assertRaises(grpc.RpcError) as raised:
                list(stub.Process(iter([chunk]), timeout=20))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


class EchoPeerTest(PeerTestMixin, unittest.TestCase):
    workload = "null"

    def peer_command(self) -> list[str]:
        return [ECHO_PEER]


class AsyncioVoicePeerTest(PeerTestMixin, unittest.TestCase):
    workload = "voice"

    def peer_command(self) -> list[str]:
        return [sys.executable, VOICE_PEER]


class VoiceChainTest(unittest.TestCase):
    RATE_HZ = 16000
    CHUNK = 320  # 20 ms

    def test_output_is_finite_under_the_ceiling_and_as_long_as_the_input(self) -> None:
        rng = np.random.default_rng(7)
        t = np.arange(4 * self.RATE_HZ) / self.RATE_HZ
        # Bursts of a full-scale tone over noise and a DC offset: the limiter has work to do.
        x = np.clip(0.99 * np.sin(2 * np.pi * 300 * t) * ((t % 1.0) < 0.6) +
                    0.05 * rng.standard_normal(len(t)) + 0.05, -1, 32767 / 32768)
        chain = voice.VoiceChain(self.RATE_HZ)
        out = [chain.process(x[i:i + self.CHUNK]) for i in range(0, len(x), self.CHUNK)]
        self.assertTrue(all(len(y) == self.CHUNK for y in out))
        y = np.concatenate(out + [chain.flush()])
        self.assertEqual(len(y), len(x) + chain.latency)
        self.assertTrue(np.isfinite(y).all())
        self.assertLessEqual(np.abs(y).max(), 10 ** (-1 / 20) + 1e-9)
        self.assertGreater(np.abs(y).max(), 0.5)  # the tone is not lost on the way

    def test_denoise_without_reduction_returns_the_input_delayed(self) -> None:
        x = np.random.default_rng(3).uniform(-0.3, 0.3, self.RATE_HZ)
        denoise = voice.Denoise(self.RATE_HZ, reduction_db=0.0)
        # Uneven chunks: frames run every hop whatever the chunk sizes.
        cuts = [0, 100, 420, 1000, 1001, 5000, len(x)]
        y = np.concatenate([denoise.process(x[a:b]) for a, b in zip(cuts, cuts[1:])])
        np.testing.assert_allclose(y[denoise.latency:], x[:len(x) - denoise.latency], atol=1e-12)
        np.testing.assert_allclose(y[:denoise.latency], 0, atol=1e-12)


if __name__ == "__main__":
    unittest.main(verbosity=2)
