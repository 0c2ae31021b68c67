#pragma once
// Langevin corrector with the signal-to-noise step rule. Each of `steps` updates
//   x_b ← x_b + ε_b s_b + sqrt(2 ε_b) z_b
// with a step size chosen so that ‖ε s‖ / ‖sqrt(2ε) z‖ ≈ snr:
//  - per sample (default): ε_b = 2 α_k snr² D / ‖s_b‖². The noise norm ‖z_b‖² is
//    replaced by its expectation D: a step computed from the very z_b it scales
//    would inject (D+2)/D times too much noise (a variance bias of about 4/D).
//    What remains — the step depends on the state through ‖s_b‖ — biases the
//    stationary law by O(1/D); in very low dimension ‖s_b‖ → 0 near a mode makes
//    steps explode, so use batch-averaged norms or annealed_langevin there.
//  - batch_averaged_norms: ε = 2 α_k (snr · mean_b‖z_b‖ / mean_b‖s_b‖)², the paper
//    code's rule; it couples the samples of a batch.

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
        const bool averaged = batch_averaged_;
        const Real expected_noise_norm = std::sqrt(Real(d));
        for (std::size_t j = 0; j < steps_; ++j) {
            const Real* s = ctx.score(step.t);
            const Real* z = ctx.noise();
            ctx.sample_norms(s, score_norm, averaged);
            if (averaged) ctx.sample_norms(z, noise_norm, true);
            ctx.backend().for_each_index(ctx.count(), [=] SGM_HOST_DEVICE(std::size_t i) {
                const std::size_t b = i / d;
                const Real ratio = (averaged ? noise_norm[b] : expected_noise_norm) / score_norm[b];
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
