"""Markdown for bench/run_bench.py's report (DESIGN.md section 8): targets first, then each
measurement with the conditions it was taken under."""

NULL_CAPACITY_TARGET = 425
GRPC_SHARE_TARGET = 0.60
# Issue 12's targets, newer than DESIGN §8's where they differ (voice share, p99 at half load,
# memory per stream).
VOICE_SHARE_TARGET = 0.60
LIGHT_SHARE_TARGET = 0.90
ECHO_SHARE_TARGET = 0.95
ASYNCIO_RATIO_TARGET = 6.0
BUSY_SHARE_TARGET = 0.90
IN_PROCESS_SPEEDUP_TARGET = 2.0
HALF_LOAD_P99_TARGET_MS = 3.0
KIB_PER_STREAM_TARGET = {"voice": 128, "music": 256}


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _load(values):
    return " / ".join(f"{v:.2f}" for v in values)


def _verdict(met):
    return "met" if met else "**missed**"


def _targets(report):
    rows = []
    capacity = {c["workload"]: c for c in report["capacity"]}
    null = capacity.get("null")
    if null:
        cap = null["capacity"]
        rows.append(("null chain capacity >= ~425 paced streams", f"{cap} streams",
                     _verdict(cap >= NULL_CAPACITY_TARGET) +
                     ("" if cap >= NULL_CAPACITY_TARGET
                      else f" by {NULL_CAPACITY_TARGET - cap} ({1 - cap / NULL_CAPACITY_TARGET:.0%})")))
    for name, target in (("light", LIGHT_SHARE_TARGET), ("voice", VOICE_SHARE_TARGET)):
        c = capacity.get(name)
        if null and c and null["capacity"] > 0:
            share = c["capacity"] / null["capacity"]
            rows.append((f"{name} capacity >= {target:.0%} of null",
                         f"{c['capacity']} = {share:.0%} of null", _verdict(share >= target)))
    i12 = report.get("issue12", {})
    if "null_over_echo" in i12:
        echo = next(p for p in report["peers"] if p["peer"] == "echo")
        rows.append((f"null capacity >= {ECHO_SHARE_TARGET:.2f} × the C++ callback echo server",
                     f"{i12['null_over_echo']:.2f} × ({echo['capacity']} streams)",
                     _verdict(i12["null_over_echo"] >= ECHO_SHARE_TARGET)))
    side = report.get("echo_side_by_side")
    if side:
        cpu = side["cpu_us_per_chunk"]
        ratio = side["ours_over_echo_cpu"]
        rows.append((f"null CPU per chunk <= 1/{ECHO_SHARE_TARGET:.2f} × the echo server's, "
                     f"equal load ({side['streams']} streams, alternated)",
                     f"{cpu['ours']:.1f} vs {cpu['echo']:.1f} µs (× {ratio:.2f})",
                     _verdict(ratio <= 1 / ECHO_SHARE_TARGET)))
    if "voice_over_python_asyncio" in i12:
        peer = next(p for p in report["peers"] if p["peer"] == "python_asyncio")
        rows.append((f"voice capacity >= {ASYNCIO_RATIO_TARGET:g} × the Python asyncio server",
                     f"{i12['voice_over_python_asyncio']:.1f} × ({peer['capacity']} streams)",
                     _verdict(i12["voice_over_python_asyncio"] >= ASYNCIO_RATIO_TARGET)))
    split = i12.get("cpu_per_chunk_us")
    if split:
        rows.append(("server CPU per voice chunk <= null's + 1.2 × the in-process chain",
                     f"{split['voice']:.0f} µs vs {split['null']:.0f} + 1.2 × "
                     f"{split['voice_dsp_in_process']:.0f} = {split['bound']:.0f} µs",
                     _verdict(split["voice"] <= split["bound"])))
    for w, first in sorted(i12.get("first_failing_trial", {}).items()):
        # The server's queue wait and chain time beside the trial's p99 say whether the engine
        # held the chunks up or something outside it (transport, scheduler, load generator).
        inside = (f"; p99 {first['p99_ms']:.1f} ms, the server's own p99s "
                  f"{first['server_queue_wait_p99_ms']:.2f} ms waiting for a worker, "
                  f"{first['server_process_p99_ms']:.2f} ms in the chain"
                  if "server_queue_wait_p99_ms" in first else "")
        rows.append((f"{w}: capacity bound by CPU (first failing trial >= 90% busy)",
                     f"{first['busy_cores']:.2f} cores busy = {first['busy_share']:.0%} "
                     f"at {first['streams']} streams{inside}",
                     _verdict(first["busy_share"] >= BUSY_SHARE_TARGET)))
    for w, speedup in sorted(i12.get("in_process_speedup", {}).items()):
        if w == "voice":
            rows.append(("voice chain in process >= 2× the baseline build, side by side",
                         f"{speedup:.2f}×", _verdict(speedup >= IN_PROCESS_SPEEDUP_TARGET)))
    for row in report["versus_in_process"]:
        rows.append((f"gRPC path >= 60% of in-process ({row['workload']})",
                     f"{row['ratio_per_core']:.0%} per server core "
                     f"({row['ratio_machine']:.0%} of the whole machine)",
                     _verdict(row["ratio_per_core"] >= GRPC_SHARE_TARGET)))
    for half in report["half_load"]:
        p99 = half["latency_ms"]["p99"]
        rows.append((f"p99 <= {HALF_LOAD_P99_TARGET_MS:g} ms at half capacity "
                     f"({half['workload']}, {half['streams']} streams)",
                     f"{p99:.2f} ms", _verdict(p99 <= HALF_LOAD_P99_TARGET_MS)))
        kib = half["rss_kib_per_stream"]
        bound = KIB_PER_STREAM_TARGET.get(half["workload"], 256)
        rows.append((f"<= {bound} KiB per stream ({half['workload']})", f"{kib:.0f} KiB",
                     _verdict(kib <= bound)))
    soak = report.get("soak")
    if soak:
        rows.append((f"soak: VmRSS flat after warm-up ({soak['streams']} voice streams, "
                     f"{soak['minutes']} min)",
                     f"{soak['growth']:+.1%} (bound {soak['bound']:.0%})", _verdict(soak["flat"])))
    lines = ["| target (DESIGN §8, as issue 12 sets it) | measured | |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return lines


def _throughput(report):
    lines = ["| workload | streams | chunks/s | × real time | latency p50 / p99 ms (queueing) "
             "| server CPU (cores) | loadgen CPU (cores) | others' CPU (cores) | all answered |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in report["throughput"]:
        lines.append(
            f"| {r['workload']} | {r['streams']} | {r['chunks_per_s']:,.0f} | "
            f"{r['audio_s_per_s']:,.1f} | {r['latency_ms']['p50']:.2f} / {r['latency_ms']['p99']:.2f} "
            f"| {r['server']['cpu_cores']:.2f} | {r['loadgen']['cpu_cores']:.2f} | "
            f"{r['machine']['other_cores']:.2f} | {'yes' if r['all_answered'] else 'no: ' + r['first_error']} |")
    return lines


def _capacity(report, key="capacity"):
    lines = []
    for c in report[key]:
        if c.get("peer"):
            lines.append(f"Peer `{c['peer']}`:")
            lines.append("")
        capped = " (the search stopped at its cap)" if c["capped"] else ""
        lines.append(f"**{c['workload']}: {c['capacity']} paced streams**{capped}. Trials, in order:")
        lines.append("")
        lines.append("| streams | p50 ms | p99 ms | p99.9 ms | max ms | answered | server CPU "
                     "| loadgen CPU | others' CPU | machine busy (cores) | server RSS MiB | load avg "
                     "| |")
        lines.append("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: "
                     "| ---: | --- |")
        for t in c["trials"]:
            lat = t["latency_ms"]
            errors = ", ".join(f"{k} {v}" for k, v in t["errors"].items())
            answered = "all" if t["all_answered"] else f"{t['streams_failed']} streams failed {errors}"
            lines.append(
                f"| {t['streams']} | {lat['p50']:.2f} | {lat['p99']:.2f} | {lat['p999']:.2f} | "
                f"{lat['max']:.1f} | {answered} | {t['server']['cpu_cores']:.2f} | "
                f"{t['loadgen']['cpu_cores']:.2f} | {t['machine']['other_cores']:.2f} | "
                f"{t['machine']['busy_cores']:.2f} | {t['server']['rss_kib_max'] / 1024:.0f} | "
                f"{t['loadavg_before'][0]:.2f} | {'pass' if t['passed'] else 'fail'}"
                f"{' (retry)' if t.get('retry') else ''} |")
        lines.append("")
    return lines


def _half_load(report):
    lines = ["| workload | streams | p50 ms | p99 ms | p99.9 ms | server queue wait p99 ms "
             "| server DSP p50 / p99 ms | server CPU cores (per stream) | committed by the cost "
             "model (÷ measured) | server RSS idle → "
             "loaded MiB | KiB per stream | loadgen CPU | others' CPU | default budget admits |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
             "| ---: | ---: |"]
    for h in report["half_load"]:
        lat, s = h["latency_ms"], h["server"]
        lines.append(
            f"| {h['workload']} | {h['streams']} | {lat['p50']:.2f} | {lat['p99']:.2f} | "
            f"{lat['p999']:.2f} | {h['server_queue_wait_ms']['p99']:.2f} | "
            f"{h['server_process_ms']['p50']:.3f} / {h['server_process_ms']['p99']:.3f} | "
            f"{s['cpu_cores']:.2f} ({h['server_cpu_per_stream'] * 100:.3f}% of a core) | "
            f"{(h['committed'].get('cpu') or 0):.2f} (× {h.get('model_over_measured_cpu') or 0:.2f}) | "
            f"{h['server_idle_rss_kib'] / 1024:.0f} → {s['rss_kib_max'] / 1024:.0f} | "
            f"{h['rss_kib_per_stream']:.0f} | {h['loadgen']['cpu_cores']:.2f} | "
            f"{h['machine']['other_cores']:.2f} | {h.get('admission_capacity', '-')} |")
    return lines


def _versus(report):
    lines = ["| workload | in-process × RT per core | gRPC × RT (streams) | server CPU cores "
             "| gRPC × RT per server core | ratio per core | ratio of whole machine |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for v in report["versus_in_process"]:
        lines.append(
            f"| {v['workload']} | {v['in_process_x_realtime_per_core']:,.0f} | "
            f"{v['grpc_x_realtime']:,.1f} ({v['streams']}) | {v['server_cpu_cores']:.2f} | "
            f"{v['grpc_x_realtime_per_server_core']:,.1f} | {v['ratio_per_core']:.0%} | "
            f"{v['ratio_machine']:.0%} |")
    return lines


def _cpu_split(report):
    split = report.get("issue12", {}).get("cpu_per_chunk_us")
    if not split:
        return ["(needs the null and voice half-load runs)"]
    return [f"| per 20 ms chunk, server CPU µs, {split.get('streams', '?')} paced streams | |",
            "| --- | ---: |",
            f"| null: gRPC and the engine's floor ({split.get('null_streams', '?')} streams) | "
            f"{split['null']:.1f} |",
            f"| voice chain's DSP, in process (processors_bench) | "
            f"{split['voice_dsp_in_process']:.1f} |",
            f"| voice: the rest (engine work beyond null's, cold caches) | "
            f"{split['voice_engine_beyond_null_and_dsp']:.1f} |",
            f"| voice, total | {split['voice']:.1f} |",
            f"| bound: null + 1.2 × DSP | {split['bound']:.1f} |"]


def _in_process_side_by_side(side):
    lines = [f"This build's processors_bench and `{side['baseline']}`, alternated three times "
             "(medians):", "", "| chain | this build µs per 20 ms chunk | baseline | speed-up |",
             "| --- | ---: | ---: | ---: |"]
    for r in side["chains"]:
        frames = 320 if r["workload"] == "voice" else 960
        lines.append(f"| {r['workload']} | {r['ns_per_frame'] * frames / 1000:.1f} | "
                     f"{r['baseline_ns_per_frame'] * frames / 1000:.1f} | {r['speedup']:.2f}× |")
    return lines


def _baseline(report):
    ours = {c["workload"]: c["capacity"] for c in report["capacity"]}
    lines = [f"The same capacity search, in the same run, against `{report['baseline']['server']}`:",
             "", "| workload | this build | baseline | ratio |", "| --- | ---: | ---: | ---: |"]
    for c in report["baseline"]["capacity"]:
        mine = ours.get(c["workload"], 0)
        ratio = f"{mine / c['capacity']:.2f}" if c["capacity"] else "-"
        lines.append(f"| {c['workload']} | {mine} | {c['capacity']} | {ratio} |")
    return lines


def _mixed(mixed):
    lines = [
        f"Offered: {mixed['offered']['voice']} voice streams (1.5 × the voice capacity above) "
        f"and {mixed['offered']['heavy']} heavy streams (48 kHz stereo f32: "
        f"`{mixed['heavy_chain']}`), all paced, on one server given "
        f"`--cpu_budget={mixed['cpu_budget_cores'] or 0:.2f}`: 85% of the cores the load "
        f"generator leaves (it took {mixed['loadgen_cores']:.2f} at the voice capacity), as a "
        f"pod with those cores to itself would get. CPU committed halfway: "
        f"{mixed['committed_cpu_cores'] or 0:.2f} of a {mixed['cpu_budget_cores'] or 0:.2f}-core "
        f"budget. **{'Every admitted stream met the criteria and the rest were refused at once' if mixed['passed'] else 'NOT met'}**.",
        "",
        "| streams | offered | admitted and served | refused (RESOURCE_EXHAUSTED) | other failures "
        "| p50 ms | p99 ms | p99.9 ms | server CPU | loadgen CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in mixed["results"].items():
        lat = r["latency_ms"]
        lines.append(
            f"| {name} | {r['streams']} | {r['streams_ok']} | {r['streams_refused']} | "
            f"{r['streams_failed'] - r['streams_refused']} | {lat['p50']:.2f} | {lat['p99']:.2f} | "
            f"{lat['p999']:.2f} | {r['server']['cpu_cores']:.2f} | {r['loadgen']['cpu_cores']:.2f} |")
    return lines


def _soak(soak):
    load = soak["load"]
    series = ", ".join(f"{s['rss_kib'] / 1024:.1f}" for s in soak["samples"])
    return [
        f"{soak['streams']} paced voice streams for {soak['minutes']} min on one server; VmRSS "
        f"every 10 s. Warm-up value (at {soak['warm_up_s']:.0f} s): "
        f"{soak['warm_up_rss_kib'] / 1024:.1f} MiB; largest after warm-up: "
        f"{soak['max_after_warm_up_rss_kib'] / 1024:.1f} MiB; growth {soak['growth']:+.2%} → "
        f"**{'flat' if soak['flat'] else 'NOT flat'}** (bound: {soak['bound']:.0%}); "
        f"least-squares slope after warm-up {soak['slope_kib_per_min']:+.0f} KiB/min. "
        + ("" if soak["within_capacity"] else
           "The server was past its capacity for this load (p99 over 20 ms), so its queues "
           "and transport buffers were filling: read the growth with that in mind. ") +
        f""
        f"Latency over the run (after 30 s): p50 {load['latency_ms']['p50']:.2f} ms, p99 "
        f"{load['latency_ms']['p99']:.2f} ms, p99.9 {load['latency_ms']['p999']:.2f} ms; "
        f"all answered: {'yes' if load['all_answered'] else 'no'}; server CPU "
        f"{load['server']['cpu_cores']:.2f} cores, others' CPU "
        f"{load['machine']['other_cores']:.2f} cores.",
        "",
        f"VmRSS series (MiB): {series}"]


def _echo_side_by_side(report):
    side = report.get("echo_side_by_side")
    if not side:
        return []
    lines = [f"Null at {side['streams']} paced streams ({side['share_of_capacity']:.0%} of our "
             "null capacity) on each server, "
             "alternated: server CPU per chunk at equal load, which a capacity search's last, "
             "noisy trials do not show.", "",
             "| server | CPU µs per chunk, each run | p99 ms, each run | all answered |",
             "| --- | --- | --- | --- |"]
    for who, runs in side["runs"].items():
        cpu = ", ".join(f"{r['cpu_us_per_chunk']:.1f}" for r in runs)
        p99 = ", ".join(f"{r['p99_ms']:.1f}" for r in runs)
        answered = "yes" if all(r["all_answered"] for r in runs) else "no"
        lines.append(f"| {who} | {cpu} | {p99} | {answered} |")
    lines.append("")
    return lines


def render(report, micro_markdown):
    host = report["host"]
    lines = [
        "# audioproc benchmark report (DESIGN §8)", "",
        f"{report['date']}, commit {report['commit']}, {report['mode']} run "
        f"({report['elapsed_s']} s). Machine: {host['cpus']} × {host['cpu_model']}, Linux "
        f"{host['kernel']}. Load average (1/5/15 min) at start {_load(host['loadavg_start'])}, "
        f"at end {_load(host['loadavg_end'])}. The cores are shared with other engineers' builds "
        "and tests: every trial lists the CPU the rest of the machine took during its "
        "measurement window (\"others' CPU\", cores busy from /proc/stat less the server's and "
        "the load generator's) and the 1-minute load average before it (which includes the "
        "previous trial's own load).", "",
        f"The load generator (`audioproc-loadgen`, {report['loadgen']['threads']} threads, "
        f"{report['loadgen']['connections']} connections) runs on the same machine as the "
        f"server (`audioproc-server {' '.join(report['server_flags'])}`, a fresh one per trial). "
        "Added latency: from a chunk's send (paced: from its due time when sent late) to its "
        "response. 20 ms chunks; null = 16 kHz mono s16 with an empty chain.", "",
        "## Targets", ""] + _targets(report) + [
        "", "## gRPC throughput (unpaced streams)", "",
        "Each stream sends as fast as flow control allows; latency here is queueing in the "
        "HTTP/2 windows and the server's inboxes, not what a live source sees.", ""] + \
        _throughput(report) + [
        "", "## Capacity (paced streams)", "",
        f"Most concurrent paced streams with p99 added latency ≤ {report['criteria']['p99_ms']:g} "
        f"ms, p99.9 ≤ {report['criteria']['p999_ms']:g} ms and every chunk answered; doubling "
        "from 100, then bisection. A failed trial during which other processes took over 0.1 "
        "cores is run again (up to twice) and the last run decides. The searches and the half "
        f"loads run `audioproc-server {' '.join(report.get('search_flags', report['server_flags']))}`: "
        "a CPU budget no load here reaches, so that latency and the cores, not the cost model's "
        "margin, set the capacity; what the default budget (85% of the cores) admits at the "
        "cost the model charges per stream is the half-load table's \"default budget admits\" "
        "column, and the mixed load below runs admission itself.", ""] + _capacity(report) + [
        "## At half capacity", "",
        "Server RSS per stream: (largest VmRSS under load − VmRSS idle) / streams. Server CPU: "
        "utime + stime over the measurement window. Queue wait and DSP time are the server's "
        "own ChunkMetrics.", ""] + _half_load(report) + [
        "", "## gRPC path vs in-process chain", "",
        "Best unpaced run per workload against processors_bench's chain on one core. Per core: "
        "gRPC audio seconds per server CPU second over the in-process chain's; whole machine: "
        "over the in-process chain times the number of cores.", ""] + _versus(report)
    if report.get("peers"):
        lines += ["", "## Peers, same load generator, same run", "",
                  "`audioproc-echo-peer` (bench/peers/echo_server.cc): a plain C++ gRPC server on "
                  "the callback API that answers each chunk with its own bytes. "
                  "`asyncio_voice_server.py` (bench/peers/): Python grpc.aio with the voice chain "
                  "in numpy/scipy on one event loop, the seed's approach.", ""] + \
            _capacity(report, "peers") + _echo_side_by_side(report)
    lines += ["", "## CPU per chunk: gRPC, engine, DSP", "",
              "At the voice half load, null with as many streams; the DSP from processors_bench's "
              "voice chain in the same run.",
              ""] + _cpu_split(report)
    if report.get("in_process_vs_baseline"):
        lines += ["", "## In process against a baseline build", ""] + \
            _in_process_side_by_side(report["in_process_vs_baseline"])
    if report.get("baseline"):
        lines += ["", "## Capacity against a baseline build", ""] + _baseline(report)
    if report.get("mixed"):
        lines += ["", "## Mixed load past capacity: admission by cost", ""] + \
            _mixed(report["mixed"])
    if report.get("soak"):
        lines += ["", "## Soak", ""] + _soak(report["soak"])
    lines += ["", "## In-process microbenchmarks", "",
              micro_markdown.replace("# Processor microbenchmarks\n", "").strip()]
    return "\n".join(lines) + "\n"
