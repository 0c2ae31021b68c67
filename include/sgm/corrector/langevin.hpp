#pragma once
// Langevin corrector with the signal-to-noise step rule. Each of `steps` updates
//   ε_b = 2 α_k (snr ‖z_b‖ / ‖s_b‖)²,   x_b ← x_b + ε_b s_b + sqrt(2 ε_b) z_b
// uses the norms of sample b alone (default), or their batch means when
// batch_averaged_norms is set (the paper code's rule; it couples the samples).

#include <cmath>
#include <cstddef>

#include "../config.hpp"
#include "../error.hpp"
#include "../sample/step_info.hpp"
#include "../sde/discretization.hpp"

namespace sgm {

class langevin {
public:
    explicit langevin(double snr = 0.16, std::size_t steps = 1, bool batch_averaged_norms = false)
        : snr_(snr), steps_(steps), batch_averaged_(batch_averaged_norms) {
        detail::require(std::isfinite(snr) && snr > 0, "langevin: snr = ", snr,
                        "; expected a finite value > 0");
        detail::require(steps >= 1, "langevin: steps = ", steps, "; expected at least 1");
    }

    [[nodiscard]] double snr() const { return snr_; }
    [[nodiscard]] std::size_t steps() const { return steps_; }

    template <class Context>
    void correct(Context& ctx, const step_info<typename Context::value_type>& step) const {
        using Real = typename Context::value_type;
        const Real two_alpha_snr2 = Real(2) * langevin_alpha(ctx.sde(), step.level) * Real(snr_ * snr_);
        const std::size_t d = ctx.dim();
        Real* x = ctx.x();
        Real* score_norm = ctx.scratch_a();
        Real* noise_norm = ctx.scratch_b();
        for (std::size_t j = 0; j < steps_; ++j) {
            const Real* s = ctx.score(step.t);
            const Real* z = ctx.noise();
            ctx.sample_norms(s, score_norm, batch_averaged_);
            ctx.sample_norms(z, noise_norm, batch_averaged_);
            ctx.backend().for_each_index(ctx.count(), [=] SGM_HOST_DEVICE(std::size_t i) {
                const std::size_t b = i / d;
                const Real ratio = noise_norm[b] / score_norm[b];
                const Real eps = two_alpha_snr2 * ratio * ratio;
                x[i] = x[i] + eps * s[i] + std::sqrt(Real(2) * eps) * z[i];
            });
        }
    }

private:
    double snr_;
    std::size_t steps_;
    bool batch_averaged_;
};

}  // namespace sgm
