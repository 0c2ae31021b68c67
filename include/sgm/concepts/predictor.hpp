#pragma once
// Predictor and corrector concepts. Both are stateless policies called by the
// predictor–corrector sampler once per step, through a sampling_context.
//
// P models sgm::predictor<Context> when, for p of type const P and s a step_info:
//  1. p.predict(ctx, s) moves ctx's state from time s.t back to s.t − s.dt,
//     evaluating the score through ctx.score(t) and drawing noise through
//     ctx.noise() (so NFE and noise stay reproducible).
// C models sgm::corrector<Context> when:
//  2. c.correct(ctx, s) refines ctx's state at time s.t without moving in time.
// Element loops go through ctx.backend().for_each_index with SGM_HOST_DEVICE lambdas.

#include "../sample/step_info.hpp"

namespace sgm {

template <class P, class Context>
concept predictor = requires(const P& p, Context& ctx, const step_info<typename Context::value_type>& s) {
    p.predict(ctx, s);
};

template <class C, class Context>
concept corrector = requires(const C& c, Context& ctx, const step_info<typename Context::value_type>& s) {
    c.correct(ctx, s);
};

}  // namespace sgm
