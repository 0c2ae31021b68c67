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
for tool in sgm-train sgm-sample sgm-likelihood sgm-interpolate sgm-fd sgm-train-classifier; do
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

# Resume continues from the checkpoint.
ok "$tools/sgm-train" --sde vp --steps 3 "${tiny[@]}" --out "$work/vp" --resume
if grep -q "resumed from" "$work/out"; then echo "ok: resumed"; else echo "FAILED: no resume"; failures=$((failures + 1)); fi

# Bad flag values: status 2 and the flag named.
expect 2 "--count 'abc' is not a positive integer" -- "$tools/sgm-sample" --count abc
expect 2 "--count '0' is not a positive integer" -- "$tools/sgm-sample" --count 0
expect 2 "--predictor 'leapfrog' is not one of" -- "$tools/sgm-sample" --predictor leapfrog
expect 2 "--rtol '0' is not a finite number in" -- "$tools/sgm-sample" --rtol 0
expect 2 "--snr 'nan' is not a finite number" -- "$tools/sgm-sample" --snr nan
expect 2 "unknown argument '--frobnicate'" -- "$tools/sgm-sample" --frobnicate
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
