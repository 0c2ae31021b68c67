#!/usr/bin/env bash
# End-to-end checks of the command-line tools: a tiny model trained, sampled and
# scored through the real programs, and bad input answered by one clear line and
# the documented exit status (2: bad flag value, 1: bad file or data).
#
# usage: test_tools.sh TOOLS_DIR SOURCE_DIR
set -u
tools=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$source_dir"
failures=0

# expect STATUS PATTERN -- COMMAND...: the command exits with STATUS and its
# stderr contains PATTERN (a fixed string).
expect() {
    local status=$1 pattern=$2
    shift 3
    "$@" >"$work/out" 2>"$work/err"
    local got=$?
    if [[ $got -ne $status ]] || ! grep -qF -- "$pattern" "$work/err"; then
        echo "FAILED: $*"
        echo "  expected exit $status and stderr containing: $pattern"
        echo "  got exit $got; stderr:"
        sed 's/^/    /' "$work/err"
        failures=$((failures + 1))
    else
        echo "ok: $* -> $got: $(grep -F -- "$pattern" "$work/err" | head -1)"
    fi
}

# ok COMMAND...: the command succeeds.
ok() {
    if ! "$@" >"$work/out" 2>"$work/err"; then
        echo "FAILED: $*"
        sed 's/^/    /' "$work/err"
        failures=$((failures + 1))
    else
        echo "ok: $*"
    fi
}

tiny=(--base-channels 8 --multipliers 1,2 --blocks 1 --attention none --dropout 0 --batch 4 --threads 1
      --checkpoint-every 2 --log-every 1)

# A tiny VP and sub-VP model, two training steps each.
ok "$tools/sgm-train" --sde vp --steps 2 "${tiny[@]}" --out "$work/vp"
ok "$tools/sgm-train" --sde subvp --steps 2 "${tiny[@]}" --out "$work/subvp"
ok test -s "$work/vp/weights.safetensors"

# Help texts.
for tool in sgm-train sgm-sample sgm-likelihood sgm-interpolate sgm-fd sgm-train-classifier sgm-inpaint sgm-colorize; do
    if "$tools/$tool" --help | grep -q "usage: $tool"; then echo "ok: $tool --help"; else
        echo "FAILED: $tool --help"; failures=$((failures + 1)); fi
done

# Sampling writes a PNG and a NumPy array of the right size.
ok "$tools/sgm-sample" --model "$work/vp/weights.safetensors" --count 3 --batch 2 --steps 25 --threads 1 \
    --out "$work/s.png" --npy "$work/s.npy"
ok "$tools/sgm-sample" --model "$work/vp/weights.safetensors" --sampler ode --ode-method euler --steps 5 \
    --count 2 --threads 1 --out "$work/o.png"
if [[ "$(head -c 8 "$work/s.png" | od -An -c | tr -d ' ')" == '211PNG\r\n032\n' ]]; then echo "ok: PNG signature";
else echo "FAILED: PNG signature"; failures=$((failures + 1)); fi
npy_size=$(stat -c %s "$work/s.npy")
if [[ $npy_size -eq $((128 + 3 * 784 * 4)) ]] && head -c 128 "$work/s.npy" | grep -qa "'shape': (3, 1, 28, 28)"; then
    echo "ok: .npy header and size"; else echo "FAILED: .npy ($npy_size bytes)"; failures=$((failures + 1)); fi

# Likelihood of one test digit.
ok "$tools/sgm-likelihood" --model "$work/vp/weights.safetensors" --count 2 --rtol 1e-2 --atol 1e-2 --threads 1
if grep -q "bits/dim" "$work/out"; then echo "ok: bits/dim printed"; else echo "FAILED: no bits/dim"; failures=$((failures + 1)); fi

# Interpolation through the ODE latents.
ok "$tools/sgm-interpolate" --model "$work/vp/weights.safetensors" --from 3 --to 4 --frames 3 --rtol 1e-2 \
    --atol 1e-2 --threads 1 --out "$work/i.png"
if grep -q "end points land within" "$work/out"; then echo "ok: interpolation"; else
    echo "FAILED: interpolation output"; failures=$((failures + 1)); fi
expect 2 "image 5000 is outside the test split" -- "$tools/sgm-interpolate" --model "$work/vp/weights.safetensors" \
    --to 5000

# Inpainting: PC with random pixels hidden, the ODE with the center hidden; the
# completions array has one image per completion.
ok "$tools/sgm-inpaint" --model "$work/vp/weights.safetensors" --count 2 --completions 2 --mask random --steps 25 \
    --threads 1 --out "$work/inpaint.png" --npy "$work/inpaint.npy"
if head -c 128 "$work/inpaint.npy" | grep -qa "'shape': (4, 1, 28, 28)"; then echo "ok: inpainting .npy shape"; else
    echo "FAILED: inpainting .npy shape"; failures=$((failures + 1)); fi
ok "$tools/sgm-inpaint" --model "$work/vp/weights.safetensors" --count 1 --completions 2 --mask center --sampler ode \
    --ode-method euler --steps 3 --threads 1 --out "$work/inpaint-ode.png"
expect 2 "images 998 to 1003 are outside the test split" -- "$tools/sgm-inpaint" --model "$work/vp/weights.safetensors" \
    --first 998 --count 5
expect 2 "--mask 'diagonal' is not one of" -- "$tools/sgm-inpaint" --mask diagonal

# Colorization: a tiny colour model; a gray model is refused.
ok "$tools/sgm-train" --data mnist-color --sde vp --steps 2 "${tiny[@]}" --out "$work/color"
ok "$tools/sgm-colorize" --model "$work/color/weights.safetensors" --count 1 --samples 2 --steps 25 --threads 1 \
    --out "$work/colorize.png"
if grep -q "largest gray difference" "$work/out"; then echo "ok: colorization"; else
    echo "FAILED: colorization output"; failures=$((failures + 1)); fi
expect 2 "colorization needs a colour model" -- "$tools/sgm-colorize" --model "$work/vp/weights.safetensors"

# Class-conditional sampling with a tiny time-conditioned classifier.
tiny_classifier=(--steps 2 --batch 4 --base-channels 4 --multipliers 1 --features 8 --eval-every 2 --threads 1)
ok "$tools/sgm-train-classifier" "${tiny_classifier[@]}" --time-conditioned --sde vp --out "$work/guide.safetensors"
ok "$tools/sgm-train-classifier" "${tiny_classifier[@]}" --out "$work/plain.safetensors"
ok "$tools/sgm-sample" --model "$work/vp/weights.safetensors" --class all --columns 2 --count 4 --steps 25 \
    --threads 1 --classifier "$work/guide.safetensors" --guidance-scale 2 --check-with "$work/plain.safetensors" \
    --out "$work/guided.png"
if grep -q "agreement with the requested class" "$work/out"; then echo "ok: guided sampling"; else
    echo "FAILED: guided sampling output"; failures=$((failures + 1)); fi
expect 2 "--class 12 is out of range: the classifier has 10 classes" -- "$tools/sgm-sample" \
    --model "$work/vp/weights.safetensors" --class 12 --classifier "$work/guide.safetensors"
expect 2 "--class 'two': expected a class number or 'all'" -- "$tools/sgm-sample" \
    --model "$work/vp/weights.safetensors" --class two --classifier "$work/guide.safetensors"
expect 2 "is not time-conditioned" -- "$tools/sgm-sample" --model "$work/vp/weights.safetensors" --class 1 \
    --classifier "$work/plain.safetensors"
expect 2 "was trained on images noised by the vp" -- "$tools/sgm-sample" --model "$work/subvp/weights.safetensors" \
    --class 1 --classifier "$work/guide.safetensors"
expect 2 "--guidance-scale 'inf' is not a finite number" -- "$tools/sgm-sample" --class 1 --guidance-scale inf

# Resume continues from the checkpoint.
ok "$tools/sgm-train" --sde vp --steps 3 "${tiny[@]}" --out "$work/vp" --resume
if grep -q "resumed from" "$work/out"; then echo "ok: resumed"; else echo "FAILED: no resume"; failures=$((failures + 1)); fi

# --init starts a new run from trained weights and records what it started from.
ok "$tools/sgm-train" --sde vp --steps 1 "${tiny[@]}" --seed 7 --init "$work/vp/weights.safetensors" --out "$work/ft"
if grep -q "starting from .*(3 steps of: sgm-train --sde vp" "$work/out" &&
    grep -aq '"config.training.init_steps":"3"' "$work/ft/weights.safetensors"; then echo "ok: --init recorded"; else
    echo "FAILED: --init not reported or not recorded"; failures=$((failures + 1)); fi
expect 2 "the file's sde is 'subvp 0.1 20 1000 1', this run's is 'vp 0.1 20 1000 1'" -- \
    "$tools/sgm-train" --sde vp --steps 1 "${tiny[@]}" --init "$work/subvp/weights.safetensors" --out "$work/x"
expect 1 "is a 'sgm.training_state' file, expected 'sgm.weights'" -- \
    "$tools/sgm-train" --sde vp --steps 1 "${tiny[@]}" --init "$work/vp/checkpoint.safetensors" --out "$work/x"

# Bad flag values: status 2 and the flag named.
expect 2 "--count 'abc' is not a positive integer" -- "$tools/sgm-sample" --count abc
expect 2 "--count '0' is not a positive integer" -- "$tools/sgm-sample" --count 0
expect 2 "--predictor 'leapfrog' is not one of" -- "$tools/sgm-sample" --predictor leapfrog
expect 2 "--rtol '0' is not a finite number in" -- "$tools/sgm-sample" --rtol 0
expect 2 "--snr 'nan' is not a finite number" -- "$tools/sgm-sample" --snr nan
expect 2 "unknown argument '--frobnicate'" -- "$tools/sgm-sample" --frobnicate
expect 2 "--device cuda: this sgm-sample was built without CUDA" -- "$tools/sgm-sample" --device cuda --count 1
expect 2 "--device 'gpu' is not one of: cpu, cuda" -- "$tools/sgm-sample" --device gpu
expect 2 "--device cuda: this sgm-train was built without CUDA" -- "$tools/sgm-train" --device cuda --steps 1 \
    --out "$work/no_cuda"
expect 2 "--count needs a value" -- "$tools/sgm-sample" --count
expect 2 "--model 'no_such_model': no such file" -- "$tools/sgm-sample" --model no_such_model
expect 2 "--sde 'ou' is not one of" -- "$tools/sgm-train" --sde ou
expect 2 "--ema 1 must be below 1" -- "$tools/sgm-train" --ema 1
expect 2 "--lr '-1' is not a finite number in" -- "$tools/sgm-train" --lr -1
expect 2 "--predictor ancestral needs a VE or VP model" -- \
    "$tools/sgm-sample" --model "$work/subvp/weights.safetensors" --predictor ancestral --count 1 --steps 25
expect 2 "the test split has 1000 images" -- \
    "$tools/sgm-likelihood" --model "$work/vp/weights.safetensors" --first 990 --count 20

# Bad files: status 1 and the file named.
expect 1 "is a 'sgm.training_state' file, expected 'sgm.weights'" -- \
    "$tools/sgm-sample" --model "$work/vp/checkpoint.safetensors" --count 1
cp "$work/vp/weights.safetensors" "$work/corrupt.safetensors"
printf '\x55' | dd of="$work/corrupt.safetensors" bs=1 seek=$(( $(stat -c %s "$work/corrupt.safetensors") - 9 )) \
    conv=notrunc 2>/dev/null
expect 1 "checksum mismatch" -- "$tools/sgm-sample" --model "$work/corrupt.safetensors" --count 1
head -c 100 "$work/vp/weights.safetensors" > "$work/truncated.safetensors"
expect 1 "truncated.safetensors" -- "$tools/sgm-sample" --model "$work/truncated.safetensors" --count 1
expect 1 "data/does-not-exist" -- "$tools/sgm-train" --data-dir data/does-not-exist --steps 1 --out "$work/x"
expect 1 "cannot write" -- "$tools/sgm-sample" --model "$work/vp/weights.safetensors" --count 1 --steps 25 \
    --threads 1 --out "$work/no/such/dir/s.png"

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
