#!/usr/bin/python3
"""The sgm U-Net (include/sgm/nn/unet.hpp) written again in PyTorch, as a
reference for its outputs and its speed.

    /usr/bin/python3 pytorch_unet.py --check DIR       # DIR from `sgm_bench_unet --export DIR`
    /usr/bin/python3 pytorch_unet.py --bench [--json FILE] [--batches 64 128] [--threads 1 2]
    /usr/bin/python3 pytorch_unet.py --layers [--batches 64] [--threads 1]
    /usr/bin/python3 pytorch_unet.py --train [--device cuda] [--batches 256 1024]

--check loads sgm's weights (DIR/weights.safetensors) and a batch with sgm's
forward output (DIR/batch.safetensors) into this network, runs the forward in
eval mode in float32 and float64, prints the largest differences and fails
(exit status 1) when sgm's output is more than 1e-5 of max |y| from float64.

--bench times the forward (eval mode, no autograd) and the forward + backward
(training mode: dropout on; gradients of every parameter and of the input) in
images/s, after a warm-up, keeping the fastest of several repetitions.

--train times whole training steps, as sgm's trainer takes them: the continuous
denoising score-matching loss (VP, beta 0.1..20, sigma^2 weighting, mean over values),
backward, global gradient-norm clipping at 1, Adam (lr 2e-4) and an EMA of the
weights (rate 0.9999), dropout on; images/s. --device cuda runs --bench and --train on
the GPU (float32; cudnn.benchmark on, synchronized before each clock reading).

--layers times each distinct conv, group norm, SiLU and attention shape of the
network on its own, as `sgm_bench_unet --layers` does, for a per-layer comparison.

Layer for layer as in sgm; parameter names are sgm's, so the state_dict and
sgm's parameter_list line up one to one.
"""

import argparse
import ctypes
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- the network --------------------------------------------------------------

def default_groups(channels):
    """DDPM++'s group count: min(C/4, 32), at least 1."""
    return max(1, min(channels // 4, 32))


class SinusoidalEmbedding(nn.Module):
    """[sin(c·ω_k), cos(c·ω_k)], ω_k = P^(−k/(h−1)), computed in float64 as sgm does."""

    def __init__(self, size, max_positions=10000.0):
        super().__init__()
        self.size = size
        self.max_positions = max_positions

    def forward(self, c):
        half = self.size // 2
        step = math.log(self.max_positions) / (half - 1)
        freqs = torch.exp(-step * torch.arange(half, dtype=torch.float64))
        arg = c.to(torch.float64)[:, None] * freqs[None, :]
        return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1).to(c.dtype)


class TimeMLP(nn.Module):
    def __init__(self, base, embed):
        super().__init__()
        self.dense0 = nn.Linear(base, embed)
        self.dense1 = nn.Linear(embed, embed)


class ResidualBlock(nn.Module):
    """h = conv0(SiLU(GN0(x))) + embed(e); h = conv1(dropout(SiLU(GN1(h)))); y = (skip(x) + h)/√2."""

    def __init__(self, cin, cout, embed, dropout):
        super().__init__()
        self.norm0 = nn.GroupNorm(default_groups(cin), cin, eps=1e-6)
        self.conv0 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.embed = nn.Linear(embed, cout)
        self.norm1 = nn.GroupNorm(default_groups(cout), cout, eps=1e-6)
        self.drop = nn.Dropout(dropout)
        self.conv1 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1, 1, 0) if cin != cout else None

    def forward(self, x, e):
        h = self.conv0(F.silu(self.norm0(x)))
        h = h + self.embed(e)[:, :, None, None]
        h = self.conv1(self.drop(F.silu(self.norm1(h))))
        s = x if self.skip is None else self.skip(x)
        return (s + h) * (1.0 / math.sqrt(2.0))


class SelfAttention(nn.Module):
    """y = x + W_o softmax(qᵀk/√C) v + b_o over the H·W positions (no rescale)."""

    def __init__(self, channels):
        super().__init__()
        self.norm = nn.GroupNorm(default_groups(channels), channels, eps=1e-6)
        self.q = nn.Linear(channels, channels)
        self.k = nn.Linear(channels, channels)
        self.v = nn.Linear(channels, channels)
        self.out = nn.Linear(channels, channels)

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.norm(x).reshape(b, c, hh * ww).transpose(1, 2)  # B × P × C
        q, k, v = self.q(h), self.k(h), self.v(h)
        a = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * (c ** -0.5), dim=-1)  # B × P × P
        o = self.out(torch.bmm(a, v))  # B × P × C
        return x + o.transpose(1, 2).reshape(b, c, hh, ww)


class Stage(nn.Module):
    """One step of the U-Net: [concat skip →] resblock [+ attention] | stride-2 conv | upsample + conv."""

    def __init__(self, kind, skip=False):
        super().__init__()
        self.kind = kind
        self.takes_skip = skip
        self.block = None
        self.attention = None
        self.conv = None

    def forward(self, h, e, skip=None):
        if skip is not None:
            h = torch.cat([h, skip], dim=1)
        if self.kind == "block":
            h = self.block(h, e)
            return self.attention(h) if self.attention is not None else h
        if self.kind == "down":
            return self.conv(h)
        return self.conv(F.interpolate(h, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, channels=1, height=28, width=28, base_channels=32, multipliers=(1, 2, 2),
                 blocks_per_level=2, attention_resolutions=(7,), dropout=0.1):
        super().__init__()
        self.base = base_channels
        embed = 4 * base_channels
        self.embedding = SinusoidalEmbedding(base_channels)
        self.time = TimeMLP(base_channels, embed)
        self.conv_in = nn.Conv2d(channels, base_channels, 3, 1, 1)

        ch, h = base_channels, height
        skip_channels = [ch]

        def block(cin, cout, res, skip=False):
            s = Stage("block", skip)
            s.block = ResidualBlock(cin, cout, embed, dropout)
            if res in attention_resolutions:
                s.attention = SelfAttention(cout)
            return s

        self.down = nn.ModuleList()
        for level, mult in enumerate(multipliers):
            out = base_channels * mult
            for _ in range(blocks_per_level):
                self.down.append(block(ch, out, h))
                ch = out
                skip_channels.append(ch)
            if level + 1 < len(multipliers):
                s = Stage("down")
                s.conv = nn.Conv2d(ch, ch, 3, 2, 1)
                self.down.append(s)
                h //= 2
                skip_channels.append(ch)
        self.middle = nn.ModuleList([block(ch, ch, h), block(ch, ch, h)])
        if self.middle[0].attention is None:
            self.middle[0].attention = SelfAttention(ch)
        self.middle[1].attention = None
        self.up = nn.ModuleList()
        for level in reversed(range(len(multipliers))):
            out = base_channels * multipliers[level]
            for _ in range(blocks_per_level + 1):
                skip = skip_channels.pop()
                self.up.append(block(ch + skip, out, h, skip=True))
                ch = out
            if level > 0:
                s = Stage("up")
                s.conv = nn.Conv2d(ch, ch, 3, 1, 1)
                self.up.append(s)
                h *= 2
        self.norm_out = nn.GroupNorm(default_groups(ch), ch, eps=1e-6)
        self.conv_out = nn.Conv2d(ch, channels, 3, 1, 1)

    def forward(self, x, c):
        e = self.time.dense1(F.silu(self.time.dense0(self.embedding(c))))
        e = F.silu(e)  # every block takes SiLU(e)
        h = self.conv_in(x)
        skips = [h]
        for s in self.down:
            h = s(h, e)
            skips.append(h)
        for s in self.middle:
            h = s(h, e)
        for s in self.up:
            h = s(h, e, skips.pop() if s.takes_skip else None)
        return self.conv_out(F.silu(self.norm_out(h)))


def build(config):
    """A UNet from sgm's unet_config as written in the export's metadata."""
    return UNet(channels=config["channels"], height=config["height"], width=config["width"],
                base_channels=config["base_channels"], multipliers=tuple(config["multipliers"]),
                blocks_per_level=config["blocks_per_level"],
                attention_resolutions=tuple(config["attention_resolutions"]), dropout=config["dropout"])


# ---- safetensors, read by hand --------------------------------------------------

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """(tensors by name as numpy arrays, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, h in header.items():
        begin, end = h["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(DTYPES[h["dtype"]]).newbyteorder("<"))
        out[name] = arr.reshape(h["shape"]).copy()
    return out, meta


def config_of_model(meta):
    """The network's configuration from a bundled model's safetensors metadata."""
    cfg = {k[len("config."):]: v for k, v in meta.items() if k.startswith("config.")}
    sizes = lambda key: [int(v) for v in cfg[key].split(",") if v]
    return {"channels": int(cfg["unet.channels"]), "height": int(cfg["unet.height"]),
            "width": int(cfg["unet.width"]), "base_channels": int(cfg["unet.base_channels"]),
            "multipliers": sizes("unet.multipliers"), "blocks_per_level": int(cfg["unet.blocks_per_level"]),
            "attention_resolutions": sizes("unet.attention_resolutions"), "dropout": float(cfg["unet.dropout"])}


def load_sgm_weights(net, path):
    """Copies sgm's parameters into net; every name must match both ways, with equal shapes."""
    tensors, _ = read_safetensors(path)
    state = net.state_dict()
    missing = sorted(set(state) - set(tensors))
    extra = sorted(set(tensors) - set(state))
    if missing or extra:
        raise SystemExit(f"parameter names differ: missing from the file {missing}, not in the network {extra}")
    for name, value in tensors.items():
        if tuple(state[name].shape) != value.shape:
            raise SystemExit(f"{name}: shape {value.shape} in the file, {tuple(state[name].shape)} here")
        state[name] = torch.from_numpy(value)
    net.load_state_dict(state)
    return len(tensors)


# ---- threads ----------------------------------------------------------------------

def set_threads(threads):
    """torch.set_num_threads, and the same for OpenBLAS: Debian's PyTorch sends some
    GEMMs (Linear, bmm) to the pthreads OpenBLAS, whose own pool (one thread per core,
    busy-waiting between calls) torch.set_num_threads does not limit."""
    torch.set_num_threads(threads)
    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "libopenblas" in line}
    for lib in libs:
        try:
            ctypes.CDLL(lib).openblas_set_num_threads(threads)
        except (OSError, AttributeError):
            pass


# ---- --check ----------------------------------------------------------------------

def check(directory):
    weights = f"{directory}/weights.safetensors"
    tensors, meta = read_safetensors(f"{directory}/batch.safetensors")
    config = json.loads(meta["config"])
    set_threads(1)
    net = build(config).float().eval()
    count = load_sgm_weights(net, weights)
    x = torch.from_numpy(tensors["x"])
    c = torch.from_numpy(tensors["c"])
    ours = tensors["y"]
    with torch.no_grad():
        ref = net(x, c).numpy()
        ref64 = build(config).double().eval()
        load_sgm_weights(ref64, weights)
        ref64 = ref64(x.double(), c.double()).numpy()
    scale = float(np.abs(ref64).max())
    diff = float(np.abs(ours - ref64).max())
    diff32 = float(np.abs(ref - ref64).max())
    diff_pair = float(np.abs(ours - ref).max())
    print(f"parameters: {count} tensors, {sum(v.size for v in read_safetensors(weights)[0].values())} values")
    print(f"batch {x.shape[0]}, image {tuple(x.shape[1:])}, max |y| (float64 reference) {scale:.4g}")
    print(f"max |sgm float32 - PyTorch float32| = {diff_pair:.3g}  (relative to max |y|: {diff_pair / scale:.3g})")
    print(f"max |sgm float32 - PyTorch float64| = {diff:.3g}  (relative: {diff / scale:.3g})")
    print(f"max |PyTorch float32 - PyTorch float64| = {diff32:.3g}  (relative: {diff32 / scale:.3g})")
    return diff / scale


# ---- --bench ----------------------------------------------------------------------

def best_rate(fn, batch, warmup, reps, min_seconds):
    """(images/s of the fastest repetition by the wall clock, images per CPU-second of the
    process in its fastest repetition by CPU time, the share of the process's CPU time
    spent off the calling thread in the fastest by the wall clock); a repetition runs fn
    for at least min_seconds of wall time."""
    for _ in range(warmup):
        fn()
    wall_best, cpu_best, share = 0.0, 0.0, 0.0
    for _ in range(reps):
        calls, start, cpu0, own0 = 0, time.perf_counter(), time.process_time(), time.thread_time()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        cpu = time.process_time() - cpu0
        if calls * batch / elapsed > wall_best:
            wall_best = calls * batch / elapsed
            share = 1 - (time.thread_time() - own0) / cpu
        cpu_best = max(cpu_best, calls * batch / cpu)
    return wall_best, cpu_best, share


def bench(batches, threads_list, reps, min_seconds, config, device=torch.device("cpu")):
    rows = []
    torch.manual_seed(0)
    for threads in threads_list:
        set_threads(threads)
        for batch in batches:
            net = build(config).float().to(device)
            x = torch.randn(batch, config["channels"], config["height"], config["width"], device=device)
            c = torch.rand(batch, device=device) * 999
            dy = torch.randn_like(x)
            xg = x.clone().requires_grad_(True)

            def forward():
                with torch.no_grad():
                    net(x, c)
                synchronize(device)

            def forward_backward():
                net.zero_grad(set_to_none=True)
                xg.grad = None
                net(xg, c).backward(dy)
                synchronize(device)

            net.eval()
            fwd, fwd_cpu, fwd_share = best_rate(forward, batch, 2, reps, min_seconds)
            net.train()
            fb, fb_cpu, fb_share = best_rate(forward_backward, batch, 2, reps, min_seconds)
            rows.append({"threads": threads, "batch": batch, "forward": fwd, "forward_backward": fb,
                         "forward_cpu": fwd_cpu, "forward_backward_cpu": fb_cpu,
                         "forward_worker_share": fwd_share, "forward_backward_worker_share": fb_share})
            print(f"pytorch threads {threads} batch {batch:4d}: forward {fwd:8.1f} img/s ({fwd_cpu:.1f} per CPU-s), "
                  f"forward+backward {fb:8.1f} img/s ({fb_cpu:.1f} per CPU-s); "
                  f"CPU share off the main thread {fwd_share:.2f}, {fb_share:.2f}", file=sys.stderr, flush=True)
    return rows


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_bench(batches, device, reps, min_seconds, config):
    """Training images/s per batch size (see --train)."""
    rows = []
    torch.manual_seed(0)
    beta_min, beta_max = 0.1, 20.0
    for batch in batches:
        net = build(config).float().to(device).train()
        ema = [p.detach().clone() for p in net.parameters()]
        opt = torch.optim.Adam(net.parameters(), lr=2e-4)
        x0 = torch.rand(batch, config["channels"], config["height"], config["width"], device=device) * 2 - 1

        def step():
            t = torch.rand(batch, device=device) * (1 - 1e-5) + 1e-5
            log_mean = -0.25 * t * t * (beta_max - beta_min) - 0.5 * t * beta_min
            mean, std = torch.exp(log_mean), torch.sqrt(-torch.expm1(2 * log_mean))
            z = torch.randn_like(x0)
            x = mean.view(-1, 1, 1, 1) * x0 + std.view(-1, 1, 1, 1) * z
            score = net(x, 999 * t) / std.view(-1, 1, 1, 1)
            loss = ((std.view(-1, 1, 1, 1) * score + z) ** 2).mean(dim=(1, 2, 3)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                for e, p in zip(ema, net.parameters()):
                    e.mul_(0.9999).add_(p.detach(), alpha=1 - 0.9999)
            synchronize(device)

        rate, _, _ = best_rate(step, batch, 2, reps, min_seconds)
        rows.append({"batch": batch, "train": rate})
        print(f"pytorch {device} batch {batch:5d}: training {rate:9.1f} img/s", file=sys.stderr, flush=True)
    return rows


def layer_shapes(net, config):
    """Every distinct conv, group norm (+ the SiLU after it) and attention shape the
    forward meets, in order, with its count; labels as sgm_bench_unet --layers prints them."""
    found = {}
    attention_norms = {id(m.norm) for m in net.modules() if isinstance(m, SelfAttention)}

    def add(label, make):
        if label in found:
            found[label][1] += 1
        else:
            found[label] = [make, 1]

    def hook(m, inputs, output):
        x = inputs[0]
        _, c, h, w = x.shape
        if isinstance(m, nn.Conv2d):
            k, s = m.kernel_size[0], m.stride[0]
            label = f"conv{k}x{k}{'/2' if s == 2 else ''} {m.in_channels}->{m.out_channels} @{h}x{w}"
            add(label, lambda m=m, x=x: (nn.Conv2d(m.in_channels, m.out_channels, k, s, k // 2), x.shape))
        elif isinstance(m, nn.GroupNorm) and id(m) not in attention_norms:
            add(f"group_norm {c} @{h}x{w}", lambda m=m, x=x: (nn.GroupNorm(m.num_groups, c, eps=m.eps), x.shape))
            add(f"silu {c} @{h}x{w}", lambda x=x: (nn.SiLU(), x.shape))
        elif isinstance(m, SelfAttention):
            add(f"attention {c} @{h}x{w}", lambda x=x: (SelfAttention(c), x.shape))

    handles = [m.register_forward_hook(hook) for m in net.modules()
               if isinstance(m, (nn.Conv2d, nn.GroupNorm, SelfAttention))]
    with torch.no_grad():
        net(torch.randn(1, config["channels"], config["height"], config["width"]), torch.tensor([1.0]))
    for h in handles:
        h.remove()
    return [(label, make, count) for label, (make, count) in found.items()]


def time_layers(batch, threads, reps, min_seconds, config):
    """Each distinct layer shape on its own, forward and forward + backward (input and
    parameter gradients), per CPU-second with 1 thread, by the wall clock otherwise."""
    set_threads(threads)
    use_cpu = threads == 1
    print("layer,count,forward_ms,forward_backward_ms,gflops_forward,gflops_forward_backward")
    total_f = total_fb = 0.0
    for label, make, count in layer_shapes(build(config).float().eval(), config):
        layer, shape = make()
        x = torch.randn(batch, *shape[1:]).requires_grad_(True)
        with torch.no_grad():
            dy = torch.randn_like(layer(x))

        def forward():
            with torch.no_grad():
                layer(x)

        def forward_backward():
            layer.zero_grad(set_to_none=True)
            x.grad = None
            layer(x).backward(dy)

        wall, cpu, _ = best_rate(forward, 1, 2, reps, min_seconds)
        f = 1.0 / (cpu if use_cpu else wall)
        wall, cpu, _ = best_rate(forward_backward, 1, 2, reps, min_seconds)
        fb = 1.0 / (cpu if use_cpu else wall)
        flops = 0.0
        if isinstance(layer, nn.Conv2d):
            k, s = layer.kernel_size[0], layer.stride[0]
            ho, wo = (shape[2] + 2 * (k // 2) - k) // s + 1, (shape[3] + 2 * (k // 2) - k) // s + 1
            flops = 2.0 * k * k * layer.in_channels * layer.out_channels * ho * wo * batch
        elif isinstance(layer, SelfAttention):
            c, p = shape[1], shape[2] * shape[3]
            flops = 2.0 * (4 * c * c * p + 2 * p * p * c) * batch
        print(f"{label},{count},{1e3 * f:.3f},{1e3 * fb:.3f},{flops / f * 1e-9 if flops else 0:.1f},"
              f"{3 * flops / fb * 1e-9 if flops else 0:.1f}", flush=True)
        total_f += count * f
        total_fb += count * fb
    print(f"total (x count),,{1e3 * total_f:.1f},{1e3 * total_fb:.1f},,")


DEFAULT_CONFIG = {"channels": 1, "height": 28, "width": 28, "base_channels": 32, "multipliers": [1, 2, 2],
                  "blocks_per_level": 2, "attention_resolutions": [7], "dropout": 0.1}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", metavar="DIR", help="compare with sgm's forward output exported to DIR")
    p.add_argument("--bench", action="store_true", help="time forward and forward+backward")
    p.add_argument("--layers", action="store_true", help="time each distinct layer shape on its own (CSV)")
    p.add_argument("--batches", type=int, nargs="+", default=[64, 128])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--reps", type=int, default=5, help="timed repetitions (the fastest is kept)")
    p.add_argument("--min-seconds", type=float, default=1.0, help="minimum length of one repetition")
    p.add_argument("--json", metavar="FILE", help="also write the bench results as JSON")
    p.add_argument("--train", action="store_true", help="time whole training steps (loss, Adam, EMA)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (for --bench and --train)")
    p.add_argument("--model", metavar="FILE", help="--bench/--train: the network of this bundled model "
                   "(e.g. models/mnist_vp/weights.safetensors) instead of the default unet_config")
    args = p.parse_args()
    if not args.check and not args.bench and not args.layers and not args.train:
        p.error("give --check DIR, --bench, --layers or --train")
    config = config_of_model(read_safetensors(args.model)[1]) if args.model else DEFAULT_CONFIG
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            p.error("--device cuda: this PyTorch sees no CUDA device")
        torch.backends.cudnn.benchmark = True
        args.threads = args.threads[:1]  # the thread count does not apply to the GPU work
    if args.check:
        # float32 rounding puts both networks within ~1e-6 of the float64 reference
        # (relative to max |y|); one weight off by 1e-2 moves the output by ~5e-5.
        relative = check(args.check)
        if not relative < 1e-5:
            print(f"FAIL: sgm's output is {relative:.3g} (relative) from the float64 reference", file=sys.stderr)
            return 1
        print("PASS: sgm's output is within 1e-5 (relative to max |y|) of the float64 PyTorch reference")
    if args.layers:
        for threads in args.threads:
            for batch in args.batches:
                print(f"# pytorch layers, batch {batch}, {threads} thread(s), float32")
                time_layers(batch, threads, args.reps, args.min_seconds, DEFAULT_CONFIG)
    if args.bench:
        rows = bench(args.batches, args.threads, args.reps, args.min_seconds, config, device)
        print(f"PyTorch {torch.__version__}, float32, NCHW, {device}, MKL-DNN {torch.backends.mkldnn.is_available()}")
        print(f"{'threads':>7} {'batch':>5} {'forward img/s':>14} {'per CPU-s':>10} "
              f"{'fwd+bwd img/s':>14} {'per CPU-s':>10}")
        for r in rows:
            print(f"{r['threads']:>7} {r['batch']:>5} {r['forward']:>14.1f} {r['forward_cpu']:>10.1f} "
                  f"{r['forward_backward']:>14.1f} {r['forward_backward_cpu']:>10.1f}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"torch": torch.__version__, "rows": rows}, f, indent=1)
    if args.train:
        if device.type == "cpu":
            set_threads(args.threads[0])
        rows = train_bench(args.batches, device, args.reps, args.min_seconds, config)
        print(f"PyTorch {torch.__version__}, float32, {device}: training images/s")
        for r in rows:
            print(f"batch {r['batch']:>5}: {r['train']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
