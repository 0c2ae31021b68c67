#!/usr/bin/env bash
# The U-Net against the same network in PyTorch, side by side (builds nothing).
#
#   benchmarks/compare_unet.sh [BUILD_DIR] [--layers] [--quick] [--threads=1,2] [--runs=N]
#
# BUILD_DIR (default: build) holds benchmarks/sgm_bench_unet, built with
# -DSGM_BUILD_BENCHMARKS=ON in a Release build. Needs Debian's python3-torch
# (loaded by /usr/bin/python3). Steps:
#   1. cross-check: sgm exports weights + a batch + its output; PyTorch loads the
#      weights, runs the same batch and prints the largest difference;
#   2. throughput, forward and forward + backward, batch 64 and 128, 1 and 2
#      threads, sgm and PyTorch alternating per thread count;
#   3. with --layers, every distinct layer shape on its own (batch 64, 1 thread).
# 1-thread rates are images per CPU-second (robust to other load on the machine),
# 2-thread rates images per wall-clock second. --quick: 2 short repetitions.
# --runs=N repeats step 2 and keeps each figure's best run (on a shared machine).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="build"
layers=0
threads="1 2"
runs=1
timing=(--reps 5 --min-seconds 1)
for arg in "$@"; do
    case "$arg" in
        --layers) layers=1 ;;
        --quick) timing=(--reps 2 --min-seconds 0.5) ;;
        --threads=*) threads="${arg#--threads=}"; threads="${threads//,/ }" ;;
        --runs=*) runs="${arg#--runs=}" ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) build="$arg" ;;
    esac
done
bench="$build/benchmarks/sgm_bench_unet"
python=/usr/bin/python3
if [[ ! -x "$bench" ]]; then
    echo "no $bench: configure with -DSGM_BUILD_BENCHMARKS=ON and build sgm_bench_unet" >&2
    exit 1
fi
if ! "$python" -c "import torch" 2>/dev/null; then
    echo "PyTorch not found by $python (apt-get install python3-torch)" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== machine"
lscpu | sed -n 's/^Model name: *//p' | head -1
echo "cores: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== cross-check (float32 forward, eval mode)"
"$bench" --export "$work/check"
"$python" "$here/pytorch_unet.py" --check "$work/check"
echo
echo "== throughput"
for r in $(seq 1 "$runs"); do
    for t in $threads; do
        "$bench" --threads "$t" "${timing[@]}" --json "$work/sgm_${t}_$r.json" > "$work/sgm_${t}_$r.txt"
        "$python" "$here/pytorch_unet.py" --bench --threads "$t" "${timing[@]}" \
            --json "$work/torch_${t}_$r.json" > /dev/null
    done
    echo "run $r of $runs done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
head -3 "$work/sgm_${threads%% *}_1.txt"
"$python" - "$work" $threads <<'PY'
import glob, json, sys

work, threads = sys.argv[1], [int(t) for t in sys.argv[2:]]


def best_rows(pattern):
    """Rows by (threads, batch), each rate the best over the runs; the CPU share off
    the main thread is that of the run with the best wall-clock rate."""
    best, meta = {}, None
    for f in sorted(glob.glob(pattern)):
        data = json.load(open(f))
        meta = meta or data
        for r in data["rows"]:
            b = best.setdefault((r["threads"], r["batch"]), dict(r))
            for k in ("forward", "forward_backward"):
                if r[k] > b[k]:
                    b[k], b[k + "_worker_share"] = r[k], r[k + "_worker_share"]
            for k in ("forward_cpu", "forward_backward_cpu"):
                b[k] = max(b[k], r[k])
    return best, meta


rows = []
for t in threads:
    ours, meta = best_rows(f"{work}/sgm_{t}_*.json")
    theirs, _ = best_rows(f"{work}/torch_{t}_*.json")
    rows += [(meta, ours[k], theirs[k]) for k in sorted(ours)]
meta = rows[0][0]
flops = {"forward": meta["flops_forward"], "forward_backward": meta["flops_forward"] + meta["flops_backward"]}
peak = meta["peak_per_core"]
print()
print("| threads | batch | pass | sgm img/s | PyTorch img/s | sgm / PyTorch | sgm GFLOP/s (% peak) "
      "| PyTorch GFLOP/s (% peak) | CPU off the main thread, sgm / PyTorch |")
print("|--:|--:|---|--:|--:|--:|--:|--:|--:|")
for p, name in (("forward", "forward"), ("forward_backward", "fwd+bwd")):
    for _, o, t in rows:
        key = p + ("_cpu" if o["threads"] == 1 else "")
        a, b = o[key], t[key]

        def gf(v):
            g = v * flops[p] * 1e-9
            return f"{g:.1f} ({100 * g / (peak * o['threads']):.0f} %)"

        share = f"{o[p + '_worker_share']:.2f} / {t[p + '_worker_share']:.2f}" if o["threads"] > 1 else ""
        print(f"| {o['threads']} | {o['batch']} | {name} | {a:.1f} | {b:.1f} | {a / b:.2f} | {gf(a)} | {gf(b)} "
              f"| {share} |")
runs = len(glob.glob(f"{work}/sgm_{threads[0]}_*.json"))
print()
print(f"1 thread: images per CPU-second; 2 threads: images per wall-clock second (the share of CPU time off "
      f"the main thread is near 0.5 when both threads worked). Best of {runs} run(s) per figure. Peak {peak:g} "
      f"GFLOP/s per core. FLOPs per image: forward {flops['forward'] * 1e-6:.1f} M, forward+backward "
      f"{flops['forward_backward'] * 1e-6:.1f} M.")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ $layers == 1 ]]; then
    echo
    echo "== each layer shape on its own (batch 64, 1 thread, ms per CPU-second)"
    "$bench" --layers --batches 64 --threads 1 "${timing[@]}" | grep -v '^#' > "$work/sgm_layers.csv"
    "$python" "$here/pytorch_unet.py" --layers --batches 64 --threads 1 "${timing[@]}" | grep -v '^#' \
        > "$work/torch_layers.csv"
    "$python" - "$work" <<'PY'
import csv, sys

work = sys.argv[1]
ours = {r["layer"]: r for r in csv.DictReader(open(f"{work}/sgm_layers.csv"))}
theirs = {r["layer"]: r for r in csv.DictReader(open(f"{work}/torch_layers.csv"))}
print("| layer (batch 64) | count | sgm fwd ms | PyTorch fwd ms | sgm fwd+bwd ms | PyTorch fwd+bwd ms | "
      "sgm fwd GFLOP/s | PyTorch fwd GFLOP/s | sgm − PyTorch, fwd+bwd × count (ms) |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
for name, o in ours.items():
    t = theirs.get(name)
    if t is None:
        print(f"| {name} | {o['count']} | {o['forward_ms']} | — | {o['forward_backward_ms']} | — | | | |")
        continue
    gap = ""
    if o["count"]:
        gap = f"{int(o['count']) * (float(o['forward_backward_ms']) - float(t['forward_backward_ms'])):+.1f}"

    def gf(r):
        return r["gflops_forward"] if float(r["gflops_forward"] or 0) > 0 else ""

    print(f"| {name} | {o['count']} | {o['forward_ms']} | {t['forward_ms']} | {o['forward_backward_ms']} | "
          f"{t['forward_backward_ms']} | {gf(o)} | {gf(t)} | {gap} |")
PY
fi
