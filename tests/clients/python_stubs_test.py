#!/usr/bin/python3
"""The audioproc package's committed stubs (clients/python/audioproc/v1/audioproc_pb2.py,
audioproc_pb2.pyi, audioproc_pb2_grpc.py) are what clients/python/regenerate_stubs.sh makes
from protos/audioproc/v1/audioproc.proto today: regenerated into a temporary directory and
compared byte for byte. On failure: run clients/python/regenerate_stubs.sh and commit.

    /usr/bin/python3 tests/clients/python_stubs_test.py
"""

from __future__ import annotations

import difflib
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE_DIR = os.path.join(ROOT, "clients", "python")
STUBS = ["audioproc_pb2.py", "audioproc_pb2.pyi", "audioproc_pb2_grpc.py"]


class StubDriftTest(unittest.TestCase):
    def test_committed_stubs_match_the_proto(self) -> None:
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([os.path.join(PACKAGE_DIR, "regenerate_stubs.sh"), out], check=True)
            generated = sorted(os.listdir(os.path.join(out, "audioproc", "v1")))
            self.assertEqual(generated, sorted(STUBS))
            for name in STUBS:
                with self.subTest(name):
                    with open(os.path.join(out, "audioproc", "v1", name), "rb") as f:
                        fresh = f.read()
                    with open(os.path.join(PACKAGE_DIR, "audioproc", "v1", name), "rb") as f:
                        committed = f.read()
                    if fresh != committed:
                        diff = "".join(list(difflib.unified_diff(
                            committed.decode(errors="replace").splitlines(True),
                            fresh.decode(errors="replace").splitlines(True),
                            "committed", "regenerated"))[:40])
                        self.fail(f"audioproc/v1/{name} is out of date with the proto: run "
                                  f"clients/python/regenerate_stubs.sh and commit\n{diff}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
