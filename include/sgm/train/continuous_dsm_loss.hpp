#pragma once
// sgm::train::continuous_dsm_loss — the paper's continuous-time denoising score
// matching (score_sde losses.py, get_sde_loss_fn). For each sample b:
//
//   t_b = eps + (T − eps) u_b,  u_b ~ U(0, 1)       (draw time_draw)
//   z_b ~ N(0, I)                                   (draw noise_draw)
//   x_b = m(t_b) x0_b + σ(t_b) z_b                  (m = mean_coefficient, σ = marginal_std)
//   σ² weighting:        loss_b = reduce_j (σ s_bj + z_bj)²
//   likelihood weighting: loss_b = reduce_j (s_bj + z_bj/σ)² · g(t_b)²
//
// with s = model score at (x_b, t_b); the returned loss is the mean over b. Both are
// λ(t)·‖s − ∇log p(x_t | x0)‖² with λ = σ² or g², since ∇log p(x_t | x0) = −z/σ.
// See docs/training.md.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../concepts/sde.hpp"
#include "../error.hpp"
#include "batch_key.hpp"
#include "dsm_options.hpp"

namespace sgm::train {

template <affine_sde SDE>
class continuous_dsm_loss {
public:
    using value_type = typename SDE::value_type;
    using Real = value_type;

    explicit continuous_dsm_loss(SDE sde, dsm_options options = {}) : sde_(sde), options_(options) {
        sgm::detail::require(std::isfinite(options.eps) && options.eps >= 0 && options.eps < double(sde.T()),
                             "continuous_dsm_loss: eps = ", options.eps, "; expected 0 <= eps < T = ", sde.T());
    }

    [[nodiscard]] const SDE& sde() const { return sde_; }
    [[nodiscard]] const dsm_options& options() const { return options_; }

    // The time drawn for sample `b` of the batch `key`.
    [[nodiscard]] Real time(const batch_key& key, std::size_t b) const {
        const double eps = options_.eps;
        return Real(eps + (double(sde_.T()) - eps) * detail::draw_uniform(key, b));
    }

    template <class Model>
    double operator()(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients) const {
        return evaluate(model, x0, n, key, compute_gradients, nullptr);
    }

    // As operator(), and writes loss_b to per_sample[b] (n values) unless it is null.
    template <class Model>
    double evaluate(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients,
                    double* per_sample) const {
        return detail::evaluate_dsm(*this, work_, model, x0, n, key, compute_gradients, per_sample,
                                    "continuous_dsm_loss");
    }

    // Sample b's time, perturbation and weighting (see the header comment).
    [[nodiscard]] dsm_coefficients<Real> coefficients(const batch_key& key, std::size_t b) const {
        const Real t = time(key, b);
        const Real mean = sde_.mean_coefficient(t), std = sde_.marginal_std(t);
        if (options_.weighting == dsm_weighting::likelihood) {
            const double g = double(sde_.diffusion(t));
            return {t, mean, std, Real(1), Real(1) / std, g * g};
        }
        return {t, mean, std, std, Real(1), 1.0};
    }
    [[nodiscard]] dsm_reduction reduction() const { return options_.reduction; }

private:
    SDE sde_;
    dsm_options options_;
    // Workspace of the last batch (a loss object is not meant to be shared between threads).
    mutable detail::dsm_batch<Real> work_;
};

}  // namespace sgm::train
