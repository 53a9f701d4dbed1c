#!/usr/bin/python3
"""Turns Google Benchmark JSON from processors_bench into markdown tables.

    bench/report.py build/bench/processors.json > build/bench/processors.md

First table: ns per frame (1e9 / frames per second) and x real time on one core. Second, "Cost
model vs measured": for every benchmark that states one, the cores the cost model
(EstimateChain) gives the chain against the cores it measured (1 / x real time: CPU-seconds
per second of audio, from the thread's CPU time), their ratio, and the ratio once this run's
machine speed (the geometric mean of measured / model over all of them) is factored out.
To recalibrate a processor's constants (processors/cost_model.h and its estimate), divide them
by its model / measured ratio.
"""
import json
import math
import sys


def cost_rows(benchmarks):
    """[(name, model_cores, measured_cores)] for every benchmark with a model."""
    rows = []
    for run in benchmarks:
        if run.get("error_occurred") or "model_cores" not in run or not run.get("x_realtime"):
            continue
        rows.append((run["name"], run["model_cores"], 1.0 / run["x_realtime"]))
    return rows


def speed_factor(rows):
    """Geometric mean of measured / model: this machine, now, against the calibration."""
    if not rows:
        return 1.0
    return math.exp(sum(math.log(measured / model) for _, model, measured in rows) / len(rows))


def main(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    context = data["context"]
    print("# Processor microbenchmarks")
    print()
    print(f"Machine: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz, "
          f"{context.get('host_name', '')}; run {context.get('date', '')}. "
          "20 ms blocks, one thread; `make bench`. processor/ and cost/ feed the cost model's "
          "calibration signal (noise alternating between -11 and -55 dBFS every 250 ms), "
          "chain/ the load generator's uniform noise.")
    print()
    print("| benchmark | ns per frame | x real time (one core) |")
    print("| --- | ---: | ---: |")
    for run in data["benchmarks"]:
        if run.get("error_occurred"):
            print(f"| {run['name']} | error: {run.get('error_message', '')} | |")
            continue
        frames_per_second = run["items_per_second"]
        print(f"| {run['name']} | {1e9 / frames_per_second:.2f} | {run['x_realtime']:,.0f} |")
    rows = cost_rows(data["benchmarks"])
    if not rows:
        return
    speed = speed_factor(rows)
    print()
    print("## Cost model vs measured")
    print()
    print("What EstimateChain states each benchmark's chain costs (model) against what it "
          "cost here (measured), in CPU-seconds per second of audio on one core. Machine speed "
          f"factor of this run (geometric mean of measured / model): **{speed:.3f}**; "
          "\"scaled\" is model / measured times it, the model's shape, which "
          "tests/processors/resource_estimate_test.cc holds within 2x for every processor. "
          "To recalibrate, divide a processor's constants by its model / measured.")
    print()
    print("| benchmark | model (cores) | measured (cores) | model / measured | scaled |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, model, measured in rows:
        ratio = model / measured
        print(f"| {name} | {model:.3e} | {measured:.3e} | {ratio:.2f} | {ratio * speed:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
