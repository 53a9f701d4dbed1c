#!/usr/bin/python3
"""`make bench-dsp` (issue 13): audioproc's denoise and vad beside peers, in one run.

    bench/dsp/run_dsp_bench.py --build-dir build [--quick] [--jobs 2] [--keep-outputs]

Steps: dsp-material writes the material into BUILD/bench-dsp/material (six espeak-ng voices at
48 kHz, clean and in white, pink, brown, fan and babble noise at -5..15 dB, 10 ms speech
labels); dsp-peers runs every C++ contender over every noisy and clean file, and
`node bench/dsp/wasm_peers.mjs --peer rnnoise|fvad --jobs <tsv>` runs the WASM peers when that
script is there; every output is scored against the clean speech and the labels, into
BUILD/bench-dsp/report.md and report.json, and the markdown is printed.

Scores (DESIGN section 4, the denoise and vad rows):
  SNR gain       SNR = 10 log10(sum clean^2 / sum (out - clean)^2) over the whole file, out
                 minus noisy input. Each output is first checked for alignment: the lag within
                 +-20 ms that maximises its correlation with the clean speech; a lag other than
                 0 is printed and used, so a peer with a misstated delay is not scored as noise.
  segmental SNR  the same per 20 ms frame whose two 10 ms labels are speech, each clamped to
                 [-10, 35] dB, averaged; out minus noisy input.
  speech damage  on the clean input (speech over a -70 dBFS floor): the level change of the
                 speech frames, and the SNR of the output against the input.
  VAD            per 10 ms frame against the labels: accuracy; misses (speech frames called
                 non-speech); false alarms (frames at least 300 ms from any speech called
                 speech). Probabilities are decided at 0.5.
--quick: two voices, SNRs 0 and 10 dB, no babble (with --no-wasm, a smoke test of well under a
minute).
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
# BENCH_DSP_WASM_SCRIPT points at another tree's script, to try the WASM peers before a merge.
WASM_SCRIPT = os.environ.get("BENCH_DSP_WASM_SCRIPT", os.path.join(HERE, "wasm_peers.mjs"))

RATE = 48000
HOP = RATE // 100  # 10 ms: the labels' frame and every VAD's
SEG = 2 * HOP  # 20 ms: the segmental SNR's frame
MAX_LAG = RATE // 50  # 20 ms
FAR_FRAMES = 30  # 300 ms: a false alarm is this far from speech
SEG_CLAMP = (-10.0, 35.0)
NOISES = ["white", "pink", "brown", "babble", "fan"]
SNRS = [-5, 0, 5, 10, 15]
# The VAD table's noisy condition (the vad tests' bars are stated for it) and its hardest case.
VAD_SNRS = (5, 10)
VAD_NOISY = [(n, s) for n in ("white", "pink", "brown", "fan") for s in VAD_SNRS]
VAD_BROWN = [("brown", 5)]

# What the WASM peers do (bench/dsp/wasm_peers.mjs, written beside this script): RNNoise
# denoises and reports a speech probability per frame, libfvad only decides.
WASM_PEERS = {"rnnoise": {"audio": True, "vad": True}, "fvad": {"audio": False, "vad": True}}


def log(message):
    print(f"run_dsp_bench: {message}", file=sys.stderr, flush=True)


def read_f32(path):
    return np.fromfile(path, dtype="<f4").astype(np.float64)


def read_decisions(path):
    with open(path, encoding="utf-8") as f:
        return np.array([float(line) for line in f if line.strip()], dtype=np.float64)


def snr_db(clean, out):
    error = np.sum((out - clean) ** 2)
    return 10 * math.log10(np.sum(clean**2) / max(error, 1e-30))


def speech_segments(labels, frames):
    """Indices of 20 ms frames whose two 10 ms labels are both speech."""
    n = min(len(labels) // 2, frames // SEG)
    pairs = labels[: 2 * n].reshape(n, 2)
    return np.nonzero(pairs.all(axis=1))[0]


def segmental_snr_db(clean, out, segments):
    n = len(clean) // SEG
    c = clean[: n * SEG].reshape(n, SEG)[segments]
    e = out[: n * SEG].reshape(n, SEG)[segments] - c
    ratio = np.sum(c**2, axis=1) / np.maximum(np.sum(e**2, axis=1), 1e-30)
    return float(np.mean(np.clip(10 * np.log10(np.maximum(ratio, 1e-30)), *SEG_CLAMP)))


def far_from_speech(labels):
    """Frames at least FAR_FRAMES from every speech frame."""
    idx = np.nonzero(labels)[0]
    frames = np.arange(len(labels))
    if idx.size == 0:
        return np.ones(len(labels), dtype=bool)
    pos = np.searchsorted(idx, frames)
    before = np.abs(frames - idx[np.clip(pos - 1, 0, idx.size - 1)])
    after = np.abs(idx[np.clip(pos, 0, idx.size - 1)] - frames)
    return np.minimum(before, after) >= FAR_FRAMES


def score_vad(decisions, labels):
    n = min(len(decisions), len(labels))
    if n == 0:
        return None
    d = decisions[:n] >= 0.5
    s = labels[:n].astype(bool)
    far = far_from_speech(labels)[:n]
    return {
        "accuracy": float(np.mean(d == s)) * 100,
        "misses": float(np.mean(~d[s])) * 100 if s.any() else float("nan"),
        "false_alarms": float(np.mean(d[far])) * 100 if far.any() else float("nan"),
        "frames": int(n),
        "frames_expected": int(len(labels)),
    }


def score_job(job):
    """Scores one contender's output of one file (run in a worker process)."""
    entry, out_path, vad_path, material = job
    clean = read_f32(os.path.join(material, entry["clean"]))
    labels = np.array(
        [int(x) for x in open(os.path.join(material, entry["labels"]), encoding="utf-8").read().split()]
    )
    result = {"file": entry["file"], "noise": entry["noise"], "snr": entry["snr"], "voice": entry["voice"]}
    if out_path:
        noisy = read_f32(os.path.join(material, entry["file"]))
        out = read_f32(out_path)
        if len(out) != len(noisy):
            result["error"] = f"output has {len(out)} samples, input {len(noisy)}"
            return result
        lag = best_lag(clean, out, MAX_LAG)
        result["lag"] = lag
        out = shifted(out, lag)
        segments = speech_segments(labels, len(clean))
        result["snr_out"] = snr_db(clean, out)
        result["segsnr_out"] = segmental_snr_db(clean, out, segments)
        if entry["noise"] == "none":
            speech = np.repeat(labels[: len(clean) // HOP].astype(bool), HOP)
            c, y = clean[: speech.size][speech], out[: speech.size][speech]
            result["level_change_db"] = 10 * math.log10(np.sum(y**2) / np.sum(c**2))
        else:
            result["snr_in"] = snr_db(clean, noisy)
            result["segsnr_in"] = segmental_snr_db(clean, noisy, segments)
            result["snr_gain"] = result["snr_out"] - result["snr_in"]
            result["segsnr_gain"] = result["segsnr_out"] - result["segsnr_in"]
    if vad_path:
        vad = score_vad(read_decisions(vad_path), labels)
        if vad is not None:
            result["vad"] = vad
    return result


def run(cmd, **kwargs):
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, **kwargs)


def write_tsv(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write("\t".join(line) + "\n")


def mean(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return sum(values) / len(values) if values else None


def fmt(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"


def commit():
    try:
        head = subprocess.run(["git", "-C", SOURCE_DIR, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", SOURCE_DIR, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True).stdout
        return head + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("BENCH_COMMIT", "unknown")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--quick", action="store_true", help="2 voices, 0 and 10 dB, no babble")
    parser.add_argument("--jobs", type=int, default=2, help="processes at a time")
    parser.add_argument("--out-dir", help="default BUILD/bench-dsp (BUILD/bench-dsp-quick with --quick)")
    parser.add_argument("--no-wasm", action="store_true",
                        help="leave the WASM peers out (ctest's smoke run: they have their own test)")
    parser.add_argument("--keep-outputs", action="store_true",
                        help="keep the contenders' audio (several GB in a full run)")
    args = parser.parse_args()
    started = time.monotonic()
    build = os.path.abspath(args.build_dir)
    tools = os.path.join(build, "bench", "dsp")
    out_dir = os.path.abspath(args.out_dir or os.path.join(
        build, "bench-dsp-quick" if args.quick else "bench-dsp"))
    material = os.path.join(out_dir, "material")
    outputs = os.path.join(out_dir, "out")
    for d in (material, outputs):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    snrs = [0, 10] if args.quick else SNRS
    noises = [n for n in NOISES if not (args.quick and n == "babble")]
    run([os.path.join(tools, "dsp-material"), f"--out_dir={material}",
         f"--voices={2 if args.quick else 6}", "--snrs=" + ",".join(map(str, snrs)),
         "--noises=" + ",".join(noises)])
    with open(os.path.join(material, "manifest.json"), encoding="utf-8") as f:
        entries = json.load(f)["files"]

    # The contenders: dsp-peers' own list, then the WASM peers if their script is there.
    peers_bin = os.path.join(tools, "dsp-peers")
    listed = subprocess.run([peers_bin, "--list"], capture_output=True, text=True, check=True)
    contenders = {}
    for line in listed.stdout.split("\n"):
        if line.strip():
            name, kind = line.split("\t")
            contenders[name] = {"audio": "denoise" in kind, "vad": "vad" in kind, "runner": "dsp-peers"}
    notes = []
    node = shutil.which("node")
    if args.no_wasm:
        notes.append("The WASM peers (RNNoise, libfvad) are left out of this run (--no-wasm).")
    elif os.path.exists(WASM_SCRIPT) and node:
        for name, kind in WASM_PEERS.items():
            contenders[name] = dict(kind, runner="wasm")
    else:
        notes.append("The WASM peers (RNNoise, libfvad) are left out: "
                     + ("bench/dsp/wasm_peers.mjs is not in this tree." if node else "node is not installed."))

    # One TSV per contender and process: each dsp-peers or node call takes a share of the files.
    commands = []
    for name, c in contenders.items():
        os.makedirs(os.path.join(outputs, name))
        lines = []
        for e in entries:
            stem = os.path.join(outputs, name, e["file"][: -len(".f32")])
            lines.append((os.path.join(material, e["file"]),
                          stem + ".f32" if c["audio"] else "-", stem + ".vad.txt" if c["vad"] else "-"))
        shares = max(1, args.jobs)
        for k in range(shares):
            tsv = os.path.join(outputs, f"{name}.{k}.tsv")
            write_tsv(tsv, lines[k::shares])
            if c["runner"] == "dsp-peers":
                commands.append((name, [peers_bin, f"--contender={name}", f"--jobs={tsv}"]))
            else:
                commands.append((name, [node, WASM_SCRIPT, "--peer", name, "--jobs", tsv]))
    failed = set()
    printed = {}
    peer_started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(subprocess.run, cmd, capture_output=True, text=True): name
                   for name, cmd in commands}
        for future in concurrent.futures.as_completed(futures):
            name, proc = futures[future], future.result()
            if proc.returncode != 0:
                log(f"{name} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
                failed.add(name)
            else:
                printed.setdefault(name, set()).update(
                    line.strip() for line in proc.stderr.split("\n") if line.strip())
    # What the contenders said, once per distinct line: speexdsp warns that its VAD "has been
    # replaced by a hack", which belongs beside its VAD row; the WASM peers print their times.
    for name, said in sorted(printed.items()):
        for line in sorted(said):
            log(f"{name}: {line}")
            if "warning" in line.lower():
                notes.append(f"{name} printed: \"{line}\"")
    peer_seconds = time.monotonic() - peer_started
    for name in sorted(failed):
        if contenders[name]["runner"] == "wasm":
            notes.append(f"{name} (WASM) failed and is left out; its error is in the run's log.")
            del contenders[name]
        else:
            sys.exit(f"run_dsp_bench: dsp-peers --contender={name} failed")

    # Scores, per contender and file, in worker processes (an FFT correlation per output).
    jobs, keys = [], []
    for name, c in contenders.items():
        for e in entries:
            stem = os.path.join(outputs, name, e["file"][: -len(".f32")])
            out = stem + ".f32" if c["audio"] and os.path.exists(stem + ".f32") else None
            vad = stem + ".vad.txt" if c["vad"] and os.path.exists(stem + ".vad.txt") else None
            if out or vad:
                jobs.append((e, out, vad, material))
                keys.append(name)
    scores = {name: [] for name in contenders}
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, result in zip(keys, pool.map(score_job, jobs, chunksize=4)):
            scores[name].append(result)
    warnings = []
    for name, results in scores.items():
        lags = {}
        for r in results:
            if r.get("error"):
                warnings.append(f"{name} on {r['file']}: {r['error']}")
            elif r.get("lag"):
                log(f"warning: {name} on {r['file']}: output lags the clean speech by {r['lag']} "
                    f"samples ({r['lag'] / RATE * 1000:.2f} ms); scored at that lag")
                lags.setdefault(r["lag"], []).append(r["file"])
            if "vad" in r and r["vad"]["frames"] != r["vad"]["frames_expected"]:
                warnings.append(f"{name} on {r['file']}: {r['vad']['frames']} VAD frames for "
                                f"{r['vad']['frames_expected']} labels; scored on the common frames")
        # One line per contender and lag: a peer whose phase is not linear (WebRTC's) peaks a
        # sample either side on some files, which is not worth a line per file.
        scored = sum(1 for r in results if "lag" in r)
        for lag, files in sorted(lags.items()):
            warnings.append(f"{name}: {len(files)} of {scored} outputs correlate best with the clean "
                            f"speech {lag} samples ({lag / RATE * 1000:.2f} ms) off its stated delay "
                            f"(e.g. {files[0]}); scored at that lag")
    for w in warnings:
        log("warning: " + w)

    report = summarise(contenders, scores, noises, snrs, args.quick)
    report.update({
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "host": {"cpus": os.cpu_count(), "cpu_model": bench_markdown.cpu_model(), "kernel": platform.release()},
        "quick": args.quick,
        "voices": sorted({e["voice"] for e in entries}),
        "files": len(entries),
        "notes": notes,
        "warnings": warnings,
        "peer_seconds": round(peer_seconds, 1),
        "elapsed_s": round(time.monotonic() - started, 1),
        "scores": scores,
    })
    markdown = render(report)
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, default=float)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write(markdown)
    if not args.keep_outputs:
        shutil.rmtree(outputs, ignore_errors=True)
    print(markdown)


def summarise(contenders, scores, noises, snrs, quick):
    """The tables' numbers: means over voices (and SNRs or noises) of each contender's scores."""
    def pick(name, key, noise=None, snr=None, clean=False):
        values = []
        for r in scores[name]:
            if clean != (r["noise"] == "none"):
                continue
            if noise is not None and r["noise"] != noise:
                continue
            if snr is not None and r["snr"] != snr:
                continue
            v = r.get("vad", {}).get(key) if key in ("accuracy", "misses", "false_alarms") else r.get(key)
            values.append(v)
        return mean(values)

    denoisers = [n for n, c in contenders.items() if c["audio"]]
    vads = [n for n, c in contenders.items() if c["vad"]]
    tables = {"snr_gain": {}, "segsnr_gain": {}, "snr_gain_by_snr": {}, "damage": {}, "vad": {},
              "vad_by_noise": {}}
    for name in denoisers:
        for key in ("snr_gain", "segsnr_gain"):
            row = {n: pick(name, key, noise=n) for n in noises}
            row["all_-5"] = pick(name, key, snr=-5) if -5 in snrs else None
            tables[key][name] = row
        tables["snr_gain_by_snr"][name] = {str(s): pick(name, "snr_gain", snr=s) for s in snrs}
        tables["damage"][name] = {"level_change_db": pick(name, "level_change_db", clean=True),
                                  "snr_db": pick(name, "snr_out", clean=True)}
    conditions = {"clean": None, "noisy": VAD_NOISY, "brown_5": VAD_BROWN}
    if "babble" in noises:
        conditions["babble_5_10"] = [("babble", 5), ("babble", 10)]
    def vad_mean(name, key, cases):
        """The mean VAD score over the files of the (noise, snr) `cases` this run has."""
        return mean([r.get("vad", {}).get(key) for r in scores[name]
                     if (r["noise"], r["snr"]) in cases])

    # Each noise on its own too, at the SNRs of the noisy condition: the issue asks the lead on
    # every non-babble noise, which the pooled condition could hide.
    by_noise = {noise: [(noise, s) for s in VAD_SNRS] for noise in noises}
    for name in vads:
        row = {}
        for cond, cases in conditions.items():
            for key in ("accuracy", "false_alarms", "misses"):
                row[f"{cond}.{key}"] = (pick(name, key, clean=True) if cases is None
                                        else vad_mean(name, key, cases))
        tables["vad"][name] = row
        tables["vad_by_noise"][name] = {f"{noise}.{key}": vad_mean(name, key, cases)
                                        for noise, cases in by_noise.items()
                                        for key in ("accuracy", "false_alarms", "misses")}
    return {"tables": tables, "noises": noises, "snrs": snrs, "vad_conditions": list(conditions)}


def render(report):
    t, noises, snrs = report["tables"], report["noises"], report["snrs"]
    host = report["host"]
    lines = [
        "# audioproc DSP comparison (issue 13)",
        "",
        f"{report['date']}, commit {report['commit']}, {host['cpus']} × {host['cpu_model']}, "
        f"Linux {host['kernel']}; {report['elapsed_s']} s "
        f"({report['peer_seconds']} s of it running the contenders)."
        + (" **Quick run** (`--quick`): a smoke test, not the numbers to quote." if report["quick"] else ""),
        "",
        f"Material: {len(report['voices'])} espeak-ng voices ({', '.join(report['voices'])}), "
        f"48 kHz mono, talks of five sentences between 0.6-1.6 s pauses over a -70 dBFS floor; "
        f"noises {', '.join(noises)} at {', '.join(map(str, snrs))} dB (against the talk's "
        f"active level); {report['files']} input files. Every contender's output is aligned to its "
        f"input by its known delay and checked by cross-correlation (±20 ms).",
        "",
        "Contenders: `audioproc-denoise` and `audioproc-vad` (the processors at their defaults, in "
        "process), `audioproc-vad-100` (hangover_ms 100 instead of 300), `audioproc-denoise-vad` (vad after denoise in one chain); `speexdsp` (speex_preprocess, denoise at its default -15 dB suppression, "
        "10 ms int16 frames; its VAD), `speexdsp-30` (-30 dB suppression); `webrtc-ns-high`, "
        "`webrtc-ns-veryhigh` (WebRTC APM 0.3, noise suppression only); `webrtc-vad` (APM 0.3 "
        "voice detection only, likelihood kLowLikelihood, the APM's default, 10 ms frames)"
        + ("; `rnnoise`, `fvad` (WASM, bench/dsp/wasm_peers.mjs)." if "rnnoise" in t["vad"] or
           "rnnoise" in t["snr_gain"] or "fvad" in t["vad"] else "."),
        "",
    ]
    for note in report["notes"]:
        lines += [f"Note: {note}", ""]

    def table(title, key, explain):
        header = [n for n in noises] + ["at -5 dB, all noises"]
        out = [f"## {title}", "", explain, "",
               "| contender | " + " | ".join(header) + " |",
               "| --- | " + " | ".join("---:" for _ in header) + " |"]
        for name, row in t[key].items():
            cells = [fmt(row[n]) for n in noises] + [fmt(row["all_-5"])]
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        return out + [""]

    lines += table("SNR gain (dB)", "snr_gain",
                   "SNR of the output minus that of the noisy input, over the whole file; mean "
                   f"over voices and input SNRs {', '.join(map(str, snrs))} dB per noise.")
    lines += ["By input SNR (mean over voices and noises):", "",
              "| contender | " + " | ".join(f"{s} dB" for s in snrs) + " |",
              "| --- | " + " | ".join("---:" for _ in snrs) + " |"]
    for name, row in t["snr_gain_by_snr"].items():
        lines.append(f"| {name} | " + " | ".join(fmt(row[str(s)]) for s in snrs) + " |")
    lines.append("")
    lines += table("Segmental SNR gain (dB)", "segsnr_gain",
                   "Per 20 ms speech frame (both 10 ms labels speech), clamped to [-10, 35] dB, "
                   "averaged; output minus noisy input.")
    lines += ["## Speech damage (clean input)", "",
              "Speech over the -70 dBFS floor alone: the level change of the speech frames, and the "
              "SNR of the output against the input (higher is less damage).", "",
              "| contender | speech level change (dB) | SNR vs clean (dB) |", "| --- | ---: | ---: |"]
    for name, row in t["damage"].items():
        lines.append(f"| {name} | {fmt(row['level_change_db'], 2)} | {fmt(row['snr_db'])} |")
    lines.append("")
    titles = {"clean": "clean", "noisy": "noisy (white, pink, brown, fan at 5 and 10 dB)",
              "brown_5": "brown 5 dB", "babble_5_10": "babble 5 and 10 dB"}
    conds = [c for c in report["vad_conditions"]]
    lines += ["## VAD", "",
              "Per 10 ms frame against the labels (speech: energy within 30 dB of the active level). "
              "acc: frames right; FA: frames at least 300 ms from any speech called speech; miss: "
              "speech frames called non-speech. Percent, mean over files.", "",
              "| contender | " + " | ".join(f"{titles[c]}: acc / FA / miss" for c in conds) + " |",
              "| --- | " + " | ".join("---:" for _ in conds) + " |"]
    for name, row in t["vad"].items():
        cells = [" / ".join(fmt(row[f"{c}.{k}"]) for k in ("accuracy", "false_alarms", "misses"))
                 for c in conds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Each noise on its own, at 5 and 10 dB: acc / FA / miss.", "",
              "| contender | " + " | ".join(noises) + " |",
              "| --- | " + " | ".join("---:" for _ in noises) + " |"]
    for name, row in t.get("vad_by_noise", {}).items():
        cells = [" / ".join(fmt(row[f"{n}.{k}"]) for k in ("accuracy", "false_alarms", "misses"))
                 for n in noises]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    if report["warnings"]:
        lines += ["## Alignment and other warnings", ""] + [f"- {w}" for w in report["warnings"][:50]]
        if len(report["warnings"]) > 50:
            lines.append(f"- … and {len(report['warnings']) - 50} more (report.json)")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
