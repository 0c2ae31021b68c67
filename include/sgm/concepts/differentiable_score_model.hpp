#pragma once
// Score models that also give products with their input Jacobian ∂s/∂x — what the
// exact likelihood (divergence of the probability flow) and guidance need.
//
// M models sgm::vjp_score_model when it models sgm::score_model and, for m of type M:
//  1. m.score_vjp(x, t, v, score, vjp) writes the scores of the B samples of x at the
//     times t into score (B × D), and into vjp (B × D) the rows v_bᵀ ∂s(x_b, t_b)/∂x_b.
// M models sgm::jvp_score_model when instead:
//  2. m.score_jvp(x, t, v, score, jvp) writes the scores and the columns ∂s/∂x_b · v_b.
// All pointers are the backend's; v has the shape of x. The likelihood uses only
// vᵀ(∂s/∂x)v, which either product gives.

#include "../batch_view.hpp"
#include "score_model.hpp"

namespace sgm {

template <class M>
concept vjp_score_model =
    score_model<M> && requires(M& m, batch_view<const typename M::value_type> x, const typename M::value_type* t,
                               batch_view<typename M::value_type> out) { m.score_vjp(x, t, x, out, out); };

template <class M>
concept jvp_score_model =
    score_model<M> && requires(M& m, batch_view<const typename M::value_type> x, const typename M::value_type* t,
                               batch_view<typename M::value_type> out) { m.score_jvp(x, t, x, out, out); };

template <class M>
concept differentiable_score_model = vjp_score_model<M> || jvp_score_model<M>;

namespace detail {
// score and (vᵀJ or Jv) through whichever product the model has; vᵀJv is the same.
template <differentiable_score_model M>
void score_and_jacobian_product(M& m, batch_view<const typename M::value_type> x, const typename M::value_type* t,
                                batch_view<const typename M::value_type> v, batch_view<typename M::value_type> score,
                                batch_view<typename M::value_type> product) {
    if constexpr (vjp_score_model<M>)
        m.score_vjp(x, t, v, score, product);
    else
        m.score_jvp(x, t, v, score, product);
}
}  // namespace detail

}  // namespace sgm
