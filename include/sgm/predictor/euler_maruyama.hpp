#pragma once
// Euler–Maruyama predictor for the reverse-time SDE:
//   x ← x − [f(x,t) − g(t)² s(x,t)] Δt + g(t) sqrt(Δt) z.

#include <cmath>
#include <cstddef>

#include "../config.hpp"
#include "../sample/step_info.hpp"
#include "../sde/reverse_time.hpp"

namespace sgm {

struct euler_maruyama {
    template <class Context>
    void predict(Context& ctx, const step_info<typename Context::value_type>& step) const {
        using Real = typename Context::value_type;
        const Real* s = ctx.score(step.t);
        const Real* z = ctx.noise();
        const reverse_time rev{ctx.sde()};
        const Real t = step.t, dt = step.dt;
        const Real noise_scale = rev.diffusion(t) * std::sqrt(dt);
        Real* x = ctx.x();
        ctx.backend().for_each_index(ctx.count(), [=] SGM_HOST_DEVICE(std::size_t i) {
            x[i] = x[i] - rev.sde_drift(x[i], s[i], t) * dt + noise_scale * z[i];
        });
    }
};

}  // namespace sgm
