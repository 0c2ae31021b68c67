#pragma once
// Sub-VP SDE: dx = −½β(t) x dt + sqrt(β(t)(1 − exp(−2∫₀ᵗβ))) dw. Its marginal
// variance s(t)² = (1 − m(t)²)² stays below the VP SDE's. Shares the VP schedule
// and Langevin α; like the paper, it has no chain of its own, so the reverse-
// diffusion predictor uses the default Euler discretization.

#include <cmath>
#include <cstddef>

#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "validate.hpp"
#include "vp.hpp"

namespace sgm {

template <class Real = double>
class sub_vp_sde {
public:
    using value_type = Real;

    explicit sub_vp_sde(Real beta_min = Real(0.1), Real beta_max = Real(20), std::size_t n = 1000,
                        Real end_time = Real(1))
        : vp_(checked(beta_min, beta_max, n, end_time)) {}

    SGM_HOST_DEVICE Real T() const { return vp_.T(); }
    SGM_HOST_DEVICE std::size_t steps() const { return vp_.steps(); }
    SGM_HOST_DEVICE Real beta(Real t) const { return vp_.beta(t); }
    SGM_HOST_DEVICE Real drift(Real x, Real t) const { return vp_.drift(x, t); }
    SGM_HOST_DEVICE Real diffusion(Real t) const {
        return std::sqrt(vp_.beta(t) * -std::expm1(Real(4) * vp_.log_mean_coefficient(t)));
    }
    SGM_HOST_DEVICE Real mean_coefficient(Real t) const { return vp_.mean_coefficient(t); }
    SGM_HOST_DEVICE Real marginal_std(Real t) const {
        return -std::expm1(Real(2) * vp_.log_mean_coefficient(t));
    }
    // The paper's smallest sampling time for this SDE (see sgm::sampling_eps).
    SGM_HOST_DEVICE Real default_eps() const { return Real(1e-3); }
    SGM_HOST_DEVICE Real prior_std() const { return Real(1); }

    SGM_HOST_DEVICE Real langevin_alpha(std::size_t k) const { return vp_.langevin_alpha(k); }

private:
    // Validates under this SDE's own name, then builds the VP schedule it shares.
    static vp_sde<Real> checked(Real beta_min, Real beta_max, std::size_t n, Real end_time) {
        detail::require_vp_schedule("sub_vp_sde", "so that the Langevin alpha = 1 - beta_k stays positive",
                                    beta_min, beta_max, n, end_time);
        return vp_sde<Real>(beta_min, beta_max, n, end_time);
    }

    vp_sde<Real> vp_;
};

}  // namespace sgm
