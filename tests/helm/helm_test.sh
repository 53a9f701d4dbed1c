#!/usr/bin/env bash
# Checks of the Helm chart helm/audioproc, no cluster needed: `helm lint --strict`, then
# `helm template` with the default values, with every option on (TLS, tokens, ServiceMonitor,
# headless Service, explicit budgets), with mutual TLS, and as a release named prod with the
# optional objects on (NetworkPolicy, GRPCRoute, Ingress, PrometheusRule, dashboard ConfigMap,
# dual stack, HPA metrics passed through), asserting properties of the rendered objects (gRPC
# probes on the right port, preStop sleep and a grace period longer than it and the drain,
# topology spread, restricted securityContext, the AUDIOPROC_* ConfigMap with the budget flags
# left to the server's cgroup-derived defaults or set, Guaranteed resources, appProtocol
# kubernetes.io/h2c, HPA, PDB, the streaming `helm test` hook in each TLS mode, the prod
# ServiceMonitor's job relabelled to what every rule selects, through promtool too), the HPA's
# options and their targets, and that bad values are refused by values.schema.json or by the
# chart's own checks.
#
# Uses .tools/helm (from `.ci/install-deps --npm`) and /usr/bin/python3 with python3-yaml.
# Runs from any directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
helm="$root/.tools/helm"
chart="$root/helm/audioproc"
python=/usr/bin/python3

if [[ ! -x "$helm" ]]; then
  echo "helm_test: $helm is missing; run .ci/install-deps --npm" >&2
  exit 1
fi
if ! "$python" -c 'import yaml' 2>/dev/null; then
  echo "helm_test: $python lacks PyYAML; run .ci/install-deps (python3-yaml)" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# Every option on at once; then mutual TLS on top.
full=(
  --set tls.enabled=true --set tls.secretName=audioproc-tls
  --set auth.enabled=true --set auth.secretName=audioproc-tokens
  --set resume.enabled=true --set resume.secretName=audioproc-resume
  --set metrics.serviceMonitor.enabled=true --set headless.enabled=true
  --set server.workers=2 --set server.cqThreads=2 --set server.drainSeconds=120
  # Explicit budgets. Fractions need --set-json: `--set` passes 1.5 on as a string.
  --set server.memoryBudgetBytes=805306368 --set-json server.cpuBudget=1.5
  --set server.resourceQuotaBytes=100663296 --set server.maxFileOutputBytes=67108864
  --set server.cgroupRoot=/host/cgroup
)
mtls=("${full[@]}" --set tls.mutual=true --set tests.tls.clientSecretName=audioproc-client-tls)
# The optional objects (NetworkPolicy, GRPCRoute, Ingress, PrometheusRule, dashboard), dual
# stack and HPA metrics passed through, for a release named prod.
extras=(
  --set metrics.serviceMonitor.enabled=true --set metrics.prometheusRule.enabled=true
  --set metrics.dashboard.enabled=true --set networkPolicy.enabled=true
  --set-json 'networkPolicy.grpcFrom=[{"namespaceSelector":{"matchLabels":{"team":"voice"}}}]'
  --set-json 'networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"name":"monitoring"}}}]'
  --set grpcRoute.enabled=true --set-json 'grpcRoute.parentRefs=[{"name":"public","namespace":"gateways"}]'
  --set 'grpcRoute.hostnames={audio.example.com}'
  --set ingress.enabled=true --set ingress.className=nginx --set 'ingress.hosts={audio.example.com}'
  --set service.ipFamilyPolicy=PreferDualStack --set 'service.ipFamilies={IPv6,IPv4}'
  --set-json 'autoscaling.metrics=[{"type":"Pods","pods":{"metric":{"name":"audioproc_cpu_budget_saturation"},"target":{"type":"AverageValue","averageValue":"700m"}}}]'
)

# --- lint ------------------------------------------------------------------------------------
if out="$("$helm" lint --strict "$chart" 2>&1)"; then pass "helm lint --strict (defaults)"
else fail "helm lint --strict (defaults)"; echo "$out"; fi
if out="$("$helm" lint --strict "$chart" "${full[@]}" 2>&1)"; then pass "helm lint --strict (all options)"
else fail "helm lint --strict (all options)"; echo "$out"; fi
if out="$("$helm" lint --strict "$chart" "${mtls[@]}" 2>&1)"; then pass "helm lint --strict (mutual TLS)"
else fail "helm lint --strict (mutual TLS)"; echo "$out"; fi

# --- rendered objects ------------------------------------------------------------------------
# check MODE FILE: assertions on the objects of a `helm template` output; prints ok:/FAIL:
# lines and exits non-zero on any failure.
check() {
  "$python" - "$1" "$2" <<'PY'
import sys, yaml

mode, path = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
failures = 0

def expect(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + f"[{mode}] {what}")
    if not cond:
        failures += 1

def objects(kind):
    return [d for d in docs if d.get("kind") == kind]

def one(kind, pred=lambda d: True):
    found = [d for d in objects(kind) if pred(d)]
    return found[0] if len(found) == 1 else None

is_hook = lambda d: "helm.sh/hook" in (d["metadata"].get("annotations") or {})

dep = one("Deployment")
expect(dep is not None, "exactly one Deployment")
if dep is None:
    sys.exit(1)
pod = dep["spec"]["template"]["spec"]
containers = pod["containers"]
expect(len(containers) == 1, "one server container")
c = containers[0]
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}

cm = one("ConfigMap", lambda d: d["metadata"]["name"].endswith("-env"))
expect(cm is not None, "exactly one flags ConfigMap (<fullname>-env)")
env = cm["data"] if cm else {}
expect(all(k.startswith("AUDIOPROC_") for k in env), "ConfigMap holds only AUDIOPROC_* keys")
expect(all(isinstance(v, str) for v in env.values()), "ConfigMap values are strings")
expect(not any("e+" in v for v in env.values()), "no number rendered in exponent form")
expect({"configMapRef": {"name": cm["metadata"]["name"]}} in (c.get("envFrom") or []) if cm else False,
       "server container loads the ConfigMap with envFrom")
expect(pod.get("enableServiceLinks") is False,
       "service links off (no AUDIOPROC_PORT=tcp://... from a Service named audioproc)")

# DESIGN §5 defaults, as environment variables.
defaults = {
    "AUDIOPROC_PORT": "50051", "AUDIOPROC_METRICS_PORT": "9090",
    "AUDIOPROC_MAX_STREAMS": "1000", "AUDIOPROC_MAX_CHAIN_LENGTH": "32",
    "AUDIOPROC_STREAM_QUEUE_CHUNKS": "8", "AUDIOPROC_MAX_CHUNK_BYTES": "1048576",
    "AUDIOPROC_MAX_MESSAGE_BYTES": "34603008", "AUDIOPROC_MAX_FILE_BYTES": "33554432",
    "AUDIOPROC_MAX_FILE_SECONDS": "3600", "AUDIOPROC_FILE_WORKERS": "1",
    "AUDIOPROC_MAX_STREAM_SECONDS": "14400", "AUDIOPROC_IDLE_TIMEOUT_SECONDS": "60",
    "AUDIOPROC_KEEPALIVE_TIME_SECONDS": "60", "AUDIOPROC_KEEPALIVE_TIMEOUT_SECONDS": "20",
    "AUDIOPROC_MAX_CONNECTION_AGE_SECONDS": "0", "AUDIOPROC_MAX_CONNECTION_AGE_GRACE_SECONDS": "0",
    "AUDIOPROC_REFLECTION": "true", "AUDIOPROC_LOG_FORMAT": "json", "AUDIOPROC_LOG_LEVEL": "info",
    "AUDIOPROC_MAX_STREAM_COST": "0.5", "AUDIOPROC_MAX_RESPONSE_BYTES": "4194304",
    "AUDIOPROC_MAX_EVENTS_PER_RESPONSE": "1024",
}
if mode in ("default", "extras"):
    defaults["AUDIOPROC_DRAIN_SECONDS"] = "30"
    defaults["AUDIOPROC_HEALTH_PORT"] = "0"
for k, v in defaults.items():
    expect(env.get(k) == v, f"{k}={v!r} (got {env.get(k)!r})")

drain = int(env.get("AUDIOPROC_DRAIN_SECONDS", "-1"))
grace = pod.get("terminationGracePeriodSeconds")
# preStop: a sleep while the pod leaves every proxy's endpoints, then SIGTERM and the drain,
# all within the grace period (it counts from the deletion, the preStop hook included).
pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {}).get("exec", {}).get("command")
expect(pre_stop == ["/bin/sleep", "5"], f"preStop hook sleeps 5 s (got {pre_stop})")
sleep = int(pre_stop[-1]) if pre_stop else 0
expect(isinstance(grace, int) and grace > drain + sleep,
       f"terminationGracePeriodSeconds ({grace}) > preStop sleep + drain seconds ({sleep} + {drain})")
# Spread over zones and nodes by default, selecting the Deployment's own pods.
tsc = pod.get("topologySpreadConstraints") or []
expect([t.get("topologyKey") for t in tsc] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
       and all(t.get("labelSelector", {}).get("matchLabels") == dep["spec"]["selector"]["matchLabels"]
               and t.get("whenUnsatisfiable") == "ScheduleAnyway" for t in tsc),
       f"topologySpreadConstraints over zones and nodes, selecting the release's pods (got {tsc})")

# Probes: native gRPC, on the health port with TLS, else on the gRPC port.
tls = mode in ("full", "mtls")
probe_port = 8081 if tls else 50051
for name in ("livenessProbe", "readinessProbe", "startupProbe"):
    p = c.get(name) or {}
    expect(p.get("grpc") == {"port": probe_port, "service": ""},
           f"{name} is grpc on port {probe_port} with service \"\" (got {p})")
    expect(not ({"httpGet", "tcpSocket", "exec"} & p.keys()), f"{name} has no other handler")
if tls:
    expect(env.get("AUDIOPROC_HEALTH_PORT") == "8081", "TLS: health port 8081 in the ConfigMap")
    expect(ports.get("health") == 8081, "TLS: health container port 8081")
else:
    expect("health" not in ports, "no TLS: no health container port")
expect(ports.get("grpc") == 50051 and ports.get("metrics") == 9090, "grpc and metrics container ports")

# Restricted securityContext (Pod Security Standard "restricted").
psc = pod.get("securityContext") or {}
csc = c.get("securityContext") or {}
expect(psc.get("runAsNonRoot") is True, "pod runAsNonRoot")
expect(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccompProfile RuntimeDefault")
expect(csc.get("runAsNonRoot") is True, "container runAsNonRoot")
expect(csc.get("allowPrivilegeEscalation") is False, "container allowPrivilegeEscalation false")
expect(csc.get("readOnlyRootFilesystem") is True, "container readOnlyRootFilesystem")
expect(csc.get("capabilities", {}).get("drop") == ["ALL"] and not csc.get("capabilities", {}).get("add"),
       "container drops ALL capabilities, adds none")
expect(csc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "container seccompProfile RuntimeDefault")
expect(csc.get("privileged") in (None, False), "container not privileged")
expect(isinstance(csc.get("runAsUser"), int) and csc["runAsUser"] != 0, "container runs as a non-zero uid")
# The budgets' defaults are shares of the cgroup limits, so both limits are there; requests
# equal them (Guaranteed QoS), so the cores the CPU budget counts on are the pod's.
res = c.get("resources") or {}
expect(all(res.get(a, {}).get(b) for a in ("requests", "limits") for b in ("cpu", "memory")),
       "resources: cpu and memory requests and limits")
expect(res.get("requests") == res.get("limits"), f"resources: requests equal limits (Guaranteed QoS) (got {res})")
budget_flags = {
    "AUDIOPROC_MEMORY_BUDGET_BYTES": "805306368", "AUDIOPROC_CPU_BUDGET": "1.5",
    "AUDIOPROC_RESOURCE_QUOTA_BYTES": "100663296", "AUDIOPROC_MAX_FILE_OUTPUT_BYTES": "67108864",
    "AUDIOPROC_CGROUP_ROOT": "/host/cgroup",
}
if mode in ("default", "budget", "extras"):
    expect(not set(budget_flags) & set(env),
           f"budgets, transport quota, file output bound and cgroup root left to the server's defaults "
           f"(got {sorted(set(budget_flags) & set(env))})")
else:
    for k, v in budget_flags.items():
        expect(env.get(k) == v, f"{k}={v!r} (got {env.get(k)!r})")

ann = dep["spec"]["template"]["metadata"].get("annotations") or {}
expect(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9090"
       and ann.get("prometheus.io/path") == "/metrics", "prometheus scrape annotations")
expect("checksum/config" in ann, "config checksum annotation rolls pods on flag changes")

# Service: grpc (appProtocol kubernetes.io/h2c in plaintext; none under TLS) and metrics.
svcs = [s for s in objects("Service") if s["spec"].get("clusterIP") != "None"]
expect(len(svcs) == 1, "one ClusterIP Service")
want_app = None if tls else "kubernetes.io/h2c"
for s in objects("Service"):
    sp = {p["name"]: p for p in s["spec"]["ports"]}
    expect(sp.get("grpc", {}).get("appProtocol") == want_app,
           f"Service {s['metadata']['name']}: grpc appProtocol {want_app} (got {sp.get('grpc', {}).get('appProtocol')})")
    if mode == "extras":
        expect(s["spec"].get("ipFamilyPolicy") == "PreferDualStack" and s["spec"].get("ipFamilies") == ["IPv6", "IPv4"],
               f"Service {s['metadata']['name']}: dual stack from service.ipFamilyPolicy/ipFamilies")
    else:
        expect("ipFamilyPolicy" not in s["spec"] and "ipFamilies" not in s["spec"],
               f"Service {s['metadata']['name']}: IP families left to the cluster by default")
if svcs:
    sp = {p["name"]: p for p in svcs[0]["spec"]["ports"]}
    expect(sp.get("grpc", {}).get("port") == 50051, "Service port grpc 50051")
    expect(sp.get("metrics", {}).get("port") == 9090, "Service port metrics 9090")
    expect(svcs[0]["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"],
           "Service selects the Deployment's pods")
headless = [s for s in objects("Service") if s["spec"].get("clusterIP") == "None"]
expect(len(headless) == (1 if tls else 0), "headless Service only when enabled")

# HPA and PDB.
hpa = one("HorizontalPodAutoscaler")
expect(hpa is not None and hpa["apiVersion"] == "autoscaling/v2", "HorizontalPodAutoscaler autoscaling/v2")
if hpa:
    expect(hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"], "HPA targets the Deployment")
    metrics = hpa["spec"]["metrics"]
    if mode == "extras":
        expect(metrics == [{"type": "Pods", "pods": {"metric": {"name": "audioproc_cpu_budget_saturation"},
                                                     "target": {"type": "AverageValue", "averageValue": "700m"}}}],
               f"HPA metrics passed through from autoscaling.metrics (got {metrics})")
    elif mode == "budget":
        # committed / budget per pod from prometheus-adapter, targets as quantities (700m = 0.7).
        want = [{"type": "Pods", "pods": {"metric": {"name": name},
                                          "target": {"type": "AverageValue", "averageValue": value}}}
                for name, value in (("audioproc_cpu_budget_saturation", "700m"),
                                    ("audioproc_memory_budget_saturation", "800m"))]
        expect(metrics == want, f"HPA scales on CPU and memory budget saturation per pod (got {metrics})")
    else:
        expect(metrics == [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 60}}}],
            f"HPA scales on CPU utilization, 60% of the request (got {metrics})")
    expect("replicas" not in dep["spec"], "Deployment leaves replicas to the HPA")
pdb = one("PodDisruptionBudget")
expect(pdb is not None and pdb["apiVersion"] == "policy/v1", "PodDisruptionBudget policy/v1")
if pdb:
    expect(pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"],
           "PDB selects the Deployment's pods")

# helm test hook: the audioproc image streaming a generated signal through a chain to the
# Service's full DNS name and checking the summary, in every TLS mode
# (tests/helm/helm_hook_test.sh runs the very command against the real server).
hooks = [d for d in objects("Pod") if is_hook(d)]
expect(len(hooks) == 1 and hooks[0]["metadata"]["annotations"]["helm.sh/hook"] == "test",
       "one helm test hook Pod")
if hooks:
    hook = hooks[0]
    hc = hook["spec"]["containers"][0]
    command, args = hc.get("command") or [], hc.get("args") or []
    expect(hc["image"] == c["image"], "test hook uses the release's image")
    expect(any("/usr/local/bin/audioproc-client" in x for x in command), "test hook runs audioproc-client")
    expect("--check" in args and "--generate_seconds=2" in args
           and "--chain=highpass:cutoff_hz=80,limiter:ceiling_db=-1" in args,
           f"test hook streams 2 s of generated signal through highpass,limiter and checks the summary (got {args})")
    svc_name = svcs[0]["metadata"]["name"] if svcs else "?"
    expect(f"--addr={svc_name}.default.svc:50051" in args,
           f"test hook dials the Service's full name {svc_name}.default.svc:50051, as NOTES.txt does")
    expect(hc.get("securityContext", {}).get("allowPrivilegeEscalation") is False,
           "test hook is restricted too")
    expect(hook["spec"].get("restartPolicy") == "Never", "test hook restartPolicy Never")
    expect(hook["metadata"]["labels"].get("app.kubernetes.io/component") == "test",
           "test hook is not selected by the Service")
    hvols = {v["name"]: v["secret"] for v in hook["spec"].get("volumes", [])}
    hmounts = {m["name"]: m["mountPath"] for m in hc.get("volumeMounts", [])}
    if tls:
        expect("--tls_ca=/etc/audioproc/tls/ca.crt" in args, "test hook verifies the server with the CA")
        expect("AUDIOPROC_TOKEN=" in " ".join(command), "test hook sends a token from the tokens file")
        expect(hvols.get("tls-ca", {}).get("items") == [{"key": "ca.crt", "path": "ca.crt"}],
               "test hook mounts only the CA of the server's Secret, not its key")
    else:
        expect(not any(a.startswith("--tls") for a in args) and not hvols, "plaintext: no TLS flags, no Secrets")
    if mode == "mtls":
        expect("--tls_cert=/etc/audioproc/client-tls/tls.crt" in args
               and "--tls_key=/etc/audioproc/client-tls/tls.key" in args,
               "mutual TLS: test hook presents the client certificate")
        expect(hvols.get("client-tls", {}).get("secretName") == "audioproc-client-tls"
               and hmounts.get("client-tls") == "/etc/audioproc/client-tls",
               "mutual TLS: the client certificate from tests.tls.clientSecretName")
    else:
        expect("client-tls" not in hvols, "no client certificate without mutual TLS")

# Optional objects: only when enabled.
optional = {"NetworkPolicy": "networking.k8s.io/v1", "GRPCRoute": "gateway.networking.k8s.io/v1",
            "Ingress": "networking.k8s.io/v1", "PrometheusRule": "monitoring.coreos.com/v1"}
for kind, api in optional.items():
    found = objects(kind)
    if mode == "extras":
        expect(len(found) == 1 and found[0]["apiVersion"] == api, f"{kind} {api} when enabled")
    else:
        expect(not found, f"no {kind} by default")
dashboards = [d for d in objects("ConfigMap") if "audioproc-dashboard.json" in (d.get("data") or {})]
expect(len(dashboards) == (1 if mode == "extras" else 0), "dashboard ConfigMap only when enabled")
if mode == "extras":
    import json, re
    board = json.loads(dashboards[0]["data"]["audioproc-dashboard.json"]) if dashboards else {}
    expect(board.get("uid") and dashboards[0]["metadata"]["labels"].get("grafana_dashboard") == "1",
           "dashboard ConfigMap: the dashboard JSON, labelled for Grafana's sidecar")
    np = one("NetworkPolicy") or {"spec": {}}
    rules = np["spec"].get("ingress", [])
    grpc_rule = [r for r in rules if r["ports"][0]["port"] == "grpc"]
    expect(np["spec"].get("podSelector", {}).get("matchLabels") == dep["spec"]["selector"]["matchLabels"]
           and np["spec"].get("policyTypes") == ["Ingress"], "NetworkPolicy selects the server pods, ingress only")
    expect(bool(grpc_rule) and {"namespaceSelector": {"matchLabels": {"team": "voice"}}} in grpc_rule[0]["from"]
           and any(p.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "test"
                   for p in grpc_rule[0]["from"]),
           "NetworkPolicy: gRPC from grpcFrom and from the helm test pod")
    route = one("GRPCRoute") or {"spec": {}}
    expect(route["spec"].get("parentRefs") == [{"name": "public", "namespace": "gateways"}]
           and route["spec"].get("hostnames") == ["audio.example.com"]
           and route["spec"].get("rules") == [{"backendRefs": [{"name": "prod-audioproc", "port": 50051}]}],
           f"GRPCRoute: the Gateway, the host name, the Service's gRPC port (got {route['spec']})")
    ing = one("Ingress") or {"spec": {}, "metadata": {}}
    expect((ing["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/backend-protocol") == "GRPC"
           and ing["spec"].get("ingressClassName") == "nginx"
           and ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"] == {"name": "prod-audioproc", "port": {"name": "grpc"}},
           "Ingress: HTTP/2 (GRPC) to the Service's gRPC port")
    # A release named prod: the ServiceMonitor relabels the job to audioproc, and every job
    # selector of the PrometheusRule's expressions is that job.
    sm = one("ServiceMonitor") or {"spec": {"endpoints": [{}]}, "metadata": {}}
    relabel = sm["spec"]["endpoints"][0].get("relabelings") or []
    jobs = [r.get("replacement") for r in relabel if r.get("targetLabel") == "job"]
    expect(jobs == ["audioproc"] and sm["metadata"].get("name") == "prod-audioproc",
           f"ServiceMonitor of prod-audioproc relabels job to audioproc (got {jobs})")
    pr = one("PrometheusRule") or {"spec": {"groups": []}}
    exprs = [r["expr"] for g in pr["spec"]["groups"] for r in g["rules"]]
    names = {r.get("alert") for g in pr["spec"]["groups"] for r in g["rules"]} - {None}
    selectors = [m for e in exprs for m in re.findall(r'\bjob\s*(=~|!=|!~|=)\s*"([^"]*)"', e)]
    expect(len(exprs) > 30 and {"AudioprocTargetsAbsent", "AudioprocLatencyErrorBudgetFastBurn",
                                 "AudioprocContainerOOMKilled"} <= names,
           f"PrometheusRule carries the recording and alert rules ({len(exprs)} rules)")
    expect(bool(selectors) and all(s == ("=", jobs[0] if jobs else None) for s in selectors),
           f"every job selector of the rules matches the ServiceMonitor's job (got {sorted(set(selectors))})")
    open(path + ".rules.yml", "w").write(yaml.safe_dump({"groups": pr["spec"]["groups"]}))

sm = objects("ServiceMonitor")
if tls:
    expect(len(sm) == 1 and sm[0]["apiVersion"] == "monitoring.coreos.com/v1", "ServiceMonitor when enabled")
    if sm:
        expect(sm[0]["spec"]["endpoints"][0]["port"] == "metrics", "ServiceMonitor scrapes the metrics port")
    # TLS and tokens: paths in the ConfigMap point into mounted Secrets.
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    expect(env.get("AUDIOPROC_TLS_CERT") == "/etc/audioproc/tls/tls.crt", "TLS cert path")
    expect(env.get("AUDIOPROC_TLS_KEY") == "/etc/audioproc/tls/tls.key", "TLS key path")
    if mode == "mtls":
        expect(env.get("AUDIOPROC_TLS_CLIENT_CA") == "/etc/audioproc/tls/ca.crt", "mutual TLS client CA path")
    else:
        expect("AUDIOPROC_TLS_CLIENT_CA" not in env, "no client CA without tls.mutual")
    expect(env.get("AUDIOPROC_AUTH_TOKENS_FILE") == "/etc/audioproc/auth/tokens", "auth tokens file path")
    expect(mounts.get("tls", {}).get("mountPath") == "/etc/audioproc/tls" and "subPath" not in mounts.get("tls", {}),
           "TLS Secret mounted as a directory (no subPath, so rotation reaches the server)")
    expect(vols.get("tls", {}).get("secret", {}).get("secretName") == "audioproc-tls", "TLS Secret volume")
    expect(vols.get("auth", {}).get("secret", {}).get("secretName") == "audioproc-tokens", "tokens Secret volume")
    expect(env.get("AUDIOPROC_RESUME_KEY_FILE") == "/etc/audioproc/resume/key", "resume key file path")
    expect(env.get("AUDIOPROC_RESUME_TOKEN_TTL_SECONDS") == "300"
           and env.get("AUDIOPROC_MAX_RESUME_TOKEN_BYTES") == "1048576", "resume token ttl and size")
    expect(mounts.get("resume", {}).get("mountPath") == "/etc/audioproc/resume"
           and "subPath" not in mounts.get("resume", {}), "resume key Secret mounted as a directory")
    expect(vols.get("resume", {}).get("secret", {}).get("secretName") == "audioproc-resume", "resume key Secret volume")
    expect(env.get("AUDIOPROC_WORKERS") == "2" and env.get("AUDIOPROC_CQ_THREADS") == "2",
           "server.workers/cqThreads -> AUDIOPROC_WORKERS/AUDIOPROC_CQ_THREADS")
else:
    expect(bool(sm) == (mode == "extras"), "no ServiceMonitor by default")
    expect(not any(k.startswith("AUDIOPROC_TLS") or k.startswith("AUDIOPROC_RESUME")
                   or k == "AUDIOPROC_AUTH_TOKENS_FILE" for k in env),
           "no TLS, token or resume key paths by default")
    expect("AUDIOPROC_WORKERS" not in env and "AUDIOPROC_CQ_THREADS" not in env,
           "workers and cq_threads left to the server's default")

sys.exit(1 if failures else 0)
PY
}

for mode in default full mtls budget extras; do
  args=()
  release=audioproc
  [[ $mode == full ]] && args=("${full[@]}")
  [[ $mode == mtls ]] && args=("${mtls[@]}")
  [[ $mode == budget ]] && args=(--set autoscaling.scaleOn=budget)
  [[ $mode == extras ]] && args=("${extras[@]}") && release=prod
  if "$helm" template "$release" "$chart" "${args[@]}" >"$tmp/$mode.yaml" 2>"$tmp/$mode.err"; then
    pass "helm template ($mode)"
    if check "$mode" "$tmp/$mode.yaml" >"$tmp/$mode.check"; then
      pass "rendered objects ($mode): $(grep -c '^ok:' "$tmp/$mode.check") assertions"
    else
      fail "rendered objects ($mode)"
      grep '^FAIL:' "$tmp/$mode.check" || cat "$tmp/$mode.check"
    fi
  else
    fail "helm template ($mode)"
    cat "$tmp/$mode.err"
  fi
done

# The prod release's PrometheusRule through promtool: its rules load, and with prod's targets
# scraped under the ServiceMonitor's job, AudioprocTargetsAbsent stays quiet (and fires
# for targets under the Service's name, which the relabelling replaces).
promtool="$root/.tools/promtool"
[[ -x "$promtool" ]] || promtool="$(command -v promtool || true)"
if [[ -z "$promtool" ]]; then
  echo "skip: promtool not found: the prod release's PrometheusRule not run through Prometheus"
elif [[ -f "$tmp/extras.yaml.rules.yml" ]]; then
  cp "$tmp/extras.yaml.rules.yml" "$tmp/prod-rules.yml"
  cat >"$tmp/prod-rules-test.yml" <<'EOF'
rule_files: [prod-rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # What Prometheus scrapes through the prod release's ServiceMonitor.
      - series: 'up{job="audioproc",namespace="default",pod="prod-audioproc-abc",service="prod-audioproc",instance="10.0.0.1:9090"}'
        values: '1x30'
    alert_rule_test:
      - eval_time: 30m
        alertname: AudioprocTargetsAbsent
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'up{job="prod-audioproc",namespace="default",pod="prod-audioproc-abc",instance="10.0.0.1:9090"}'
        values: '1x30'
    alert_rule_test:
      - eval_time: 30m
        alertname: AudioprocTargetsAbsent
        exp_alerts:
          - exp_labels: {severity: critical, job: audioproc}
EOF
  if "$promtool" check rules "$tmp/prod-rules.yml" >"$tmp/promtool.out" 2>&1; then
    pass "promtool check rules: the prod release's PrometheusRule"
  else fail "promtool check rules: the prod release's PrometheusRule"; cat "$tmp/promtool.out"; fi
  # Only the alert under test matters: drop the annotations, whose text the deploy tests check.
  "$python" - "$tmp/prod-rules.yml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for g in doc["groups"]:
    for r in g["rules"]:
        r.pop("annotations", None)
yaml.safe_dump(doc, open(sys.argv[1], "w"))
PY
  if "$promtool" test rules "$tmp/prod-rules-test.yml" >"$tmp/promtool.out" 2>&1; then
    pass "promtool test rules: prod's targets (job audioproc) keep AudioprocTargetsAbsent quiet"
  else fail "promtool test rules: prod's targets and AudioprocTargetsAbsent"; cat "$tmp/promtool.out"; fi
else
  fail "the prod release's PrometheusRule was not extracted"
fi

# --- helm test hook without a CA key -----------------------------------------------------------
# tls.caKey="" (a Secret from `kubectl create secret tls`): the hook verifies the server with
# the system roots (--tls), mounts nothing of the server's Secret, and may set the server name.
if "$helm" template audioproc "$chart" -s templates/tests/test-stream.yaml \
    --set tls.enabled=true --set tls.secretName=audioproc-tls --set tls.caKey= \
    --set tests.tls.serverName=audio.example.com >"$tmp/hook-noca.yaml" 2>"$tmp/hook-noca.err" &&
  "$python" - "$tmp/hook-noca.yaml" <<'PY'
import sys, yaml
pod = yaml.safe_load(open(sys.argv[1]))
args = pod["spec"]["containers"][0]["args"]
assert "--tls" in args and not any(a.startswith("--tls_ca") for a in args), args
assert "--tls_server_name=audio.example.com" in args, args
assert not pod["spec"].get("volumes"), pod["spec"].get("volumes")
PY
then pass "helm test hook with tls.caKey=\"\": --tls (system roots), --tls_server_name, no Secret mounted"
else fail "helm test hook with tls.caKey=\"\""; cat "$tmp/hook-noca.err"; fi

# --- HPA options -----------------------------------------------------------------------------
# hpa 'EXPECTED metrics as JSON' --set ...: the rendered HPA's spec.metrics, exactly.
hpa() {
  local want="$1"
  shift
  if "$helm" template audioproc "$chart" -s templates/hpa.yaml "$@" >"$tmp/hpa.yaml" 2>"$tmp/hpa.err" &&
    "$python" - "$want" "$tmp/hpa.yaml" <<'PY'
import json, sys, yaml
want, got = json.loads(sys.argv[1]), yaml.safe_load(open(sys.argv[2]))["spec"]["metrics"]
if got != want:
    sys.exit(f"got {got}")
PY
  then pass "HPA metrics: $*"
  else fail "HPA metrics: $*"; cat "$tmp/hpa.err"; fi
}
pods_metric() { printf '{"type":"Pods","pods":{"metric":{"name":"%s"},"target":{"type":"AverageValue","averageValue":"%s"}}}' "$1" "$2"; }
hpa '[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":45}}}]' \
  --set autoscaling.targetCPUUtilizationPercentage=45
hpa "[$(pods_metric audioproc_memory_budget_saturation 650m)]" \
  --set autoscaling.scaleOn=budget --set autoscaling.budget.targetCPUPercentage=null \
  --set autoscaling.budget.targetMemoryPercentage=65
hpa "[$(pods_metric my_cpu_saturation 1000m)]" \
  --set autoscaling.scaleOn=budget --set autoscaling.budget.targetMemoryPercentage=null \
  --set autoscaling.budget.targetCPUPercentage=100 --set autoscaling.budget.cpuMetricName=my_cpu_saturation
# A budget HPA needs no CPU request (its metric is not a share of one).
hpa "[$(pods_metric audioproc_cpu_budget_saturation 700m),$(pods_metric audioproc_memory_budget_saturation 800m)]" \
  --set autoscaling.scaleOn=budget --set resources.requests.cpu=null

# --- NOTES.txt -------------------------------------------------------------------------------
# `helm template` does not render NOTES.txt, and a template error there breaks `helm install`
# only. So a copy of the chart renders it through a template that wraps it in YAML.
cp -r "$chart" "$tmp/notes-chart"
cp "$chart/templates/NOTES.txt" "$tmp/notes-chart/notes.txt"
echo 'notes: {{ tpl (.Files.Get "notes.txt") . | quote }}' >"$tmp/notes-chart/templates/zz-notes.yaml"
for mode in default full mtls; do
  args=()
  [[ $mode == full ]] && args=("${full[@]}")
  [[ $mode == mtls ]] && args=("${mtls[@]}")
  if "$helm" template audioproc "$tmp/notes-chart" -s templates/zz-notes.yaml "${args[@]}" \
      >"$tmp/notes.yaml" 2>&1 &&
    "$python" - "$mode" "$tmp/notes.yaml" <<'PY'
import sys, yaml
mode, notes = sys.argv[1], yaml.safe_load(open(sys.argv[2]))["notes"]
assert "audioproc.default.svc:50051" in notes, notes
assert "helm test audioproc" in notes, notes
assert "through highpass:cutoff_hz=80,limiter:ceiling_db=-1" in notes, notes
assert ("50s from deletion to SIGKILL: a 5s preStop sleep" in notes if mode == "default"
        else "140s from deletion to SIGKILL" in notes), notes
if mode == "default":
    assert "memory: 75% of the 1Gi memory limit" in notes and "CPU:    85% of the 2 CPU limit" in notes, notes
else:
    assert "memory: 805306368 bytes" in notes and "CPU:    1.5 cores" in notes, notes
assert "Burstable" not in notes, notes
PY
  then pass "NOTES.txt renders ($mode)"
  else fail "NOTES.txt ($mode)"; cat "$tmp/notes.yaml"; fi
done

# --- bad values are refused ------------------------------------------------------------------
# refuse 'EXPECTED STDERR TEXT' --set ...: `helm template` must fail, saying that.
refuse() {
  local want="$1"
  shift
  if "$helm" template audioproc "$chart" "$@" >/dev/null 2>"$tmp/err"; then
    fail "accepted: $*"
  elif grep -qF -- "$want" "$tmp/err"; then
    pass "refused: $*"
  else
    fail "refused for another reason: $* (wanted '$want')"
    cat "$tmp/err"
  fi
}
refuse 'replicaCount: Invalid type. Expected: integer' --set replicaCount=abc
refuse 'server.maxStreams: Must be greater than or equal to 1' --set server.maxStreams=-5
refuse 'server.drainSeconds: Must be greater than or equal to 0' --set server.drainSeconds=-1
refuse 'server.maxChunkBytes: Invalid type' --set-string server.maxChunkBytes=1048576
refuse 'server.reflection: Invalid type' --set-string server.reflection=yes
refuse 'server.logFormat' --set server.logFormat=xml
refuse 'ports.grpc: Must be less than or equal to 65535' --set ports.grpc=70000
refuse 'Additional property maxStream is not allowed' --set server.maxStream=5
refuse 'Additional property replicas is not allowed' --set replicas=3
refuse 'securityContext.allowPrivilegeEscalation' --set securityContext.allowPrivilegeEscalation=true
refuse 'podSecurityContext.runAsNonRoot' --set podSecurityContext.runAsNonRoot=false
refuse 'securityContext.capabilities.drop' --set 'securityContext.capabilities.drop={NET_RAW}'
refuse 'must be more than lifecycle.preStopSleepSeconds + server.drainSeconds' --set terminationGracePeriodSeconds=35
refuse 'tls.mutual with tests.enabled needs tests.tls.clientSecretName' "${full[@]}" --set tls.mutual=true
refuse 'tls.mutual needs tls.caKey' "${mtls[@]}" --set tls.caKey=
refuse 'grpcRoute.enabled needs grpcRoute.parentRefs' --set grpcRoute.enabled=true
refuse 'ingress.enabled needs ingress.hosts' --set ingress.enabled=true
refuse 'service.ipFamilyPolicy must be one of the following' --set service.ipFamilyPolicy=DualStack
refuse 'lifecycle.preStopSleepSeconds: Must be greater than or equal to 0' --set lifecycle.preStopSleepSeconds=-1
refuse 'tls.enabled needs tls.secretName' --set tls.enabled=true
refuse 'auth.enabled needs auth.secretName' --set auth.enabled=true
refuse 'resume.enabled needs resume.secretName' --set resume.enabled=true
refuse 'set exactly one of maxUnavailable and minAvailable' --set podDisruptionBudget.minAvailable=1
refuse 'minReplicas must not exceed' --set autoscaling.minReplicas=20 --set autoscaling.maxReplicas=10
refuse 'autoscaling.scaleOn must be one of the following: "cpu", "budget"' --set autoscaling.scaleOn=streams
refuse 'autoscaling on CPU needs resources.requests.cpu' --set resources.requests.cpu=null
refuse 'autoscaling.budget.targetCPUPercentage: Must be less than or equal to 100' \
  --set autoscaling.scaleOn=budget --set autoscaling.budget.targetCPUPercentage=120
refuse 'autoscaling.budget.targetMemoryPercentage: Must be greater than or equal to 1' \
  --set autoscaling.scaleOn=budget --set autoscaling.budget.targetMemoryPercentage=0
refuse 'autoscaling.budget.targetCPUPercentage: Invalid type' --set-json autoscaling.budget.targetCPUPercentage=0.7
refuse 'needs autoscaling.budget.targetCPUPercentage, targetMemoryPercentage or both' \
  --set autoscaling.scaleOn=budget --set autoscaling.budget.targetCPUPercentage=null \
  --set autoscaling.budget.targetMemoryPercentage=null
refuse 'autoscaling.budget.cpuMetricName: Does not match pattern' --set 'autoscaling.budget.cpuMetricName=CPU saturation'
refuse 'Additional property targetCpu is not allowed' --set autoscaling.budget.targetCpu=70
# Budgets: the defaults need the cgroup limits they are shares of; explicit values in range.
refuse 'resources.limits.memory is unset' --set resources.limits.memory=null
refuse 'resources.limits.cpu is unset' --set resources.limits.cpu=null
refuse 'server.cpuBudget: Invalid type' --set server.cpuBudget=1.5
refuse 'server.cpuBudget: Must be greater than 0' --set server.cpuBudget=0
refuse 'server.maxStreamCost: Must be greater than 0' --set server.maxStreamCost=0
refuse 'server.memoryBudgetBytes: Invalid type' --set-string server.memoryBudgetBytes=1Gi
refuse 'must leave at least 16 MiB for streams and files' --set server.memoryBudgetBytes=67108864
refuse 'server.maxEventsPerResponse: Must be greater than or equal to 64' --set server.maxEventsPerResponse=10
refuse 'server.maxResponseBytes: Must be greater than or equal to 65536' --set server.maxResponseBytes=1000
refuse 'server.maxFileOutputBytes: Must be less than or equal to 2.146435071e+09' --set server.maxFileOutputBytes=3000000000

echo "$passed passed, $failed failed"
((failed == 0))
