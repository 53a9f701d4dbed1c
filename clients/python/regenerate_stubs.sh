#!/usr/bin/env bash
# Regenerates the committed stubs of the audioproc package from protos/audioproc/v1/audioproc.proto:
#   audioproc/v1/audioproc_pb2.py, audioproc_pb2.pyi, audioproc_pb2_grpc.py
# with Debian's protoc (protobuf-compiler 3.21) and grpc_python_plugin (protobuf-compiler-grpc).
# Run after changing the proto, and commit the result; tests/clients/python_stubs_test.py fails
# when the committed files differ from what this writes.
#
#   clients/python/regenerate_stubs.sh [OUT_DIR]   (default: clients/python, in place)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here}"
plugin="$(command -v grpc_python_plugin)" || {
  echo "regenerate_stubs: grpc_python_plugin not found (Debian: protobuf-compiler-grpc)" >&2
  exit 1
}
mkdir -p "$out/audioproc/v1"
protoc --proto_path="$root/protos" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" \
  "$root/protos/audioproc/v1/audioproc.proto"
