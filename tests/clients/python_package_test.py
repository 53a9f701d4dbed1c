#!/usr/bin/python3
"""The audioproc package as a user gets it: installed from the tree into a fresh virtual
environment, and used from there against the real audioproc-server.

setUpModule copies clients/python to a temporary directory (so pip writes no build/ or
egg-info into the tree, and parallel tests do not meet), makes a venv of Debian's Python with
its system site packages (python3-grpcio, python3-protobuf, python3-numpy) and installs the
copy offline:
    /usr/bin/python3 -m venv --system-site-packages V
    V/bin/pip install --no-build-isolation --no-deps <copy>
Then, with the venv's python, outside the source tree: a stream from a paced generator (numpy
chunks) with an update mid-stream (the output level must drop by the update's gain), the same
over asyncio from an async generator, mutual TLS and a bearer token against a server started
with --tls_client_ca and --auth_tokens_file, a refused chain (AudioprocError with
INVALID_ARGUMENT), retry of UNAVAILABLE until a late server is up, and the command line:
output files `cmp`-identical to build/clients/audioproc-client's, and raw PCM through
--input - / --output - over pipes.

    AUDIOPROC_BUILD_DIR=build /usr/bin/python3 tests/clients/python_package_test.py
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import textwrap
import unittest
from typing import Optional

from python_test_server import (
    CPP_CLIENT,
    PACKAGE_DIR,
    SPEECH,
    ServerProcess,
    make_certificates,
)

DEMO_CHAIN = "highpass:cutoff_hz=80,compressor,limiter:ceiling_db=-1"
TOKEN = "py-package-test-token"
CALL_TIMEOUT_S = 60

work: Optional[str] = None
venv_python = ""
server: Optional[ServerProcess] = None
secure_server: Optional[ServerProcess] = None
certs: dict[str, str] = {}


def _env() -> dict[str, str]:
    """The environment of the venv's processes: nothing pointing into the source tree."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUDIOPROC_TOKEN")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def setUpModule() -> None:
    global work, venv_python, server, secure_server, certs
    work = tempfile.mkdtemp(prefix="audioproc-pypkg-")
    source = os.path.join(work, "src")
    shutil.copytree(PACKAGE_DIR, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = os.path.join(work, "venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv],
                   check=True, capture_output=True)
    venv_python = os.path.join(venv, "bin", "python")
    install = subprocess.run(
        [os.path.join(venv, "bin", "pip"), "install", "--no-build-isolation", "--no-deps",
         "--no-index", "--disable-pip-version-check", source],
        capture_output=True, text=True, env=_env(), cwd=work)
    if install.returncode != 0:
        raise RuntimeError(f"pip install failed:\n{install.stdout}\n{install.stderr}")
    server = ServerProcess()
    certs = make_certificates(work)
    tokens = os.path.join(work, "tokens")
    with open(tokens, "w", encoding="utf-8") as f:
        f.write(f"# test tokens\n{TOKEN}\n")
    secure_server = ServerProcess([
        f"--tls_cert={certs['server_cert']}", f"--tls_key={certs['server_key']}",
        f"--tls_client_ca={certs['ca']}", f"--auth_tokens_file={tokens}"])


def tearDownModule() -> None:
    errors = []
    for s in (server, secure_server):
        if s is not None:
            try:
                s.stop_and_check()
            except RuntimeError as error:
                errors.append(str(error))
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    if errors:
        raise RuntimeError("\n".join(errors))


def run_python(script: str, *args: str, timeout: float = CALL_TIMEOUT_S) -> dict:
    """Runs ``script`` with the venv's python in the work directory; it prints one JSON
    object as its last line, which is returned."""
    assert work is not None
    run = subprocess.run([venv_python, "-c", textwrap.dedent(script), *args],
                         capture_output=True, text=True, timeout=timeout, env=_env(), cwd=work)
    if run.returncode != 0:
        raise AssertionError(f"script failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def run_cli(*args: str, stdin: Optional[bytes] = None) -> subprocess.CompletedProcess:
    return subprocess.run([venv_python, "-m", "audioproc", f"--timeout_s={CALL_TIMEOUT_S}", *args],
                          input=stdin, capture_output=True, timeout=CALL_TIMEOUT_S + 30,
                          env=_env(), cwd=work)


def run_cpp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CPP_CLIENT, f"--timeout_s={CALL_TIMEOUT_S}", *args],
                          capture_output=True, timeout=CALL_TIMEOUT_S + 30)


def wav_data(path: str) -> bytes:
    """The data chunk of a WAV file."""
    with open(path, "rb") as f:
        data = f.read()
    at = 12
    while at + 8 <= len(data):
        size = struct.unpack_from("<I", data, at + 4)[0]
        if data[at:at + 4] == b"data":
            return data[at + 8:at + 8 + size]
        at += 8 + size + (size & 1)
    raise AssertionError(f"{path}: no data chunk")


# A 1 kHz sine at -20 dBFS, 16 kHz mono, 20 ms chunks; the update at chunk UPDATE_AT
# changes gain from 0 to -12 dB. Levels are measured on the output after the limiter-free
# chain "gain", so the level difference is the gain difference.
STREAM_PRELUDE = textwrap.dedent("""
    import json, math, sys
    import numpy as np
    import audioproc
    RATE, CHUNK, CHUNKS, UPDATE_AT = 16000, 320, 60, 25
    def sine_chunks():
        for i in range(CHUNKS):
            t = (np.arange(CHUNK) + i * CHUNK) / RATE
            yield (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    def level_db(data, start, end):
        x = np.frombuffer(data, dtype="<i2")[start * CHUNK:end * CHUNK].astype(np.float64)
        return 20 * math.log10(math.sqrt(np.mean(x * x)) / 32768)
    def report(result, updates):
        print(json.dumps({
            "before_db": level_db(result.output, 5, UPDATE_AT),
            "after_db": level_db(result.output, UPDATE_AT + 10, CHUNKS),
            "chunks": len(result.chunks), "tail": result.tail is not None,
            "frames_out": result.summary.frames_out, "errors": result.protocol_errors,
            "updates": updates}))
""")


class InstalledPackageTest(unittest.TestCase):
    def test_imports_from_the_venv_with_types_and_stubs(self) -> None:
        got = run_python("""
            import json, os, audioproc, audioproc.aio
            from audioproc.v1 import audioproc_pb2
            here = os.path.dirname(audioproc.__file__)
            print(json.dumps({"file": audioproc.__file__,
                              "files": sorted(os.listdir(here)),
                              "v1": sorted(os.listdir(os.path.join(here, "v1")))}))
        """)
        self.assertIn(os.path.join(work, "venv"), got["file"])
        self.assertIn("py.typed", got["files"])
        for name in ("audioproc_pb2.py", "audioproc_pb2.pyi", "audioproc_pb2_grpc.py"):
            self.assertIn(name, got["v1"])
        self.assertFalse(os.path.exists(os.path.join(PACKAGE_DIR, "build")))
        run = run_cli("--help")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn(b"--tls_cert", run.stdout)

    def test_sync_stream_from_a_paced_generator_with_an_update_mid_stream(self) -> None:
        assert server is not None
        got = run_python(STREAM_PRELUDE + textwrap.dedent("""
            updates = []
            with audioproc.connect(sys.argv[1], timeout=60) as client:
                with client.stream("gain:gain_db=0", sine_chunks(), format="s16le:16000:1",
                                   realtime=True) as stream:
                    for chunk in stream:
                        if chunk.metrics.sequence == UPDATE_AT:
                            stream.update("gain:gain_db=-12")
                        updates += [e.update.applied for e in chunk.events
                                    if e.HasField("update")]
            report(stream.result, updates)
        """), server.address)
        self.assertEqual(got["errors"], [])
        self.assertEqual(got["chunks"], 60)
        self.assertTrue(got["tail"])
        self.assertEqual(got["frames_out"], 60 * 320)
        self.assertEqual(got["updates"], [True])
        self.assertAlmostEqual(got["before_db"], -23.01, delta=0.2)  # sine RMS: -20 - 3.01
        self.assertAlmostEqual(got["before_db"] - got["after_db"], 12, delta=0.3)

    def test_asyncio_stream_from_an_async_generator_with_an_update_mid_stream(self) -> None:
        assert server is not None
        got = run_python(STREAM_PRELUDE + textwrap.dedent("""
            import asyncio
            import audioproc.aio
            async def source():
                for chunk in sine_chunks():
                    await asyncio.sleep(0.005)  # a live-like source
                    yield (chunk * 32767).astype("<i2").tobytes()  # bytes, this time
            async def main():
                updates = []
                async with audioproc.aio.connect(sys.argv[1], timeout=60) as client:
                    async with client.stream("gain:gain_db=0", source(),
                                             format="s16le:16000:1") as stream:
                        async for chunk in stream:
                            if chunk.metrics.sequence == UPDATE_AT:
                                await stream.update({0: "gain:gain_db=-12"})
                            updates += [e.update.applied for e in chunk.events
                                        if e.HasField("update")]
                report(stream.result, updates)
            asyncio.run(main())
        """), server.address)
        self.assertEqual(got["errors"], [])
        self.assertEqual(got["chunks"], 60)
        self.assertEqual(got["updates"], [True])
        self.assertAlmostEqual(got["before_db"] - got["after_db"], 12, delta=0.3)

    def test_refused_chain_raises_invalid_argument_with_the_partial_result(self) -> None:
        assert server is not None
        got = run_python("""
            import json, sys, grpc, audioproc
            out = {}
            with audioproc.connect(sys.argv[1], timeout=60) as client:
                try:
                    client.stream("gain:gain_db=99", [bytes(640)] * 3,
                                  format="s16le:16000:1").finish()
                except audioproc.AudioprocError as error:
                    out.update(code=error.code.name, details=error.details,
                               ready=error.result.ready is not None,
                               chunks=len(error.result.chunks))
                try:
                    client.stream("hipass", format="s16le:16000:1")
                except audioproc.ChainError as error:
                    out["chain_error"] = str(error)
            print(json.dumps(out))
        """, server.address)
        self.assertEqual(got["code"], "INVALID_ARGUMENT")
        self.assertIn("gain.gain_db", got["details"])
        self.assertFalse(got["ready"])
        self.assertEqual(got["chunks"], 0)
        self.assertIn("unknown processor 'hipass'", got["chain_error"])

    def test_mutual_tls_and_token(self) -> None:
        assert secure_server is not None
        got = run_python("""
            import json, sys, audioproc
            addr, ca, cert, key, token = sys.argv[1:6]
            out = {}
            with audioproc.connect(addr, ca=ca, cert=cert, key=key, token=token,
                                   timeout=30) as client:
                out["processors"] = len(client.list_processors().processors)
                result = client.stream("gain", [bytes(640)] * 5,
                                       format="s16le:16000:1").finish()
                out["frames_out"] = result.summary.frames_out
            for name, kwargs in (("no_token", dict(ca=ca, cert=cert, key=key)),
                                 ("wrong_token", dict(ca=ca, cert=cert, key=key, token="x")),
                                 ("no_client_cert", dict(ca=ca, token=token))):
                with audioproc.connect(addr, retry=False, timeout=30, **kwargs) as client:
                    try:
                        client.list_processors()
                        out[name] = "OK"
                    except audioproc.AudioprocError as error:
                        out[name] = error.code.name
            print(json.dumps(out))
        """, secure_server.address, certs["ca"], certs["client_cert"], certs["client_key"],
            TOKEN)
        self.assertGreater(got["processors"], 10)
        self.assertEqual(got["frames_out"], 5 * 320)
        self.assertEqual(got["no_token"], "UNAUTHENTICATED")
        self.assertEqual(got["wrong_token"], "UNAUTHENTICATED")
        self.assertEqual(got["no_client_cert"], "UNAVAILABLE")

        with tempfile.TemporaryDirectory() as tmp:
            out_path = os.path.join(tmp, "out.wav")
            run = run_cli(f"--addr={secure_server.address}", f"--input={SPEECH}",
                          f"--output={out_path}", f"--chain={DEMO_CHAIN}",
                          f"--tls_ca={certs['ca']}", f"--tls_cert={certs['client_cert']}",
                          f"--tls_key={certs['client_key']}", "--token", TOKEN)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertTrue(os.path.getsize(out_path) > 44)
        run = run_cli(f"--addr={secure_server.address}", "--list", f"--tls_ca={certs['ca']}",
                      f"--tls_cert={certs['client_cert']}", f"--tls_key={certs['client_key']}")
        self.assertEqual(run.returncode, 1)
        self.assertIn(b"UNAUTHENTICATED", run.stderr)

    def test_retries_unavailable_until_a_late_server_is_up(self) -> None:
        with socket.socket() as probe:  # a free port, for the server that starts late
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        script = textwrap.dedent("""
            import json, sys, audioproc
            retry = audioproc.Retry(attempts=40, initial_backoff_s=0.05, max_backoff_s=0.25)
            with audioproc.connect(sys.argv[1], timeout=60, retry=retry) as client:
                result = client.stream("gain", [bytes(640)] * 10,
                                       format="s16le:16000:1").finish()
            print(json.dumps({"frames_out": result.summary.frames_out,
                              "chunks": len(result.chunks), "errors": result.protocol_errors}))
        """)
        client = subprocess.Popen([venv_python, "-c", script, f"127.0.0.1:{port}"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
                                  cwd=work)
        late: Optional[ServerProcess] = None
        try:
            # The client's first attempts find nothing on the port (UNAVAILABLE).
            try:
                client.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
            late = ServerProcess([f"--port={port}"]) if client.poll() is None else None
            stdout, stderr = client.communicate(timeout=CALL_TIMEOUT_S)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
            if late is not None:
                late.stop_and_check()
        self.assertEqual(client.returncode, 0, stderr.decode())
        got = json.loads(stdout.decode().strip().splitlines()[-1])
        self.assertEqual(got, {"frames_out": 3200, "chunks": 10, "errors": []})


class CommandLineTest(unittest.TestCase):
    """python -m audioproc against the C++ audioproc-client, byte for byte."""

    def compare_with_cpp(self, *extra: str, timestamp_at: Optional[int] = None) -> None:
        assert server is not None
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for name, run in (("py", run_cli), ("cpp", run_cpp)):
                paths[name] = os.path.join(tmp, f"{name}.wav")
                done = run(f"--addr={server.address}", f"--input={SPEECH}",
                           f"--output={paths[name]}", f"--chain={DEMO_CHAIN}", *extra)
                self.assertEqual(done.returncode, 0, done.stderr)
            if timestamp_at is None:
                same = subprocess.run(["cmp", paths["py"], paths["cpp"]], capture_output=True)
                self.assertEqual(same.returncode, 0, same.stdout)
            with open(paths["py"], "rb") as f:
                py = f.read()
            with open(paths["cpp"], "rb") as f:
                cpp = f.read()
        if timestamp_at is not None:  # the PEAK chunk's time of writing
            at = cpp.index(b"PEAK") + 12
            self.assertLess(abs(struct.unpack_from("<I", py, at)[0]
                                - struct.unpack_from("<I", cpp, at)[0]), 600)
            py, cpp = py[:at] + py[at + 4:], cpp[:at] + cpp[at + 4:]
        self.assertEqual(len(py), len(cpp))
        self.assertTrue(py == cpp, "the WAV files differ")

    def test_demo_file_output_is_identical_to_the_cpp_client(self) -> None:
        # `cmp py.wav cpp.wav`, for the integration test's chain.
        self.compare_with_cpp()

    def test_s24_s32_and_mulaw_output_files_are_identical_to_the_cpp_client(self) -> None:
        for encoding in ("s24", "s32", "mulaw"):
            with self.subTest(encoding):
                self.compare_with_cpp(f"--output_encoding={encoding}")

    def test_f32_output_file_is_identical_but_for_the_peak_time(self) -> None:
        self.compare_with_cpp("--output_encoding=f32", timestamp_at=0)

    def test_raw_pcm_from_stdin_to_stdout(self) -> None:
        assert server is not None
        with tempfile.TemporaryDirectory() as tmp:
            reference = os.path.join(tmp, "cpp.wav")
            done = run_cpp(f"--addr={server.address}", f"--input={SPEECH}",
                           f"--output={reference}", f"--chain={DEMO_CHAIN}")
            self.assertEqual(done.returncode, 0, done.stderr)
            want = wav_data(reference)
        pcm = wav_data(SPEECH)
        run = run_cli(f"--addr={server.address}", "--input", "-", "--format", "s16le:16000:1",
                      "--output", "-", f"--chain={DEMO_CHAIN}", stdin=pcm)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertTrue(run.stdout == want, "raw output differs from the C++ client's audio")
        self.assertIn(b"frames in/out: 86598 / 86598", run.stderr)
        # Piped through a live-like writer, chunk by chunk, with --realtime pacing too.
        process = subprocess.Popen(
            [venv_python, "-m", "audioproc", f"--addr={server.address}", "--input=-",
             "--format=s16le:16000:1", "--output=-", "--chain=gain:gain_db=0", "--chunk_ms=10",
             "--realtime"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=_env(), cwd=work)
        out, err = process.communicate(pcm[:16000], timeout=CALL_TIMEOUT_S)  # 0.5 s
        self.assertEqual(process.returncode, 0, err)
        self.assertEqual(out, pcm[:16000])
        self.assertIn(b"chunks: 50", err)

    def test_errors_exit_1_with_the_status(self) -> None:
        assert server is not None
        run = run_cli(f"--addr={server.address}", f"--input={SPEECH}", "--chain=gain:gain_db=99")
        self.assertEqual(run.returncode, 1)
        self.assertIn(b"INVALID_ARGUMENT: config.chain[0].gain.gain_db", run.stderr)
        run = run_cli(f"--addr={server.address}", "--input=-", "--chain=gain")
        self.assertEqual(run.returncode, 1)
        self.assertIn(b"INVALID_ARGUMENT: --input - reads raw PCM", run.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
