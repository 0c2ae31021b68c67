#pragma once
// SiLU (swish) activation y = x·σ(x), elementwise.
//
// exp is Eigen's vectorized pexp (8 floats per AVX2 instruction) rather than one
// scalar libm call per value: with std::exp this activation was a fifth of the
// U-Net's forward time. Every value goes through the same packet code: the
// values are copied into a fixed-size, aligned block (the last one padded with
// zeros) before the arithmetic. Eigen evaluates an unaligned range's first and
// last few values with the scalar exp instead, so a value's result would depend
// on its address, and runs that allocate differently (a resumed training run,
// a reloaded model) would not be bit-identical.

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>

#include "cpu_context.hpp"
#include "layer.hpp"

namespace sgm::nn {

template <class Real>
class silu {
public:
    using value_type = Real;

    void forward(const cpu_context& ctx, const Real* x, Real* y, std::size_t count) {
        input_ = x;
        const chunking parts{count, grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            block_array v;
            for (std::size_t b = parts.begin(c); b < parts.end(c); b += block) {
                const std::size_t m = std::min(block, parts.end(c) - b);
                load(x + b, m, v);
                v = v / (Real(1) + (-v).exp());
                std::copy_n(v.data(), m, y + b);
            }
        });
    }

    // dy/dx = σ(x)(1 + x(1 − σ(x))). Has no parameters; g is ignored.
    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t count, gradients = {}) {
        if (dx == nullptr) return;
        const Real* x = input_;
        const chunking parts{count, grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            block_array v, s, g;
            for (std::size_t b = parts.begin(c); b < parts.end(c); b += block) {
                const std::size_t m = std::min(block, parts.end(c) - b);
                load(x + b, m, v);
                load(dy + b, m, g);
                s = (Real(1) + (-v).exp()).inverse();
                g = g * s * (Real(1) + v * (Real(1) - s));
                std::copy_n(g.data(), m, dx + b);
            }
        });
    }

private:
    static constexpr std::size_t grain = 1 << 15;
    static constexpr std::size_t block = 256;  // values per aligned block; divides grain
    using block_array = Eigen::Array<Real, static_cast<int>(block), 1>;

    static void load(const Real* from, std::size_t m, block_array& to) {
        std::copy_n(from, m, to.data());
        std::fill(to.data() + m, to.data() + block, Real(0));
    }

    const Real* input_ = nullptr;
};

}  // namespace sgm::nn
