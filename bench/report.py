#!/usr/bin/python3
"""Turns Google Benchmark JSON from processors_bench into a markdown table.

    bench/report.py build/bench/processors.json > build/bench/processors.md

Columns: ns per frame (1e9 / frames per second) and x real time on one core.
"""
import json
import sys


def main(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    context = data["context"]
    print("# Processor microbenchmarks")
    print()
    print(f"Machine: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz, "
          f"{context.get('host_name', '')}; run {context.get('date', '')}. "
          "20 ms blocks of noise, one thread; `make bench`.")
    print()
    print("| benchmark | ns per frame | x real time (one core) |")
    print("| --- | ---: | ---: |")
    for run in data["benchmarks"]:
        if run.get("error_occurred"):
            print(f"| {run['name']} | error: {run.get('error_message', '')} | |")
            continue
        frames_per_second = run["items_per_second"]
        print(f"| {run['name']} | {1e9 / frames_per_second:.2f} | {run['x_realtime']:,.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
