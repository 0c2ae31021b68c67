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

// x[k, p] += shift[k] over planes k of `plane` values: a per-(sample, channel)
// shift, as the residual block adds its time-embedding projection.
template <class Real>
struct add_plane_shift {
    Real* x;
    const Real* shift;
    std::size_t plane;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { x[i] += shift[i / plane]; }
};

// out[k] = Σ_p x[k, p]: the gradient of a per-plane shift; index k.
template <class Real>
struct plane_sums {
    const Real* x;
    Real* out;
    std::size_t plane;
    SGM_HOST_DEVICE void operator()(std::size_t k) const {
        Real acc = 0;
        for (std::size_t p = 0; p < plane; ++p) acc += x[k * plane + p];
        out[k] = acc;
    }
};

// Per sample, [main | skip] side by side: out[b] = (main[b], skip[b]) with a
// and s values each; index b·(a + s) + k.
template <class Real>
struct concat_samples {
    const Real* main;
    const Real* skip;
    Real* out;
    std::size_t a, s;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / (a + s), k = i % (a + s);
        out[i] = k < a ? main[b * a + k] : skip[b * s + k - a];
    }
};

// The inverse: splits in[b] = (main[b], skip[b]) into its two parts.
template <class Real>
struct split_samples {
    const Real* in;
    Real* main;
    Real* skip;
    std::size_t a, s;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / (a + s), k = i % (a + s);
        if (k < a)
            main[b * a + k] = in[i];
        else
            skip[b * s + k - a] = in[i];
    }
};

}  // namespace sgm::nn::kernels
