#pragma once
// SiLU (swish) activation y = x·σ(x), elementwise.

#include <cmath>
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
            for (std::size_t i = parts.begin(c); i < parts.end(c); ++i) y[i] = x[i] / (Real(1) + std::exp(-x[i]));
        });
    }

    // dy/dx = σ(x)(1 + x(1 − σ(x))). Has no parameters; g is ignored.
    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t count, gradients = {}) {
        if (dx == nullptr) return;
        const Real* x = input_;
        const chunking parts{count, grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            for (std::size_t i = parts.begin(c); i < parts.end(c); ++i) {
                const Real s = Real(1) / (Real(1) + std::exp(-x[i]));
                dx[i] = dy[i] * s * (Real(1) + x[i] * (Real(1) - s));
            }
        });
    }

private:
    static constexpr std::size_t grain = 1 << 15;
    const Real* input_ = nullptr;
};

}  // namespace sgm::nn
