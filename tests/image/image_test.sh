#!/usr/bin/env bash
# The container image as built by `make image`, checked from outside and with its server
# running inside it (`make test-image`; `.ci/run` runs it after the suites):
#   tests/image/image_test.sh [IMAGE [REVISION]]
# There is no Docker engine here and `podman run` is refused, so the container is a buildah
# working container and each command runs in it with `buildah run --isolation=chroot
# --network=host`: the server listens on the host's loopback on a port it picks (--port=0,
# --port_file), and the client inside the same image talks to it. Checks: the image's user is
# non-root (uid 10001), no compiler is inside, every shared library of both binaries resolves
# (the runtime packages match what the build linked), --version prints REVISION, the
# HEALTHCHECK and the OCI labels are in the config; then health, a stream through a chain and
# ListProcessors against the server. Prints ok:/FAIL: per check; exits 1 on any failure.
# As root.
set -uo pipefail

image="${1:-audioproc:dev}"
revision="${2:-}"
failures=0
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
  local name="$1"
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}

work="$(mktemp -d /tmp/audioproc-image-test.XXXXXX)"
container=""
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  [[ -n "$container" ]] && buildah rm "$container" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# Runs a command in the container (as the image's user).
in_container() {
  buildah run --isolation=chroot --network=host "$container" -- "$@"
}

# --- The image's configuration -------------------------------------------------------------
config="$work/config.json"
if ! podman image inspect "$image" >"$config" 2>"$work/inspect.err"; then
  fail "image $image exists: $(cat "$work/inspect.err")"
  exit 1
fi
# A field of the image, by a Python expression over `d` (podman's inspect of it) and `c` (its
# Config object).
config_field() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))[0]; c = d["Config"]; print(eval(sys.argv[2]))' \
    "$config" "$1"
}
user="$(config_field 'c.get("User", "")')"
check "the image's user is non-root 10001 (User=$user)" test "${user%%:*}" = 10001
# podman keeps the docker format's HEALTHCHECK beside Config (the OCI format has none).
healthcheck="$(config_field '" ".join((d.get("Healthcheck") or c.get("Healthcheck") or {}).get("Test", []))')"
check "HEALTHCHECK runs the client's health mode ($healthcheck)" \
  test "$healthcheck" = "CMD /usr/local/bin/audioproc-client --health --addr=localhost:50051 --timeout_s=2"
exposed="$(config_field '" ".join(sorted(c.get("ExposedPorts", {})))')"
check "EXPOSE is the ports on by default, gRPC and metrics ($exposed)" \
  test "$exposed" = "50051/tcp 9090/tcp"
for label in title description version revision created source licenses; do
  value="$(config_field "(c.get('Labels') or {}).get('org.opencontainers.image.$label', '<missing>')")"
  case "$label" in
    title | description | version | licenses) check "label $label ($value)" test -n "$value" -a "$value" != "<missing>" ;;
    revision) if [[ -n "$revision" ]]; then check "label revision is $revision" test "$value" = "$revision"; fi ;;
    *) check "label $label is set" test "$value" != "<missing>" ;;
  esac
done

# --- Inside the container, without the server ----------------------------------------------
if ! container="$(buildah from --pull-never "$image" 2>"$work/from.err")"; then
  fail "buildah from $image: $(cat "$work/from.err")"
  container=""
  exit 1
fi
whoami_uid="$(in_container id -u 2>&1)"
check "commands run as uid 10001 (id -u: $whoami_uid)" test "$whoami_uid" = 10001
# shellcheck disable=SC2016  # $c expands inside the container's shell
compilers="$(in_container sh -c 'for c in cc c++ gcc g++ clang clang++ cpp; do command -v "$c"; done; true' 2>&1)"
check "no compiler in the image${compilers:+ (found: $compilers)}" test -z "$compilers"
for binary in /usr/local/bin/audioproc-server /usr/local/bin/audioproc-client; do
  if ldd_out="$(in_container ldd "$binary" 2>&1)"; then
    missing="$(grep 'not found' <<<"$ldd_out")"
    check "every shared library of $binary resolves${missing:+: $missing}" test -z "$missing"
  else
    fail "ldd $binary: $ldd_out"
  fi
  version="$(in_container "$binary" --version 2>&1)"
  if [[ -n "$revision" ]]; then
    check "$binary --version prints the commit ($version)" grep -qF "(commit $revision)" <<<"$version"
  else
    check "$binary --version ($version)" grep -q "commit" <<<"$version"
  fi
done

# --- The server inside it, on the loopback -------------------------------------------------
mnt="$(buildah mount "$container")"
# buildah itself in the background (not through in_container, which would put a subshell
# between): SIGTERM to buildah run ends the server it runs.
buildah run --isolation=chroot --network=host "$container" -- \
  /usr/local/bin/audioproc-server --host=127.0.0.1 --port=0 --metrics_port=0 \
  --port_file=/tmp/ports.json --log_format=text >"$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 300); do
  if [[ -s "$mnt/tmp/ports.json" ]]; then
    port="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["grpc"])' "$mnt/tmp/ports.json" 2>/dev/null)"
    [[ -n "$port" ]] && break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  fail "the server inside the image started: $(cat "$work/server.log")"
  exit 1
fi
ok "the server inside the image listens on 127.0.0.1:$port"
addr="--addr=127.0.0.1:$port"

health="$(in_container /usr/local/bin/audioproc-client --health "$addr" --timeout_s=5 2>&1)"
check "audioproc-client --health: SERVING ($health)" test "$health" = SERVING

# The HEALTHCHECK's own command, pointed at this server's port (a later --addr wins).
read -r -a healthcheck_argv <<<"${healthcheck#CMD }"
if [[ ${#healthcheck_argv[@]} -gt 0 ]] &&
  in_container "${healthcheck_argv[@]}" "$addr" >"$work/healthcheck.txt" 2>&1; then
  ok "the HEALTHCHECK command passes against the server ($(cat "$work/healthcheck.txt"))"
else
  fail "the HEALTHCHECK command passes against the server: $(cat "$work/healthcheck.txt" 2>/dev/null)"
fi

# One second of a 440 Hz tone, 16 kHz mono 16-bit, through highpass and limiter.
frames=16000
python3 - "$work/in.wav" "$frames" <<'PY'
import math, struct, sys, wave
path, frames = sys.argv[1], int(sys.argv[2])
with wave.open(path, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
                           for i in range(frames)))
PY
install -m 0644 "$work/in.wav" "$mnt/tmp/in.wav"
if in_container /usr/local/bin/audioproc-client "$addr" --timeout_s=30 --input=/tmp/in.wav \
  --output=/tmp/out.wav --chain=highpass:cutoff_hz=80,limiter:ceiling_db=-1 >"$work/stream.txt" 2>&1; then
  ok "a stream through highpass and limiter: $(grep 'frames in/out' "$work/stream.txt")"
  out_frames="$(python3 -c 'import sys, wave; print(wave.open(sys.argv[1]).getnframes())' "$mnt/tmp/out.wav" 2>&1)"
  check "the output has the input's $frames frames ($out_frames)" test "$out_frames" = "$frames"
else
  fail "a stream through highpass and limiter: $(cat "$work/stream.txt")"
fi

if in_container /usr/local/bin/audioproc-client "$addr" --timeout_s=10 --list >"$work/list.txt" 2>&1; then
  check "ListProcessors names highpass, limiter and the others ($(grep -c '^[a-z_]*:' "$work/list.txt") processors)" \
    grep -q '^highpass:' "$work/list.txt"
  check "ListProcessors lists limiter" grep -q '^limiter:' "$work/list.txt"
else
  fail "ListProcessors: $(cat "$work/list.txt")"
fi

# The server stops on SIGTERM (what `docker stop` sends: STOPSIGNAL) with buildah run, and no
# process is left running in the container's root.
kill "$server_pid"
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
left=""
for pid in $(pgrep -f '^/usr/local/bin/audioproc-server '); do
  [[ "$(readlink "/proc/$pid/root" 2>/dev/null)" == "$mnt" ]] && left+=" $pid"
done
if ! kill -0 "$server_pid" 2>/dev/null && [[ -z "$left" ]]; then
  ok "the server stops on SIGTERM"
  server_pid=""
else
  fail "the server stops on SIGTERM (still running:${left:- buildah run $server_pid})"
fi

if ((failures)); then
  echo "image_test: $failures check(s) failed; the server's log:"
  sed 's/^/  /' "$work/server.log"
  exit 1
fi
echo "image_test: all checks passed"
