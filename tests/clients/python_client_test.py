#!/usr/bin/python3
"""The audioproc package (clients/python/audioproc) from the source tree, against the real
audioproc-server: the library (streams, errors, ListProcessors), the command line
(python3 -m audioproc), the chain parser (the shared tests/clients/chain_cases.json) and WAV I/O.

The server binary of $AUDIOPROC_BUILD_DIR (default: build/) is started once for the module on
free loopback ports and stopped with SIGTERM at the end; it must exit 0 (ResumeTest starts
servers of its own that share a resume key, and drains or kills one mid-stream). The package is
imported from clients/python (its stubs are committed). Run with Debian's Python, as CTest
does:

    AUDIOPROC_BUILD_DIR=build /usr/bin/python3 tests/clients/python_client_test.py

tests/clients/python_package_test.py installs the package into a virtual environment and
checks it from there.
"""

from __future__ import annotations

import array
import json
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from typing import Optional

import grpc
from google.protobuf import json_format

from python_test_server import PACKAGE_DIR, SPEECH, ServerProcess

sys.path.insert(0, PACKAGE_DIR)

import audioproc as ac  # noqa: E402
from audioproc import wav  # noqa: E402
from audioproc.v1 import audioproc_pb2 as pb  # noqa: E402

DEMO_CHAIN = "highpass:cutoff_hz=80,gain:gain_db=12,limiter:ceiling_db=-1"
# DESIGN.md section 4, limiter: no s16 sample above round(ceiling x 32768).
CEILING_S16 = round(10 ** (-1 / 20) * 32768)
CALL_TIMEOUT_S = 30

server: Optional[ServerProcess] = None


def setUpModule() -> None:
    global server
    server = ServerProcess()


def tearDownModule() -> None:
    if server is not None:
        server.stop_and_check()


def samples(data: bytes) -> array.array:
    values = array.array("h")
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


class ServerTestCase(unittest.TestCase):
    """A channel to the module's server per test case class."""

    @classmethod
    def setUpClass(cls) -> None:
        assert server is not None
        cls.client = ac.connect(server.address, timeout=CALL_TIMEOUT_S)
        cls.stub = cls.client.stub
        cls.audio = ac.read_wav(SPEECH)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.close()

    def stream(self, chain: str, **chunking: int) -> ac.StreamResult:
        return self.client.process(chain, self.audio, **chunking)


class ProcessTest(ServerTestCase):
    def test_demo_file_is_16k_mono_s16(self) -> None:
        self.assertEqual((self.audio.sample_rate_hz, self.audio.channels), (16000, 1))
        self.assertGreater(self.audio.frames, 16000)

    def test_demo_chain_in_20ms_chunks_keeps_length_and_ceiling(self) -> None:
        result = self.stream(DEMO_CHAIN, chunk_ms=20)
        self.assertEqual(result.protocol_errors, [])
        self.assertEqual(len(result.output), len(self.audio.data))
        out = samples(result.output)
        peak = max(abs(min(out)), max(out))
        self.assertLessEqual(peak, CEILING_S16)
        # 12 dB on a -1.7 dBFS recording: the limiter must have had work to do.
        self.assertGreater(peak, 0.9 * CEILING_S16)
        self.assertGreater(peak, max(abs(s) for s in samples(self.audio.data)))

        ready = result.ready
        self.assertIsNotNone(ready)
        self.assertEqual(ready.output.encoding, pb.PCM_S16LE)
        self.assertEqual((ready.output.sample_rate_hz, ready.output.channels), (16000, 1))
        self.assertTrue(ready.stream_id)
        self.assertEqual([s.WhichOneof("processor") for s in ready.chain],
                         ["highpass", "gain", "limiter"])
        # Resolved: defaults filled in (limiter lookahead), given values kept.
        self.assertTrue(ready.chain[2].limiter.HasField("lookahead_ms"))
        self.assertAlmostEqual(ready.chain[1].gain.gain_db, 12)
        self.assertGreater(ready.latency_frames, 0)

        chunks = 320
        expected_chunks = -(-self.audio.frames // chunks)
        self.assertEqual(len(result.chunks), expected_chunks)
        self.assertEqual([c.metrics.sequence for c in result.chunks],
                         list(range(1, expected_chunks + 1)))
        for chunk in result.chunks + [result.tail]:
            self.assertEqual(chunk.metrics.frames_out * 2, len(chunk.data))
        # Latency compensation: the pre-roll is dropped from the first responses.
        self.assertEqual(result.chunks[0].metrics.frames_out,
                         max(0, chunks - ready.latency_frames))
        self.assertTrue(result.tail.tail)

        summary = result.summary
        self.assertEqual(summary.frames_in, self.audio.frames)
        self.assertEqual(summary.frames_out, self.audio.frames)
        self.assertEqual(summary.chunks, expected_chunks)
        self.assertAlmostEqual(summary.audio_seconds, self.audio.frames / 16000, places=6)

    def test_raw_stream_answers_ready_then_one_chunk_per_chunk_then_tail_then_summary(self) -> None:
        # The message order checked on the wire with the bare stub, independently of the
        # library's own bookkeeping.
        chunk_bytes = 320 * 2
        data = self.audio.data
        sent = []

        def requests():
            config = ac.parse_stream_config(DEMO_CHAIN)
            config.input.CopyFrom(self.audio.audio_format())
            yield pb.ProcessRequest(config=config)
            for offset in range(0, len(data), chunk_bytes):
                sequence = 1000 + 3 * len(sent)  # Client-chosen, not 1..n: must be echoed.
                sent.append(sequence)
                yield pb.ProcessRequest(
                    chunk=pb.AudioChunk(data=data[offset:offset + chunk_bytes], sequence=sequence))

        responses = list(self.stub.Process(requests(), timeout=CALL_TIMEOUT_S))
        kinds = [r.WhichOneof("response") for r in responses]
        self.assertEqual(kinds, ["ready"] + ["chunk"] * (len(sent) + 1) + ["summary"])
        chunks = [r.chunk for r in responses[1:-1]]
        self.assertEqual([c.metrics.sequence for c in chunks[:-1]], sent)
        self.assertEqual([c.tail for c in chunks], [False] * len(sent) + [True])
        self.assertEqual(sum(len(c.data) for c in chunks), len(data))

    def test_output_is_identical_whatever_the_chunking(self) -> None:
        reference = self.stream(DEMO_CHAIN, chunk_ms=20)
        for frames in (7, 320, self.audio.frames):
            with self.subTest(chunk_frames=frames):
                result = self.stream(DEMO_CHAIN, chunk_frames=frames)
                self.assertEqual(result.protocol_errors, [])
                self.assertEqual(len(result.chunks), -(-self.audio.frames // frames))
                self.assertTrue(result.output == reference.output,
                                f"output differs with {frames}-frame chunks")

    def test_out_of_range_parameter_is_invalid_argument_naming_it(self) -> None:
        with self.assertRaises(ac.AudioprocError) as caught:
            self.stream("gain:gain_db=99", chunk_ms=20)
        error = caught.exception
        self.assertEqual(error.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("gain.gain_db", error.details)
        self.assertIsNone(error.result.ready)  # A bad config gets no ready.
        self.assertEqual(error.result.chunks, [])

    def test_error_after_ready_keeps_what_was_answered(self) -> None:
        # A chunk over the server's --max_chunk_bytes (1 MiB by default) ends the stream after
        # ready: no tail, no summary, and the status.
        big = ac.PcmAudio(bytes(2 * 600_000), sample_rate_hz=16000, channels=1)
        with self.assertRaises(ac.AudioprocError) as caught:
            self.client.process("gain", big, chunk_frames=600_000)
        error = caught.exception
        self.assertEqual(error.code, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("max_chunk_bytes", error.details)
        self.assertIsNotNone(error.result.ready)
        self.assertIsNone(error.result.tail)
        self.assertIsNone(error.result.summary)

    def test_list_processors_describes_gain_highpass_and_limiter(self) -> None:
        response = self.client.list_processors()
        processors = {p.name: p for p in response.processors}
        for name in ("gain", "highpass", "limiter"):
            self.assertIn(name, processors)
        gain_db = {p.name: p for p in processors["gain"].parameters}["gain_db"]
        self.assertEqual((gain_db.min, gain_db.max), (-120, 60))
        self.assertTrue(gain_db.runtime_updatable)
        cutoff = {p.name: p for p in processors["highpass"].parameters}["cutoff_hz"]
        self.assertTrue(cutoff.required)
        self.assertIn("ceiling_db", [p.name for p in processors["limiter"].parameters])


class CommandLineTest(ServerTestCase):
    """The CLI as a user runs it: a separate /usr/bin/python3 process."""

    def run_cli(self, *args: str) -> subprocess.CompletedProcess:
        assert server is not None
        return subprocess.run(
            [sys.executable, "-m", "audioproc", f"--addr={server.address}",
             f"--timeout_s={CALL_TIMEOUT_S}", *args],
            capture_output=True, text=True, timeout=CALL_TIMEOUT_S + 30,
            env={**os.environ, "PYTHONPATH": PACKAGE_DIR})

    def test_streams_a_file_writes_the_output_and_prints_the_summary(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out_path = os.path.join(tmp, "out.wav")
            run = self.run_cli(f"--input={SPEECH}", f"--output={out_path}",
                               f"--chain={DEMO_CHAIN}", "--chunk_ms=20")
            self.assertEqual(run.returncode, 0, run.stderr)
            written = ac.read_wav(out_path)
        self.assertIn(f"frames in/out: {self.audio.frames} / {self.audio.frames}", run.stdout)
        self.assertIn("chain: highpass:cutoff_hz=80", run.stdout)
        self.assertIn(f"wrote {out_path}", run.stdout)
        self.assertEqual((written.sample_rate_hz, written.channels), (16000, 1))
        self.assertTrue(written.data == self.stream(DEMO_CHAIN, chunk_ms=20).output)

    def test_json_chain_and_json_summary(self) -> None:
        run = self.run_cli(f"--input={SPEECH}", "--json",
                           '--chain={"chain":[{"gain":{"gainDb":-6}}],"streamId":"py-cli.1"}')
        self.assertEqual(run.returncode, 0, run.stderr)
        summary = json_format.Parse(run.stdout, pb.StreamSummary())
        self.assertEqual(summary.frames_out, self.audio.frames)

    def test_refused_config_exits_1_with_the_status(self) -> None:
        run = self.run_cli(f"--input={SPEECH}", "--chain=gain:gain_db=99")
        self.assertEqual(run.returncode, 1)
        self.assertIn("INVALID_ARGUMENT", run.stderr)
        self.assertIn("gain.gain_db", run.stderr)

    def test_bad_one_line_chain_exits_1_before_connecting(self) -> None:
        run = self.run_cli(f"--input={SPEECH}", "--chain=hipass:cutoff_hz=80")
        self.assertEqual(run.returncode, 1)
        self.assertIn("--chain: chain[0]: unknown processor 'hipass'", run.stderr)

    def test_list(self) -> None:
        run = self.run_cli("--list")
        self.assertEqual(run.returncode, 0, run.stderr)
        for line in ("gain: ", "highpass: ", "limiter: "):
            self.assertIn("\n" + line, run.stdout)


def chirp_and_noise(seconds: float, rate: int = 16000) -> bytes:
    """Deterministic s16 mono: a 100 Hz -> 4 kHz chirp at -12 dBFS over -40 dBFS noise."""
    rng = random.Random(14)
    frames = int(seconds * rate)
    values = array.array("h")
    for n in range(frames):
        t = n / rate
        phase = 2 * math.pi * (100 * t + (4000 - 100) * t * t / (2 * seconds))
        x = 0.25 * math.sin(phase) + 0.01 * rng.uniform(-1, 1)
        values.append(round(x * 32767))
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def streams_active(server: ServerProcess) -> int:
    """The server's audioproc_streams_active, scraped from its metrics port."""
    with open(os.path.join(server.dir, "ports.json"), encoding="utf-8") as f:
        port = json.load(f)["metrics"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        for line in page.read().decode().splitlines():
            if line.startswith("audioproc_streams_active "):
                return int(float(line.split()[1]))
    raise AssertionError("no audioproc_streams_active metric")


RESUME_CHAIN = "highpass:cutoff_hz=80,denoise,compressor,limiter"
RESUME_CHUNK_BYTES = 320 * 2  # 20 ms of 16 kHz mono s16


class ResumeTest(unittest.TestCase):
    """Issue 14 item 4: a resumable stream whose server drains goes on on another server that
    shares the resume key, and the caller sees one stream, byte-identical to an undisturbed
    one. Servers of their own per test, since a test stops one."""

    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="audioproc-pyresume-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.key = os.path.join(self.dir, "resume.key")
        with open(self.key, "w", encoding="utf-8") as f:
            f.write("py-resume-" + "k" * 40)
        self.audio = chirp_and_noise(4.0)
        self.chunks = [self.audio[i:i + RESUME_CHUNK_BYTES]
                       for i in range(0, len(self.audio), RESUME_CHUNK_BYTES)]

    def start_server(self, *flags: str) -> ServerProcess:
        started = ServerProcess([f"--resume_key_file={self.key}", *flags])

        def stop() -> None:
            if started.process.poll() == -signal.SIGKILL:  # killed by the test
                shutil.rmtree(started.dir, ignore_errors=True)
            else:
                started.stop_and_check()  # must exit 0, a drained one too

        self.addCleanup(stop)
        return started

    def interrupted_stream(self, signum: int) -> "tuple[ac.StreamResult, list[int], ServerProcess]":
        """The audio, paced, through two servers behind one round_robin target, with
        ``signum`` sent to the server the stream is on once a third of it is answered.
        Returns the result, the sequence of every chunk answer the caller saw, and the
        server that stayed up."""
        servers = [self.start_server("--drain_seconds=20") for _ in range(2)]
        target = "ipv4:" + ",".join(s.address for s in servers)
        hit: list[ServerProcess] = []

        def paced():
            for chunk in self.chunks:
                time.sleep(0.005)
                yield chunk

        with ac.connect(target, timeout=CALL_TIMEOUT_S,
                        options=[("grpc.lb_policy_name", "round_robin")]) as client:
            with client.stream(RESUME_CHAIN, paced(), format="s16le:16000:1",
                               stream_id="py-resume", checkpoint_interval_ms=200) as stream:
                self.assertTrue(stream.wait_ready().resumable)
                output = bytearray()
                sequences = []
                for chunk in stream:
                    output += chunk.data
                    if chunk.tail:
                        continue
                    sequences.append(chunk.metrics.sequence)
                    if chunk.metrics.sequence == len(self.chunks) // 3 and not hit:
                        hit = [s for s in servers if streams_active(s) == 1]
                        self.assertEqual(len(hit), 1, "the stream is on one server")
                        hit[0].process.send_signal(signum)
                result = stream.result
        self.assertEqual(hit[0].process.wait(timeout=30),
                         0 if signum == signal.SIGTERM else -signum)
        self.assertEqual(bytes(output), result.output)
        return result, sequences, next(s for s in servers if s not in hit)

    def interrupted_stream_aio(
        self, signum: int
    ) -> "tuple[ac.StreamResult, list[int], ServerProcess]":
        """interrupted_stream over audioproc.aio."""
        import asyncio

        import audioproc.aio

        servers = [self.start_server("--drain_seconds=20") for _ in range(2)]
        target = "ipv4:" + ",".join(s.address for s in servers)
        hit: list[ServerProcess] = []
        sequences: list[int] = []

        async def paced():
            for chunk in self.chunks:
                await asyncio.sleep(0.005)
                yield chunk

        async def run() -> "tuple[ac.StreamResult, bytes]":
            nonlocal hit
            output = bytearray()
            async with audioproc.aio.connect(
                    target, timeout=CALL_TIMEOUT_S,
                    options=[("grpc.lb_policy_name", "round_robin")]) as client:
                async with client.stream(RESUME_CHAIN, paced(), format="s16le:16000:1",
                                         stream_id="py-resume",
                                         checkpoint_interval_ms=200) as stream:
                    self.assertTrue((await stream.wait_ready()).resumable)
                    async for chunk in stream:
                        output += chunk.data
                        if chunk.tail:
                            continue
                        sequences.append(chunk.metrics.sequence)
                        if chunk.metrics.sequence == len(self.chunks) // 3 and not hit:
                            hit = [s for s in servers if streams_active(s) == 1]
                            self.assertEqual(len(hit), 1, "the stream is on one server")
                            hit[0].process.send_signal(signum)
                    return stream.result, bytes(output)

        result, output = asyncio.run(run())
        self.assertEqual(hit[0].process.wait(timeout=30),
                         0 if signum == signal.SIGTERM else -signum)
        self.assertEqual(output, result.output)
        return result, sequences, next(s for s in servers if s not in hit)

    def assert_resumed_as_undisturbed(self, signum: int, aio: bool = False) -> None:
        run = self.interrupted_stream_aio if aio else self.interrupted_stream
        result, sequences, survivor = run(signum)
        self.assertGreaterEqual(result.resumes, 1)
        self.assertEqual(result.protocol_errors, [])
        # Each chunk's answer once, in order, whatever the first server answered after the
        # checkpoint resumed from.
        self.assertEqual(sequences, list(range(1, len(self.chunks) + 1)))
        self.assertEqual(result.ready.stream_id, "py-resume")
        self.assertIsNotNone(result.summary)

        with ac.connect(survivor.address, timeout=CALL_TIMEOUT_S) as client:
            reference = client.stream(RESUME_CHAIN, self.chunks, format="s16le:16000:1",
                                      stream_id="py-resume", checkpoint_interval_ms=200).finish()
        self.assertEqual(reference.resumes, 0)
        self.assertEqual(len(result.output), len(reference.output))
        self.assertTrue(result.output == reference.output,
                        "the resumed stream's output differs from the undisturbed one's")

    def test_drained_stream_resumes_on_the_other_server_byte_identical(self) -> None:
        self.assert_resumed_as_undisturbed(signal.SIGTERM)

    def test_killed_server_stream_resumes_from_the_last_checkpoint(self) -> None:
        # No drain checkpoint: the answers after the last periodic one come again from the
        # second server, and the caller sees them once.
        self.assert_resumed_as_undisturbed(signal.SIGKILL)

    def test_aio_stream_resumes_after_a_drain_and_after_a_kill(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGKILL):
            with self.subTest(signal=signum.name):
                self.assert_resumed_as_undisturbed(signum, aio=True)

    def test_drain_without_checkpoints_surfaces_unavailable(self) -> None:
        server = self.start_server("--drain_seconds=1")
        with ac.connect(server.address, timeout=CALL_TIMEOUT_S) as client:
            with self.assertRaises(ac.AudioprocError) as caught:
                with client.stream(RESUME_CHAIN, self.chunks, format="s16le:16000:1",
                                   realtime=True) as stream:
                    for chunk in stream:
                        if chunk.metrics.sequence == len(self.chunks) // 3:
                            server.process.send_signal(signal.SIGTERM)
        error = caught.exception
        self.assertEqual(error.code, grpc.StatusCode.UNAVAILABLE, error.details)
        self.assertFalse(error.result.ready.resumable)
        self.assertEqual(error.result.resumes, 0)
        self.assertLess(len(error.result.chunks), len(self.chunks))


def echo_scene(far: "np.ndarray", rate: int) -> "tuple[np.ndarray, np.ndarray]":
    """(mic, reference): ``far`` as the bridge sent it, and a microphone that hears it through
    a synthetic room 60 ms later (a direct tap and 0.25 s of decaying noise, -6 dB overall),
    over a -80 dBFS floor."""
    import numpy as np

    rng = np.random.default_rng(15)
    taps = int(0.25 * rate)
    room = 0.3 * rng.standard_normal(taps) * np.exp(-np.log(1000) * np.arange(taps) / taps)
    room[0] = 1.0
    room *= np.sqrt(10 ** (-6 / 10) / np.sum(room ** 2))
    delay = ECHO_DELAY_MS * rate // 1000
    echo = np.concatenate([np.zeros(delay), np.convolve(far, room)[:len(far) - delay]])
    mic = echo + 10 ** (-80 / 20) * rng.standard_normal(len(far))
    return mic, far


ECHO_DELAY_MS = 60
# The echo removed end to end; issue 15's bars are aec_echo_test's, on more material.
MIN_ERLE_DB = 15.0


class EchoCancellationTest(ServerTestCase):
    """Issue 15 from the SDK and its command line: a 2-channel input (microphone, far-end
    reference) through aec,denoise gives the microphone alone, its echo removed."""

    run_cli = CommandLineTest.run_cli

    def setUp(self) -> None:
        import numpy as np

        far = np.frombuffer(self.audio.data, "<i2").astype(np.float64) / 32768
        far = np.concatenate([far, far])  # 11 s: the canceller converges in the first 2
        mic, ref = echo_scene(far, self.audio.sample_rate_hz)
        self.mic = mic
        stereo = np.clip(np.round(np.stack([mic, ref], axis=1) * 32768), -32768, 32767)
        self.input = ac.PcmAudio(stereo.astype("<i2").tobytes(), self.audio.sample_rate_hz, 2)
        # Where the echo is within 30 dB of its loudest 10 ms, from 2 s on.
        hop = self.audio.sample_rate_hz // 100
        energy = np.array([np.sum(mic[i:i + hop] ** 2) for i in range(0, len(mic) - hop, hop)])
        self.frames = [f for f in range(2 * 100, len(energy)) if energy[f] > 1e-3 * energy.max()]

    def erle_db(self, out_s16: bytes) -> float:
        import numpy as np

        out = np.frombuffer(out_s16, "<i2").astype(np.float64) / 32768
        hop = self.audio.sample_rate_hz // 100
        mic_energy = sum(np.sum(self.mic[f * hop:(f + 1) * hop] ** 2) for f in self.frames)
        out_energy = sum(np.sum(out[f * hop:(f + 1) * hop] ** 2) for f in self.frames)
        return 10 * np.log10(mic_energy / max(out_energy, 1e-20))

    def test_sdk_stream_gives_the_microphone_with_the_echo_removed(self) -> None:
        result = self.client.process("aec,denoise", self.input, chunk_ms=20)
        self.assertEqual(result.protocol_errors, [])
        self.assertEqual([s.WhichOneof("processor") for s in result.ready.chain], ["aec", "denoise"])
        self.assertEqual(result.ready.chain[0].aec.reference_channels, 1)
        # The reference is not program audio: unset output channels are the microphone's.
        self.assertEqual(result.ready.output.channels, 1)
        self.assertEqual(result.summary.frames_out, self.input.frames)
        self.assertEqual(len(result.output), 2 * self.input.frames)
        self.assertGreater(self.erle_db(result.output), MIN_ERLE_DB)
        delays = [e.echo_delay.delay_ms for e in result.events if e.HasField("echo_delay")]
        self.assertTrue(delays, "no echo_delay event")
        # On the direct path or the room's strongest early reflection, up to 10 ms later.
        self.assertGreaterEqual(delays[-1], ECHO_DELAY_MS - 0.5)
        self.assertLessEqual(delays[-1], ECHO_DELAY_MS + 10)

    def test_command_line_writes_one_channel_with_the_echo_removed(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            in_path, out_path = os.path.join(tmp, "in.wav"), os.path.join(tmp, "out.wav")
            wav.write_wav(in_path, self.input)
            run = self.run_cli(f"--input={in_path}", f"--output={out_path}",
                               "--chain=aec:suppression=1,denoise")
            self.assertEqual(run.returncode, 0, run.stderr)
            written = ac.read_wav(out_path)
        self.assertEqual((written.sample_rate_hz, written.channels), (16000, 1))
        self.assertEqual(written.frames, self.input.frames)
        self.assertGreater(self.erle_db(written.data), MIN_ERLE_DB)


# The one-line grammar and JSON forms, one table for the Python and the Node client: each case's
# input must give `chain` (proto3 JSON, decoded by protobuf's own json_format) or fail with a
# ChainError containing `error`.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "chain_cases.json"),
          encoding="utf-8") as _cases:
    CHAIN_CASES: list[dict] = json.load(_cases)["cases"]


def chain_from_json(chain: list) -> list[pb.ProcessorSpec]:
    return list(json_format.ParseDict({"chain": chain}, pb.StreamConfig()).chain)


class ChainParserTest(unittest.TestCase):
    def test_table(self) -> None:
        self.assertGreater(len(CHAIN_CASES), 50)
        for case in CHAIN_CASES:
            name, text, want_chain, want_error = (
                case["name"], case["input"], case.get("chain"), case.get("error"))
            with self.subTest(name, input=text):
                if want_error is not None:
                    with self.assertRaises(ac.ChainError) as caught:
                        ac.parse_chain(text)
                    self.assertIn(want_error, str(caught.exception))
                else:
                    self.assertEqual(ac.parse_chain(text), chain_from_json(want_chain))

    def test_parse_stream_config_agrees_for_chains(self) -> None:
        for case in CHAIN_CASES:
            name, text, want_chain, want_error = (
                case["name"], case["input"], case.get("chain"), case.get("error"))
            with self.subTest(name, input=text):
                if name == "JsonObjectWithMoreThanChain":  # Refused by parse_chain only.
                    self.assertEqual(ac.parse_stream_config(text).stream_id, "x")
                elif want_error is not None:
                    with self.assertRaises(ac.ChainError) as caught:
                        ac.parse_stream_config(text)
                    self.assertIn(want_error, str(caught.exception))
                else:
                    config = ac.parse_stream_config(text)
                    self.assertEqual(list(config.chain), chain_from_json(want_chain))
                    config.ClearField("chain")
                    self.assertEqual(config.ByteSize(), 0)

    def test_valid_scalar_chains_round_trip_through_format_chain(self) -> None:
        for case in CHAIN_CASES:
            if "chain" not in case or "matrix" in json.dumps(case["chain"]):
                continue
            with self.subTest(case["name"]):
                chain = ac.parse_chain(case["input"])
                self.assertEqual(ac.parse_chain(ac.format_chain(chain)), chain)

    def test_every_processor_of_the_proto_parses_by_name(self) -> None:
        # Driven by the descriptors, so processors added to the proto are covered too.
        for field in pb.ProcessorSpec.DESCRIPTOR.oneofs_by_name["processor"].fields:
            with self.subTest(field.name):
                (spec,) = ac.parse_chain(field.name)
                self.assertEqual(spec.WhichOneof("processor"), field.name)

    def test_float_keeps_the_nearest_float32(self) -> None:
        (spec,) = ac.parse_chain("lowshelf:q=0.7071")
        self.assertEqual(ac.format_chain([spec]), "lowshelf:q=0.7071")


class ResumeBookkeepingTest(unittest.TestCase):
    """What a resumed call's responses do to the result (no server)."""

    def test_resumed_ready_must_match_the_checkpoint_and_repeats_are_dropped(self) -> None:
        from audioproc._common import Collector

        def chunk(sequence: int, tail: bool = False) -> pb.ProcessResponse:
            return pb.ProcessResponse(chunk=pb.ProcessedChunk(
                data=b"x", tail=tail, metrics=pb.ChunkMetrics(sequence=sequence)))

        def resumed_ready(after: int) -> pb.ProcessResponse:
            return pb.ProcessResponse(ready=pb.StreamReady(resumed_after_sequence=after))

        collector = Collector(resume=True)
        self.assertIsNone(collector.add(pb.ProcessResponse(ready=pb.StreamReady(resumable=True))))
        for sequence in (1, 2):
            self.assertIsNotNone(collector.add(chunk(sequence)))
        self.assertIsNone(collector.add(pb.ProcessResponse(
            checkpoint=pb.Checkpoint(token=b"t", sequence=2))))
        self.assertIsNotNone(collector.add(chunk(3)))  # answered after the checkpoint
        self.assertTrue(collector.can_resume(grpc.StatusCode.UNAVAILABLE, True))
        self.assertFalse(collector.can_resume(grpc.StatusCode.UNAVAILABLE, False))
        self.assertFalse(collector.can_resume(grpc.StatusCode.INTERNAL, True))
        collector.result.resumes = 1
        with self.assertRaisesRegex(ac.AudioprocError, "resumed after chunk 1, not after the "
                                                       "checkpoint's chunk 2"):
            collector.add(resumed_ready(1))
        self.assertIsNone(collector.add(resumed_ready(2)))
        self.assertIsNone(collector.add(chunk(3)))  # the repeat
        self.assertEqual(collector.add(chunk(4)).metrics.sequence, 4)
        self.assertTrue(collector.add(chunk(0, tail=True)).tail)
        collector.add(pb.ProcessResponse(summary=pb.StreamSummary()))
        result = collector.finish(True, 4)
        self.assertEqual(result.protocol_errors, [])
        self.assertEqual([c.metrics.sequence for c in result.chunks], [1, 2, 3, 4])
        self.assertEqual(result.output, b"xxxxx")
        self.assertFalse(Collector().can_resume(grpc.StatusCode.UNAVAILABLE, True))


class UpdateAndFormatTest(unittest.TestCase):
    """The friendly forms of updates, formats and chunks (no server)."""

    def test_update_forms(self) -> None:
        chain = ac.parse_chain("highpass:cutoff_hz=80,gain,limiter")
        by_name = ac.chain_update("gain:gain_db=-6", chain=chain)
        self.assertEqual([(u.index, u.spec.gain.gain_db) for u in by_name.updates], [(1, -6)])
        by_index = ac.chain_update("gain:gain_db=-6,limiter:ceiling_db=-3", index=1)
        self.assertEqual([u.index for u in by_index.updates], [1, 2])
        self.assertAlmostEqual(by_index.updates[1].spec.limiter.ceiling_db, -3)
        mapping = ac.chain_update({2: "limiter:ceiling_db=-2", 0: chain[0]})
        self.assertEqual([u.index for u in mapping.updates], [0, 2])
        json_form = ac.chain_update('[{"gain":{"gainDb":3}}]', chain=chain)
        self.assertEqual(json_form.updates[0].index, 1)
        self.assertEqual(ac.chain_update(by_name), by_name)
        with self.assertRaisesRegex(ac.ChainError, "'mix' is not in the stream's chain"):
            ac.chain_update("mix", chain=chain)
        with self.assertRaisesRegex(ac.ChainError, "give index="):
            ac.chain_update("gain")

    def test_formats(self) -> None:
        fmt = ac.parse_format("s24le:48000:2")
        self.assertEqual((fmt.encoding, fmt.sample_rate_hz, fmt.channels),
                         (pb.PCM_S24LE, 48000, 2))
        self.assertEqual(ac.parse_format("MULAW:8000:1").encoding, pb.MULAW)
        for bad in ("s16le:16000", "s8:16000:1", "s16le:x:1", "s16le:16000:0"):
            with self.subTest(bad), self.assertRaises(ValueError):
                ac.parse_format(bad)

    def test_numpy_chunks(self) -> None:
        try:
            import numpy as np
        except ImportError:
            self.skipTest("numpy is not installed")
        stereo = np.array([[0.5, -1.0], [1.5, 0.0]], dtype=np.float32)
        self.assertEqual(ac.to_bytes(stereo, pb.PCM_S16LE),
                         struct.pack("<4h", 16384, -32768, 32767, 0))
        self.assertEqual(ac.to_bytes(stereo, pb.PCM_F32LE), stereo.tobytes())
        ints = np.array([16384, -32768], dtype=np.int16)
        self.assertEqual(ac.to_bytes(ints, pb.PCM_S16LE), ints.tobytes())
        self.assertEqual(ac.to_bytes(ints, pb.PCM_F32LE), struct.pack("<2f", 0.5, -1.0))
        self.assertEqual(ac.to_bytes(b"\x01\x02"), b"\x01\x02")
        with self.assertRaises(ValueError):
            ac.to_bytes(ints, pb.PCM_S32LE)
        back = ac.to_numpy(struct.pack("<4h", 1, 2, 3, 4), ac.parse_format("s16le:8000:2"))
        self.assertEqual(back.tolist(), [[1, 2], [3, 4]])


class WavTest(unittest.TestCase):
    def test_write_then_read_is_exact(self) -> None:
        audio = ac.PcmAudio(bytes(range(256)) * 3, sample_rate_hz=48000, channels=2)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.wav")
            ac.write_wav(path, audio)
            self.assertEqual(ac.read_wav(path), audio)

    def test_8_bit_wav_is_read_as_float(self) -> None:
        import wave

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "u8.wav")
            with wave.open(path, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(1)
                w.setframerate(8000)
                w.writeframes(bytes([0, 64, 128, 255]))
            audio = ac.read_wav(path)
        self.assertEqual(audio.encoding, pb.PCM_F32LE)
        self.assertEqual(struct.unpack("<4f", audio.data), (-1.0, -0.5, 0.0, 127 / 128))

    def test_24_and_32_bit_wav_are_read_as_float_as_libsndfile_does(self) -> None:
        ints24 = [-(2**23), -1, 0, 1, 2**23 - 1]
        raw24 = b"".join(v.to_bytes(3, "little", signed=True) for v in ints24)
        ints32 = [-(2**31), 2**31 - 1, 123456789]
        raw32 = struct.pack("<3i", *ints32)
        for bits, raw, ints in ((24, raw24, ints24), (32, raw32, ints32)):
            with self.subTest(bits=bits):
                data = wav.wav_bytes(ac.PcmAudio(raw, 44100, 1, {24: pb.PCM_S24LE,
                                                                  32: pb.PCM_S32LE}[bits]))
                audio = wav.parse_wav(data)
                self.assertEqual(audio.encoding, pb.PCM_F32LE)
                want = array.array("f", [v / 2 ** (bits - 1) for v in ints]).tobytes()
                self.assertEqual(audio.data, want)

    def test_float_wav_round_trips_and_has_peak_chunk(self) -> None:
        samples_f32 = struct.pack("<6f", 0.25, -0.5, 0.75, -0.125, -0.75, 0.5)
        audio = ac.PcmAudio(samples_f32, 48000, 2, pb.PCM_F32LE)
        data = wav.wav_bytes(audio, timestamp=1234)
        peak = data.index(b"PEAK")
        # Version 1, the time, then per channel: magnitude and first frame.
        self.assertEqual(struct.unpack_from("<II", data, peak + 8), (1, 1234))
        self.assertEqual(struct.unpack_from("<fIfI", data, peak + 16), (0.75, 1, 0.5, 0))
        self.assertEqual(wav.parse_wav(data), audio)

    def test_odd_sized_data_is_padded(self) -> None:
        data = wav.wav_bytes(ac.PcmAudio(bytes(3), 8000, 1, pb.PCM_S24LE))
        self.assertEqual(len(data), 44 + 3 + 1)
        self.assertEqual(struct.unpack_from("<I", data, 4)[0], len(data) - 8)


if __name__ == "__main__":
    unittest.main(verbosity=2)
