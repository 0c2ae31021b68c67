#pragma once
// Annealed Langevin dynamics (NCSN, Song & Ermon 2019): the step size follows the
// noise level instead of the score norm,
//   ε = 2 α_k (snr · s(t))²,   x ← x + ε s(x,t) + sqrt(2 ε) z,
// where s(t) is the marginal std. NCSN's step ε_NCSN σ_i²/σ_L² is the case
// snr = sqrt(ε_NCSN) / (2 σ_L) with the VE SDE.

#include <cmath>
#include <cstddef>

#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "../sample/step_info.hpp"
#include "../sde/discretization.hpp"

namespace sgm {

class annealed_langevin {
public:
    explicit annealed_langevin(double snr = 0.16, std::size_t steps = 1) : snr_(snr), steps_(steps) {
        detail::require(std::isfinite(snr) && snr > 0, "annealed_langevin: snr = ", snr,
                        "; expected a finite value > 0");
        detail::require(steps >= 1, "annealed_langevin: steps = ", steps, "; expected at least 1");
    }

    [[nodiscard]] double snr() const { return snr_; }
    [[nodiscard]] std::size_t steps() const { return steps_; }

    template <class Context>
    void correct(Context& ctx, const step_info<typename Context::value_type>& step) const {
        static_assert(affine_sde<typename Context::sde_type>,
                      "sgm::annealed_langevin needs the SDE's marginal_std(t)");
        using Real = typename Context::value_type;
        const Real std_t = ctx.sde().marginal_std(step.t);
        const Real scaled = Real(snr_) * std_t;
        const Real eps = Real(2) * langevin_alpha(ctx.sde(), step.level) * scaled * scaled;
        const Real noise_scale = std::sqrt(Real(2) * eps);
        Real* x = ctx.x();
        for (std::size_t j = 0; j < steps_; ++j) {
            const Real* s = ctx.score(step.t);
            const Real* z = ctx.noise();
            ctx.backend().for_each_index(ctx.count(), [=] SGM_HOST_DEVICE(std::size_t i) {
                x[i] = x[i] + eps * s[i] + noise_scale * z[i];
            });
        }
    }

private:
    double snr_;
    std::size_t steps_;
};

}  // namespace sgm
