#!/usr/bin/python3
"""Checks of deploy/ that need no cluster, no Prometheus and no Grafana; run by deploy_test.sh.

  deploy_checks.py manifests ROOT            deploy/kubernetes/audioproc.yaml, object by object
  deploy_checks.py equivalent RAW CLEANED    CLEANED is RAW (a `helm template` render) less the
                                             Helm-only labels and annotation, nothing else
  deploy_checks.py prometheus ROOT           scrape configs, recording and alert rules
  deploy_checks.py grafana ROOT              the dashboard
  deploy_checks.py promql-rules ROOT OUT     writes every dashboard query as a recording rule
                                             into OUT, for `promtool check rules` (syntax)
  deploy_checks.py adapter ROOT              the prometheus-adapter rules against the server's
                                             metrics and the chart's HPA metric names
  deploy_checks.py adapter-rules ROOT OUT    writes the adapter's queries (as sent for two pods)
                                             as recording rules into OUT, for promtool tests

Metric names, their labels and types, the rejection reasons and the static label values come
from the server's own source (service/metrics.cc; kRejectionReasons in service/metrics.h and
service/*.cc Rejections("...")), so a renamed metric or label breaks this test instead of a
dashboard in production. Each check
prints an ok:/FAIL: line (note: lines do not fail); the exit status is 1 on any failure.
"""

import glob
import json
import os
import re
import sys

import yaml

failures = 0


def expect(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures += 1
    return cond


def note(what):
    print("note: " + what)


# --- what the server defines ---------------------------------------------------------------

# absl::StatusCodeToString names, which audioproc_streams_total{code} carries.
GRPC_CODES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
}
# Labels Prometheus adds: the scrape job and instance, and what prometheus-kubernetes.yml copies
# from the pod.
TARGET_LABELS = {"job", "instance", "namespace", "pod", "node", "release"}
# DESIGN §7 metrics the server does not define yet. Panels may show them (empty until then);
# rules may not use them. Each entry: name -> (type, labels). None today.
PENDING = {}
# Series of the cluster, not of the server: kube-state-metrics (restarts, OOM kills, limits)
# and cAdvisor through the kubelet (CPU throttling, working set). Rules and panels may use
# them, joined to audioproc's pods on (namespace, pod) and selecting container="server" (the
# chart's container name). Their label values are not the server's to check.
CLUSTER = {
    "kube_pod_container_status_restarts_total": {"container", "uid"},
    "kube_pod_container_status_last_terminated_reason": {"container", "reason", "uid"},
    "kube_pod_container_resource_limits": {"container", "resource", "unit", "node", "uid"},
    "kube_pod_container_resource_requests": {"container", "resource", "unit", "node", "uid"},
    "container_cpu_cfs_throttled_periods_total": {"container", "id", "image", "name"},
    "container_cpu_cfs_periods_total": {"container", "id", "image", "name"},
    "container_cpu_usage_seconds_total": {"container", "cpu", "id", "image", "name"},
    "container_memory_working_set_bytes": {"container", "id", "image", "name"},
}


class Server:
    """Metric families, labels and label values defined by the server's source."""

    def __init__(self, root):
        src = open(os.path.join(root, "service/metrics.cc")).read()
        self.families = {}  # name -> (type, labels)
        variables = {}
        for m in re.finditer(
                r"(?:(\w+)\s*=\s*&?\s*)?prometheus::Build(Counter|Gauge|Histogram|Summary)\(\)\s*"
                r'\.Name\("([^"]+)"\)', src):
            var, kind, name = m.group(1), m.group(2).lower(), m.group(3)
            self.families[name] = (kind, set())
            if var:
                variables[var] = name
        # Families built through a local helper, as metrics.cc does for its unlabelled gauges:
        #   auto gauge = [this](const char* name, ...) { return &prometheus::BuildGauge().Name(name)...; };
        #   memory_budget_bytes_ = gauge("audioproc_memory_budget_bytes", "...");
        for helper in re.finditer(
                r"auto\s+(\w+)\s*=\s*\[[^\]]*\]\s*\([^)]*\)\s*\{\s*return\s*&?\s*"
                r"prometheus::Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\s*\w+\s*\)", src):
            fn, kind = helper.group(1), helper.group(2).lower()
            for m in re.finditer(r"\b" + re.escape(fn) + r'\(\s*"([^"]+)"', src[helper.end():]):
                self.families[m.group(1)] = (kind, set())
        # Labels of a family built and added in one statement:
        #   BuildGauge().Name("audioproc_build_info")...Register(*registry_).Add({{"version", ...}, {"commit", ...}})
        for m in re.finditer(r'\.Name\("([^"]+)"\)((?:(?!\.Name\(|\bBuild\w+\(\)).)*?)\.Add\(\{(\{"\w+",.*?)\}\)', src, re.S):
            if m.group(1) in self.families:
                self.families[m.group(1)][1].update(re.findall(r'\{"(\w+)",', m.group(3)))
        for var, name in variables.items():
            # Every label of each Add({{"a", ...}, {"b", ...}}) on the family's variable.
            for m in re.finditer(r"\b" + re.escape(var) + r'\s*(?:->|\.)\s*Add\(\s*\{(\s*\{"\w+",.*?)\}\)', src, re.S):
                self.families[name][1].update(re.findall(r'\{"(\w+)",', m.group(1)))
        # The standard process_* families, made at each scrape by service/process_metrics.cc:
        #   Family("process_open_fds", "...", MetricType::Gauge, ...)
        process = open(os.path.join(root, "service/process_metrics.cc")).read()
        for m in re.finditer(r'Family\("(\w+)",.*?MetricType::(Counter|Gauge)', process, re.S):
            self.families[m.group(1)] = (m.group(2).lower(), set())
        # Label values fixed in metrics.cc ({{"direction", "in"}}).
        self.values = {}
        for m in re.finditer(r'\{\{"(\w+)",\s*"([^"]+)"\}\}', src):
            self.values.setdefault(m.group(1), set()).add(m.group(2))
        self.values["code"] = GRPC_CODES
        # Rejection reasons: the list metrics.h creates at startup (kRejectionReasons; the budget
        # refusals pass theirs through a variable), plus any literal Rejections("...") call.
        self.values["reason"] = set()
        header = open(os.path.join(root, "service/metrics.h")).read()
        listed = re.search(r"kRejectionReasons\[\]\s*=\s*\{([^}]*)\}", header)
        if listed:
            self.values["reason"] |= set(re.findall(r'"(\w+)"', listed.group(1)))
        for path in glob.glob(os.path.join(root, "service/*.cc")):
            for m in re.finditer(r'Rejections\("(\w+)"\)', open(path).read()):
                self.values["reason"].add(m.group(1))

    def series(self, pending=False):
        """Series name -> labels it may carry (besides the target labels)."""
        out = {"up": set()}
        out.update(CLUSTER)
        families = dict(self.families)
        if pending:
            families.update({k: v for k, v in PENDING.items() if k not in families})
        for name, (kind, labels) in families.items():
            if kind == "histogram":
                out[name + "_bucket"] = labels | {"le"}
                out[name + "_sum"] = labels
                out[name + "_count"] = labels
            elif kind == "summary":
                out[name] = labels | {"quantile"}
                out[name + "_sum"] = labels
                out[name + "_count"] = labels
            else:
                out[name] = labels
        return out


# --- PromQL references -----------------------------------------------------------------------

AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile",
}
FUNCTIONS = AGGREGATIONS | {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp",
    "floor", "histogram_quantile", "holt_winters", "hour", "idelta", "increase", "irate",
    "label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear",
    "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp",
    "vector", "year", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time",
    "last_over_time", "present_over_time",
    # Grafana's template-variable query function
    "label_values",
}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<var>\$\{[^}]*\}|\$\w+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:ms|s|m|h|d|w|y)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){}\[\],@])
""", re.VERBOSE)


def tokenize(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read PromQL at {expr[pos:pos + 20]!r}")
        pos = m.end()
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group()))
    return out


def promql_refs(expr):
    """Returns (selectors, grouping labels, functions): selectors as (metric or None, matchers),
    each matcher (label, op, value)."""
    toks = tokenize(expr)
    selectors, grouping, functions = [], set(), set()
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident" and text in GROUPING and nxt == "(":
            i += 2
            while toks[i][1] != ")":
                if toks[i][0] == "ident":
                    grouping.add(toks[i][1])
                i += 1
            i += 1
            continue
        # A function call, or an aggregation with its grouping first: sum by (le) (...).
        if kind == "ident" and text not in KEYWORDS and (nxt == "(" or (text in AGGREGATIONS and nxt in GROUPING)):
            functions.add(text)
            i += 1
            continue
        if kind == "op" and text == "[":
            while toks[i][1] != "]":
                i += 1
            i += 1
            continue
        if (kind == "ident" and text not in KEYWORDS) or (kind == "op" and text == "{"):
            metric = None
            if kind == "ident":
                metric = text
                i += 1
            matchers = []
            if i < len(toks) and toks[i][1] == "{":
                i += 1
                while toks[i][1] != "}":
                    if toks[i][0] == "ident":
                        label, op, value = toks[i][1], toks[i + 1][1], toks[i + 2][1]
                        matchers.append((label, op, value[1:-1]))
                        i += 3
                    else:
                        i += 1
                i += 1
            selectors.append((metric, matchers))
            continue
        i += 1
    return selectors, grouping, functions


def check_expr(where, expr, server, allowed_series, recorded=frozenset()):
    """Every series, label, label value and function of expr must exist."""
    try:
        selectors, grouping, functions = promql_refs(expr)
    except (ValueError, IndexError) as e:
        return expect(False, f"{where}: PromQL readable ({e})")
    ok = True
    all_labels = set(TARGET_LABELS) | {"le", "quantile", "__name__"}
    for labels in allowed_series.values():
        all_labels |= labels
    unknown_fn = functions - FUNCTIONS
    ok &= expect(not unknown_fn, f"{where}: PromQL functions exist ({sorted(unknown_fn) or 'all'})")
    for metric, matchers in selectors:
        if metric is None:
            ok &= expect(False, f"{where}: a selector without a metric name")
            continue
        if metric in recorded:
            labels = all_labels
        else:
            if not expect(metric in allowed_series, f"{where}: metric {metric} is defined"):
                ok = False
                continue
            labels = allowed_series[metric] | TARGET_LABELS
        for label, op, value in matchers:
            ok &= expect(label in labels, f"{where}: {metric} has label {label}")
            if label in server.values and metric not in CLUSTER and not re.search(r"\$", value):
                alternatives = value.split("|") if op in ("=~", "!~") else [value]
                bad = [a for a in alternatives if a not in server.values[label] and a != ".*"]
                ok &= expect(not bad, f"{where}: {label} values {alternatives} exist"
                             + (f" (unknown: {bad}; known: {sorted(server.values[label])})" if bad else ""))
    bad_grouping = grouping - all_labels
    ok &= expect(not bad_grouping, f"{where}: grouping labels exist ({sorted(bad_grouping) or 'all'})")
    return ok


def base_metric(series):
    for suffix in ("_bucket", "_sum", "_count"):
        if series.endswith(suffix):
            return series[: -len(suffix)]
    return series


# --- manifests -------------------------------------------------------------------------------

HELM_ONLY_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by")


def strip_helm(doc):
    md = doc.get("metadata", {})
    for key in HELM_ONLY_LABELS:
        (md.get("labels") or {}).pop(key, None)
    if doc.get("kind") == "Deployment":
        ann = doc["spec"]["template"]["metadata"].get("annotations") or {}
        ann.pop("checksum/config", None)
    return doc


def equivalent(raw_path, cleaned_path):
    raw = [strip_helm(d) for d in yaml.safe_load_all(open(raw_path)) if d]
    cleaned = [d for d in yaml.safe_load_all(open(cleaned_path)) if d]
    expect(len(raw) == len(cleaned), f"same number of objects as the render ({len(cleaned)})")
    for r, c in zip(raw, cleaned):
        expect(r == c, f"{c.get('kind')} {c['metadata']['name']}: identical to the render less Helm's labels")


def manifests(root):
    path = os.path.join(root, "deploy/kubernetes/audioproc.yaml")
    text = open(path).read()
    expect(text.startswith("# ") and "GENERATED by deploy/kubernetes/regenerate.sh" in text.split("---")[0],
           "header comment says how the file is generated")
    docs = [d for d in yaml.safe_load_all(text) if d]
    kinds = sorted(d["kind"] for d in docs)
    expect(kinds == sorted(["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                            "Service", "Service", "ServiceAccount"]),
           f"objects: ServiceAccount, ConfigMap, two Services, Deployment, HPA, PDB (got {kinds})")
    for d in docs:
        name = f"{d['kind']} {d['metadata'].get('name')}"
        md = d["metadata"]
        expect("namespace" not in md, f"{name}: no namespace (namespace-agnostic)")
        labels, ann = md.get("labels") or {}, md.get("annotations") or {}
        expect(not any(k.startswith("helm.sh/") for k in list(labels) + list(ann))
               and labels.get("app.kubernetes.io/managed-by") is None,
               f"{name}: no Helm labels or hooks")
        expect(labels.get("app.kubernetes.io/name") == "audioproc", f"{name}: app.kubernetes.io/name=audioproc")

    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    dep = by_kind["Deployment"][0]
    pod_md = dep["spec"]["template"]["metadata"]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    cm = by_kind["ConfigMap"][0]
    env = cm["data"]
    sa = by_kind["ServiceAccount"][0]

    # The server's flags, for notes on variables it does not read (yet).
    flags_src = open(os.path.join(root, "service/flags.cc")).read()
    flags = set(re.findall(r"ABSL_FLAG\(\s*[\w:]+\s*,\s*(\w+)\s*,", flags_src))

    expect(all(k.startswith("AUDIOPROC_") and isinstance(v, str) for k, v in env.items()),
           "ConfigMap: only AUDIOPROC_* keys, string values")
    for k in sorted(env):
        flag = k[len("AUDIOPROC_"):].lower()
        if flag not in flags:
            note(f"ConfigMap sets {k}, but service/flags.cc has no --{flag} yet: the server ignores it")
    expect({"configMapRef": {"name": cm["metadata"]["name"]}} in (c.get("envFrom") or []),
           "Deployment: envFrom the ConfigMap")
    expect(env.get("AUDIOPROC_PORT") == str(ports.get("grpc")), "ConfigMap --port = container port grpc")
    expect(env.get("AUDIOPROC_METRICS_PORT") == str(ports.get("metrics")),
           "ConfigMap --metrics_port = container port metrics")
    expect(pod.get("enableServiceLinks") is False, "Deployment: enableServiceLinks false")
    expect(pod.get("serviceAccountName") == sa["metadata"]["name"], "Deployment: runs as the ServiceAccount")
    expect(pod.get("automountServiceAccountToken") is False and sa.get("automountServiceAccountToken") is False,
           "no service account token mounted (the server calls no Kubernetes API)")

    drain = float(env.get("AUDIOPROC_DRAIN_SECONDS", "30"))
    grace = pod.get("terminationGracePeriodSeconds")
    expect(isinstance(grace, int) and grace > drain,
           f"terminationGracePeriodSeconds {grace} > --drain_seconds {drain:g}")
    health_port = int(env.get("AUDIOPROC_HEALTH_PORT", "0"))
    probe_port = health_port or ports.get("grpc")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        p = c.get(probe) or {}
        expect(p.get("grpc") == {"port": probe_port, "service": ""},
               f"{probe}: native gRPC health check on port {probe_port}")
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    expect(psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
           "pod securityContext: runAsNonRoot, seccomp RuntimeDefault")
    expect(csc.get("allowPrivilegeEscalation") is False and csc.get("readOnlyRootFilesystem") is True
           and csc.get("runAsNonRoot") is True and csc.get("capabilities", {}).get("drop") == ["ALL"]
           and not csc.get("capabilities", {}).get("add") and not csc.get("privileged")
           and csc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
           "container securityContext: restricted (no escalation, read-only root, drop ALL, seccomp)")
    res = c.get("resources") or {}
    expect(all(res.get(a, {}).get(b) for a in ("requests", "limits") for b in ("cpu", "memory")),
           "resources: cpu and memory requests and limits")
    # The server's budgets are shares of these limits (cgroup), and the CPU budget is real only
    # if the limit's cores are the pod's: requests equal to limits, Guaranteed QoS.
    expect(res.get("requests") == res.get("limits"), "resources: requests equal limits (Guaranteed QoS)")
    ann = pod_md.get("annotations") or {}
    expect(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(ports.get("metrics"))
           and ann.get("prometheus.io/path") == "/metrics", "pod scrape annotations name the metrics port")

    pod_labels = pod_md.get("labels") or {}
    selector = dep["spec"]["selector"]["matchLabels"]
    expect(all(pod_labels.get(k) == v for k, v in selector.items()), "Deployment selector matches its pods")
    services = by_kind["Service"]
    plain = [s for s in services if s["spec"].get("clusterIP") != "None"]
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    expect(len(plain) == 1 and len(headless) == 1, "one ClusterIP and one headless Service")
    for s in services:
        name = s["metadata"]["name"]
        expect(s["spec"]["selector"] == selector, f"Service {name}: selects the Deployment's pods")
        sp = {p["name"]: p for p in s["spec"]["ports"]}
        expect(all(p["targetPort"] in ports for p in sp.values()), f"Service {name}: target ports exist")
        expect(sp.get("grpc", {}).get("appProtocol") == "kubernetes.io/h2c",
               f"Service {name}: grpc port, appProtocol kubernetes.io/h2c (cleartext HTTP/2)")
    if plain:
        expect("metrics" in {p["name"] for p in plain[0]["spec"]["ports"]}, "ClusterIP Service: metrics port")
    if headless:
        expect(headless[0]["spec"].get("publishNotReadyAddresses") is False,
               "headless Service: draining (not ready) pods leave DNS")
    hpa = by_kind["HorizontalPodAutoscaler"][0]
    expect(hpa["apiVersion"] == "autoscaling/v2", "HPA: autoscaling/v2")
    expect(hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": dep["metadata"]["name"]}, "HPA: targets the Deployment")
    expect(1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], "HPA: 1 <= min <= max replicas")
    expect("replicas" not in dep["spec"], "Deployment: replicas left to the HPA")
    pdb = by_kind["PodDisruptionBudget"][0]
    expect(pdb["apiVersion"] == "policy/v1" and pdb["spec"]["selector"]["matchLabels"] == selector,
           "PDB: policy/v1, selects the Deployment's pods")


# --- Prometheus ------------------------------------------------------------------------------

ALERT_NAME = re.compile(r"^Audioproc[A-Z][A-Za-z0-9]+$")
RECORD_NAME = re.compile(r"^[a-z_]+:audioproc_[a-z0-9_]+:[a-z0-9_]+$")
DURATION = re.compile(r"^(\d+[smhdwy])+$")


def prometheus(root):
    server = Server(root)
    d = os.path.join(root, "deploy/prometheus")
    series = server.series()
    expect(len(server.families) >= 10, f"service/metrics.cc defines {len(server.families)} metric families")
    expect(server.values["reason"], f"rejection reasons in service/: {sorted(server.values['reason'])}")

    # Scrape configurations.
    jobs = set()
    for name in ("prometheus-static.yml", "prometheus-kubernetes.yml"):
        cfg = yaml.safe_load(open(os.path.join(d, name)))
        scrape = {s["job_name"]: s for s in cfg.get("scrape_configs", [])}
        expect("audioproc" in scrape, f"{name}: a scrape job named audioproc")
        jobs |= set(scrape)
        rule_files = cfg.get("rule_files") or []
        expect(sorted(rule_files) == ["audioproc-alert-rules.yml", "audioproc-recording-rules.yml"],
               f"{name}: loads the recording and alert rules")
        expect(all(os.path.exists(os.path.join(d, f)) for f in rule_files), f"{name}: rule files exist")
        job = scrape.get("audioproc", {})
        if name == "prometheus-static.yml":
            expect(job.get("static_configs") and job.get("metrics_path") == "/metrics",
                   f"{name}: static targets, /metrics")
        else:
            sd = job.get("kubernetes_sd_configs") or [{}]
            expect(sd[0].get("role") == "pod", f"{name}: kubernetes_sd_configs role pod")
            sources = [tuple(r.get("source_labels", [])) for r in job.get("relabel_configs", [])]
            for a in ("scrape", "port", "path"):
                expect(any(f"__meta_kubernetes_pod_annotation_prometheus_io_{a}" in s for s in sources),
                       f"{name}: uses the prometheus.io/{a} pod annotation")
            targets = {r.get("target_label") for r in job.get("relabel_configs", [])}
            expect({"namespace", "pod"} <= targets, f"{name}: namespace and pod labels on every series")

    # Rules.
    recorded = set()
    alerts = set()
    for name, kind in (("audioproc-recording-rules.yml", "record"), ("audioproc-alert-rules.yml", "alert")):
        doc = yaml.safe_load(open(os.path.join(d, name)))
        groups = doc.get("groups") if isinstance(doc, dict) else None
        expect(isinstance(groups, list) and groups, f"{name}: rule-file format (groups)")
        for g in groups or []:
            expect(isinstance(g.get("name"), str) and isinstance(g.get("rules"), list) and g["rules"],
                   f"{name}: group {g.get('name')} has a name and rules")
            for r in g.get("rules", []):
                rname = r.get(kind)
                where = f"{name}: {rname}"
                expect(isinstance(rname, str) and isinstance(r.get("expr"), str) and r["expr"].strip()
                       and ("alert" if kind == "record" else "record") not in r,
                       f"{where}: {kind} and expr")
                if kind == "record":
                    expect(RECORD_NAME.match(rname or "") is not None, f"{where}: level:metric:operations name")
                    expect(rname not in recorded, f"{where}: recorded once")
                    check_expr(where, r["expr"], server, series, recorded)
                    recorded.add(rname)
                    continue
                expect(ALERT_NAME.match(rname or "") is not None, f"{where}: AudioprocCamelCase name")
                expect(rname not in alerts, f"{where}: unique alert name")
                alerts.add(rname)
                expect(DURATION.match(str(r.get("for", ""))) is not None, f"{where}: has a `for` duration")
                expect((r.get("labels") or {}).get("severity") in ("critical", "warning", "info"),
                       f"{where}: severity critical, warning or info")
                ann = r.get("annotations") or {}
                expect(all(isinstance(ann.get(k), str) and ann[k].strip() for k in ("summary", "description", "runbook")),
                       f"{where}: summary, description and runbook annotations")
                expect("{{" not in ann.get("runbook", ""), f"{where}: runbook is plain text")
                check_expr(where, r["expr"], server, series, recorded)
                for _, matchers in promql_refs(r["expr"])[0]:
                    for label, op, value in matchers:
                        if label == "job":
                            expect(op == "=" and value in jobs, f"{where}: job {value!r} is a scrape job")
    # Alert names that the guide, the dashboard and the runbooks point operators to exist.
    texts = {"deploy/SCALING.md": open(os.path.join(root, "deploy/SCALING.md")).read(),
             "deploy/grafana/audioproc-dashboard.json":
                 open(os.path.join(root, "deploy/grafana/audioproc-dashboard.json")).read(),
             "audioproc-alert-rules.yml": open(os.path.join(d, "audioproc-alert-rules.yml")).read()}
    for where, text in texts.items():
        named = set(re.findall(r"\bAudioproc[A-Z][A-Za-z0-9]+\b", text))
        expect(named <= alerts, f"{where}: the alerts it names exist ({sorted(named - alerts) or 'all'})")
    # The alerts the deployment guide relies on.
    for metric in ("audioproc_chunk_latency_seconds", "audioproc_streams_total", "audioproc_rejections_total",
                   "audioproc_executor_queue_depth", "audioproc_streams_active",
                   "audioproc_cpu_committed_cores", "audioproc_cpu_budget_cores",
                   "audioproc_memory_committed_bytes", "audioproc_memory_budget_bytes",
                   "audioproc_events_dropped_total"):
        used = any(metric in open(os.path.join(d, f)).read() for f in ("audioproc-recording-rules.yml",
                                                                      "audioproc-alert-rules.yml"))
        expect(used, f"rules cover {metric}")


# --- Grafana ---------------------------------------------------------------------------------

DS_UID = "${DS_PROMETHEUS}"


def dashboard_queries(dash):
    """(where, expr) of every panel target and every query variable."""
    out = []
    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            out.append((f"panel {p.get('id')} {p.get('title')!r} {t.get('refId')}", t.get("expr", "")))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            out.append((f"variable {v.get('name')}", q or ""))
    return out


def grafana_to_promql(expr):
    """Grafana's variables and label_values() as plain PromQL, for syntax checks."""
    m = re.match(r"^\s*label_values\((.*),\s*(\w+)\)\s*$", expr, re.S)
    if m:
        expr = m.group(1)
    return (expr.replace("$__rate_interval", "5m").replace("${__rate_interval}", "5m")
            .replace("$__interval", "1m").replace("$__range", "1h"))


def grafana(root):
    server = Server(root)
    path = os.path.join(root, "deploy/grafana/audioproc-dashboard.json")
    try:
        dash = json.load(open(path))
    except ValueError as e:
        expect(False, f"dashboard JSON parses ({e})")
        return
    expect(True, "dashboard JSON parses")
    sv = dash.get("schemaVersion")
    expect(isinstance(sv, int) and 36 <= sv <= 41, f"schemaVersion {sv} (Grafana 9-11)")
    expect(dash.get("id") is None and dash.get("uid") and dash.get("title"), "importable: id null, uid, title")
    inputs = {i.get("name"): i for i in dash.get("__inputs", [])}
    expect(inputs.get("DS_PROMETHEUS", {}).get("type") == "datasource"
           and inputs["DS_PROMETHEUS"].get("pluginId") == "prometheus", "__inputs: DS_PROMETHEUS, a Prometheus")

    all_panels = []
    def walk(ps):
        for p in ps:
            all_panels.append(p)
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    ids = [p.get("id") for p in all_panels]
    expect(len(ids) == len(set(ids)) and None not in ids, "panel ids unique")
    boxes = []
    for p in all_panels:
        gp = p.get("gridPos") or {}
        where = f"panel {p.get('id')} {p.get('title')!r}"
        expect(all(isinstance(gp.get(k), int) for k in "hwxy") and gp["x"] + gp["w"] <= 24,
               f"{where}: gridPos within 24 columns")
        for other, ogp in boxes:
            if (gp["x"] < ogp["x"] + ogp["w"] and ogp["x"] < gp["x"] + gp["w"]
                    and gp["y"] < ogp["y"] + ogp["h"] and ogp["y"] < gp["y"] + gp["h"]):
                expect(False, f"{where}: does not overlap {other}")
        boxes.append((where, gp))
        if p.get("type") == "row":
            continue
        expect((p.get("datasource") or {}).get("uid") == DS_UID, f"{where}: datasource {DS_UID}")
        targets = p.get("targets") or []
        expect(targets and all((t.get("datasource") or {}).get("uid") == DS_UID and t.get("expr") for t in targets),
               f"{where}: queries with datasource {DS_UID}")
        expect(bool(p.get("description")), f"{where}: has a description")

    series = server.series(pending=True)
    used = set()
    for where, expr in dashboard_queries(dash):
        check_expr(where, grafana_to_promql(expr), server, series)
        for metric, _ in promql_refs(grafana_to_promql(expr))[0]:
            if metric:
                used.add(base_metric(metric))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            expect((v.get("datasource") or {}).get("uid") == DS_UID, f"variable {v['name']}: datasource {DS_UID}")

    required = ["audioproc_streams_active", "audioproc_streams_total", "audioproc_chunk_latency_seconds",
                "audioproc_queue_wait_seconds", "audioproc_processor_seconds", "audioproc_executor_queue_depth",
                "audioproc_rejections_total", "audioproc_bytes_total", "audioproc_audio_seconds_total",
                "audioproc_files_total", "audioproc_cpu_committed_cores", "audioproc_cpu_budget_cores",
                "audioproc_memory_committed_bytes", "audioproc_memory_budget_bytes",
                "audioproc_events_dropped_total"]
    for metric in required:
        expect(metric in used, f"dashboard shows {metric}")
    text = json.dumps(dash)
    for q in ("0.5", "0.99", "0.999"):
        expect(f"histogram_quantile({q}, sum by (le) (rate(audioproc_chunk_latency_seconds_bucket" in text,
               f"dashboard: chunk latency quantile {q}")
    for metric in sorted(set(server.families) - used):
        note(f"{metric} (service/metrics.cc) has no dashboard panel")
    for metric in sorted(PENDING):
        if metric in server.families:
            note(f"{metric} is now defined in service/metrics.cc: its PENDING entry in tests/deploy/deploy_checks.py can go")
        else:
            note(f"{metric} is not defined by the server yet; its panel stays empty until it is")


def promql_rules(root, out):
    """The dashboard's queries as recording rules, so that promtool parses them."""
    dash = json.load(open(os.path.join(root, "deploy/grafana/audioproc-dashboard.json")))
    rules = [{"record": f"dashboard:query_{i}:check", "expr": grafana_to_promql(expr)}
             for i, (_, expr) in enumerate(dashboard_queries(dash))]
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(out, "w"), sort_keys=False)
    print(f"ok: {len(rules)} dashboard queries written to {out}")


# --- prometheus-adapter ----------------------------------------------------------------------

ADAPTER_FILE = "deploy/prometheus/prometheus-adapter-rules.yml"
# What the chart's autoscaling.scaleOn=budget option reads: custom metric -> (committed, budget).
SATURATION = {
    "cpuMetricName": ("audioproc_cpu_committed_cores", "audioproc_cpu_budget_cores"),
    "memoryMetricName": ("audioproc_memory_committed_bytes", "audioproc_memory_budget_bytes"),
}


def adapter_query(rule, namespace="audio", pods=("a", "b")):
    """The rule's metricsQuery as the adapter sends it for a Pods metric of these pods
    (docs/config.md of prometheus-adapter: LabelMatchers = the namespace and the pods,
    GroupBy = the pod label)."""
    series = re.match(r"\s*([A-Za-z_:][A-Za-z0-9_:]*)", rule["seriesQuery"]).group(1)
    return (rule["metricsQuery"].replace("<<.Series>>", series)
            .replace("<<.LabelMatchers>>", f'namespace="{namespace}",pod=~"{"|".join(pods)}"')
            .replace("<<.GroupBy>>", "pod").strip())


def adapter(root):
    server = Server(root)
    series = server.series()
    doc = yaml.safe_load(open(os.path.join(root, ADAPTER_FILE)))
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not expect(isinstance(rules, list) and rules, f"{ADAPTER_FILE}: adapter config format (rules)"):
        return
    values = yaml.safe_load(open(os.path.join(root, "helm/audioproc/values.yaml")))
    budget = values["autoscaling"]["budget"]
    served = {}
    for r in rules:
        name = (r.get("name") or {}).get("as")
        where = f"{ADAPTER_FILE}: {name}"
        served[name] = r
        sq = promql_refs(r.get("seriesQuery", ""))[0]
        expect(len(sq) == 1 and sq[0][0] in series
               and {("namespace", "!=", ""), ("pod", "!=", "")} <= set(sq[0][1]),
               f"{where}: seriesQuery is one server metric with namespace and pod labels")
        expect((r.get("resources") or {}).get("overrides") == {"namespace": {"resource": "namespace"},
                                                                "pod": {"resource": "pod"}},
               f"{where}: namespace and pod labels map to the namespace and pod resources")
        matches = (r.get("name") or {}).get("matches", "")
        expect(bool(re.fullmatch(matches, sq[0][0] if sq else "")), f"{where}: name.matches the seriesQuery's metric")
        for token in ("<<.LabelMatchers>>", "<<.GroupBy>>"):
            expect(token in r.get("metricsQuery", ""), f"{where}: metricsQuery uses {token}")
        check_expr(where, adapter_query(r), server, series)
    for key, (committed, total) in SATURATION.items():
        name = budget.get(key)
        r = served.get(name)
        if not expect(r is not None, f"values.yaml autoscaling.budget.{key}={name} is served by {ADAPTER_FILE}"):
            continue
        metrics = [m for m, _ in promql_refs(adapter_query(r))[0]]
        expect(metrics == [committed, total], f"{name}: {committed} / {total} (got {metrics})")


def adapter_rules(root, out):
    """The adapter's queries, as the adapter sends them for pods a and b of namespace audio, as
    recording rules named after the custom metrics, for tests/deploy/adapter_rules_test.yml."""
    doc = yaml.safe_load(open(os.path.join(root, ADAPTER_FILE)))
    rules = [{"record": f"adapter:{r['name']['as']}:pods", "expr": adapter_query(r)} for r in doc["rules"]]
    yaml.safe_dump({"groups": [{"name": "adapter", "rules": rules}]}, open(out, "w"), sort_keys=False)
    print(f"ok: {len(rules)} adapter queries written to {out}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"manifests": manifests, "equivalent": equivalent, "prometheus": prometheus,
     "grafana": grafana, "promql-rules": promql_rules, "adapter": adapter,
     "adapter-rules": adapter_rules}[cmd](*args)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
