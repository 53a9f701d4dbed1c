#!/usr/bin/env bash
# Regenerates the Go stubs of protos/audioproc/v1/audioproc.proto with Debian's protoc,
# protoc-gen-go and protoc-gen-go-grpc (packages protobuf-compiler, protoc-gen-go,
# protoc-gen-go-grpc):
#
#   clients/go/generate.sh            # rewrites clients/go/audioprocpb/*.pb.go (commit them)
#   clients/go/generate.sh DIR        # writes DIR/audioprocpb/*.pb.go (the drift test's way)
#
# The stubs are committed so that the module builds without protoc; tests/clients/go_client_test.sh
# regenerates them into a temporary folder and fails on any difference.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here}"
mkdir -p "$out"
protoc -I "$root/protos" \
  --go_out="$out" --go_opt=module=github.com/audioproc/audioproc/clients/go \
  --go-grpc_out="$out" --go-grpc_opt=module=github.com/audioproc/audioproc/clients/go \
  "$root/protos/audioproc/v1/audioproc.proto"
