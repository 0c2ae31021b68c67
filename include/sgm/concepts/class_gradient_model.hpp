#pragma once
// The class-gradient concept: what classifier guidance needs of a classifier —
// the gradient of its log class probability with respect to its noisy input,
// ∇ₓ log p_t(y | x), at the sampler's times.
//
// G models sgm::class_gradient_model when, for g of type G:
//  1. G::backend_type models sgm::backend; G::value_type is its value type.
//  2. g.dim() is the number D of values per sample and g.classes() the number of
//     classes K.
//  3. g.log_prob_gradient(x, t, labels, out) writes into out (B × D) the rows
//     ∇ₓ log p_{t_b}(labels[b] | x_b) for the B samples of x (B × D) at the times
//     t[0..B). x, t and out are in the backend's memory; labels is a host span of
//     B class indices, each < g.classes().
// Library models: sgm::mixture_score (the exact component posterior of a Gaussian
// mixture) and sgm::nn::classifier_guide (a trained, time-conditioned classifier).

#include <concepts>
#include <cstddef>
#include <span>

#include "../batch_view.hpp"
#include "backend.hpp"

namespace sgm {

template <class G>
concept class_gradient_model =
    backend<typename G::backend_type> &&
    std::same_as<typename G::value_type, typename G::backend_type::value_type> &&
    requires(G& g, batch_view<const typename G::value_type> x, const typename G::value_type* t,
             std::span<const std::size_t> labels, batch_view<typename G::value_type> out) {
        { g.dim() } -> std::convertible_to<std::size_t>;
        { g.classes() } -> std::convertible_to<std::size_t>;
        g.log_prob_gradient(x, t, labels, out);
    };

}  // namespace sgm
