#!/usr/bin/env bash
# One command line in four languages (issue 10): audioproc-client (C++), `python3 -m audioproc`,
# audioproc-node and audioproc-go take the same core flags and, against one real server, give
# byte-identical output:
# - the demo file through highpass, compressor and limiter, with the chain in its one-line form
#   and in proto3 JSON: eight WAV files, one set of bytes;
# - the same audio as headerless PCM on standard input (--input - --format s16le:16000:1) to
#   standard output (--output -): four raw outputs equal to each other and to the WAVs' samples.
#   four_clients_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/audioproc-four-clients.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build/service/audioproc-server" --host=127.0.0.1 --port=0 --metrics_port=0 \
  --port_file="$work/ports.json" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do [[ -s "$work/ports.json" ]] && break; sleep 0.1; done
port="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["grpc"])' \
  "$work/ports.json")"
addr="127.0.0.1:$port"

# Each language's command line, as a user runs it from the tree.
cli() {
  local language="$1"
  shift
  case "$language" in
    cpp) "$build/clients/audioproc-client" "$@" ;;
    python) PYTHONPATH="$root/clients/python" /usr/bin/python3 -m audioproc "$@" ;;
    node) node "$root/clients/node/bin/audioproc-node.js" "$@" ;;
    go) "$build/clients/go/audioproc-go" "$@" ;;
  esac
}
languages=(cpp python node go)
one_line='highpass:cutoff_hz=80,compressor,limiter:ceiling_db=-1'
json='[{"highpass":{"cutoffHz":80}},{"compressor":{}},{"limiter":{"ceilingDb":-1}}]'
speech="$root/clients/demo/speech_16k.wav"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

for language in "${languages[@]}"; do
  cli "$language" --addr "$addr" --input "$speech" --output "$work/$language.wav" \
    --chain "$one_line" --chunk_ms 20 >"$work/$language.log" 2>&1 ||
    fail "$language: $(cat "$work/$language.log")"
  cli "$language" --addr="$addr" --input="$speech" --output="$work/$language-json.wav" \
    --chain="$json" --chunk_ms=20 >"$work/$language-json.log" 2>&1 ||
    fail "$language (JSON chain): $(cat "$work/$language-json.log")"
done
for file in "${languages[@]/%/.wav}" "${languages[@]/%/-json.wav}"; do
  cmp "$work/cpp.wav" "$work/$file" || fail "$file differs from the C++ client's cpp.wav"
done
echo "PASS: 8 WAV files byte-identical ($(stat -c %s "$work/cpp.wav") bytes)"

# The same samples, headerless: the demo WAV is 16-bit PCM with a 44-byte header.
tail -c +45 "$speech" >"$work/in.raw"
tail -c +45 "$work/cpp.wav" >"$work/expected.raw"
for language in "${languages[@]}"; do
  cli "$language" --addr "$addr" --input - --format s16le:16000:1 --output - \
    --chain "$one_line" <"$work/in.raw" >"$work/$language.raw" 2>"$work/$language-raw.log" ||
    fail "$language (stdin): $(cat "$work/$language-raw.log")"
  cmp "$work/expected.raw" "$work/$language.raw" ||
    fail "$language: standard output differs from the WAV's samples"
done
echo "PASS: 4 raw outputs from standard input equal the WAV's samples"
