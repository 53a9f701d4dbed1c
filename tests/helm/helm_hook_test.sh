#!/usr/bin/env bash
# The chart's `helm test` hook, run as its pod would run it: for each TLS mode the chart is
# rendered with `helm template`, the hook Pod's command and args are taken from it, and that
# command runs against the real audioproc-server, started here on a free loopback port with
# the certificates the mode's Secrets would hold. Only what a cluster would provide is
# replaced: the Service's host:port by the local server's (the host by `localhost`, which the
# server certificate names beside the Service's full name, so the name check still checks the
# host dialled), each mounted Secret by a directory holding the keys the pod would see
# (its `items` only), and /usr/local/bin/audioproc-client by the built client.
#
# Modes: plaintext; TLS verified with the Secret's ca.crt; TLS without a CA key (tls.caKey="",
# a Secret from `kubectl create secret tls`), verified with the system roots (pointed at the
# test CA through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, as a public CA would be); TLS with
# tests.tls.serverName; mutual TLS with the client certificate Secret and bearer tokens. Each
# must stream and pass --check; a wrong CA, a wrong server name and a missing client
# certificate must fail, and a Secret without ca.crt must fail to mount with the default caKey.
#
#   helm_hook_test.sh AUDIOPROC_CLIENT AUDIOPROC_SERVER
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 AUDIOPROC_CLIENT AUDIOPROC_SERVER" >&2
  exit 2
fi
client="$(realpath "$1")"
server="$(realpath "$2")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
helm="${HELM:-$root/.tools/helm}"
chart="$root/helm/audioproc"
python=/usr/bin/python3
for tool in "$helm" "$client" "$server"; do
  if [[ ! -x "$tool" ]]; then
    echo "helm_hook_test: $tool is missing" >&2
    exit 1
  fi
done

tmp="$(mktemp -d)"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# --- certificates: the Secrets' contents ---------------------------------------------------
# A CA; a server certificate naming the Service's full name (release audioproc, namespace
# default), localhost and audioproc.example.com; a client certificate; and an unrelated CA.
certs="$tmp/certs"
mkdir -p "$certs"
(
  cd "$certs"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 2 -subj /CN=test-ca -keyout ca.key -out ca.crt
  openssl req -x509 "${ec[@]}" -days 2 -subj /CN=other-ca -keyout other-ca.key -out other-ca.crt
  printf 'subjectAltName=DNS:audioproc.default.svc,DNS:localhost,DNS:audioproc.example.com\n' >server.ext
  openssl req "${ec[@]}" -subj /CN=audioproc -keyout server.key -out server.csr
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.crt
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl req "${ec[@]}" -subj /CN=helm-test -keyout client.key -out client.csr
  openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile client.ext -out client.crt
  printf '# tokens\nsecret-token-1\n' >tokens
  printf 'revoked-token\n' >other-tokens
) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log"; exit 1; }

# The Secrets a cluster would hold, as JSON: name -> {key: local file}.
secrets() {
  local ca="${1:-$certs/ca.crt}"
  cat <<EOF
{"audioproc-tls": {"tls.crt": "$certs/server.crt", "tls.key": "$certs/server.key", "ca.crt": "$ca"},
 "audioproc-tls-no-ca": {"tls.crt": "$certs/server.crt", "tls.key": "$certs/server.key"},
 "audioproc-client-tls": {"tls.crt": "$certs/client.crt", "tls.key": "$certs/client.key"},
 "audioproc-tokens": {"tokens": "$certs/tokens"}}
EOF
}

# --- the server ----------------------------------------------------------------------------
# start_server FLAGS...: the real server on free ports; sets $port.
start_server() {
  stop_server
  rm -f "$tmp/port"
  "$server" --port=0 --metrics_port=0 --port_file="$tmp/port" --log_level=warning "$@" \
    >"$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    [[ -s "$tmp/port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  port="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["grpc"])' "$tmp/port" 2>/dev/null)" || {
    echo "server did not start:"
    cat "$tmp/server.log"
    exit 1
  }
}

# --- the hook's command, as its pod runs it ------------------------------------------------
# run_hook NAME EXPECT SECRETS_JSON [--drop-arg PREFIX]... [--env K=V]... -- HELM ARGS...
# EXPECT: 0 (streams, and the summary shows 2 s in and out), or fail:TEXT (exits non-zero
# saying TEXT).
runs=0
run_hook() {
  local name="$1" want="$2" secrets_json="$3"
  shift 3
  local extra=()
  while [[ $1 != -- ]]; do extra+=("$1"); shift; done
  shift
  if ! "$helm" template audioproc "$chart" --namespace default \
      --show-only templates/tests/test-stream.yaml "$@" >"$tmp/hook.yaml" 2>"$tmp/helm.err"; then
    fail "$name: helm template"
    cat "$tmp/helm.err"
    return
  fi
  local rc=0
  runs=$((runs + 1))
  "$python" - "$tmp/hook.yaml" "$secrets_json" "$tmp/mounts-$runs" "$client" "$port" "${extra[@]}" \
    >"$tmp/hook.out" 2>&1 <<'PY' || rc=$?
import json, os, re, shutil, subprocess, sys

hook_path, secrets, mounts_dir, client, port = sys.argv[1:6]
secrets = json.loads(secrets)
drop, env = [], dict(os.environ)
rest = sys.argv[6:]
while rest:
    flag, value = rest[0], rest[1]
    rest = rest[2:]
    if flag == "--drop-arg":
        drop.append(value)
    elif flag == "--env":
        k, v = value.split("=", 1)
        env[k] = v
import yaml
pod = yaml.safe_load(open(hook_path))
assert pod["kind"] == "Pod" and pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
container = pod["spec"]["containers"][0]
argv = list(container.get("command") or []) + list(container.get("args") or [])

# Each mounted Secret becomes a directory with the files the kubelet would project: the
# listed items, or every key. A key the Secret lacks fails, as the pod would fail to start.
volumes = {v["name"]: v["secret"] for v in pod["spec"].get("volumes", [])}
replace = {"/usr/local/bin/audioproc-client": client}
for mount in container.get("volumeMounts", []):
    secret = volumes[mount["name"]]
    data = secrets.get(secret["secretName"])
    if data is None:
        sys.exit(f"Secret {secret['secretName']} does not exist: the pod would not start")
    items = secret.get("items") or [{"key": k, "path": k} for k in data]
    local = os.path.join(mounts_dir, mount["name"])
    os.makedirs(local, exist_ok=True)
    for item in items:
        if item["key"] not in data:
            sys.exit(f"Secret {secret['secretName']} has no key {item['key']}: "
                     f"the volume {mount['name']} would not mount")
        shutil.copy(data[item["key"]], os.path.join(local, item["path"]))
    replace[mount["mountPath"].rstrip("/") + "/"] = local + "/"

# The Service's address becomes the local server's; the host keeps the name check honest.
out = []
for arg in argv:
    if arg.startswith("--addr="):
        host, _, _ = arg[len("--addr="):].rpartition(":")
        assert host == "audioproc.default.svc", f"the hook dials {host}, not the Service's full name"
        arg = f"--addr=localhost:{port}"
    for old, new in replace.items():
        arg = arg.replace(old, new)
    if any(arg.startswith(p) for p in drop):
        continue
    out.append(arg)
assert "/etc/audioproc" not in " ".join(out), out
print("running:", " ".join(out))
sys.stdout.flush()
sys.exit(subprocess.run(out, env=env).returncode)
PY
  if [[ $want == 0 && $rc == 0 ]]; then
    pass "$name: the hook streams and its check passes"
  elif [[ $want == fail:* && $rc != 0 ]] && grep -qF -- "${want#fail:}" "$tmp/hook.out"; then
    pass "$name: the hook fails ($(tail -1 "$tmp/hook.out"))"
  else
    fail "$name: exit $rc, wanted $want"
    cat "$tmp/hook.out"
  fi
  if [[ $want == 0 ]] && ! grep -q "frames in/out: 32000 / 32000" "$tmp/hook.out"; then
    fail "$name: the summary shows 2 s of 16 kHz audio in and out"
    cat "$tmp/hook.out"
  fi
}

tls=(--set tls.enabled=true --set tls.secretName=audioproc-tls)
server_tls=(--tls_cert="$certs/server.crt" --tls_key="$certs/server.key")

# Plaintext.
start_server
run_hook plaintext 0 "$(secrets)" --
# A hook that dials a closed port fails (the check is not vacuous).
saved_port=$port
port=1
run_hook "plaintext, nothing listening" "fail:UNAVAILABLE" "$(secrets)" --
port=$saved_port

# TLS, verified with the Secret's ca.crt.
start_server "${server_tls[@]}"
run_hook "TLS with the CA" 0 "$(secrets)" -- "${tls[@]}"
run_hook "TLS with another CA in ca.crt" "fail:certificate verify failed" "$(secrets "$certs/other-ca.crt")" -- "${tls[@]}"
# `kubectl create secret tls` makes no ca.crt: with the default caKey the pod cannot start...
run_hook "TLS, Secret without ca.crt, default caKey" "fail:has no key ca.crt" "$(secrets)" -- \
  --set tls.enabled=true --set tls.secretName=audioproc-tls-no-ca
# ...and with tls.caKey="" the hook verifies the server with the system roots (a public CA
# in a cluster; the test CA here, through gRPC's roots override).
run_hook "TLS without a CA key (system roots)" 0 "$(secrets)" \
  --env GRPC_DEFAULT_SSL_ROOTS_FILE_PATH="$certs/ca.crt" -- \
  --set tls.enabled=true --set tls.secretName=audioproc-tls-no-ca --set tls.caKey=
run_hook "TLS without a CA key, server not in the system roots" "fail:certificate verify failed" "$(secrets)" \
  --env GRPC_DEFAULT_SSL_ROOTS_FILE_PATH="$certs/other-ca.crt" -- \
  --set tls.enabled=true --set tls.secretName=audioproc-tls-no-ca --set tls.caKey=
# tests.tls.serverName: checked instead of the host dialled.
run_hook "TLS with tests.tls.serverName" 0 "$(secrets)" -- "${tls[@]}" \
  --set tests.tls.serverName=audioproc.example.com
run_hook "TLS with a server name the certificate lacks" "fail:not in peer certificate" "$(secrets)" -- "${tls[@]}" \
  --set tests.tls.serverName=other.example.com

# Mutual TLS and bearer tokens.
start_server "${server_tls[@]}" --tls_client_ca="$certs/ca.crt" --auth_tokens_file="$certs/tokens"
mtls=("${tls[@]}" --set tls.mutual=true --set tests.tls.clientSecretName=audioproc-client-tls
  --set auth.enabled=true --set auth.secretName=audioproc-tokens)
run_hook "mutual TLS with tokens" 0 "$(secrets)" -- "${mtls[@]}"
run_hook "mutual TLS without the client certificate" "fail:UNAVAILABLE" "$(secrets)" \
  --drop-arg --tls_cert= --drop-arg --tls_key= -- "${mtls[@]}"
run_hook "mutual TLS, client certificate Secret missing" "fail:does not exist" \
  "$("$python" -c 'import json,sys; d=json.loads(sys.argv[1]); d.pop("audioproc-client-tls"); print(json.dumps(d))' "$(secrets)")" \
  -- "${mtls[@]}"
run_hook "mutual TLS with a token the server does not know" "fail:UNAUTHENTICATED" \
  "$(secrets | sed "s|$certs/tokens|$certs/other-tokens|")" -- "${mtls[@]}"
stop_server

echo "$passed passed, $failed failed"
((failed == 0))
