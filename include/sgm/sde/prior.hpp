#pragma once
// The prior N(0, prior_std² I) at t = T: sampling and log-density.

#include <cmath>
#include <cstddef>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../random/philox_normal.hpp"

namespace sgm {

// `count` samples of dimension `dim` from the prior; noise draw 0 of `key`.
template <backend Backend, sde S>
batch<Backend> sample_prior(const S& sde, std::size_t count, std::size_t dim, random::noise_key key,
                            const Backend& be = Backend{}) {
    using Real = typename Backend::value_type;
    batch<Backend> x(count, dim, be);
    random::fill_normal(be, x.data(), count, dim, key, 0);
    const Real scale = sde.prior_std();
    Real* p = x.data();
    be.for_each_index(count * dim, [=] SGM_HOST_DEVICE(std::size_t i) { p[i] *= scale; });
    return x;
}

// log N(x_b; 0, σ² I) for every sample b, written to out[0..B) (backend memory).
template <backend Backend, sde S>
void prior_log_density(const S& sde, const batch<Backend>& x, typename Backend::value_type* out,
                       const Backend& be = Backend{}) {
    using Real = typename Backend::value_type;
    const Real sigma = sde.prior_std();
    const Real* p = x.data();
    be.sum_segments(x.size(), x.dim(), [=] SGM_HOST_DEVICE(std::size_t i) { return p[i] * p[i]; }, out);
    const Real d = Real(x.dim());
    const Real log_norm = Real(-0.5) * d * std::log(Real(6.283185307179586476925286766559) * sigma * sigma);
    be.for_each_index(x.size(), [=] SGM_HOST_DEVICE(std::size_t b) {
        out[b] = log_norm - Real(0.5) * out[b] / (sigma * sigma);
    });
}

}  // namespace sgm
