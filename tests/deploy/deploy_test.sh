#!/usr/bin/env bash
# Checks of deploy/, no cluster, Prometheus or Grafana needed:
#  - deploy/kubernetes/audioproc.yaml is what deploy/kubernetes/regenerate.sh makes from the
#    chart now (re-rendered into a temporary directory and diffed), equals the raw `helm
#    template` render less Helm's own labels, and has the properties the deployment needs
#    (gRPC probes, restricted securityContext, grace period > drain, ConfigMap flags, Services,
#    HPA, PDB, no namespace);
#  - deploy/prometheus: the scrape configs and the rule files parse; every rule has its fields;
#    every metric, label and label value the rules use is one the server defines
#    (service/metrics.cc, service/metrics.h, service/*.cc) or `up`;
#  - deploy/prometheus/prometheus-adapter-rules.yml (the custom metrics of the chart's
#    autoscaling.scaleOn=budget): rules on the server's metrics, named as values.yaml names the
#    HPA's metrics, each committed / budget of one resource;
#  - deploy/grafana/audioproc-dashboard.json parses, takes its data source from the
#    DS_PROMETHEUS input, and every panel query uses metrics the server defines;
#  - with promtool (Debian's prometheus package, extracted into .tools/ by
#    `.ci/install-deps --npm`; skipped when absent): `promtool check rules` and `check config`,
#    the rules' unit tests (tests/deploy/alert_rules_test.yml: each alert fires on its
#    condition and not short of it), the adapter's queries as it sends them for two pods
#    (tests/deploy/adapter_rules_test.yml: one committed / budget per pod), and a PromQL parse
#    of every dashboard query.
#
# Uses .tools/helm (or $HELM) and /usr/bin/python3 with python3-yaml. Runs from any directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/deploy"
python=/usr/bin/python3
checks="$here/deploy_checks.py"
helm="${HELM:-$root/.tools/helm}"
promtool="${PROMTOOL:-$root/.tools/promtool}"
[[ -x "$promtool" ]] || promtool="$(command -v promtool || true)"

if [[ ! -x "$helm" ]]; then
  echo "deploy_test: $helm is missing; run .ci/install-deps --npm" >&2
  exit 1
fi
if ! "$python" -c 'import yaml' 2>/dev/null; then
  echo "deploy_test: $python lacks PyYAML; run .ci/install-deps (python3-yaml)" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "skip: $*"; }

# check NAME ARGS...: one deploy_checks.py run; its FAIL: and note: lines are shown.
check() {
  local name="$1"
  shift
  if "$python" "$checks" "$@" >"$tmp/check.out" 2>&1; then
    pass "$name: $(grep -c '^ok:' "$tmp/check.out") assertions"
    grep '^note:' "$tmp/check.out" || true
  else
    fail "$name"
    grep -v '^ok:' "$tmp/check.out" || true
  fi
}

# --- plain manifests -------------------------------------------------------------------------
if HELM="$helm" "$root/deploy/kubernetes/regenerate.sh" "$tmp/regen" >"$tmp/regen.log" 2>&1; then
  if diff -u "$root/deploy/kubernetes/audioproc.yaml" "$tmp/regen/audioproc.yaml" >"$tmp/drift.diff"; then
    pass "deploy/kubernetes/audioproc.yaml matches a fresh render of the chart"
  else
    fail "deploy/kubernetes/audioproc.yaml differs from the chart: run deploy/kubernetes/regenerate.sh and commit"
    cat "$tmp/drift.diff"
  fi
else
  fail "deploy/kubernetes/regenerate.sh"
  cat "$tmp/regen.log"
fi
"$helm" template audioproc "$root/helm/audioproc" --skip-tests --set headless.enabled=true >"$tmp/raw.yaml"
check "manifests equal the raw render less Helm's labels" equivalent "$tmp/raw.yaml" "$root/deploy/kubernetes/audioproc.yaml"
check "manifests" manifests "$root"

# --- Prometheus and Grafana ------------------------------------------------------------------
check "prometheus configs and rules" prometheus "$root"
check "prometheus-adapter rules (the chart's budget HPA metrics)" adapter "$root"
check "grafana dashboard" grafana "$root"

# --- promtool --------------------------------------------------------------------------------
prom="$root/deploy/prometheus"
if [[ -z "$promtool" ]]; then
  skip "promtool not found (.ci/install-deps --npm extracts it into .tools/): rules, configs and unit tests not run through Prometheus"
else
  # promtool CMD ARGS... : passes when promtool does.
  run_promtool() {
    local what="$1"
    shift
    if "$promtool" "$@" >"$tmp/promtool.out" 2>&1; then pass "promtool $what"
    else fail "promtool $what"; cat "$tmp/promtool.out"; fi
  }
  run_promtool "check rules (recording, alerts)" check rules "$prom/audioproc-recording-rules.yml" "$prom/audioproc-alert-rules.yml"
  run_promtool "check config prometheus-static.yml" check config "$prom/prometheus-static.yml"
  # Debian's promtool is built without Kubernetes discovery, so it would refuse
  # kubernetes_sd_configs: check a copy with a static target in its place, which still
  # validates the relabelling (regexes, actions, target labels) and the rest of the file.
  mkdir -p "$tmp/k8s"
  cp "$prom"/audioproc-*-rules.yml "$tmp/k8s/"
  "$python" - "$prom/prometheus-kubernetes.yml" "$tmp/k8s/prometheus-kubernetes.yml" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
for job in cfg["scrape_configs"]:
    if job.pop("kubernetes_sd_configs", None) is not None:
        job["static_configs"] = [{"targets": ["pod.example:9090"]}]
yaml.safe_dump(cfg, open(sys.argv[2], "w"), sort_keys=False)
PY
  run_promtool "check config prometheus-kubernetes.yml (discovery as a static target)" check config "$tmp/k8s/prometheus-kubernetes.yml"
  # Unit tests, against copies of the rules without the runbook annotations (plain text,
  # checked by deploy_checks.py), so the expected annotations are the rendered ones only.
  mkdir -p "$tmp/unit"
  cp "$here/alert_rules_test.yml" "$prom/audioproc-recording-rules.yml" "$tmp/unit/"
  "$python" - "$prom/audioproc-alert-rules.yml" "$tmp/unit/audioproc-alert-rules.yml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for group in doc["groups"]:
    for rule in group["rules"]:
        rule.get("annotations", {}).pop("runbook", None)
yaml.safe_dump(doc, open(sys.argv[2], "w"), sort_keys=False, width=1000)
PY
  # Not in a subshell: run_promtool counts into this shell's pass/fail totals. promtool finds
  # a test's rule files beside the test file.
  run_promtool "test rules tests/deploy/alert_rules_test.yml" test rules "$tmp/unit/alert_rules_test.yml"
  # The adapter's queries, as it sends them for two pods, on synthetic series.
  mkdir -p "$tmp/adapter"
  cp "$here/adapter_rules_test.yml" "$tmp/adapter/"
  if "$python" "$checks" adapter-rules "$root" "$tmp/adapter/adapter-rules.yml" >/dev/null; then
    run_promtool "test rules tests/deploy/adapter_rules_test.yml (prometheus-adapter queries)" test rules "$tmp/adapter/adapter_rules_test.yml"
  else
    fail "prometheus-adapter queries as rules"
  fi
  if "$python" "$checks" promql-rules "$root" "$tmp/dashboard-queries.yml" >/dev/null; then
    run_promtool "parses every dashboard query" check rules "$tmp/dashboard-queries.yml"
  else
    fail "dashboard queries as rules"
  fi
fi

if ((skipped)); then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
((failed == 0))
