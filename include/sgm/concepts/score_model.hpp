#pragma once
// The score-model concept: a batched estimate of ∇ₓ log p_t(x).
//
// M models sgm::score_model when, for m of type M:
//  1. M::backend_type models sgm::backend; M::value_type is its value type.
//  2. m.dim() is the number D of values per sample the model accepts.
//  3. m.score(x, t, out) writes into out (B × D) the scores of the B samples of x
//     (B × D) at the per-sample times t[0..B) — pointers in the backend's memory.
//     It may keep workspace (it is called on a non-const model) but must not keep
//     references to x, t or out.

#include <concepts>
#include <cstddef>

#include "../batch_view.hpp"
#include "backend.hpp"

namespace sgm {

template <class M>
concept score_model =
    backend<typename M::backend_type> &&
    std::same_as<typename M::value_type, typename M::backend_type::value_type> &&
    requires(M& m, batch_view<const typename M::value_type> x, const typename M::value_type* t,
             batch_view<typename M::value_type> out) {
        { m.dim() } -> std::convertible_to<std::size_t>;
        m.score(x, t, out);
    };

}  // namespace sgm
