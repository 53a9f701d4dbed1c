#!/usr/bin/python3
"""One echo scene of `make bench-dsp`, step by step in time: where a canceller's output gains or
loses against the bars, beside another output of the same scene.

    bench/dsp/aec_timeline.py --material-dir build/bench-dsp/echo/material \
        --scene double_48k_p2_r1 OUT.f32 [OUT2.f32 ...] [--step 0.1] [--from 2] [--to 5]

OUT.f32 are contenders' outputs of the scene (run_aec_bench.py --keep-outputs leaves them in
OUT_DIR/out/CONTENDER/SCENE.f32). Per step (1 s by default): the scene's far_only and near_active
10 ms frames, the echo over the near end there, and per output the ERLE over the far_only frames
and, where the near end talks, its SDR and level change, with the share of the output's whole
near-end distortion (from 2 s, as run_aec_bench.py scores it) that falls in the step. Scored as
run_aec_bench.py scores (the output aligned to the near end by cross-correlation); the bench's
numbers over a whole scene are the same sums over every step.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_aec_bench  # noqa: E402


def db(num, den):
    return 10 * math.log10(num / den) if num > 0 and den > 0 else None


def cell(value, width=6):
    return f"{value:{width}.1f}" if value is not None else " " * (width - 1) + "–"


def timeline(material, scene, outputs, step_s=1.0, first_s=0.0, last_s=None):
    """Per step of `scene` (a manifest entry) from `first_s` to `last_s`: a dict of its start
    (s), far_only and near_active frames, echo over near end (dB), and per output of `outputs`
    (float arrays as long as the microphone) its ERLE, and where the near end talks its SDR,
    level change (dB) and share of the near-end distortion from 2 s on (%); None where a
    number has nothing to be taken over. The echo over the near end only in scenes where the
    near end talks."""
    rate = scene["rate"]
    hop = rate // 100

    def read(key):
        return run_aec_bench.read_f32(os.path.join(material, scene[key]))

    mic = read("mic")
    near = read("near") if scene.get("near") else np.zeros_like(mic)
    echo = read("echo") if scene.get("echo") else None
    far_only, near_active = run_aec_bench.read_labels(os.path.join(material, scene["labels"]))
    frames = len(far_only)
    for out in outputs:
        if len(out) != len(mic):
            raise ValueError(f"an output has {len(out)} samples, the microphone {len(mic)}")
    talks = np.sum(near**2) > 0
    settle = np.repeat(np.arange(frames) >= int(run_aec_bench.SETTLE_S * 100), hop)[: len(near)]
    near_mask = np.repeat(near_active, hop)[: len(near)]
    aligned, totals = [], []
    for out in outputs:
        y = run_aec_bench.aligned_to_near(near, out, rate)[1] if talks else out
        aligned.append(y)
        totals.append(np.sum(((y - near)[: near_mask.size] * (near_mask & settle)) ** 2))
    step = max(1, round(step_s * 100))
    last = frames if last_s is None else min(frames, round(last_s * 100))
    rows = []
    for start in range(round(first_s * 100), last, step):
        window = np.zeros(frames, bool)
        window[start:start + step] = True
        a, b = start * hop, min((start + step) * hop, len(mic))
        m = near_mask[a:b]
        row = {"start_s": start / 100, "far_only": int(np.sum(far_only & window)),
               "near_active": int(np.sum(near_active & window)), "outputs": []}
        if echo is not None and talks:
            row["echo_over_near_db"] = (db(np.sum(echo[a:b] ** 2), np.sum(near[a:b] ** 2))
                                        if row["near_active"] else None)
        for y, total in zip(aligned, totals):
            scores = {"erle_db": run_aec_bench.erle_db(mic, y, far_only & window, hop),
                      "sdr_db": None, "level_db": None, "share": None}
            if talks and np.any(m):
                n, o = near[a:b][m], y[a:b][m]
                scores["sdr_db"] = db(np.sum(n**2), np.sum((o - n) ** 2))
                scores["level_db"] = db(np.sum(o**2), np.sum(n**2))
                settled = np.sum(((o - n) * settle[a:b][m]) ** 2)
                scores["share"] = 100 * settled / total if total > 0 else 0.0
            row["outputs"].append(scores)
        rows.append(row)
    return rows


def text(row):
    line = f"{row['start_s']:6.2f}s far {row['far_only']:4d} near {row['near_active']:4d}"
    if "echo_over_near_db" in row:
        line += f" echo/near {cell(row['echo_over_near_db'])}"
    for scores in row["outputs"]:
        line += f" | ERLE {cell(scores['erle_db'])}"
        if scores["share"] is not None:
            line += (f" SDR {cell(scores['sdr_db'])} level {cell(scores['level_db'])}"
                     f" share {scores['share']:5.1f}%")
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--material-dir", required=True)
    parser.add_argument("--scene", required=True)
    parser.add_argument("--step", type=float, default=1.0, help="seconds per row")
    parser.add_argument("--from", dest="first", type=float, default=0.0, help="first second")
    parser.add_argument("--to", dest="last", type=float, help="last second (default: the end)")
    parser.add_argument("outputs", nargs="+", help="contenders' outputs of the scene (.f32)")
    args = parser.parse_args()
    with open(os.path.join(args.material_dir, "manifest.json"), encoding="utf-8") as f:
        scenes = {s["name"]: s for s in json.load(f)["scenes"]}
    if args.scene not in scenes:
        sys.exit(f"aec_timeline: no scene {args.scene} in {args.material_dir}")
    scene = scenes[args.scene]
    outputs = [run_aec_bench.read_f32(path) for path in args.outputs]
    try:
        rows = timeline(args.material_dir, scene, outputs, args.step, args.first, args.last)
    except ValueError as error:
        sys.exit(f"aec_timeline: {error}")
    print(f"{args.scene}: {scene['kind']}, {scene['rate']} Hz, {run_aec_bench.room_name(scene)}"
          + (f", change at {scene['change_at_s']:g} s" if scene.get("change_sample") else "")
          + "; outputs: " + ", ".join(args.outputs))
    for row in rows:
        print(text(row))


if __name__ == "__main__":
    main()
