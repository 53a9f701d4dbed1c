#!/usr/bin/env bash
# Runs Debian's `go` offline on this module, the way Debian builds Go packages: GOPATH mode
# (GO111MODULE=off) over the sources of Debian's golang-google-grpc-dev and
# golang-google-protobuf-dev in /usr/share/gocode, no module downloads (GOPROXY=off).
#
#   clients/go/go.sh build -o /tmp/audioproc-go ./cmd/audioproc-go
#   clients/go/go.sh test ./...
#
# Runs in the module's folder as linked into a GOPATH of its own under AUDIOPROC_GO_WORK
# (default: $TMPDIR/audioproc-go-<uid>), which also holds the build cache. Relative paths
# given to it are relative to clients/go. GO names the go binary (default: go on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${AUDIOPROC_GO_WORK:-${TMPDIR:-/tmp}/audioproc-go-$(id -u)}"
link="$work/gopath/src/github.com/audioproc/audioproc/clients/go"
mkdir -p "$(dirname "$link")" "$work/cache"
if [[ "$(readlink "$link" 2>/dev/null)" != "$here" ]]; then
  ln -sfn "$here" "$link.tmp.$$" && mv -T "$link.tmp.$$" "$link"
fi
export GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOFLAGS= GOPROXY=off \
  GOCACHE="$work/cache" GOTOOLCHAIN=local CGO_ENABLED="${CGO_ENABLED:-0}"
cd "$link"
exec "${GO:-go}" "$@"
