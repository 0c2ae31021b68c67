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

}  // namespace sgm::detail
