#pragma once
// Reverse-diffusion predictor: runs the SDE's own discrete chain backwards. With
// the forward transition x_k = x_{k-1} + f_k(x) + G_k z it takes
//   x ← x − f_k(x) + G_k² s(x,t) + G_k z.
// For VE this is the SMLD chain, for VP the DDPM chain; other SDEs use Euler's.

#include <cstddef>

#include "../config.hpp"
#include "../sample/step_info.hpp"
#include "../sde/discretization.hpp"

namespace sgm {

struct reverse_diffusion {
    template <class Context>
    void predict(Context& ctx, const step_info<typename Context::value_type>& step) const {
        using Real = typename Context::value_type;
        const Real* s = ctx.score(step.t);
        const Real* z = ctx.noise();
        const auto sde = ctx.sde();
        const Real t = step.t;
        const std::size_t k = step.level;
        const Real g = discrete_diffusion(sde, t, k);
        Real* x = ctx.x();
        ctx.backend().for_each_index(ctx.count(), [=] SGM_HOST_DEVICE(std::size_t i) {
            x[i] = x[i] - discrete_drift(sde, x[i], t, k) + g * g * s[i] + g * z[i];
        });
    }
};

}  // namespace sgm
