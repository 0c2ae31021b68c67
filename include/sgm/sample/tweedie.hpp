#pragma once
// Tweedie denoising: for a Gaussian kernel x(t) | x(0) ~ N(m x(0), s² I),
//   E[x(0) | x(t)] = (x(t) + s² ∇log p_t(x(t))) / m.
// The samplers' final denoising step.

#include <cstddef>

#include "../concepts/sde.hpp"
#include "../config.hpp"

namespace sgm {

template <class Context>
void tweedie_denoise(Context& ctx, typename Context::value_type t) {
    static_assert(affine_sde<typename Context::sde_type>,
                  "Tweedie denoising needs mean_coefficient(t) and marginal_std(t); "
                  "set denoise = false for this SDE");
    using Real = typename Context::value_type;
    const Real* s = ctx.score(t);
    const Real m = ctx.sde().mean_coefficient(t), sd = ctx.sde().marginal_std(t);
    const Real var = sd * sd, inv_m = Real(1) / m;
    Real* x = ctx.x();
    ctx.backend().for_each_index(ctx.count(),
                                 [=] SGM_HOST_DEVICE(std::size_t i) { x[i] = (x[i] + var * s[i]) * inv_m; });
}

}  // namespace sgm
