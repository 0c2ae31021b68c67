#!/usr/bin/env python3
"""Markdown tables from sgm_bench_sampler's JSON output.

    sgm_bench_sampler --benchmark_out=results.json --benchmark_out_format=json
    python3 make_table.py results.json [more.json ...] [--metric auto|wall|cpu] > tables.md
    python3 make_table.py results.json --summary 3072 4096    # one table: every step at one size

Each cell is "time per call / ns per element / factor above the memory-traffic
bound" (counters best_us, ns_per_elem, x_bound; see docs/benchmarks.md). With
--metric auto (the default) 1-thread rows use the calling thread's CPU time
(cpu_ counters: the wall time the call takes on an idle machine, even if other
processes shared the cores during the run) and 2-thread rows the wall time.

With several result files (repeated runs on a shared machine, e.g. a second
run of --benchmark_filter=threads:2 at a quieter moment) each benchmark keeps
its fastest run, and the factor above the bound is recomputed with the highest
reference bandwidth measured in any of the runs.
"""

import argparse
import json
import re
from collections import defaultdict

NAME = re.compile(r"^(?P<what>.+)/(?P<backend>[a-z_]+)/(?P<real>float|double)/d:(?P<d>\d+)/B:(?P<b>\d+)/threads:(?P<t>\d)")
BACKENDS = ["serial", "tbb", "thrust_cpp", "thrust_tbb", "tbb_copy"]


def fmt_time(us):
    if us >= 1e5:
        return f"{us / 1e3:.0f} ms"
    if us >= 1e3:
        return f"{us / 1e3:.2f} ms"
    if us >= 10:
        return f"{us:.0f} µs"
    return f"{us:.2f} µs"


def cell(c, threads, metric):
    use_cpu = metric == "cpu" or (metric == "auto" and threads == 1)
    p = "cpu_" if use_cpu and "cpu_best_us" in c else ""
    text = f"{fmt_time(c[p + 'best_us'])} / {c[p + 'ns_per_elem']:.2f}"
    if p + "x_bound" in c:
        text += f" / {c[p + 'x_bound']:.1f}×"
    return text


def time_of(bm, threads, metric):
    use_cpu = metric == "cpu" or (metric == "auto" and threads == 1)
    return bm["cpu_best_us"] if use_cpu and "cpu_best_us" in bm else bm["best_us"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("json", nargs="*", default=["results.json"])
    parser.add_argument("--metric", choices=["auto", "wall", "cpu"], default="auto")
    parser.add_argument("--summary", nargs=2, type=int, metavar=("D", "B"),
                        help="one float table of all steps at this size, cells 'ns/elem (x bound)'")
    args = parser.parse_args()
    reference = {1: 0.0, 2: 0.0}  # bytes/s
    contexts = []
    best = {}  # name -> (threads, counters)
    for path in args.json:
        with open(path) as f:
            data = json.load(f)
        ctx = data.get("context", {})
        contexts.append(ctx)
        for t in (1, 2):
            key = f"bandwidth_threads_{t}_reference_GBps"
            if key in ctx:
                reference[t] = max(reference[t], float(ctx[key]) * 1e9)
        for bm in data["benchmarks"]:
            m = NAME.match(bm["name"])
            if not m or bm.get("run_type", "iteration") != "iteration":
                continue
            name, t = bm["name"].split("/min_time")[0], int(m["t"])
            if name not in best or time_of(bm, t, args.metric) < time_of(best[name], t, args.metric):
                best[name] = bm
    rows = defaultdict(dict)  # (what, real) -> {(d, b, t): {backend: counters}}
    for name, bm in best.items():
        m = NAME.match(name)
        t = int(m["t"])
        if reference[t] > 0 and bm.get("bytes_per_elem", 0) > 0:
            bound_us = bm["bytes_per_elem"] * bm["elems"] / reference[t] * 1e6
            bm["x_bound"] = bm["best_us"] / bound_us
            if "cpu_best_us" in bm:
                bm["cpu_x_bound"] = bm["cpu_best_us"] / bound_us
        rows[(m["what"], m["real"])].setdefault((int(m["d"]), int(m["b"]), t), {})[m["backend"]] = bm
    for i, (path, ctx) in enumerate(zip(args.json, contexts)):
        print(f"- run {i + 1} ({path}): load average at start {ctx.get('load_avg', '?')}")
        for t in (1, 2):
            if f"bandwidth_threads_{t}" in ctx:
                print(f"  - bandwidth, {t} thread(s): {ctx[f'bandwidth_threads_{t}']}")
    print(f"- reference bandwidth used: {reference[1] * 1e-9:.1f} GB/s (1 thread), "
          f"{reference[2] * 1e-9:.1f} GB/s (2 threads)")
    print()
    if args.summary:
        summary(rows, args.summary[0], args.summary[1], args.metric)
        return
    for (what, real), table in sorted(rows.items(), key=lambda kv: order(kv[0])):
        backends = [b for b in BACKENDS if any(b in v for v in table.values())]
        print(f"#### {what} ({real})\n")
        print("| d | B | threads | " + " | ".join(backends) + " |")
        print("|---|---|---|" + "---|" * len(backends))
        for (d, b, t) in sorted(table):
            cells = [cell(table[(d, b, t)][be], t, args.metric) if be in table[(d, b, t)] else "—" for be in backends]
            print(f"| {d} | {b} | {t} | " + " | ".join(cells) + " |")
        print()


def summary(rows, d, b, metric):
    columns = [(be, t) for be in BACKENDS for t in (1, 2)
               if any((d, b, t) in table and be in table[(d, b, t)]
                      for (what, real), table in rows.items() if real == "float")]
    print("| step | " + " | ".join(f"{be} {t}T" for be, t in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for (what, real), table in sorted(rows.items(), key=lambda kv: order(kv[0])):
        if real != "float" or what == "piece/score_call":
            continue
        cells = []
        for be, t in columns:
            c = table.get((d, b, t), {}).get(be)
            if c is None:
                cells.append("—")
                continue
            p = "cpu_" if (metric == "cpu" or (metric == "auto" and t == 1)) and "cpu_best_us" in c else ""
            cells.append(f"{c[p + 'ns_per_elem']:.2f} ({c[p + 'x_bound']:.1f}×)" if p + "x_bound" in c
                         else f"{c[p + 'ns_per_elem']:.2f}")
        print(f"| {what} | " + " | ".join(cells) + " |")
    print()


def order(key):
    what, real = key
    kinds = ["em/", "rd/", "langevin/", "pf_ode/", "piece/", "proto/"]
    rank = next((i for i, k in enumerate(kinds) if what.startswith(k)), len(kinds))
    return (real != "float", rank, what)


if __name__ == "__main__":
    main()
