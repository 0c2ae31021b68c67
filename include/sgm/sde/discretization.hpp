#pragma once
// Access to an SDE's optional discretization members, with the defaults used
// when an SDE does not define them. Level k ∈ [0, N) is the k-th noise level of
// the discrete chain; t is the continuous time the sampler is at.

#include <cmath>
#include <cstddef>

#include "../concepts/sde.hpp"
#include "../config.hpp"

namespace sgm {

// Level-k transition x_k = x_{k-1} + f_k(x) + G_k z. Default: Euler with Δt = T/N.
template <sde S>
SGM_HOST_DEVICE typename S::value_type discrete_drift(const S& s, typename S::value_type x,
                                                      typename S::value_type t, std::size_t k) {
    if constexpr (requires { s.discrete_drift(x, k); })
        return s.discrete_drift(x, k);
    else
        return s.drift(x, t) * (s.T() / static_cast<typename S::value_type>(s.steps()));
}

template <sde S>
SGM_HOST_DEVICE typename S::value_type discrete_diffusion(const S& s, typename S::value_type t,
                                                          std::size_t k) {
    if constexpr (requires { s.discrete_diffusion(k); })
        return s.discrete_diffusion(k);
    else
        return s.diffusion(t) * std::sqrt(s.T() / static_cast<typename S::value_type>(s.steps()));
}

// The α in the Langevin step size 2α(snr·‖z‖/‖s‖)²; 1 unless the SDE says otherwise.
template <sde S>
SGM_HOST_DEVICE typename S::value_type langevin_alpha(const S& s, std::size_t k) {
    if constexpr (requires { s.langevin_alpha(k); })
        return s.langevin_alpha(k);
    else
        return typename S::value_type(1);
}

}  // namespace sgm
