#!/usr/bin/env bash
# The Go client (clients/go), offline with Debian's Go (clients/go/go.sh):
#   go_client_test.sh unit          go vet and the unit tests (shared chain cases, WAV bytes)
#   go_client_test.sh drift         the committed stubs equal a fresh protoc-gen-go(-grpc) run
#   go_client_test.sh integration   against the real server: a live stream with an update,
#                                   mTLS + token, a bad chain, stdin to stdout, the WAV of
#                                   audioproc-go cmp-identical to the C++ client's, and a stream
#                                   resumed on a second server when its own drains or crashes
# Environment: AUDIOPROC_BUILD_DIR (default <repo>/build) holds the server, the C++ client and
# clients/go/audioproc-go (AUDIOPROC_GO_CLI overrides the last).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mode="${1:?usage: go_client_test.sh unit|drift|integration}"
work="$(mktemp -d "${TMPDIR:-/tmp}/audioproc-go-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# The build cache: the build folder's (ctest sets it) keeps reruns fast; else a fresh one.
export AUDIOPROC_GO_WORK="${AUDIOPROC_GO_WORK:-$work/go}" AUDIOPROC_SOURCE_DIR="$root"
export AUDIOPROC_BUILD_DIR="${AUDIOPROC_BUILD_DIR:-$root/build}"
case "$mode" in
  unit)
    "$root/clients/go/go.sh" vet ./...
    "$root/clients/go/go.sh" test -count=1 ./...
    ;;
  drift)
    "$root/clients/go/generate.sh" "$work/gen"
    if ! diff -r "$root/clients/go/audioprocpb" "$work/gen/audioprocpb"; then
      echo "FAIL: clients/go/audioprocpb differs from the generated stubs: run clients/go/generate.sh and commit" >&2
      exit 1
    fi
    echo "PASS: clients/go/audioprocpb equals a fresh generation"
    ;;
  integration)
    "$root/clients/go/go.sh" vet -tags integration .
    "$root/clients/go/go.sh" test -count=1 -tags integration -run Integration -v -timeout 120s .
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
