#!/usr/bin/python3
"""The DESIGN.md section 8 benchmark report, from one run: `make bench` calls it.

    bench/run_bench.py --build-dir build       # writes build/bench/report.{md,json}

Steps: (a) the in-process microbenchmarks (processors_bench); (b) gRPC throughput of 1, 16
and 256 unpaced streams per workload; (c) capacity: the most concurrent paced streams with
p99 added latency <= 20 ms, p99.9 <= 100 ms and every chunk answered (doubling, then
bisection); (d) latency, (e) server memory and CPU per stream at half that load; (f) the gRPC
path against the in-process chains; (g) a mixed load past capacity (voice streams beside
48 kHz stereo heavy chains): admission by cost keeps every admitted stream within the latency
criteria and refuses the rest; (h) a soak: paced voice streams for 10 minutes, the server's
VmRSS every 10 s. Every gRPC trial gets a fresh audioproc-server on free loopback
ports; audioproc-loadgen runs on the same machine. (i) The peers (bench/peers/) under the same
load generator: capacity of a C++ callback-API echo server (null) and of a Python asyncio
numpy/scipy voice server (voice); and the ratios of issue 12 (light and voice capacity over
null, ours over the peers, CPU per chunk split into the gRPC/engine floor, the chain's DSP and
the rest, the machine's busy cores in the first failing trial).

Environment knobs:
  BENCH_QUICK=1            smoke version, about 4 minutes (short trials, coarse search, no soak)
  BENCH_SOAK=0|1           run the soak (default 1, or 0 with BENCH_QUICK=1)
  BENCH_SOAK_MINUTES=10    BENCH_SOAK_STREAMS=200
  BENCH_WORKLOADS=null,voice,music            throughput workloads
  BENCH_CAPACITY_WORKLOADS=null,voice,music   capacity searches (and half-load runs)
  BENCH_TRIAL_S=12         seconds of load per capacity trial (warm-up included)
  BENCH_MIXED_HEAVY=8      48 kHz stereo heavy streams beside the voice streams of the mixed load
  BENCH_CONNECTIONS=4      BENCH_LOADGEN_THREADS=2
  BENCH_SERVER_FLAGS="--workers=2 --cq_threads=2"   extra audioproc-server flags
  BENCH_COMMIT=abc1234     the commit measured, for a source tree without git
  BENCH_BASELINE_SERVER=/path/to/audioproc-server   a peer build (say, an earlier commit's) whose
                           capacity is searched in the same run, right after ours
  BENCH_BASELINE_PROCESSORS_BENCH=/path/to/processors_bench   an earlier build's: the voice and
                           music chains in process, alternated with ours three times
  BENCH_PEERS=0|1          measure the peers of bench/peers/ (default 1): the callback-API echo
                           server on null, the Python asyncio numpy/scipy server on voice
"""
import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_markdown  # noqa: E402  (beside this file)
import report as processors_report  # noqa: E402  (beside this file)

# The mixed load's heavy streams: 48 kHz stereo f32 through denoise and a mastering chain.
HEAVY_CHAIN = ('[{"denoise":{}},{"eq":{"bands":[{"type":"LOWSHELF","freqHz":120,"gainDb":3}]}},'
               '{"compressor":{}},{"loudness":{}},{"limiter":{"ceilingDb":-1,"truePeak":true}}]')

# DESIGN.md section 8 capacity criteria.
P99_LIMIT_MS = 20.0
P999_LIMIT_MS = 100.0
SOAK_FLAT_BOUND = 0.05  # growth of VmRSS after warm-up, relative to the warm-up value

# The capacity searches and half loads measure what the engine can carry, so their server gets
# a CPU budget no load here reaches: with the default (85% of the cores, charged by the cost
# model, which commits 1.1-1.5x what a stream spends) admission refuses streams before latency
# or the cores run out, and the ratios would compare the model's margin instead of the engine.
# What the default budget admits is reported beside each capacity (`admission_capacity`), and
# the mixed load runs admission itself.
SEARCH_CPU_BUDGET = 64
# The load, as a share of our null capacity, at which null runs on our server and on the echo
# peer side by side.
SIDE_BY_SIDE_SHARE = 0.9
# A failed capacity trial is run again (at most RETRIES times) while other processes took more
# than this many cores during its window: the machine is shared with other builds and tests.
OTHERS_RETRY_CORES = 0.1
RETRIES = 2


def env_int(name, default):
    return int(os.environ.get(name, default))


def loadavg():
    with open("/proc/loadavg", encoding="ascii") as f:
        return [float(x) for x in f.read().split()[:3]]


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')} load {loadavg()[0]:.2f}] {message}",
          file=sys.stderr, flush=True)


class Server:
    """audioproc-server on free loopback ports (--port=0 --port_file), stopped on exit."""

    def __init__(self, binary, log_path, extra_flags, command=None):
        """audioproc-server `binary` with `extra_flags`; or, for a peer, `command` (which must
        take --port_file and write the same JSON)."""
        self.dir = tempfile.mkdtemp(prefix="audioproc-bench-")
        port_file = os.path.join(self.dir, "ports.json")
        self.log = open(log_path, "ab")
        argv = ([*command, f"--port_file={port_file}"] if command else
                [binary, "--host=127.0.0.1", "--port=0", "--metrics_port=0",
                 f"--port_file={port_file}", "--max_streams=4096", *extra_flags])
        self.process = subprocess.Popen(argv, stderr=self.log, stdout=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file, encoding="ascii") as f:
                    ports = json.load(f)
                self.port, self.metrics_port = ports["grpc"], ports.get("metrics", 0)
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"audioproc-server exited ({self.process.returncode}); "
                                   f"see {log_path}")
            time.sleep(0.02)  # polling a file another process writes
        self.stop()
        raise RuntimeError("audioproc-server wrote no port file in 20 s")

    @property
    def pid(self):
        return self.process.pid

    def metric(self, name):
        """The value of an unlabelled series on the server's /metrics, or None."""
        if not self.metrics_port:
            return None  # a peer: no /metrics
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
                for line in response.read().decode().splitlines():
                    if line.startswith(name + " "):
                        return float(line.split()[1])
        except OSError:
            return None
        return None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.send_signal(signal.SIGTERM)  # the second one skips the drain
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Bench:
    def __init__(self, build_dir, out_dir, quick, server_binary=None, server_command=None):
        self.build_dir = build_dir
        self.server_command = server_command  # a peer's command line instead of audioproc's
        self.out_dir = out_dir
        self.quick = quick
        self.server_binary = server_binary or os.path.join(build_dir, "service",
                                                           "audioproc-server")
        self.loadgen = os.path.join(build_dir, "bench", "audioproc-loadgen")
        self.server_log = os.path.join(out_dir, "server.log")
        self.server_flags = os.environ.get("BENCH_SERVER_FLAGS", "").split()
        # BENCH_SERVER_FLAGS may set its own --cpu_budget; otherwise the searches get one
        # they cannot reach (see SEARCH_CPU_BUDGET).
        self.search_flags = self.server_flags + (
            [] if any(f.startswith("--cpu_budget") for f in self.server_flags)
            else [f"--cpu_budget={SEARCH_CPU_BUDGET}"])
        self.connections = env_int("BENCH_CONNECTIONS", 4)
        self.threads = env_int("BENCH_LOADGEN_THREADS", 2)
        self.seed = 1
        self._default_cpu_budget = None

    def default_cpu_budget(self):
        """The CPU budget the server gives itself without --cpu_budget (its share of the cgroup's
        quota or of the usable CPUs), as its /metrics states it."""
        if self._default_cpu_budget is None:
            with Server(self.server_binary, self.server_log, self.server_flags) as server:
                self._default_cpu_budget = server.metric("audioproc_cpu_budget_cores")
        return self._default_cpu_budget

    def run_load(self, server, workload, streams, paced, duration, warmup, ramp,
                 keep_process=None, chain=None, wait=True):
        """One audioproc-loadgen run against `server`; its JSON report, plus load averages.
        With wait=False, the started process and a function that finishes it."""
        self.seed += 1
        command = [self.loadgen, f"--addr={server.address}", f"--workload={workload}",
                   f"--streams={streams}", f"--paced={'true' if paced else 'false'}",
                   f"--duration_s={duration}", f"--warmup_s={warmup}", f"--ramp_s={ramp}",
                   f"--threads={self.threads}", f"--connections={self.connections}",
                   f"--seed={self.seed}", f"--server_pid={server.pid}"]
        if chain:
            command.append(f"--chain={chain}")
        before = loadavg()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        if not wait:
            return process, lambda: self._finish(process, command, before, ramp + duration)
        if keep_process is not None:
            keep_process(process)
        return self._finish(process, command, before, ramp + duration)

    def _finish(self, process, command, before, seconds):
        try:
            out, err = process.communicate(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {err.strip()}")
        result = json.loads(out)
        result["loadavg_before"] = before
        result["loadavg_after"] = loadavg()
        log(err.strip())
        return result

    def fresh_run(self, workload, streams, paced, duration, warmup, ramp, flags=None):
        with Server(self.server_binary, self.server_log,
                    self.server_flags if flags is None else flags,
                    self.server_command) as server:
            time.sleep(0.5)  # let it settle before the idle sample
            idle = rss_kib(server.pid)
            committed = {}

            def sample_committed(process):
                # Halfway through the load, every stream admitted: what the cost model holds.
                deadline = time.monotonic() + ramp + duration / 2
                while process.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.2)
                committed["cpu"] = server.metric("audioproc_cpu_committed_cores")
                committed["memory"] = server.metric("audioproc_memory_committed_bytes")
                committed["cpu_budget"] = server.metric("audioproc_cpu_budget_cores")

            result = self.run_load(server, workload, streams, paced, duration, warmup, ramp,
                                   keep_process=sample_committed)
            result["server_idle_rss_kib"] = idle
            result["committed"] = committed
            return result

    def microbenchmarks(self):
        binary = os.path.join(self.build_dir, "bench", "processors_bench")
        json_path = os.path.join(self.out_dir, "processors.json")
        log("in-process microbenchmarks (processors_bench)")
        run = subprocess.run([binary, f"--benchmark_min_time={0.05 if self.quick else 0.2}",
                              f"--benchmark_out={json_path}", "--benchmark_out_format=json"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"processors_bench failed: {run.stderr.strip()}")
        markdown = subprocess.run(
            [sys.executable, os.path.join(os.path.dirname(__file__), "report.py"), json_path],
            check=True, capture_output=True, text=True).stdout
        with open(os.path.join(self.out_dir, "processors.md"), "w", encoding="utf-8") as f:
            f.write(markdown)
        with open(json_path, encoding="utf-8") as f:
            data = json.load(f)
        runs = {run["name"]: run for run in data["benchmarks"] if not run.get("error_occurred")}
        rows = processors_report.cost_rows(data["benchmarks"])
        speed = processors_report.speed_factor(rows)
        cost_model = {"speed_factor": speed,
                      "benchmarks": [{"name": name, "model_cores": model,
                                      "measured_cores": measured,
                                      "model_over_measured": model / measured,
                                      "scaled": model / measured * speed}
                                     for name, model, measured in rows]}
        chains = {}
        for workload, name in (("voice", "chain/voice/16k_mono"),
                               ("music", "chain/music/48k_stereo")):
            if name in runs:
                chains[workload] = {"x_realtime_per_core": runs[name]["x_realtime"],
                                    "ns_per_frame": 1e9 / runs[name]["items_per_second"]}
        return {"chains": chains, "markdown": markdown, "cost_model": cost_model}

    def throughput(self, workloads):
        duration, warmup, ramp = (3, 1, 0.5) if self.quick else (8, 2, 1)
        results = []
        for workload in workloads:
            for streams in (1, 16, 256):
                log(f"throughput: {workload} x{streams} unpaced")
                results.append(self.fresh_run(workload, streams, False, duration, warmup, ramp))
        return results

    def capacity(self, workload, start=100):
        """Doubling from `start`, then bisection, over paced stream counts; every trial on a
        fresh server."""
        duration = env_int("BENCH_TRIAL_S", 5 if self.quick else 12)
        warmup, ramp = (1, 1) if self.quick else (2, 2)
        resolution = 0.25 if self.quick else 0.05
        trials = []

        def trial(streams):
            log(f"capacity: {workload} x{streams} paced")
            result = self.fresh_run(workload, streams, True, duration, warmup, ramp,
                                    self.search_flags)
            result["passed"] = passes(result)
            trials.append(result)
            for _ in range(RETRIES):
                if result["passed"] or result["machine"]["other_cores"] <= OTHERS_RETRY_CORES:
                    break
                # Other processes took a share of the cores: again, and the last trial decides.
                log(f"others took {result['machine']['other_cores']:.2f} cores: retrying")
                time.sleep(5)
                result = self.fresh_run(workload, streams, True, duration, warmup, ramp,
                                        self.search_flags)
                result["passed"] = passes(result)
                result["retry"] = True
                trials.append(result)
            return result["passed"]

        low, high, streams = 0, None, start
        while high is None and streams <= 3200:
            if trial(streams):
                low, streams = streams, streams * 2
            else:
                high = streams
        if high is None:
            return {"workload": workload, "capacity": low, "capped": True, "trials": trials}
        while high - low > max(2, int(low * resolution)):
            middle = (low + high) // 2
            if trial(middle):
                low = middle
            else:
                high = middle
        return {"workload": workload, "capacity": low, "capped": False, "trials": trials}

    def half_load(self, workload, capacity):
        streams = max(1, capacity // 2)
        duration, warmup, ramp = (6, 1, 1) if self.quick else (22, 2, 2)
        log(f"half load: {workload} x{streams} paced")
        result = self.fresh_run(workload, streams, True, duration, warmup, ramp,
                                self.search_flags)
        server = result["server"]
        result["rss_kib_per_stream"] = (
            (server["rss_kib_max"] - result["server_idle_rss_kib"]) / streams)
        result["server_cpu_per_stream"] = server["cpu_cores"] / streams
        committed = result["committed"].get("cpu")
        if committed is not None:
            # What admission charged per stream (the cost model), against what it spent.
            result["committed_cpu_per_stream"] = committed / streams
            result["model_over_measured_cpu"] = (
                committed / server["cpu_cores"] if server["cpu_cores"] > 0 else None)
            # The streams the server's default budget would admit at this cost per stream.
            budget = self.default_cpu_budget() if self.server_command is None else None
            if committed > 0 and budget:
                result["admission_capacity"] = int(budget / result["committed_cpu_per_stream"])
        return result

    def mixed(self, voice_capacity, loadgen_cores):
        """Admission by cost: more voice streams than fit, beside 48 kHz stereo heavy chains,
        all paced, on one server. The server admits up to its CPU budget and refuses the rest
        RESOURCE_EXHAUSTED at once; every admitted stream must keep p99 <= 20 ms.

        The load generator shares the machine: a pod would have the cores to itself, so the
        server is given the budget a pod of the cores the load generator leaves would get
        (85% of them, the server's own default share), `loadgen_cores` being what it took at
        the voice capacity."""
        duration = env_int("BENCH_TRIAL_S", 5 if self.quick else 12) + 4
        warmup, ramp = (1, 1) if self.quick else (3, 3)
        heavy_streams = env_int("BENCH_MIXED_HEAVY", 8)
        voice_streams = max(50, int(voice_capacity * 1.5))
        budget = round(0.85 * (os.cpu_count() - loadgen_cores), 2)
        log(f"mixed: {heavy_streams} heavy + {voice_streams} voice paced, --cpu_budget={budget}")
        flags = [*self.server_flags, f"--cpu_budget={budget}"]
        with Server(self.server_binary, self.server_log, flags) as server:
            time.sleep(0.5)
            heavy, finish_heavy = self.run_load(server, "music", heavy_streams, True,
                                                duration + ramp, warmup + ramp, 1,
                                                chain=HEAVY_CHAIN, wait=False)
            time.sleep(1.5)  # the heavy streams are admitted first
            voice, finish_voice = self.run_load(server, "voice", voice_streams, True,
                                                duration, warmup, ramp, wait=False)
            time.sleep(ramp + duration / 2)
            committed = server.metric("audioproc_cpu_committed_cores")
            budget = server.metric("audioproc_cpu_budget_cores")
            results = {"heavy": finish_heavy(), "voice": finish_voice()}
        admitted_ok = all(r["streams_failed"] == r["streams_refused"] and
                          r["latency_ms"]["count"] > 0 and
                          r["latency_ms"]["p99"] <= P99_LIMIT_MS and
                          r["latency_ms"]["p999"] <= P999_LIMIT_MS for r in results.values())
        return {"heavy_chain": HEAVY_CHAIN, "loadgen_cores": loadgen_cores,
                "offered": {"heavy": heavy_streams,
                                                        "voice": voice_streams},
                "committed_cpu_cores": committed, "cpu_budget_cores": budget,
                "results": results, "passed": admitted_ok and
                results["voice"]["streams_refused"] > 0}

    def soak(self, minutes, streams):
        duration = minutes * 60
        warm_up_s = min(120, duration / 5)
        log(f"soak: voice x{streams} paced for {minutes} min")
        samples = []
        with Server(self.server_binary, self.server_log, self.server_flags) as server:
            start = time.monotonic()

            def sample_while_running(process):
                next_sample = start
                while process.poll() is None:
                    now = time.monotonic()
                    if now >= next_sample:
                        samples.append({"t_s": round(now - start, 1),
                                        "rss_kib": rss_kib(server.pid),
                                        "loadavg": loadavg()[0]})
                        next_sample += 10
                    time.sleep(min(1, max(0.05, next_sample - time.monotonic())))

            result = self.run_load(server, "voice", streams, True, duration, 30, 2,
                                   keep_process=sample_while_running)
        loaded = [s for s in samples if 2 <= s["t_s"] <= duration + 2]
        warm = next((s for s in loaded if s["t_s"] >= warm_up_s), loaded[-1])
        after = [s for s in loaded if s["t_s"] >= warm["t_s"]]
        peak = max(s["rss_kib"] for s in after)
        growth = (peak - warm["rss_kib"]) / warm["rss_kib"]
        return {"streams": streams, "minutes": minutes, "warm_up_s": warm["t_s"],
                "warm_up_rss_kib": warm["rss_kib"], "max_after_warm_up_rss_kib": peak,
                "growth": growth, "bound": SOAK_FLAT_BOUND, "flat": growth <= SOAK_FLAT_BOUND,
                "slope_kib_per_min": slope_per_minute(after),
                "within_capacity": passes(result), "samples": samples, "load": result}


def in_process_side_by_side(ours, baseline, quick):
    """The voice and music chains in process, this build's processors_bench against a
    baseline build's, alternated three times in one run; medians of each."""
    names = {"voice": "chain/voice/16k_mono", "music": "chain/music/48k_stereo"}
    runs = {"ours": {w: [] for w in names}, "baseline": {w: [] for w in names}}
    for _ in range(3):
        for who, binary in (("ours", ours), ("baseline", baseline)):
            run = subprocess.run(
                [binary, "--benchmark_filter=^chain/", f"--benchmark_min_time={0.1 if quick else 0.5}",
                 "--benchmark_format=json"], capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(f"{binary} failed: {run.stderr.strip()}")
            by_name = {b["name"]: b for b in json.loads(run.stdout)["benchmarks"]}
            for workload, name in names.items():
                if name in by_name:
                    runs[who][workload].append(1e9 / by_name[name]["items_per_second"])
    rows = []
    for workload in names:
        mine, theirs = sorted(runs["ours"][workload]), sorted(runs["baseline"][workload])
        if not mine or not theirs:
            continue
        ours_ns, base_ns = mine[len(mine) // 2], theirs[len(theirs) // 2]
        rows.append({"workload": workload, "ns_per_frame": ours_ns, "baseline_ns_per_frame": base_ns,
                     "speedup": base_ns / ours_ns, "runs_ns_per_frame": runs["ours"][workload],
                     "baseline_runs_ns_per_frame": runs["baseline"][workload]})
    return {"baseline": baseline, "chains": rows}


def passes(result):
    latency = result["latency_ms"]
    return (result["all_answered"] and latency["count"] > 0 and latency["p99"] <= P99_LIMIT_MS
            and latency["p999"] <= P999_LIMIT_MS)


def slope_per_minute(samples):
    """Least-squares slope of VmRSS over time, KiB per minute."""
    if len(samples) < 2:
        return 0.0
    ts = [s["t_s"] / 60 for s in samples]
    ys = [s["rss_kib"] for s in samples]
    t_mean, y_mean = sum(ts) / len(ts), sum(ys) / len(ys)
    var = sum((t - t_mean) ** 2 for t in ts)
    return sum((t - t_mean) * (y - y_mean) for t, y in zip(ts, ys)) / var if var else 0.0


def versus_in_process(throughput, chains):
    """gRPC path against the in-process chain: best unpaced run per workload."""
    rows = []
    cores = os.cpu_count()
    for workload, chain in chains.items():
        runs = [r for r in throughput if r["workload"] == workload and r["all_answered"]]
        if not runs:
            continue
        best = max(runs, key=lambda r: r["audio_s_per_s"])
        server_cores = best["server"]["cpu_cores"]
        per_core = best["audio_s_per_s"] / server_cores if server_cores > 0 else 0
        rows.append({"workload": workload, "streams": best["streams"],
                     "grpc_x_realtime": best["audio_s_per_s"],
                     "server_cpu_cores": server_cores,
                     "grpc_x_realtime_per_server_core": per_core,
                     "in_process_x_realtime_per_core": chain["x_realtime_per_core"],
                     "ratio_per_core": per_core / chain["x_realtime_per_core"],
                     "ratio_machine": best["audio_s_per_s"] /
                     (chain["x_realtime_per_core"] * cores)})
    return rows


# The peers of issue 12, measured by the same load generator in the same run: a plain C++
# gRPC callback-API echo server on the null workload, and a Python grpc.aio server doing the
# voice chain with numpy/scipy (the seed's approach) on the voice workload.
def peer_commands(build_dir):
    here = os.path.dirname(os.path.abspath(__file__))
    return {
        "echo": (["null"], [os.path.join(build_dir, "bench", "peers", "audioproc-echo-peer"),
                            "--host=127.0.0.1", "--port=0"], 100),
        "python_asyncio": (["voice"], ["/usr/bin/python3",
                                       os.path.join(here, "peers", "asyncio_voice_server.py"),
                                       "--host=127.0.0.1", "--port=0"], 20),
    }


def measure_peers(build_dir, out_dir, quick):
    results = []
    for name, (workloads, command, start) in peer_commands(build_dir).items():
        peer = Bench(build_dir, out_dir, quick, server_command=command)
        for workload in workloads:
            log(f"peer {name}: capacity on {workload}")
            result = peer.capacity(workload, start=start)
            result["peer"] = name
            results.append(result)
    return results


def echo_side_by_side(build_dir, out_dir, quick, ours, streams):
    """Null at one stream count on our server and on the echo peer, alternated (twice, once in
    a quick run): server CPU per chunk and p99 at equal load. Near capacity a trial's p99
    swings more between runs than the two servers differ, so the capacity ratio alone says
    little about the per-chunk cost this measures."""
    peers = peer_commands(build_dir)
    echo = Bench(build_dir, out_dir, quick, server_command=peers["echo"][1])
    duration, warmup, ramp = (5, 1, 1) if quick else (12, 2, 2)
    runs = {"ours": [], "echo": []}
    for _ in range(1 if quick else 2):
        for who, bench in (("ours", ours), ("echo", echo)):
            log(f"side by side: {who} null x{streams} paced")
            result = bench.fresh_run("null", streams, True, duration, warmup, ramp,
                                     bench.search_flags)
            runs[who].append({"cpu_us_per_chunk": cpu_per_chunk_us(result),
                              "p99_ms": result["latency_ms"]["p99"],
                              "all_answered": result["all_answered"],
                              "busy_cores": result["machine"]["busy_cores"],
                              "other_cores": result["machine"]["other_cores"]})
    # A run that answered nothing has no CPU per chunk: the comparison is then left out.
    if any(r["cpu_us_per_chunk"] is None for rs in runs.values() for r in rs):
        return None
    mean = {who: sum(r["cpu_us_per_chunk"] for r in rs) / len(rs) for who, rs in runs.items()}
    return {"streams": streams, "share_of_capacity": SIDE_BY_SIDE_SHARE, "runs": runs,
            "cpu_us_per_chunk": mean,
            "ours_over_echo_cpu": mean["ours"] / mean["echo"]}


def cpu_per_chunk_us(run):
    """Server CPU microseconds per chunk answered over a run's measurement window."""
    chunks_per_s = run.get("chunks_per_s") or 0
    return run["server"]["cpu_cores"] * 1e6 / chunks_per_s if chunks_per_s > 0 else None


def issue12(report):
    """The ratios issue 12 sets, from this run's measurements; None where one is missing."""
    cpus = report["host"]["cpus"]
    capacity = {c["workload"]: c for c in report["capacity"]}
    half = {h["workload"]: h for h in report["half_load"]}
    peers = {(p["peer"], p["workload"]): p["capacity"] for p in report.get("peers", [])}
    cap = {w: c["capacity"] for w, c in capacity.items()}
    out = {}
    if cap.get("null"):
        for w in ("light", "voice"):
            if w in cap:
                out[f"{w}_over_null"] = cap[w] / cap["null"]
    if peers.get(("echo", "null")) and "null" in cap:
        out["null_over_echo"] = cap["null"] / peers[("echo", "null")]
    side = report.get("echo_side_by_side")
    if side:
        out["null_cpu_over_echo_at_equal_load"] = side["ours_over_echo_cpu"]
    if peers.get(("python_asyncio", "voice")) and "voice" in cap:
        out["voice_over_python_asyncio"] = cap["voice"] / peers[("python_asyncio", "voice")]
    # CPU per chunk at half capacity: gRPC and the engine's floor (null), the voice chain's
    # DSP in process (processors_bench, one 20 ms chunk = 320 frames), and what is left.
    chain = report.get("in_process", {}).get("voice")
    null_run = report.get("null_at_voice_half_load") or half.get("null")
    if null_run and "voice" in half and chain:
        null_us, voice_us = cpu_per_chunk_us(null_run), cpu_per_chunk_us(half["voice"])
        dsp_us = chain["ns_per_frame"] * 320 / 1000
        if null_us and voice_us:
            out["cpu_per_chunk_us"] = {
                "streams": half["voice"]["streams"], "null_streams": null_run["streams"],
                "null": null_us, "voice": voice_us, "voice_dsp_in_process": dsp_us,
                "voice_engine_beyond_null_and_dsp": voice_us - null_us - dsp_us,
                "bound": null_us + 1.2 * dsp_us}
    # Bound by CPU: the first failing trial above capacity keeps the machine >= 90% busy.
    busy = {}
    for w, c in capacity.items():
        failing = sorted((t for t in c["trials"] if not t["passed"] and t["streams"] > c["capacity"]),
                         key=lambda t: t["streams"])
        if failing:
            first = failing[0]
            busy[w] = {"streams": first["streams"],
                       "busy_cores": first["machine"]["busy_cores"],
                       "busy_share": first["machine"]["busy_cores"] / cpus,
                       "p99_ms": first["latency_ms"]["p99"]}
            # Where a failing trial's latency was not: the server's own queue (a chunk read to
            # a worker starting it) and its chain, from the server's ChunkMetrics.
            if "server_queue_wait_ms" in first:
                busy[w]["server_queue_wait_p99_ms"] = first["server_queue_wait_ms"]["p99"]
                busy[w]["server_process_p99_ms"] = first["server_process_ms"]["p99"]
    out["first_failing_trial"] = busy
    out["kib_per_stream"] = {w: h["rss_kib_per_stream"] for w, h in half.items()}
    out["admission_capacity"] = {w: h["admission_capacity"] for w, h in half.items()
                                 if "admission_capacity" in h}
    out["half_load_p99_ms"] = {w: h["latency_ms"]["p99"] for w, h in half.items()}
    side = report.get("in_process_vs_baseline")
    if side:
        out["in_process_speedup"] = {r["workload"]: r["speedup"] for r in side["chains"]}
    return out


def git_commit(source_dir):
    """HEAD of the source tree, marked when the tree has uncommitted changes; BENCH_COMMIT
    names it for a tree without git (e.g. a `git archive` copy)."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    try:
        head = subprocess.run(["git", "-C", source_dir, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", source_dir, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--out-dir", default=None, help="default: <build-dir>/bench")
    args = parser.parse_args()
    quick = os.environ.get("BENCH_QUICK", "0") == "1"
    out_dir = args.out_dir or os.path.join(args.build_dir, "bench")
    os.makedirs(out_dir, exist_ok=True)
    bench = Bench(args.build_dir, out_dir, quick)
    workloads = os.environ.get("BENCH_WORKLOADS", "null,voice,music").split(",")
    capacity_workloads = os.environ.get("BENCH_CAPACITY_WORKLOADS",
                                        "null,light,voice,music").split(",")
    run_soak = os.environ.get("BENCH_SOAK", "0" if quick else "1") == "1"

    started = time.time()
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "host": {"cpus": os.cpu_count(), "cpu_model": bench_markdown.cpu_model(),
                 "kernel": os.uname().release, "loadavg_start": loadavg()},
        "commit": git_commit(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "loadgen": {"connections": bench.connections, "threads": bench.threads},
        "server_flags": ["--max_streams=4096", *bench.server_flags],
        "search_flags": ["--max_streams=4096", *bench.search_flags],
        "criteria": {"p99_ms": P99_LIMIT_MS, "p999_ms": P999_LIMIT_MS},
    }
    micro = bench.microbenchmarks()
    report["in_process"] = micro["chains"]
    report["cost_model"] = micro["cost_model"]
    report["throughput"] = bench.throughput(workloads)
    report["capacity"] = [bench.capacity(w) for w in capacity_workloads]
    baseline_server = os.environ.get("BENCH_BASELINE_SERVER")
    if baseline_server:
        baseline = Bench(args.build_dir, out_dir, quick, server_binary=baseline_server)
        report["baseline"] = {"server": baseline_server,
                              "capacity": [baseline.capacity(w) for w in capacity_workloads]}
    if os.environ.get("BENCH_PEERS", "1") == "1":
        report["peers"] = measure_peers(args.build_dir, out_dir, quick)
        null = next((c for c in report["capacity"] if c["workload"] == "null"), None)
        if null and null["capacity"] > 0:
            side = echo_side_by_side(args.build_dir, out_dir, quick, bench,
                                     int(null["capacity"] * SIDE_BY_SIDE_SHARE))
            if side:
                report["echo_side_by_side"] = side
    report["half_load"] = [bench.half_load(c["workload"], c["capacity"])
                           for c in report["capacity"] if c["capacity"] > 0]
    voice_half = next((h for h in report["half_load"] if h["workload"] == "voice"), None)
    if voice_half and "null" in capacity_workloads:
        # gRPC batches more per wake-up as the load grows, so a chunk's CPU depends on the
        # stream count: the null floor the voice chunk is split against is measured at the
        # voice half-load's count.
        report["null_at_voice_half_load"] = bench.half_load("null", 2 * voice_half["streams"])
    baseline_bench = os.environ.get("BENCH_BASELINE_PROCESSORS_BENCH")
    if baseline_bench:
        log(f"in process, side by side with {baseline_bench}")
        report["in_process_vs_baseline"] = in_process_side_by_side(
            os.path.join(args.build_dir, "bench", "processors_bench"), baseline_bench, quick)
    report["versus_in_process"] = versus_in_process(report["throughput"], micro["chains"])
    voice = next((c for c in report["capacity"] if c["workload"] == "voice"), None)
    voice_capacity = voice["capacity"] if voice else 200
    at_capacity = [t for t in (voice["trials"] if voice else [])
                   if t["passed"] and t["streams"] == voice_capacity]
    loadgen_cores = at_capacity[-1]["loadgen"]["cpu_cores"] if at_capacity else 0.5
    report["mixed"] = bench.mixed(voice_capacity, loadgen_cores)
    if run_soak:
        report["soak"] = bench.soak(env_int("BENCH_SOAK_MINUTES", 1 if quick else 10),
                                    env_int("BENCH_SOAK_STREAMS", 200))
    report["issue12"] = issue12(report)
    report["host"]["loadavg_end"] = loadavg()
    report["elapsed_s"] = round(time.time() - started)

    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write(bench_markdown.render(report, micro["markdown"]))
    log(f"report: {out_dir}/report.md, {out_dir}/report.json ({report['elapsed_s']} s)")


if __name__ == "__main__":
    main()
