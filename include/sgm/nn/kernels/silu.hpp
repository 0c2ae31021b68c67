#pragma once
// Element kernels of the SiLU activation y = x·σ(x) for backend loops.

#include <cmath>
#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

template <class Real>
struct silu_forward {
    const Real* x;
    Real* y;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { y[i] = x[i] / (Real(1) + std::exp(-x[i])); }
};

// dx = dy · σ(x)(1 + x(1 − σ(x))).
template <class Real>
struct silu_backward {
    const Real* x;
    const Real* dy;
    Real* dx;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const Real s = Real(1) / (Real(1) + std::exp(-x[i]));
        dx[i] = dy[i] * s * (Real(1) + x[i] * (Real(1) - s));
    }
};

}  // namespace sgm::nn::kernels
