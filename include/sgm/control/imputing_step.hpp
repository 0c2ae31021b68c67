#pragma once
// sgm::imputing — wraps a predictor or corrector for inpainting (Song et al.
// 2021, appendix I.2): after the wrapped step the known part of the state is
// replaced by the observed data perturbed to the time the state is now at,
//   x_known ← m(t) y + s(t) z,   z ~ N(0, I) fresh,
// so the missing part is updated with the score of [x_missing; ŷ(t)].
//
// This is the paper's approximation of ∇ log p_t(x_missing | y): it uses
// p_t(x_missing | x_known(t) = ŷ(t)) in place of p_t(x_missing | x_known(0) = y).
// The two agree when the missing and known parts are independent and as t → 0;
// for correlated parts the samples are biased (docs/inpainting.md measures it on
// a Gaussian, where the conditional is known).

#include <cstddef>
#include <type_traits>

#include "../concepts/predictor.hpp"
#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../corrector/no_corrector.hpp"
#include "../sample/step_info.hpp"

namespace sgm {

template <class Step, class Real>
class imputing {
public:
    // mask and values: backend memory of the batch's shape (see imputation_target).
    imputing(Step step, const Real* mask, const Real* values) : step_(step), mask_(mask), values_(values) {}

    template <class Context>
        requires predictor<Step, Context>
    void predict(Context& ctx, const step_info<Real>& step) const {
        step_.predict(ctx, step);
        replace_known(ctx, step.t - step.dt);
    }

    template <class Context>
        requires corrector<Step, Context>
    void correct(Context& ctx, const step_info<Real>& step) const {
        if constexpr (std::is_same_v<Step, no_corrector>) return;  // nothing moved
        step_.correct(ctx, step);
        replace_known(ctx, step.t);
    }

    // x_known ← m(t) y + s(t) z with the next noise draw of ctx.
    template <class Context>
    void replace_known(Context& ctx, Real t) const {
        static_assert(affine_sde<typename Context::sde_type>,
                      "inpainting needs the perturbation kernel: an SDE with mean_coefficient(t) and marginal_std(t)");
        const Real m = ctx.sde().mean_coefficient(t), s = ctx.sde().marginal_std(t);
        const Real* z = ctx.noise();
        const Real* mask = mask_;
        const Real* y = values_;
        Real* x = ctx.x();
        ctx.backend().for_each_index(ctx.count(), [=] SGM_HOST_DEVICE(std::size_t i) {
            if (mask[i] != Real(0)) x[i] = m * y[i] + s * z[i];
        });
    }

private:
    Step step_;
    const Real* mask_;
    const Real* values_;
};

}  // namespace sgm
