#!/usr/bin/python3
"""The MNIST samplers of sgm-sample written again in PyTorch on the same network and
weights, for a side-by-side speed comparison on the CPU or a GPU.

    /usr/bin/python3 pytorch_sampler.py --model models/mnist_vp/weights.safetensors \
        [--sampler pc|ode] [--steps 1000] [--batch 64] [--threads 1 2] [--png FILE] \
        [--device cuda]

pc:  reverse diffusion + Langevin (snr 0.16, per-sample norms), corrector first, as
     sgm's pc_sample does; the last predictor step is replaced by Tweedie denoising.
     2N network evaluations per sample.
ode: the probability-flow ODE with scipy's RK45 (solve_ivp, rtol = atol = 1e-5) on
     the flattened batch, as the paper's code does, then Tweedie denoising. On a GPU
     the network runs there and the solver on the CPU, as in the paper's code.

The network is benchmarks/pytorch_unet.py's (checked against sgm's output to 1e-6);
the score is net(x, c)/σ(t) with c = 999·t (VP) or σ(t) (VE), as sgm's
score_network. Needs Debian's python3-torch, python3-numpy and python3-scipy.
Prints samples/s per thread count.
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_unet  # noqa: E402


class SDE:
    def __init__(self, text):
        kind, a, b, n, t_end = (text.split() + ["1000", "1"])[:5]
        self.kind, self.a, self.b, self.n, self.T = kind, float(a), float(b), int(float(n)), float(t_end)
        if kind not in ("ve", "vp"):
            raise SystemExit(f"SDE '{text}': this script samples VE and VP models")

    def marginal_std(self, t):
        if self.kind == "ve":
            return self.a * (self.b / self.a) ** (t / self.T)
        log_m = -0.25 * t * t * (self.b - self.a) / self.T - 0.5 * t * self.a
        return math.sqrt(-math.expm1(2 * log_m))

    def mean_coefficient(self, t):
        if self.kind == "ve":
            return 1.0
        return math.exp(-0.25 * t * t * (self.b - self.a) / self.T - 0.5 * t * self.a)

    def beta(self, t):
        return self.a + (t / self.T) * (self.b - self.a)

    def diffusion(self, t):
        if self.kind == "ve":
            s = self.marginal_std(t)
            return s * math.sqrt(2 * math.log(self.b / self.a) / self.T)
        return math.sqrt(self.beta(t))

    def prior_std(self):
        return self.b if self.kind == "ve" else 1.0


def load_model(path):
    tensors, meta = pytorch_unet.read_safetensors(path)
    cfg = {k[len("config."):]: v for k, v in meta.items() if k.startswith("config.")}
    net = pytorch_unet.build(pytorch_unet.config_of_model(meta))
    if cfg.get("unet.embedding", "sinusoidal") != "sinusoidal" or cfg.get("score.conditioning") != "automatic":
        raise SystemExit("this script supports sinusoidal embeddings with automatic conditioning")
    pytorch_unet.load_sgm_weights(net, path)
    net.eval()
    sde = SDE(cfg["sde"])
    shape = (int(cfg["unet.channels"]), int(cfg["unet.height"]), int(cfg["unet.width"]))
    return net, sde, shape, cfg["data.range"]


def score_fn(net, sde):
    def score(x, t):
        sigma = sde.marginal_std(t)
        c = sigma if sde.kind == "ve" else (sde.n - 1) * t / sde.T
        cond = torch.full((x.shape[0],), c, dtype=x.dtype, device=x.device)
        return net(x, cond) / sigma
    return score


@torch.no_grad()
def pc_sample(net, sde, shape, batch, steps, snr, seed, device):
    gen = torch.Generator(device=device).manual_seed(seed)
    score = score_fn(net, sde)
    eps = 1e-5 if sde.kind == "ve" else 1e-3
    x = torch.randn((batch,) + shape, generator=gen, device=device) * sde.prior_std()
    times = np.linspace(sde.T, eps, steps)
    d = float(np.prod(shape))
    dt_level = sde.T / steps
    for i, t in enumerate(times):
        k = steps - 1 - i  # discretization level
        # Langevin corrector.
        s = score(x, t)
        alpha = 1.0 if sde.kind == "ve" else 1.0 - (sde.a * dt_level + (sde.b - sde.a) * dt_level * k / (steps - 1))
        s_norm2 = (s.reshape(batch, -1) ** 2).sum(1)
        step = 2 * alpha * snr * snr * d / s_norm2
        z = torch.randn(x.shape, generator=gen, device=device)
        x = x + step.view(-1, 1, 1, 1) * s + torch.sqrt(2 * step).view(-1, 1, 1, 1) * z
        s = score(x, t)
        if i + 1 == steps:  # Tweedie denoising
            sigma, m = sde.marginal_std(t), sde.mean_coefficient(t)
            return (x + sigma * sigma * s) / m
        z = torch.randn(x.shape, generator=gen, device=device)
        if sde.kind == "vp":
            beta = sde.a * dt_level + (sde.b - sde.a) * dt_level * k / (steps - 1)
            x = x - (math.sqrt(1 - beta) - 1) * x + beta * s + math.sqrt(beta) * z
        else:
            sig = lambda j: 0.0 if j < 0 else sde.a * (sde.b / sde.a) ** (j / (steps - 1))
            g2 = sig(k) ** 2 - sig(k - 1) ** 2
            x = x + g2 * s + math.sqrt(g2) * z
    return x


@torch.no_grad()
def ode_sample(net, sde, shape, batch, rtol, atol, seed, device):
    from scipy import integrate
    gen = torch.Generator(device=device).manual_seed(seed)
    score = score_fn(net, sde)
    eps = 1e-5 if sde.kind == "ve" else 1e-3
    x0 = (torch.randn((batch,) + shape, generator=gen, device=device) * sde.prior_std()).cpu().numpy().reshape(-1)
    nfe = [0]

    def rhs(t, y):
        nfe[0] += 1
        x = torch.from_numpy(y.astype(np.float32)).reshape((batch,) + shape).to(device)
        g = sde.diffusion(t)
        f = torch.zeros_like(x) if sde.kind == "ve" else -0.5 * sde.beta(t) * x
        return (f - 0.5 * g * g * score(x, t)).cpu().numpy().reshape(-1).astype(np.float64)

    sol = integrate.solve_ivp(rhs, (sde.T, eps), x0, rtol=rtol, atol=atol, method="RK45")
    x = torch.from_numpy(sol.y[:, -1].astype(np.float32)).reshape((batch,) + shape).to(device)
    sigma, m = sde.marginal_std(eps), sde.mean_coefficient(eps)
    return (x + sigma * sigma * score(x, eps)) / m, nfe[0] + 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="models/mnist_vp/weights.safetensors")
    p.add_argument("--sampler", choices=["pc", "ode"], default="pc")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--snr", type=float, default=0.16)
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--atol", type=float, default=1e-5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--png", help="write the last batch as a PNG grid (needs python3-pil)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (then --threads is not used)")
    a = p.parse_args()
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: this PyTorch sees no CUDA device")
    net, sde, shape, data_range = load_model(a.model)
    net = net.to(device)
    for threads in a.threads if device.type == "cpu" else a.threads[:1]:
        pytorch_unet.set_threads(threads)
        start = time.perf_counter()
        if a.sampler == "pc":
            x, nfe = pc_sample(net, sde, shape, a.batch, a.steps, a.snr, a.seed, device), 2 * a.steps
        else:
            x, nfe = ode_sample(net, sde, shape, a.batch, a.rtol, a.atol, a.seed, device)
        pytorch_unet.synchronize(device)
        seconds = time.perf_counter() - start
        print(f"pytorch {torch.__version__}, {a.sampler}"
              f"{' N ' + str(a.steps) if a.sampler == 'pc' else f' rk45 rtol {a.rtol} atol {a.atol}'}, "
              f"batch {a.batch}, {device if device.type != 'cpu' else str(threads) + ' thread(s)'}: {seconds:.1f} s, {a.batch / seconds:.3f} samples/s, "
              f"{nfe} network evaluations per batch", flush=True)
    if a.png:
        from PIL import Image
        x = x.clamp(-1 if data_range == "symmetric" else 0, 1)
        if data_range == "symmetric":
            x = (x + 1) / 2
        cols = 8
        rows = (a.batch + cols - 1) // cols
        grid = np.zeros((rows * shape[1], cols * shape[2]), dtype=np.uint8)
        for i in range(a.batch):
            r, c = divmod(i, cols)
            grid[r * shape[1]:(r + 1) * shape[1], c * shape[2]:(c + 1) * shape[2]] = (x[i, 0].cpu().numpy() * 255).round()
        Image.fromarray(grid).save(a.png)


if __name__ == "__main__":
    main()
