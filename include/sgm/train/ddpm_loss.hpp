#pragma once
// sgm::train::ddpm_loss — the discrete DDPM loss (ε-prediction; score_sde losses.py,
// get_ddpm_loss_fn) over the VP SDE's chain β_k = linspace(β_min/N, β_max/N, N)[k],
// ᾱ_i = Π_{k≤i} (1 − β_k):
//
//   i_b uniform in {0, ..., N − 1}   (draw time_draw),   z_b ~ N(0, I)   (draw noise_draw)
//   x_b = sqrt(ᾱ_i) x0_b + sqrt(1 − ᾱ_i) z_b
//   loss_b = reduce_j (sqrt(1 − ᾱ_i) s_bj + z_bj)²
//
// With ε̂ = −sqrt(1 − ᾱ_i) s this is DDPM's ‖ε̂ − z‖².
//
// Time of a level: the model is called at the t_i with 1 − m(t_i)² = 1 − ᾱ_i, i.e.
// ∫₀^{t_i} β = −log ᾱ_i, solved in closed form from the linear β(t). A score_network
// divides by marginal_std(t_i), which is then sqrt(1 − ᾱ_i) to rounding, so its output
// is exactly −ε̂ and the discrete and continuous parameterizations agree. t_i is close
// to (i + 1)T/N (the chain has taken i + 1 steps); see docs/training.md for how close.

#include <cmath>
#include <cstddef>
#include <vector>

#include "../error.hpp"
#include "../sde/vp.hpp"
#include "batch_key.hpp"
#include "dsm_options.hpp"

namespace sgm::train {

template <class Real>
class ddpm_loss {
public:
    using value_type = Real;

    explicit ddpm_loss(vp_sde<Real> sde, dsm_reduction reduction = dsm_reduction::mean)
        : sde_(sde), reduction_(reduction), log_alpha_bar_(sde.steps()), time_(sde.steps()) {
        const double a = (double(sde.beta_max()) - double(sde.beta_min())) / (2 * double(sde.T()));
        const double b = double(sde.beta_min());
        double log_alpha_bar = 0;
        for (std::size_t i = 0; i < sde.steps(); ++i) {
            log_alpha_bar += std::log1p(-double(sde.discrete_beta(i)));
            log_alpha_bar_[i] = log_alpha_bar;
            // a t² + b t = −log ᾱ_i, the root t > 0 written without cancellation.
            const double c = -log_alpha_bar;
            time_[i] = 2 * c / (b + std::sqrt(b * b + 4 * a * c));
        }
    }

    [[nodiscard]] const vp_sde<Real>& sde() const { return sde_; }
    [[nodiscard]] dsm_reduction reduction() const { return reduction_; }
    [[nodiscard]] std::size_t levels() const { return sde_.steps(); }

    // The level drawn for sample `b` of the batch `key`.
    [[nodiscard]] std::size_t level(const batch_key& key, std::size_t b) const {
        return detail::draw_level(key, b, levels());
    }
    [[nodiscard]] double alpha_bar(std::size_t i) const { return std::exp(log_alpha_bar_.at(i)); }
    // sqrt(ᾱ_i) and sqrt(1 − ᾱ_i), the latter without cancellation at small i.
    [[nodiscard]] Real mean_of_level(std::size_t i) const { return Real(std::exp(0.5 * log_alpha_bar_.at(i))); }
    [[nodiscard]] Real std_of_level(std::size_t i) const {
        return Real(std::sqrt(-std::expm1(log_alpha_bar_.at(i))));
    }
    [[nodiscard]] Real time_of_level(std::size_t i) const { return Real(time_.at(i)); }

    template <class Model>
    double operator()(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients) const {
        return evaluate(model, x0, n, key, compute_gradients, nullptr);
    }

    // As operator(), and writes loss_b to per_sample[b] (n values) unless it is null.
    template <class Model>
    double evaluate(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients,
                    double* per_sample) const {
        return detail::evaluate_dsm(*this, work_, model, x0, n, key, compute_gradients, per_sample, "ddpm_loss");
    }

    // Sample b's level as time, perturbation sqrt(ᾱ_i) x0 + sqrt(1 − ᾱ_i) z and weighting.
    [[nodiscard]] dsm_coefficients<Real> coefficients(const batch_key& key, std::size_t b) const {
        const std::size_t i = level(key, b);
        const Real std = std_of_level(i);
        return {time_of_level(i), mean_of_level(i), std, std, Real(1), 1.0};
    }

private:
    vp_sde<Real> sde_;
    dsm_reduction reduction_;
    std::vector<double> log_alpha_bar_, time_;
    // Workspace of the last batch (a loss object is not meant to be shared between threads).
    mutable detail::dsm_batch<Real> work_;
};

}  // namespace sgm::train
