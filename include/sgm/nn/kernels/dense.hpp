#pragma once
// Element kernels of a fully connected layer y = x Wᵀ + b (W is out × in,
// row-major), for backend loops: each functor computes one output value with a
// sum in a fixed order, so every backend (serial, oneTBB, Thrust on the CPU or
// a GPU) gives the same numbers up to the compiler's contraction of
// multiply–adds. Pointers are in the backend's memory.

#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

// Σ_k a[k] b[k] over four interleaved partial sums, added pairwise at the end:
// a fixed order (the same on every backend) that the CPU can run as one vector
// of four lanes, unlike a single chain of dependent additions.
template <class Real>
SGM_HOST_DEVICE inline Real dot(const Real* a, const Real* b, std::size_t n) {
    Real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    std::size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        s0 += a[k] * b[k];
        s1 += a[k + 1] * b[k + 1];
        s2 += a[k + 2] * b[k + 2];
        s3 += a[k + 3] * b[k + 3];
    }
    for (; k < n; ++k) s0 += a[k] * b[k];
    return (s0 + s1) + (s2 + s3);
}

// y[r, o] = b[o] + Σ_k x[r, k] W[o, k]; index r·out + o.
template <class Real>
struct dense_forward {
    const Real* x;
    const Real* weight;
    const Real* bias;  // null: no bias
    Real* y;
    std::size_t in, out;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t r = i / out, o = i % out;
        const Real acc = dot(x + r * in, weight + o * in, in);
        y[i] = bias ? acc + bias[o] : acc;
    }
};

// dx[r, k] = Σ_o dy[r, o] W[o, k]; index r·in + k.
template <class Real>
struct dense_input_grad {
    const Real* dy;
    const Real* weight;
    Real* dx;
    std::size_t in, out;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t r = i / in, k = i % in;
        const Real* dyr = dy + r * out;
        Real acc = 0;
        for (std::size_t o = 0; o < out; ++o) acc += dyr[o] * weight[o * in + k];
        dx[i] = acc;
    }
};

// dW[o, k] += Σ_r dy[r, o] x[r, k] over the n samples; index o·in + k.
template <class Real>
struct dense_weight_grad {
    const Real* dy;
    const Real* x;
    Real* weight_grad;
    std::size_t in, out, n;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t o = i / in, k = i % in;
        Real acc = 0;
        for (std::size_t r = 0; r < n; ++r) acc += dy[r * out + o] * x[r * in + k];
        weight_grad[i] += acc;
    }
};

// db[o] += Σ_r dy[r, o]; index o.
template <class Real>
struct dense_bias_grad {
    const Real* dy;
    Real* bias_grad;
    std::size_t out, n;
    SGM_HOST_DEVICE void operator()(std::size_t o) const {
        Real acc = 0;
        for (std::size_t r = 0; r < n; ++r) acc += dy[r * out + o];
        bias_grad[o] += acc;
    }
};

// v[i] = 0, to clear accumulated gradients without reallocating.
template <class Real>
struct zero_fill {
    Real* v;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { v[i] = Real(0); }
};

}  // namespace sgm::nn::kernels
