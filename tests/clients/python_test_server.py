"""What the Python client tests share: the real audioproc-server on free loopback ports, test
certificates, and paths. Imported by tests/clients/python_*_test.py (their directory is on
sys.path when they run as scripts).

The server binary is $AUDIOPROC_BUILD_DIR/service/audioproc-server (default: build/); it is
started with --port=0, the ports read back from --port_file, and stopped with SIGTERM: it must
exit 0.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Optional

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(os.environ.get("AUDIOPROC_BUILD_DIR", os.path.join(ROOT, "build")))
SERVER = os.path.join(BUILD_DIR, "service", "audioproc-server")
CPP_CLIENT = os.path.join(BUILD_DIR, "clients", "audioproc-client")
PACKAGE_DIR = os.path.join(ROOT, "clients", "python")
SPEECH = os.path.join(ROOT, "clients", "demo", "speech_16k.wav")
STARTUP_TIMEOUT_S = 30


class ServerProcess:
    """audioproc-server on free loopback ports, its log in a temporary directory."""

    def __init__(self, extra_args: Sequence[str] = ()) -> None:
        if not os.access(SERVER, os.X_OK):
            raise RuntimeError(f"{SERVER} is not built (set AUDIOPROC_BUILD_DIR)")
        self.dir = tempfile.mkdtemp(prefix="audioproc-pytest-")
        self.log_path = os.path.join(self.dir, "server.log")
        port_file = os.path.join(self.dir, "ports.json")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [SERVER, "--host=127.0.0.1", "--port=0", "--metrics_port=0",
                 f"--port_file={port_file}", *extra_args],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.grpc_port = self._wait_for_ports(port_file)["grpc"]
        self.address = f"127.0.0.1:{self.grpc_port}"

    def _wait_for_ports(self, port_file: str) -> dict:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with open(port_file, encoding="utf-8") as f:
                    ports = json.load(f)
                if isinstance(ports, dict) and ports.get("grpc"):
                    return ports
            except (FileNotFoundError, json.JSONDecodeError):
                pass  # Not written yet, or caught half-written.
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited before binding:\n{self.log()}")
            time.sleep(0.01)  # Polling a file another process writes; bounded by the deadline.
        self.process.kill()
        self.process.wait()
        raise RuntimeError(f"no port file after {STARTUP_TIMEOUT_S} s:\n{self.log()}")

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> Optional[int]:
        """SIGTERM, as an orchestrator stops it; returns the exit code (None if killed)."""
        code: Optional[int] = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        else:
            code = self.process.returncode
        return code

    def stop_and_check(self) -> None:
        """Stops the server and removes its directory; raises if it did not exit 0."""
        code = self.stop()
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        if code != 0:
            raise RuntimeError(f"the server exited {code} on SIGTERM:\n{log}")


def make_certificates(directory: str) -> dict[str, str]:
    """A test CA, a server certificate for 127.0.0.1 and localhost and a client certificate,
    both signed by the CA (EC P-256, valid two days). Returns the PEM paths by name: ca,
    server_cert, server_key, client_cert, client_key."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=audioproc test CA")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                 "extendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(directory, f"{name}.ext"), "w", encoding="utf-8") as f:
            f.write(ext)
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN=audioproc test {name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", "2" if name == "server" else "3", "-days", "2",
            "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    path = lambda name: os.path.join(directory, name)  # noqa: E731
    return {"ca": path("ca.pem"), "server_cert": path("server.pem"),
            "server_key": path("server.key"), "client_cert": path("client.pem"),
            "client_key": path("client.key")}
