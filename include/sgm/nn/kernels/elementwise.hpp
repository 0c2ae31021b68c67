#pragma once
// Element kernels that combine whole activation arrays, for backend loops.

#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

// out = (a + b)·scale: a residual sum, rescaled (1 or 1/√2).
template <class Real>
struct add_scaled {
    const Real* a;
    const Real* b;
    Real* out;
    Real scale;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { out[i] = (a[i] + b[i]) * scale; }
};

// out = a·scale + b: the residual's gradient joined with the branch's.
template <class Real>
struct scale_add {
    const Real* a;
    const Real* b;
    Real* out;
    Real scale;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { out[i] = a[i] * scale + b[i]; }
};

// out = a·scale.
template <class Real>
struct scale_copy {
    const Real* a;
    Real* out;
    Real scale;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { out[i] = a[i] * scale; }
};

}  // namespace sgm::nn::kernels
