#!/usr/bin/env bash
# The C++ client library as a consumer gets it: `cmake --install` of the build into a fresh
# prefix, then tests/clients/find_package/ (a project of its own: find_package(audioproc),
# audioproc::client) configured, built and run against it, listing the processors of a real
# server started here on free loopback ports.
#   tests/clients/find_package_test.sh BUILD_DIR
set -euo pipefail
build_dir="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"
test -f "$work/prefix/lib/cmake/audioproc/audioprocConfig.cmake"
test -f "$work/prefix/include/audioproc/clients/stream_client.h"
test -f "$work/prefix/include/audioproc/audioproc/v1/audioproc.grpc.pb.h"

cmake -S "$here/find_package" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" >"$work/build.log" || { cat "$work/build.log"; exit 1; }

"$build_dir/service/audioproc-server" --host=127.0.0.1 --port=0 --metrics_port=0 \
  --port_file="$work/ports.json" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do [[ -s "$work/ports.json" ]] && break; sleep 0.1; done
port="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["grpc"])' \
  "$work/ports.json")"
output="$("$work/consumer/consumer" "127.0.0.1:$port" "$work")"
echo "$output"
grep -Eq '^[1-9][0-9]* processors$' <<<"$output"
grep -q '^consumer ok$' <<<"$output"
