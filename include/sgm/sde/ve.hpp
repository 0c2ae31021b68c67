#pragma once
// Variance-exploding SDE (SMLD / NCSN): dx = sqrt(d[σ²(t)]/dt) dw with
// σ(t) = σ_min (σ_max/σ_min)^(t/T).
//
// Perturbation kernel: as in the paper, N(x(0), σ(t)² I). The SDE started from
// exact data gives variance σ(t)² − σ_min²; using σ(t)² treats data as carrying
// σ_min noise at t = 0 (a variance difference ≤ σ_min² = 1e-4 by default).
// Discretization: the SMLD chain x_k = x_{k-1} + sqrt(σ_k² − σ_{k-1}²) z over the
// geometric levels σ_k, k = 0..N-1, σ_{-1} = 0.

#include <cmath>
#include <cstddef>

#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "validate.hpp"

namespace sgm {

template <class Real = double>
class ve_sde {
public:
    using value_type = Real;

    // Defaults from the paper; σ_max should be about the largest pairwise distance in the data.
    explicit ve_sde(Real sigma_min = Real(0.01), Real sigma_max = Real(50), std::size_t n = 1000,
                    Real end_time = Real(1))
        : sigma_min_(sigma_min), sigma_max_(sigma_max), n_(n), t_end_(end_time) {
        detail::require_positive("ve_sde", "sigma_min", sigma_min);
        detail::require_positive("ve_sde", "sigma_max", sigma_max);
        detail::require(sigma_min < sigma_max, "ve_sde: sigma_min = ", sigma_min,
                        " must be smaller than sigma_max = ", sigma_max);
        detail::require_levels("ve_sde", n);
        detail::require_positive("ve_sde", "T", end_time);
        log_ratio_ = std::log(sigma_max / sigma_min);
    }

    SGM_HOST_DEVICE Real T() const { return t_end_; }
    SGM_HOST_DEVICE std::size_t steps() const { return n_; }
    SGM_HOST_DEVICE Real sigma_min() const { return sigma_min_; }
    SGM_HOST_DEVICE Real sigma_max() const { return sigma_max_; }

    SGM_HOST_DEVICE Real sigma(Real t) const { return sigma_min_ * std::exp(log_ratio_ * t / t_end_); }
    SGM_HOST_DEVICE Real drift(Real, Real) const { return Real(0); }
    SGM_HOST_DEVICE Real diffusion(Real t) const {
        return sigma(t) * std::sqrt(Real(2) * log_ratio_ / t_end_);
    }
    SGM_HOST_DEVICE Real mean_coefficient(Real) const { return Real(1); }
    SGM_HOST_DEVICE Real marginal_std(Real t) const { return sigma(t); }
    // The paper's smallest sampling time for this SDE (see sgm::sampling_eps).
    SGM_HOST_DEVICE Real default_eps() const { return Real(1e-5); }
    SGM_HOST_DEVICE Real prior_std() const { return sigma_max_; }

    // σ_k = exp(linspace(log σ_min, log σ_max, N))[k].
    SGM_HOST_DEVICE Real discrete_sigma(std::size_t k) const {
        if (n_ == 1) return sigma_min_;
        return sigma_min_ * std::exp(log_ratio_ * Real(k) / Real(n_ - 1));
    }
    SGM_HOST_DEVICE Real discrete_drift(Real, std::size_t) const { return Real(0); }
    // σ_k² − σ_{k-1}² (σ_{-1} = 0), written as −σ_k² expm1(−2 log(σ_max/σ_min)/(N−1)) to avoid
    // cancellation between close levels.
    SGM_HOST_DEVICE Real discrete_variance_jump(std::size_t k) const {
        const Real s = discrete_sigma(k);
        if (k == 0) return s * s;
        return -s * s * std::expm1(Real(-2) * log_ratio_ / Real(n_ - 1));
    }
    SGM_HOST_DEVICE Real discrete_diffusion(std::size_t k) const { return std::sqrt(discrete_variance_jump(k)); }
    // SMLD ancestral step: mean x + (σ_k² − σ_{k-1}²) s, variance σ_{k-1}²(σ_k² − σ_{k-1}²)/σ_k².
    SGM_HOST_DEVICE ancestral_coefficients<Real> ancestral(std::size_t k) const {
        const Real s = discrete_sigma(k);
        const Real prev = k == 0 ? Real(0) : discrete_sigma(k - 1);
        const Real jump = discrete_variance_jump(k);
        return {Real(1), jump, std::sqrt(prev * prev * jump / (s * s))};
    }

private:
    Real sigma_min_, sigma_max_;
    std::size_t n_;
    Real t_end_;
    Real log_ratio_ = 0;
};

}  // namespace sgm
