#pragma once
// Element kernels of the optimizers for backend loops (adam.hpp, ema.hpp use
// them too, so host and backend updates are the same arithmetic): the Adam
// update, the partial sums of squares of the global gradient norm, the EMA.

#include <cstddef>
#include <cmath>

#include "../../config.hpp"

namespace sgm::train::kernels {

// One value's update: m, v and θ as adam::step writes them, from the gradient
// scaled by `clip`.
template <class Real>
struct adam_update {
    Real* value;
    const Real* grad;
    Real* m;
    Real* v;
    double clip, beta1, beta2, step_size, root_correction;
    Real eps;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const Real g = Real(clip * double(grad[i]));
        m[i] = Real(beta1) * m[i] + Real(1 - beta1) * g;
        v[i] = Real(beta2) * v[i] + Real(1 - beta2) * g * g;
        const Real denom = Real(std::sqrt(double(v[i])) / root_correction) + eps;
        value[i] -= Real(step_size) * m[i] / denom;
    }
};

// out[c] = Σ grad[j]² over chunk c = [c·chunk, min(size, (c + 1)·chunk)), summed
// in double in ascending j (any non-finite gradient makes its chunk non-finite).
template <class Real>
struct squared_chunk_sums {
    const Real* grad;
    Real* out;
    std::size_t size, chunk;
    SGM_HOST_DEVICE void operator()(std::size_t c) const {
        const std::size_t begin = c * chunk, end = begin + chunk < size ? begin + chunk : size;
        double sum = 0;
        for (std::size_t j = begin; j < end; ++j) sum += double(grad[j]) * double(grad[j]);
        out[c] = Real(sum);
    }
};

// shadow ← d·shadow + (1 − d)·θ for a trainable tensor, shadow ← θ otherwise (ema.hpp).
template <class Real>
struct ema_update {
    Real* shadow;
    const Real* value;
    Real decay, keep;
    bool trainable;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        shadow[i] = trainable ? decay * shadow[i] + keep * value[i] : value[i];
    }
};

// to[i] = from[i].
template <class Real>
struct copy_values {
    const Real* from;
    Real* to;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { to[i] = from[i]; }
};

}  // namespace sgm::train::kernels
