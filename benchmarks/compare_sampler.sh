#!/usr/bin/env bash
# MNIST sampling speed: sgm-sample against the same sampler, network and weights in
# PyTorch (benchmarks/pytorch_sampler.py), side by side (builds nothing).
#
#   benchmarks/compare_sampler.sh [BUILD_DIR] [--model=FILE] [--steps=1000]
#                                 [--batch=64] [--threads=1,2] [--samplers=pc,ode]
#
# BUILD_DIR (default: build) holds tools/cli/sgm-sample (a Release build). Needs
# Debian's python3-torch, python3-numpy and python3-scipy (the ODE uses scipy's RK45,
# as the paper's code does). For each thread count and sampler: one batch, samples
# per wall-clock second; sgm first, then PyTorch.
#   pc:  reverse diffusion + Langevin (snr 0.16), N levels: 2N network evaluations.
#   ode: probability flow, RK45 rtol = atol = 1e-5 with the RMS error norm, as
#        scipy's solve_ivp (network evaluations printed).
set -euo pipefail

build="build"
model="models/mnist_vp/weights.safetensors"
steps=1000
batch=64
threads="1 2"
samplers="pc ode"
for arg in "$@"; do
    case "$arg" in
        --model=*) model="${arg#--model=}" ;;
        --steps=*) steps="${arg#--steps=}" ;;
        --batch=*) batch="${arg#--batch=}" ;;
        --threads=*) threads="${arg#--threads=}"; threads="${threads//,/ }" ;;
        --samplers=*) samplers="${arg#--samplers=}"; samplers="${samplers//,/ }" ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) build="$arg" ;;
    esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sample="$build/tools/cli/sgm-sample"
python=/usr/bin/python3
[[ -x "$sample" ]] || { echo "no $sample: build the tools (cmake --build $build --target sgm-sample)" >&2; exit 1; }
"$python" -c "import torch, scipy" 2>/dev/null ||
    { echo "PyTorch or SciPy not found by $python (apt-get install python3-torch python3-scipy)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; batch $batch"
for t in $threads; do
    for s in $samplers; do
        if [[ $s == pc ]]; then flags=(--sampler pc --steps "$steps"); else flags=(--sampler ode --ode-norm rms); fi
        echo "-- $s, $t thread(s)"
        "$sample" --model "$model" "${flags[@]}" --count "$batch" --batch "$batch" --threads "$t" \
            --out "$work/sgm.png" | sed -n 's/^/sgm: /p' | head -1
        "$python" "$here/pytorch_sampler.py" --model "$(cd "$(dirname "$model")" 2>/dev/null && pwd)/$(basename "$model")" \
            --sampler "$s" --steps "$steps" --batch "$batch" --threads "$t" | sed 's/^/     /'
    done
done
