#!/usr/bin/env bash
# The README's `buf curl` examples, run verbatim against the real server.
#
#   tests/e2e/buf_curl_test.sh BUILD_DIR     run every example against BUILD_DIR's server
#   tests/e2e/buf_curl_test.sh --list        only print the extracted commands
#
# Every fenced ```sh block that README.md puts right after a line `<!-- buf-curl-test -->` is
# one example. The test starts BUILD_DIR/service/audioproc-server on free ports, waits for its
# --port_file, replaces localhost:50051 with the bound port, runs each example from the repo
# root exactly as written (node_modules/.bin on PATH, so `buf` and `npx buf` resolve to the
# project's pinned buf), and checks its exit status and the key part of its output.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readme="$root/README.md"
python=/usr/bin/python3

# extract: prints the marked blocks of README.md as a JSON list of strings, one per block;
# fails when a marker is not followed by a ```sh block or a block is not closed.
extract() {
  "$python" - "$readme" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
blocks, i = [], 0
while i < len(lines):
    if lines[i].strip() == "<!-- buf-curl-test -->":
        if i + 1 >= len(lines) or lines[i + 1].strip() != "```sh":
            sys.exit(f"README.md:{i + 1}: marker not followed by a ```sh block")
        j = i + 2
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if j == len(lines):
            sys.exit(f"README.md:{i + 2}: ```sh block never closed")
        body = "\n".join(lines[i + 2:j]).strip()
        if not body:
            sys.exit(f"README.md:{i + 2}: empty block")
        blocks.append(body)
        i = j
    i += 1
json.dump(blocks, sys.stdout)
PY
}

# block N: the Nth extracted command (0-based), from the JSON list in $blocks_json.
block() {
  "$python" -c 'import json, sys; print(json.loads(sys.argv[1])[int(sys.argv[2])])' "$blocks_json" "$1"
}

blocks_json="$(extract)"
count="$("$python" -c 'import json, sys; print(len(json.loads(sys.argv[1])))' "$blocks_json")"

if [[ "${1:-}" == "--list" ]]; then
  for ((n = 0; n < count; n++)); do
    printf -- '--- example %d\n%s\n' "$((n + 1))" "$(block "$n")"
  done
  exit 0
fi

build="$(cd "${1:?usage: $0 BUILD_DIR | --list}" && pwd)"
server="$build/service/audioproc-server"
[[ -x "$server" ]] || { echo "buf_curl_test: no server at $server" >&2; exit 1; }
[[ -x "$root/node_modules/.bin/buf" ]] || {
  echo "buf_curl_test: $root/node_modules/.bin/buf is missing; run .ci/install-deps --npm" >&2
  exit 1
}
# The README shows eight examples: services, methods, health, ListProcessors, Process,
# ValidateConfig, ListStreams and WatchStreams.
if ((count < 8)); then
  echo "buf_curl_test: README.md has $count marked buf curl examples, expected at least 8" >&2
  exit 1
fi

tmp="$(mktemp -d)"
server_pid=""
stream_pid=""
cleanup() {
  if [[ -n "$stream_pid" ]]; then
    kill -TERM "$stream_pid" 2>/dev/null || true
    wait "$stream_pid" 2>/dev/null || true
  fi
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # The server drains on SIGTERM (no stream is left, so at once); a deadline all the same.
    for ((i = 0; i < 100; i++)); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$server" --host=127.0.0.1 --port=0 --metrics_port=0 --port_file="$tmp/ports.json" >"$tmp/server.log" 2>&1 &
server_pid=$!

# Wait for the port file (written once every listener is bound), with a deadline.
deadline=$((SECONDS + 30))
until [[ -s "$tmp/ports.json" ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "buf_curl_test: server exited before writing its port file:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "buf_curl_test: no port file after 30 s:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.05
done
port="$("$python" -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["grpc"]))' "$tmp/ports.json")"
echo "server up on gRPC port $port"

# A live stream for the Admin examples to show: a generated signal at its real pace.
"$build/clients/audioproc-client" --addr="localhost:$port" --generate_seconds=120 --realtime \
  --chain=highpass:cutoff_hz=80,limiter --stream_id=buf-curl-live >"$tmp/stream.log" 2>&1 &
stream_pid=$!

passed=0
failed=0
# expect FILE TEXT...: every TEXT occurs in FILE.
expect() {
  local file="$1" text
  shift
  for text in "$@"; do
    grep -qF -- "$text" "$file" || { echo "  output lacks: $text"; return 1; }
  done
}

for ((n = 0; n < count; n++)); do
  cmd="$(block "$n")"
  [[ "$cmd" == *localhost:50051* ]] || {
    echo "FAIL: example $((n + 1)) does not address localhost:50051:"$'\n'"$cmd"
    failed=$((failed + 1))
    continue
  }
  run="${cmd//localhost:50051/localhost:$port}"
  out="$tmp/out.$n"
  status=0
  # WatchStreams runs until the client stops it, as the README says: 3 s of it are enough.
  limit=60
  [[ "$cmd" == */audioproc.v1.Admin/WatchStreams* ]] && limit=3
  (cd "$root" && PATH="$root/node_modules/.bin:$PATH" timeout "$limit" bash -o pipefail -c "$run") \
    >"$out" 2>&1 </dev/null || status=$?
  ((limit == 3 && status == 124)) && status=0
  ok=1
  if ((status != 0)); then
    echo "  exit status $status"
    ok=0
  else
    # The key output of each kind of example.
    case "$cmd" in
      *--list-services*) expect "$out" audioproc.v1.AudioProcessor audioproc.v1.Admin \
        grpc.health.v1.Health || ok=0 ;;
      *--list-methods*) expect "$out" audioproc.v1.AudioProcessor/Process \
        audioproc.v1.AudioProcessor/ListProcessors audioproc.v1.AudioProcessor/ValidateConfig \
        audioproc.v1.Admin/ListStreams audioproc.v1.Admin/WatchStreams \
        grpc.health.v1.Health/Check || ok=0 ;;
      */audioproc.v1.AudioProcessor/ValidateConfig*)
        expect "$out" '"ready"' '"latencyFrames"' '"maxChunkBytes"' '"cost"' '"fitsNow": true' || ok=0 ;;
      */audioproc.v1.Admin/ListStreams*)
        expect "$out" '"streamId": "buf-curl-live"' '"chain": "highpass,limiter"' \
          '"latencyP99Seconds"' || ok=0 ;;
      */audioproc.v1.Admin/WatchStreams*)
        expect "$out" '"STREAM_CHANGE_KIND_STARTED"' '"streamId": "buf-curl-live"' \
          '"activeStreams": 1' || ok=0 ;;
      */grpc.health.v1.Health/Check*) expect "$out" '"SERVING"' || ok=0 ;;
      */audioproc.v1.AudioProcessor/ListProcessors*) expect "$out" '"highpass"' || ok=0 ;;
      */audioproc.v1.AudioProcessor/Process*) expect "$out" '"ready"' '"chunk"' '"summary"' || ok=0 ;;
    esac
  fi
  if ((ok)); then
    passed=$((passed + 1))
    echo "ok: $cmd"
  else
    failed=$((failed + 1))
    echo "FAIL: $cmd"
    sed 's/^/  | /' "$out" | head -40
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
