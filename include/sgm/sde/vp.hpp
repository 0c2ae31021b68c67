#pragma once
// Variance-preserving SDE (DDPM): dx = −½β(t) x dt + sqrt(β(t)) dw with
// β(t) = β_min + (t/T)(β_max − β_min).
//
// Kernel: m(t) = exp(−¼ t²(β_max−β_min)/T − ½ t β_min), s(t)² = 1 − m(t)².
// Discretization: the DDPM chain with β_k = linspace(β_min/N, β_max/N, N)[k],
// x_k = sqrt(1 − β_k) x_{k-1} + sqrt(β_k) z.

#include <cmath>
#include <cstddef>

#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "validate.hpp"

namespace sgm {

template <class Real = double>
class vp_sde {
public:
    using value_type = Real;

    explicit vp_sde(Real beta_min = Real(0.1), Real beta_max = Real(20), std::size_t n = 1000,
                    Real end_time = Real(1))
        : beta_min_(beta_min), beta_max_(beta_max), n_(n), t_end_(end_time) {
        detail::require_vp_schedule("vp_sde", "for the DDPM discretization", beta_min, beta_max, n, end_time);
    }

    SGM_HOST_DEVICE Real T() const { return t_end_; }
    SGM_HOST_DEVICE std::size_t steps() const { return n_; }
    SGM_HOST_DEVICE Real beta_min() const { return beta_min_; }
    SGM_HOST_DEVICE Real beta_max() const { return beta_max_; }

    SGM_HOST_DEVICE Real beta(Real t) const { return beta_min_ + (t / t_end_) * (beta_max_ - beta_min_); }
    // log m(t) = −∫₀ᵗ ½β(s) ds.
    SGM_HOST_DEVICE Real log_mean_coefficient(Real t) const {
        return Real(-0.25) * t * t * (beta_max_ - beta_min_) / t_end_ - Real(0.5) * t * beta_min_;
    }
    SGM_HOST_DEVICE Real drift(Real x, Real t) const { return Real(-0.5) * beta(t) * x; }
    SGM_HOST_DEVICE Real diffusion(Real t) const { return std::sqrt(beta(t)); }
    SGM_HOST_DEVICE Real mean_coefficient(Real t) const { return std::exp(log_mean_coefficient(t)); }
    SGM_HOST_DEVICE Real marginal_std(Real t) const {
        return std::sqrt(-std::expm1(Real(2) * log_mean_coefficient(t)));
    }
    // The paper's smallest sampling time for this SDE (see sgm::sampling_eps).
    SGM_HOST_DEVICE Real default_eps() const { return Real(1e-3); }
    SGM_HOST_DEVICE Real prior_std() const { return Real(1); }

    SGM_HOST_DEVICE Real discrete_beta(std::size_t k) const {
        // β_k = β(t_k)·Δt with Δt = T/N: the DDPM chain of the continuous SDE (T = 1 in the paper).
        const Real dt = t_end_ / Real(n_);
        const Real lo = beta_min_ * dt, hi = beta_max_ * dt;
        return n_ == 1 ? lo : lo + (hi - lo) * Real(k) / Real(n_ - 1);
    }
    SGM_HOST_DEVICE Real discrete_drift(Real x, std::size_t k) const {
        const Real b = discrete_beta(k);
        return -b / (Real(1) + std::sqrt(Real(1) - b)) * x;  // (sqrt(1 − β) − 1) x without cancellation
    }
    SGM_HOST_DEVICE Real discrete_diffusion(std::size_t k) const { return std::sqrt(discrete_beta(k)); }
    // DDPM ancestral step: (x + β_k s)/sqrt(1 − β_k) + sqrt(β_k) z.
    SGM_HOST_DEVICE ancestral_coefficients<Real> ancestral(std::size_t k) const {
        const Real b = discrete_beta(k);
        const Real inv = Real(1) / std::sqrt(Real(1) - b);
        return {inv, b * inv, std::sqrt(b)};
    }
    SGM_HOST_DEVICE Real langevin_alpha(std::size_t k) const { return Real(1) - discrete_beta(k); }

private:
    Real beta_min_, beta_max_;
    std::size_t n_;
    Real t_end_;
};

}  // namespace sgm
