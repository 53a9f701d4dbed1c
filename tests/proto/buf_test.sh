#!/usr/bin/env bash
# The published proto under buf (buf.yaml at the repository root):
#   buf_test.sh lint            buf lint passes (STANDARD, with buf.yaml's explained exceptions)
#   buf_test.sh breaking        protos/ has no breaking change (FILE rules) against the committed
#                               image of the released v1 API, protos/audioproc/v1/v1.image.json
#   buf_test.sh breaking_fails  the check can fail: a copy of the proto with one field deleted
#                               is refused, and buf names the deleted field
# buf is npm's @bufbuild/buf (node_modules/.bin/buf, from `.ci/install-deps --npm`).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mode="${1:?usage: buf_test.sh lint|breaking|breaking_fails}"
buf="${BUF:-$root/node_modules/.bin/buf}"
image="$root/protos/audioproc/v1/v1.image.json"
if [[ ! -x "$buf" ]]; then
  echo "FAIL: $buf is missing: run .ci/install-deps --npm" >&2
  exit 1
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/audioproc-buf-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export BUF_CACHE_DIR="$work/cache"
cd "$root"
case "$mode" in
  lint)
    "$buf" lint
    echo "PASS: buf lint"
    ;;
  breaking)
    "$buf" breaking --against "$image"
    echo "PASS: buf breaking against $image"
    ;;
  breaking_fails)
    mkdir -p "$work/repo/protos/audioproc/v1"
    cp buf.yaml "$work/repo/"
    proto="$work/repo/protos/audioproc/v1/audioproc.proto"
    # Delete Analysis.spectral_centroid_hz (field 3).
    grep -v '^  float spectral_centroid_hz = 3;$' protos/audioproc/v1/audioproc.proto > "$proto"
    if cmp -s "$proto" protos/audioproc/v1/audioproc.proto; then
      echo "FAIL: the field to delete (Analysis.spectral_centroid_hz) is not in the proto" >&2
      exit 1
    fi
    set +e
    output="$(cd "$work/repo" && "$buf" breaking --against "$image" 2>&1)"
    code=$?
    set -e
    echo "$output"
    if ((code == 0)); then
      echo "FAIL: buf breaking accepted a proto with a deleted field" >&2
      exit 1
    fi
    if ! grep -q 'field "3" with name "spectral_centroid_hz" on message "Analysis" was deleted' <<<"$output"; then
      echo "FAIL: buf breaking failed (exit $code) without naming the deleted field" >&2
      exit 1
    fi
    echo "PASS: buf breaking refuses the deleted field Analysis.spectral_centroid_hz (exit $code)"
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
