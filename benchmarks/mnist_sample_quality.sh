#!/usr/bin/env bash
# Sample quality and cost of every sampler on a bundled MNIST model: for each
# predictor × corrector at each N, and the probability-flow ODE at two tolerances,
# draws --count digits with sgm-sample, then scores them with sgm-fd against the
# 1,000 held-out digits. Prints one Markdown table row per configuration:
#   | model | sampler | N | NFE | wall s | samples/s | FD | confident > 0.9 |
#
#   benchmarks/mnist_sample_quality.sh [BUILD_DIR] [--model=mnist_vp] [--count=1000]
#       [--n=100,250,1000] [--predictors=reverse-diffusion,euler-maruyama,ancestral,none]
#       [--correctors=langevin,annealed-langevin,none] [--ode=1e-5,1e-3] [--ode-norm=rms]
#       [--threads=0] [--batch=250] [--keep=DIR]
#
# --ode= (empty) skips the ODE rows; --n= (empty) skips the PC rows. --ode-norm is the
# RK45 error norm: rms (scipy's, as in the paper's code) or max. --keep writes
# each configuration's samples (.npy) and grid (.png) into DIR. Same seed for every
# row: the rows differ only in the sampler.
set -euo pipefail

build=build model=mnist_vp count=1000 ns="100 250 1000" threads=0 batch=250 keep=""
predictors="reverse-diffusion euler-maruyama ancestral none"
correctors="langevin annealed-langevin none"
odes="1e-5 1e-3" ode_norm=rms
for arg in "$@"; do
    case "$arg" in
        --model=*) model="${arg#*=}" ;;
        --count=*) count="${arg#*=}" ;;
        --n=*) ns="${arg#*=}"; ns="${ns//,/ }" ;;
        --predictors=*) predictors="${arg#*=}"; predictors="${predictors//,/ }" ;;
        --correctors=*) correctors="${arg#*=}"; correctors="${correctors//,/ }" ;;
        --ode=*) odes="${arg#*=}"; odes="${odes//,/ }" ;;
        --ode-norm=*) ode_norm="${arg#*=}" ;;
        --threads=*) threads="${arg#*=}" ;;
        --batch=*) batch="${arg#*=}" ;;
        --keep=*) keep="${arg#*=}" ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) build="$arg" ;;
    esac
done
tools="$build/tools/cli"
for t in sgm-sample sgm-fd; do
    [[ -x "$tools/$t" ]] || { echo "no $tools/$t: build the tools first" >&2; exit 1; }
done
work="${keep:-$(mktemp -d)}"
mkdir -p "$work"
[[ -n "$keep" ]] || trap 'rm -rf "$work"' EXIT

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; threads $threads; batch $batch; $count samples per row"
echo
echo "| model | sampler | N | NFE | wall s | samples/s | FD | confident > 0.9 |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"

# row NAME N SAMPLE_FLAGS...
row() {
    local name=$1 n=$2
    shift 2
    local file="$work/${model}_${name// /_}_$n"
    local start end
    start=$(date +%s.%N)
    "$tools/sgm-sample" --model "$model" "$@" --count "$count" --batch "$batch" --threads "$threads" \
        --out "$file.png" --npy "$file.npy" > "$file.sample.txt" 2>/dev/null ||
        { echo "| $model | $name | $n | failed: $(cat "$file.sample.txt") |"; return; }
    end=$(date +%s.%N)
    local nfe fd confident
    nfe=$(sed -n 's/.*, \([0-9]*\) score evaluations per batch.*/\1/p' "$file.sample.txt")
    "$tools/sgm-fd" --samples "$file.npy" --threads "$threads" > "$file.fd.txt" 2>&1
    fd=$(sed -n 's/^FD (samples vs reference): *\([0-9.eE+-]*\).*/\1/p' "$file.fd.txt")
    confident=$(sed -n 's/^samples .*confidence > 0.9: *\([0-9.]*\).*/\1/p' "$file.fd.txt")
    awk -v m="$model" -v s="$name" -v n="$n" -v nfe="$nfe" -v a="$start" -v b="$end" -v c="$count" \
        -v fd="$fd" -v conf="$confident" \
        'BEGIN { w = b - a; printf "| %s | %s | %s | %s | %.0f | %.2f | %s | %.1f%% |\n", m, s, n, nfe, w, c / w, fd, 100 * conf }'
}

for n in $ns; do
    for p in $predictors; do
        for c in $correctors; do
            [[ $p == none && $c == none ]] && continue
            row "pc $p + $c" "$n" --sampler pc --predictor "$p" --corrector "$c" --steps "$n"
        done
    done
done
for tol in $odes; do
    row "ode rk45 tol $tol ($ode_norm norm)" "-" --sampler ode --rtol "$tol" --atol "$tol" --ode-norm "$ode_norm"
done
