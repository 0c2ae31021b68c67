#pragma once
// Ancestral-sampling predictor: x ← a_k x + b_k s(x,t) + c_k z with the SDE's
// ancestral coefficients (SMLD's for VE, DDPM's for VP). Needs an SDE that
// models sgm::ancestral_sde.

#include <cstddef>

#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../sample/step_info.hpp"

namespace sgm {

struct ancestral_sampling {
    template <class Context>
    void predict(Context& ctx, const step_info<typename Context::value_type>& step) const {
        static_assert(ancestral_sde<typename Context::sde_type>,
                      "sgm::ancestral_sampling needs an SDE with ancestral(k) coefficients "
                      "(ve_sde and vp_sde have them); use reverse_diffusion or euler_maruyama instead");
        using Real = typename Context::value_type;
        const Real* s = ctx.score(step.t);
        const Real* z = ctx.noise();
        const auto c = ctx.sde().ancestral(step.level);
        Real* x = ctx.x();
        ctx.backend().for_each_index(ctx.count(), [=] SGM_HOST_DEVICE(std::size_t i) {
            x[i] = c.a * x[i] + c.b * s[i] + c.c * z[i];
        });
    }
};

}  // namespace sgm
