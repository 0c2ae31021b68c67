#pragma once
// sgm::train::smld_loss — the discrete SMLD / NCSN loss (score_sde losses.py,
// get_smld_loss_fn) over the VE SDE's N geometric noise levels
// σ_i = σ_min (σ_max/σ_min)^(i/(N−1)):
//
//   i_b uniform in {0, ..., N − 1}   (draw time_draw),   z_b ~ N(0, I)   (draw noise_draw)
//   x_b = x0_b + σ_i z_b,   loss_b = reduce_j (σ_i s_bj + z_bj)²   (σ² weighting)
//
// The model is called at t_i = i/(N−1)·T, the continuous time with σ(t_i) = σ_i, so
// a network trained here is a score model of the same ve_sde (its conditioning
// input σ(t_i) is the level's σ_i).

#include <cmath>
#include <cstddef>

#include "../error.hpp"
#include "../sde/ve.hpp"
#include "batch_key.hpp"
#include "dsm_options.hpp"

namespace sgm::train {

template <class Real>
class smld_loss {
public:
    using value_type = Real;

    explicit smld_loss(ve_sde<Real> sde, dsm_reduction reduction = dsm_reduction::mean)
        : sde_(sde), reduction_(reduction) {}

    [[nodiscard]] const ve_sde<Real>& sde() const { return sde_; }
    [[nodiscard]] dsm_reduction reduction() const { return reduction_; }
    [[nodiscard]] std::size_t levels() const { return sde_.steps(); }

    // The level drawn for sample `b` of the batch `key`.
    [[nodiscard]] std::size_t level(const batch_key& key, std::size_t b) const {
        return detail::draw_level(key, b, levels());
    }
    [[nodiscard]] Real sigma_of_level(std::size_t i) const { return sde_.discrete_sigma(i); }
    [[nodiscard]] Real time_of_level(std::size_t i) const {
        return levels() == 1 ? Real(0) : sde_.T() * Real(i) / Real(levels() - 1);
    }

    template <class Model>
    double operator()(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients) const {
        return evaluate(model, x0, n, key, compute_gradients, nullptr);
    }

    // As operator(), and writes loss_b to per_sample[b] (n values) unless it is null.
    template <class Model>
    double evaluate(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients,
                    double* per_sample) const {
        return detail::evaluate_dsm(*this, work_, model, x0, n, key, compute_gradients, per_sample, "smld_loss");
    }

    // Sample b's level as time, perturbation x0 + σ_i z and weighting.
    [[nodiscard]] dsm_coefficients<Real> coefficients(const batch_key& key, std::size_t b) const {
        const std::size_t i = level(key, b);
        const Real sigma = sigma_of_level(i);
        return {time_of_level(i), Real(1), sigma, sigma, Real(1), 1.0};
    }

private:
    ve_sde<Real> sde_;
    dsm_reduction reduction_;
    // Workspace of the last batch (a loss object is not meant to be shared between threads).
    mutable detail::dsm_batch<Real> work_;
};

}  // namespace sgm::train
