#pragma once
// ∂f/∂x for an SDE's coordinate-wise drift f(x, t): what the divergence of the
// probability flow needs. An SDE may declare drift_derivative(x, t); an affine SDE
// (Gaussian kernel) has a drift linear in x, so f(1,t) − f(0,t) is exact.

#include "../concepts/sde.hpp"
#include "../config.hpp"

namespace sgm {

template <class S>
concept sde_with_drift_derivative = sde<S> && requires(const S& s, typename S::value_type x) {
    { s.drift_derivative(x, x) } -> std::convertible_to<typename S::value_type>;
};

template <class S>
concept differentiable_drift_sde = sde_with_drift_derivative<S> || affine_sde<S>;

template <differentiable_drift_sde S>
SGM_HOST_DEVICE typename S::value_type drift_derivative(const S& s, typename S::value_type x,
                                                        typename S::value_type t) {
    using Real = typename S::value_type;
    if constexpr (sde_with_drift_derivative<S>)
        return s.drift_derivative(x, t);
    else
        return s.drift(Real(1), t) - s.drift(Real(0), t);
}

}  // namespace sgm
