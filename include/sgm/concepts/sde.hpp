#pragma once
// SDE concepts. An SDE dx = f(x,t) dt + g(t) dw on t ∈ [0, T] with an isotropic
// Gaussian prior N(0, prior_std² I) at t = T.
//
// S models sgm::sde when, for s of type const S, x and t of type S::value_type:
//  1. s.T() is the end time and s.steps() the number N of discretization levels.
//  2. s.drift(x, t) is f applied to one coordinate (drifts act coordinate-wise).
//  3. s.diffusion(t) is g(t).
//  4. s.prior_std() is the std of the prior at t = T.
//  5. S is trivially copyable, and members 2–4 are SGM_HOST_DEVICE: samplers copy
//     the SDE into device loops.
//
// S models sgm::affine_sde when it also has a Gaussian perturbation kernel
// x(t) | x(0) ~ N(m(t) x(0), s(t)² I):
//  6. s.mean_coefficient(t) is m(t) and s.marginal_std(t) is s(t) (SGM_HOST_DEVICE).
//
// Optional members, used when present (see sde/discretization.hpp):
//  - discrete_drift(x, k), discrete_diffusion(k): the level-k transition used by
//    the reverse-diffusion predictor; default: Euler with Δt = T/N.
//  - ancestral(k): coefficients of the ancestral step; required by the ancestral
//    predictor.
//  - langevin_alpha(k): the α in the Langevin step size; default 1.
//  - default_eps(): the smallest time samplers integrate to; default 1e-3.
// Optional members are detected by signature: a misspelt or non-const one is
// silently not used, so declare them exactly as ve_sde and vp_sde do.

#include <concepts>
#include <cstddef>
#include <type_traits>

namespace sgm {

template <class S>
concept sde = std::floating_point<typename S::value_type> && std::is_trivially_copyable_v<S> &&
              requires(const S& s, typename S::value_type x) {
                  { s.T() } -> std::convertible_to<typename S::value_type>;
                  { s.steps() } -> std::convertible_to<std::size_t>;
                  { s.drift(x, x) } -> std::convertible_to<typename S::value_type>;
                  { s.diffusion(x) } -> std::convertible_to<typename S::value_type>;
                  { s.prior_std() } -> std::convertible_to<typename S::value_type>;
              };

template <class S>
concept affine_sde = sde<S> && requires(const S& s, typename S::value_type t) {
    { s.mean_coefficient(t) } -> std::convertible_to<typename S::value_type>;
    { s.marginal_std(t) } -> std::convertible_to<typename S::value_type>;
};

// x_prev = a·x + b·score + c·z: one ancestral step from level k to k−1.
template <class Real>
struct ancestral_coefficients {
    Real a, b, c;
};

template <class S>
concept ancestral_sde = sde<S> && requires(const S& s, std::size_t k) {
    { s.ancestral(k) } -> std::same_as<ancestral_coefficients<typename S::value_type>>;
};

}  // namespace sgm
