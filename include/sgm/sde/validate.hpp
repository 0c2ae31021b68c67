#pragma once
// Shared parameter checks for the SDE constructors.

#include <cmath>
#include <cstddef>

#include "../error.hpp"

namespace sgm::detail {

template <class Real>
void require_positive(const char* sde, const char* name, Real value) {
    require(std::isfinite(value) && value > 0, sde, ": ", name, " = ", value,
            " is invalid; expected a finite value > 0");
}

inline void require_levels(const char* sde, std::size_t n) {
    require(n >= 1, sde, ": N = ", n, " discretization levels; expected N >= 1");
}

// The linear β schedule shared by the VP and sub-VP SDEs; `why` says what needs
// the discrete betas β_k ≤ β_max/N to stay below 1.
template <class Real>
void require_vp_schedule(const char* sde, const char* why, Real beta_min, Real beta_max, std::size_t n,
                         Real end_time) {
    require_positive(sde, "beta_min", beta_min);
    require_positive(sde, "beta_max", beta_max);
    require(beta_min <= beta_max, sde, ": beta_min = ", beta_min, " must not exceed beta_max = ", beta_max);
    require_levels(sde, n);
    require_positive(sde, "T", end_time);
    require(beta_max * end_time / Real(n) < Real(1), sde, ": beta_max·T/N = ", beta_max * end_time / Real(n),
            " must be < 1 ", why, "; use more levels N");
}

}  // namespace sgm::detail
