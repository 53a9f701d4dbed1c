#!/usr/bin/python3
"""`make bench-dsp`'s echo part (issue 15): audioproc's aec beside the echo cancellers that
install here, in one run.

    bench/dsp/run_aec_bench.py --build-dir build [--quick] [--jobs 2] [--keep-outputs]
                               [--material-dir DIR]

Steps: dsp-echo-material writes the echo scenes into BUILD/bench-dsp/echo/material (far and
near end from different espeak-ng voices, the far end through a synthetic room: single talk,
double talk, an echo path change and a 50 ms delay jump later and earlier, at 16 and 48 kHz;
raw float32 microphone, reference, clean near end and echo alone, 10 ms labels far_only and
near_active, manifest.json with each scene's parameters); dsp-echo-peers runs every contender
over every scene at the rates it takes; the outputs are scored into
BUILD/bench-dsp/echo/report.md and report.json, and the markdown is printed. --material-dir
scores scenes written elsewhere (same manifest) instead of running dsp-echo-material.

Scores (issue 15's bars):
  ERLE            10 log10(sum mic^2 / sum out^2) over the far_only frames from 2 s after the
                  start: single-talk scenes (the bar), and the far_only frames of the double-talk
                  scenes.
  near-end SDR    double-talk scenes: the output is aligned to the clean near end by
                  cross-correlation (lag within +-40 ms, stated), then over the near_active
                  frames from 2 s on, 10 log10(sum near^2 / sum (out - near)^2) at unit gain; the
                  near end's level change 10 log10(sum out^2 / sum near^2) over the same frames;
                  and the least-squares gain sum(out near) / sum(near^2), stated in dB.
  recovery        path-change and delay-jump scenes (later and earlier): windows of 250 ms
                  sliding by 10 ms from the change; a window's ERLE is over its far_only frames
                  (at least 100 ms of them, else it has none). The time from the change to the
                  end of the first window at 20 dB or more; "never" when none is. The ERLE
                  before the change (2 s to the change) is stated beside it, so that a contender
                  that never reached 20 dB shows; and the ERLE over the far_only frames 0 to 1 s
                  and 1 to 3 s after the change, which the recovery alone hides (a contender
                  that reaches 20 dB in one window and loses it again recovers as fast).
  bars            per rate and contender, each bar of issue 15 scene by scene: the worst scene's
                  number and how many scenes miss the bar (single-talk ERLE under 30 dB,
                  double-talk SDR under 10 dB, the near end's level off by more than 1 dB,
                  recovery over 1 s or never), and audioproc's own misses by name.
  CPU             CPU seconds of the contender's processing (dsp-echo-peers measures it around
                  the contender alone), per 10 ms of audio, summed over the scenes of a rate.
--quick: one voice pair and one room per kind, scenes cut to 12 s (ctest's smoke run).
Needs Debian's python3-numpy and python3-scipy (.ci/install-deps).
"""
import argparse
import concurrent.futures
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time

import numpy as np

# bench/bench_markdown.py, the load bench's report helpers, one folder up.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench_markdown  # noqa: E402
from alignment import best_lag, shifted  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))

SETTLE_S = 2.0  # ERLE and SDR are scored from this far into a scene
WINDOW_FRAMES = 25  # 250 ms: the recovery's sliding window, in 10 ms frames
WINDOW_MIN_FAR = 10  # a window's ERLE needs this many far_only frames
RECOVERED_DB = 20.0
AFTER_WINDOWS_S = ((0.0, 1.0), (1.0, 3.0))  # ERLE after a change, over these spans
# Issue 15's bars, scene by scene.
SINGLE_BAR_DB = 30.0
DOUBLE_BAR_DB = 10.0
LEVEL_BAR_DB = 1.0
RECOVERY_BAR_S = 1.0
MAX_LAG_S = 0.04
KINDS = ["single", "double", "path", "delay", "earlier"]
CHANGES = ("path", "delay", "earlier")
# The contenders held to issue 15's bars, whose misses the report names scene by scene (the
# filter alone, audioproc-aec-linear, is there to show what the suppressor adds).
HELD_TO_BARS = ("audioproc-aec", "audioproc-aec-denoise")


def log(message):
    print(f"run_aec_bench: {message}", file=sys.stderr, flush=True)


def read_f32(path):
    return np.fromfile(path, dtype="<f4").astype(np.float64)


def read_labels(path):
    """The scene's 10 ms labels: (far_only, near_active) as boolean arrays."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().split()
        rows = [line.split() for line in f if line.strip()]
    table = np.array(rows, dtype=np.int64).reshape(-1, len(header))
    return table[:, header.index("far_only")] != 0, table[:, header.index("near_active")] != 0


def frame_energy(x, hop, frames):
    n = min(frames, len(x) // hop)
    e = np.zeros(frames)
    e[:n] = np.sum(x[: n * hop].reshape(n, hop) ** 2, axis=1)
    return e


def erle_db(mic, out, mask, hop):
    """10 log10(sum mic^2 / sum out^2) over the 10 ms frames where `mask` holds; None if none."""
    frames = len(mask)
    m, o = frame_energy(mic, hop, frames)[mask], frame_energy(out, hop, frames)[mask]
    if m.size == 0 or np.sum(m) <= 0:
        return None
    return 10 * math.log10(np.sum(m) / max(np.sum(o), 1e-30))


def recovery_s(mic, out, far_only, change_frame, hop):
    """Seconds from the change to the end of the first 250 ms window with ERLE >= 20 dB."""
    frames = len(far_only)
    m = frame_energy(mic, hop, frames) * far_only
    o = frame_energy(out, hop, frames) * far_only
    n_far = far_only.astype(np.int64)
    cm, co, cn = (np.concatenate([[0], np.cumsum(a)]) for a in (m, o, n_far))
    for start in range(change_frame, frames - WINDOW_FRAMES + 1):
        end = start + WINDOW_FRAMES
        if cn[end] - cn[start] < WINDOW_MIN_FAR:
            continue
        sm, so = cm[end] - cm[start], co[end] - co[start]
        if sm > 0 and 10 * math.log10(sm / max(so, 1e-30)) >= RECOVERED_DB:
            return (end - change_frame) * 0.01
    return None


def aligned_to_near(near, out, rate):
    """The lag of `out` behind the clean near end (within MAX_LAG_S) and `out` moved by it."""
    lag = best_lag(near, out, int(MAX_LAG_S * rate))
    return lag, shifted(out, lag)


def room_name(scene):
    return (f"{scene['delay_ms']:g} ms, RT60 {scene['rt60_s']:g} s, "
            f"echo {scene['echo_level_db']:g} dB")


def score_job(job):
    """Scores one contender's output of one scene (run in a worker process)."""
    scene, out_path, material = job
    rate = scene["rate"]
    hop = rate // 100
    mic = read_f32(os.path.join(material, scene["mic"]))
    out = read_f32(out_path)
    result = {"scene": scene["name"], "kind": scene["kind"], "rate": rate, "room": room_name(scene)}
    if len(out) != len(mic):
        result["error"] = f"output has {len(out)} samples, microphone {len(mic)}"
        return result
    if not np.all(np.isfinite(out)):
        result["error"] = "output has non-finite samples"
        return result
    far_only, near_active = read_labels(os.path.join(material, scene["labels"]))
    settle = np.arange(len(far_only)) >= int(SETTLE_S * 100)
    if scene["kind"] in ("single", "double"):
        result["erle_db"] = erle_db(mic, out, far_only & settle, hop)
    if scene["kind"] == "double":
        near = read_f32(os.path.join(material, scene["near"]))
        lag, y = aligned_to_near(near, out, rate)
        mask = np.repeat(near_active & settle, hop)[: len(near)]
        n, y = near[: mask.size][mask], y[: mask.size][mask]
        if n.size and np.sum(n**2) > 0:
            result["lag"] = lag
            result["sdr_db"] = 10 * math.log10(np.sum(n**2) / max(np.sum((y - n) ** 2), 1e-30))
            result["level_db"] = 10 * math.log10(max(np.sum(y**2), 1e-30) / np.sum(n**2))
            gain = np.sum(y * n) / np.sum(n**2)
            result["gain_db"] = 20 * math.log10(gain) if gain > 0 else None
    if scene["kind"] in CHANGES and scene["change_sample"] > 0:
        change_frame = int(scene["change_sample"]) // hop
        frame = np.arange(len(far_only))
        before = settle & (frame < change_frame)
        result["erle_before_db"] = erle_db(mic, out, far_only & before, hop)
        result["recovery_s"] = recovery_s(mic, out, far_only, change_frame, hop)
        for first, last in AFTER_WINDOWS_S:
            window = (frame >= change_frame + round(first * 100)) & (
                frame < change_frame + round(last * 100))
            result[after_key(first, last)] = erle_db(mic, out, far_only & window, hop)
    return result


def after_key(first, last, summary=""):
    """The score's key for the ERLE from `first` to `last` s after a change ("erle_1_3s_db"), or
    for its `summary` over scenes ("erle_1_3s_mean_db")."""
    return f"erle_{first:g}_{last:g}s_{summary + '_' if summary else ''}db"


def bars(results):
    """Issue 15's bars over one contender's scenes at one rate: the worst scene's number, how
    many scenes miss each bar, and the misses by scene."""
    def of(kind, key):
        return [(r["scene"], r.get(key)) for r in results if r["kind"] == kind]

    single = [(n, v) for n, v in of("single", "erle_db") if v is not None]
    sdr = [(n, v) for n, v in of("double", "sdr_db") if v is not None]
    level = [(n, v) for n, v in of("double", "level_db") if v is not None]
    recovery = [(n, v) for kind in CHANGES for n, v in of(kind, "recovery_s")]
    misses = ([f"{n} single-talk ERLE {v:.1f} dB" for n, v in single if v < SINGLE_BAR_DB]
              + [f"{n} double-talk SDR {v:.2f} dB" for n, v in sdr if v < DOUBLE_BAR_DB]
              + [f"{n} near-end level {v:+.2f} dB" for n, v in level if abs(v) > LEVEL_BAR_DB]
              + [f"{n} recovery " + ("never" if v is None else f"{v:.2f} s")
                 for n, v in recovery if v is None or v > RECOVERY_BAR_S])
    row = {
        "single_erle_worst_db": min((v for _, v in single), default=None),
        "single_erle_misses": sum(1 for _, v in single if v < SINGLE_BAR_DB),
        "single_scenes": len(single),
        "double_sdr_least_db": min((v for _, v in sdr), default=None),
        "double_sdr_misses": sum(1 for _, v in sdr if v < DOUBLE_BAR_DB),
        "double_scenes": len(sdr),
        "double_level_worst_db": max((v for _, v in level), key=abs, default=None),
        "double_level_misses": sum(1 for _, v in level if abs(v) > LEVEL_BAR_DB),
        "recovery_slowest_s": (None if any(v is None for _, v in recovery)
                               else max((v for _, v in recovery), default=None)),
        "recovery_misses": sum(1 for _, v in recovery if v is None or v > RECOVERY_BAR_S),
        "change_scenes": len(recovery),
        "misses": misses,
    }
    for first, last in AFTER_WINDOWS_S:
        after = [v for kind in CHANGES for _, v in of(kind, after_key(first, last))
                 if v is not None]
        row[after_key(first, last, "mean")] = mean(after)
        row[after_key(first, last, "least")] = min(after, default=None)
    return row


def run(cmd, **kwargs):
    log(" ".join(cmd))
    return subprocess.run(cmd, check=True, **kwargs)


def mean(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return sum(values) / len(values) if values else None


def fmt(value, digits=1):
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0"


def commit():
    try:
        return subprocess.run(["git", "-C", SOURCE_DIR, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summarise(contenders, scores, cpu, rates):
    """Per rate and contender: the means over scenes of each kind, and the CPU time."""
    tables = {}
    for rate in rates:
        rows = {}
        for name, c in contenders.items():
            if rate not in c["rates"]:
                continue
            results = [r for r in scores.get(name, []) if r["rate"] == rate and not r.get("error")]

            def pick(kind, key):
                return [r.get(key) for r in results if r["kind"] == kind]

            row = {
                "single_erle_db": mean(pick("single", "erle_db")),
                "double_erle_db": mean(pick("double", "erle_db")),
                "double_sdr_db": mean(pick("double", "sdr_db")),
                "double_level_db": mean(pick("double", "level_db")),
                "double_gain_db": mean(pick("double", "gain_db")),
                "double_lag_ms": mean([v * 1000 / rate for v in pick("double", "lag") if v is not None]),
            }
            for kind in CHANGES:
                rec = pick(kind, "recovery_s")
                row[f"{kind}_recovery_s"] = mean(rec)
                row[f"{kind}_never"] = sum(1 for v in rec if v is None)
                row[f"{kind}_scenes"] = len(rec)
                row[f"{kind}_erle_before_db"] = mean(pick(kind, "erle_before_db"))
            rooms = sorted({r["room"] for r in results if r["kind"] == "single"})
            row["single_erle_db_by_room"] = {
                room: mean([r.get("erle_db") for r in results
                            if r["kind"] == "single" and r["room"] == room]) for room in rooms}
            row["bars"] = bars(results)
            seconds = cpu.get(name, {}).get(rate)
            row["cpu_us_per_10ms"] = (seconds["cpu"] / (seconds["audio"] * 100) * 1e6
                                      if seconds and seconds["audio"] > 0 else None)
            rows[name] = row
        tables[str(rate)] = rows
    return tables


def render(report):
    host = report["host"]
    lines = [
        "# audioproc echo cancellation comparison (issue 15)",
        "",
        f"{report['date']}, commit {report['commit']}, {host['cpus']} × {host['cpu_model']}, "
        f"Linux {host['kernel']}; {report['elapsed_s']} s "
        f"({report['peer_seconds']} s of it running the contenders)."
        + (" **Quick run** (`--quick`): a smoke test, not the numbers to quote." if report["quick"] else ""),
        "",
        f"Material: {report['scenes']} scenes ({report['material']}): far and near end from "
        "different espeak-ng voices, the far end through synthetic rooms "
        f"(delays {report['delays_ms']} ms, RT60 {report['rt60s_s']} s, echo levels "
        f"{report['echo_levels_db']} dB against the far end) over a microphone noise floor; "
        "single talk, double talk, an echo path change and a 50 ms delay jump, later and earlier "
        "(the 30 ms room's earlier jump 30 ms, to no delay). Every output is "
        "aligned to the microphone by the contender's known delay; the double-talk outputs are "
        "checked against the clean near end by cross-correlation (lag below).",
        "",
        "Contenders: `audioproc-aec` (the chain `aec` through StreamPipeline, input 2 channels: "
        "microphone, reference), `audioproc-aec-denoise` (`aec,denoise`), `audioproc-aec-linear` "
        "(`aec:suppression=0`: the adaptive filter alone, to show what the residual echo "
        "suppressor removes and what it costs the near end); `webrtc-aec` (WebRTC "
        "APM 0.3 `echo_cancellation()`, kHighSuppression, ExtendedFilter and DelayAgnostic on, "
        "stream delay 0: the caller does not know it); `webrtc-aec-known-delay` (the same told each "
        "scene's true delay, DelayAgnostic off: an oracle beside the contenders, showing what "
        "WebRTC's canceller does without its delay estimation in the way; the delay jump is not "
        "told to it); `webrtc-aecm` (APM 0.3 "
        "`echo_control_mobile()`, kSpeakerphone, comfort noise; 16 kHz only); `speexdsp-aec` "
        "(speex_echo_cancellation, 0.5 s filter, then speex_preprocess with the echo state for "
        "residual suppression at its defaults; its denoiser on at -15 dB, without which "
        "speex_preprocess applies no residual suppression). 10 ms frames for all.",
        "",
        "Columns: ERLE = 10·log10 Σmic²/Σout² over the far-end-only 10 ms frames from 2 s after "
        "the start (single talk, and the far-only stretches of double talk). Near SDR = "
        "10·log10 Σnear²/Σ(out−near)² at unit gain over the near-active frames from 2 s, after "
        "the lag of greatest correlation (±40 ms); level = the near end's level change there; "
        "LS gain = Σ(out·near)/Σnear² in dB. Recovery = seconds from the path change or delay "
        "jump to the end of the first 250 ms window (sliding by 10 ms, ERLE over its far-only "
        "frames, at least 100 ms of them) at ≥ 20 dB, mean over the scenes that recovered, "
        "\"(k never)\" for those that did not; ERLE before = the same scenes' ERLE from 2 s to "
        "the change. CPU = the contender's CPU time per 10 ms of audio.",
        "",
    ]
    for note in report["notes"]:
        lines += [f"Note: {note}", ""]
    for rate, rows in report["tables"].items():
        lines += [f"## {int(rate) // 1000} kHz", "",
                  "| contender | ST ERLE (dB) | DT ERLE (dB) | DT near SDR (dB) | DT near level (dB) "
                  "| DT LS gain (dB) / lag (ms) | path change: recovery (s) / ERLE before (dB) "
                  "| 50 ms delay jump: recovery (s) / ERLE before (dB) "
                  "| 50 ms earlier: recovery (s) / ERLE before (dB) | CPU per 10 ms (µs) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]

        def recovery(row, kind):
            text = fmt(row[f"{kind}_recovery_s"], 2)
            if row[f"{kind}_never"]:
                text += f" ({row[f'{kind}_never']} never)"
            return text + " / " + fmt(row[f"{kind}_erle_before_db"])

        for name, row in rows.items():
            cells = [fmt(row["single_erle_db"]), fmt(row["double_erle_db"]), fmt(row["double_sdr_db"]),
                     fmt(row["double_level_db"], 2),
                     fmt(row["double_gain_db"], 2) + " / " + fmt(row["double_lag_ms"], 2),
                     recovery(row, "path"), recovery(row, "delay"), recovery(row, "earlier"),
                     fmt(row["cpu_us_per_10ms"], 0)]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        rooms = sorted({room for row in rows.values() for room in row["single_erle_db_by_room"]},
                       key=lambda room: float(room.split()[0]))  # by delay
        if len(rooms) > 1:
            lines += ["Single-talk ERLE (dB) by room (delay, RT60, echo level against the far end):",
                      "", "| contender | " + " | ".join(rooms) + " |",
                      "| --- | " + " | ".join("---:" for _ in rooms) + " |"]
            for name, row in rows.items():
                lines.append(f"| {name} | " + " | ".join(
                    fmt(row["single_erle_db_by_room"].get(room)) for room in rooms) + " |")
            lines.append("")
        lines += render_bars(rows)
    if report["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in report["warnings"][:50]]
        if len(report["warnings"]) > 50:
            lines.append(f"- … and {len(report['warnings']) - 50} more (report.json)")
        lines.append("")
    return "\n".join(lines)


def render_bars(rows):
    """The rate's scene-by-scene table of issue 15's bars, and audioproc's misses by name."""
    after = " / ".join(f"{first:g}–{last:g} s" for first, last in AFTER_WINDOWS_S)
    lines = ["Issue 15's bars scene by scene: the worst scene, and how many scenes miss the bar "
             f"(single-talk ERLE < {SINGLE_BAR_DB:g} dB, double-talk SDR < {DOUBLE_BAR_DB:g} dB, "
             f"the near end's level off by > {LEVEL_BAR_DB:g} dB, recovery > {RECOVERY_BAR_S:g} s "
             f"or never); ERLE {after} after a change, mean (least scene):",
             "", "| contender | single-talk ERLE, worst (misses) | double-talk SDR, least (misses) "
             "| near-end level, worst (misses) | recovery, slowest (misses) "
             f"| ERLE {after} after a change |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]

    def cell(value, misses, scenes, digits=1):
        return f"{fmt(value, digits)} ({misses} of {scenes})"

    for name, row in rows.items():
        b = row["bars"]
        slowest = "never" if b["recovery_slowest_s"] is None and b["change_scenes"] else fmt(
            b["recovery_slowest_s"], 2)
        spans = " / ".join(f"{fmt(b[after_key(first, last, 'mean')])} "
                           f"({fmt(b[after_key(first, last, 'least')])})"
                           for first, last in AFTER_WINDOWS_S)
        lines.append(f"| {name} | " + " | ".join([
            cell(b["single_erle_worst_db"], b["single_erle_misses"], b["single_scenes"]),
            cell(b["double_sdr_least_db"], b["double_sdr_misses"], b["double_scenes"], 2),
            cell(b["double_level_worst_db"], b["double_level_misses"], b["double_scenes"], 2),
            f"{slowest} ({b['recovery_misses']} of {b['change_scenes']})", spans]) + " |")
    lines.append("")
    for name, row in rows.items():
        if name in HELD_TO_BARS and row["bars"]["misses"]:
            lines += [f"`{name}` misses: " + "; ".join(row["bars"]["misses"]) + ".", ""]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--out-dir", help="default BUILD/bench-dsp/echo (--quick: bench-dsp-quick/echo)")
    parser.add_argument("--material-dir", help="score the scenes there instead of making them")
    parser.add_argument("--quick", action="store_true", help="a few short scenes (smoke test)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep-outputs", action="store_true", help="keep the contenders' audio")
    args = parser.parse_args()
    started = time.monotonic()
    build = os.path.abspath(args.build_dir)
    tools = os.path.join(build, "bench", "dsp")
    out_dir = os.path.abspath(args.out_dir or os.path.join(
        build, "bench-dsp-quick" if args.quick else "bench-dsp", "echo"))
    outputs = os.path.join(out_dir, "out")
    shutil.rmtree(outputs, ignore_errors=True)
    os.makedirs(outputs)
    if args.material_dir:
        material = os.path.abspath(args.material_dir)
    else:
        material = os.path.join(out_dir, "material")
        shutil.rmtree(material, ignore_errors=True)
        os.makedirs(material)
        cmd = [os.path.join(tools, "dsp-echo-material"), f"--out_dir={material}"]
        if args.quick:
            cmd += ["--pairs=1", "--rooms=1", "--seconds=12"]
        run(cmd)
    with open(os.path.join(material, "manifest.json"), encoding="utf-8") as f:
        scenes = json.load(f)["scenes"]
    rates = sorted({s["rate"] for s in scenes})

    peers_bin = os.path.join(tools, "dsp-echo-peers")
    listed = run([peers_bin, "--list"], capture_output=True, text=True)
    contenders = {}
    for line in listed.stdout.split("\n"):
        if line.strip():
            name, rates_text = line.split("\t")
            contenders[name] = {"rates": [int(r) for r in rates_text.split(",")]}

    # One TSV per contender and share; each dsp-echo-peers call takes a share of the scenes.
    commands = []
    for name, c in contenders.items():
        os.makedirs(os.path.join(outputs, name))
        lines = [(os.path.join(material, s["mic"]), os.path.join(material, s["ref"]), str(s["rate"]),
                  os.path.join(outputs, name, s["name"] + ".f32"), str(round(s["delay_ms"])))
                 for s in scenes if s["rate"] in c["rates"]]
        shares = max(1, min(args.jobs, len(lines)))
        for k in range(shares):
            tsv = os.path.join(outputs, f"{name}.{k}.tsv")
            with open(tsv, "w", encoding="utf-8") as f:
                f.writelines("\t".join(line) + "\n" for line in lines[k::shares])
            commands.append((name, [peers_bin, f"--contender={name}", f"--jobs={tsv}"]))
    notes, warnings = [], []
    failed = {}
    cpu = {}  # contender -> rate -> {"cpu": s, "audio": s}
    rate_of = {os.path.join(outputs, name, s["name"] + ".f32"): s["rate"]
               for name in contenders for s in scenes}
    peer_started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(subprocess.run, cmd, capture_output=True, text=True): name
                   for name, cmd in commands}
        for future in concurrent.futures.as_completed(futures):
            name, proc = futures[future], future.result()
            if proc.returncode != 0:
                failed[name] = proc.stderr.strip()[-2000:]
            for line in proc.stdout.split("\n"):
                if line.strip():
                    path, cpu_s, audio_s = line.split("\t")
                    acc = cpu.setdefault(name, {}).setdefault(rate_of[path], {"cpu": 0.0, "audio": 0.0})
                    acc["cpu"] += float(cpu_s)
                    acc["audio"] += float(audio_s)
    peer_seconds = time.monotonic() - peer_started
    for name, error in sorted(failed.items()):
        log(f"{name} failed: {error}")
        # Until the aec processor is merged, the registry does not know it: the audioproc rows
        # are left out with the reason rather than failing the whole comparison.
        if name.startswith("audioproc-") and "unknown processor" in error:
            notes.append(f"`{name}` is left out: this build's registry has no such processor "
                         f"(\"{error.splitlines()[-1]}\").")
            del contenders[name]
        else:
            sys.exit(f"run_aec_bench: dsp-echo-peers --contender={name} failed")

    jobs, keys = [], []
    for name, c in contenders.items():
        for s in scenes:
            out = os.path.join(outputs, name, s["name"] + ".f32")
            if s["rate"] in c["rates"] and os.path.exists(out):
                jobs.append((s, out, material))
                keys.append(name)
    scores = {name: [] for name in contenders}
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, result in zip(keys, pool.map(score_job, jobs, chunksize=2)):
            scores[name].append(result)
    for name, results in scores.items():
        for r in results:
            if r.get("error"):
                warnings.append(f"{name} on {r['scene']}: {r['error']}")
            elif r.get("lag"):
                warnings.append(f"{name} on {r['scene']}: output lags the near end by {r['lag']} "
                                f"samples ({r['lag'] * 1000 / r['rate']:.2f} ms); scored at that lag")
    for w in warnings:
        log("warning: " + w)

    def values(key):
        return ", ".join(f"{v:g}" for v in sorted({float(s[key]) for s in scenes if key in s}))

    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "host": {"cpus": os.cpu_count(), "cpu_model": bench_markdown.cpu_model(),
                 "kernel": platform.release()},
        "quick": args.quick,
        "material": ", ".join(f"{sum(1 for s in scenes if s['rate'] == r and s['kind'] == k)} {k}"
                              f" at {r // 1000} kHz" for r in rates for k in KINDS),
        "scenes": len(scenes),
        "delays_ms": values("delay_ms"),
        "rt60s_s": values("rt60_s"),
        "echo_levels_db": values("echo_level_db"),
        "notes": notes,
        "warnings": warnings,
        "peer_seconds": round(peer_seconds, 1),
        "cpu": cpu,
        "tables": summarise(contenders, scores, cpu, rates),
        "scores": scores,
    }
    report["elapsed_s"] = round(time.monotonic() - started, 1)
    markdown = render(report)
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, default=float)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write(markdown)
    if not args.keep_outputs:
        shutil.rmtree(outputs, ignore_errors=True)
    print(markdown)


if __name__ == "__main__":
    main()
