#pragma once
// The predictor–corrector sampler (Song et al. 2021, Algorithms 1–4 in one loop).
//
// Times t_i = linspace(T, eps, N), i = 0 … N−1, N = sde.steps(). At every step
// the corrector refines x at t_i, then the predictor moves it to t_{i+1} (t_N = 0)
// using the SDE's level k = N−1−i. With denoise (the default) the last predictor
// step is replaced by Tweedie's formula at t = eps, as the paper's noise removal.
// Reverse diffusion + none runs the SMLD/DDPM chain; ancestral + none with vp_sde
// is DDPM's sampler (with denoise = false it keeps noise on the last step, which
// DDPM drops; with denoise = true Tweedie at eps replaces that step); none +
// annealed_langevin with ve_sde is NCSN. The tests check all three by hand.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/predictor.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../error.hpp"
#include "../random/philox_normal.hpp"
#include "../sde/prior.hpp"
#include "sampling_context.hpp"
#include "step_info.hpp"
#include "tweedie.hpp"

namespace sgm {

struct pc_options {
    std::size_t count = 1;          // number of samples
    std::optional<double> eps;      // last time; default: sampling_eps(sde) (1e-5 VE, 1e-3 VP, sub-VP)
    bool denoise = true;            // final Tweedie step at t = eps
    std::uint64_t seed = 0;         // noise seed
    std::uint64_t first_sample = 0; // global index of this batch's first sample
    bool check_finite = true;       // stop with sgm::error on the first non-finite state
};

template <backend Backend>
struct sample_result {
    batch<Backend> samples;
    std::size_t nfe = 0;  // score evaluations
};

// The smallest time samplers integrate to: the SDE's default_eps() when it has
// one (1e-5 for VE, 1e-3 for VP and sub-VP, as in the paper), else 1e-3.
template <sde S>
double sampling_eps(const S& sde) {
    if constexpr (requires { sde.default_eps(); })
        return double(sde.default_eps());
    else
        return 1e-3;
}

namespace detail {
// The eps a sampler uses: the caller's, checked to lie in (0, T), or the SDE's default.
template <class S>
double resolve_eps(const S& sde, const std::optional<double>& eps, const char* sampler) {
    const double value = eps.value_or(sampling_eps(sde));
    require(value > 0 && value < double(sde.T()), sampler, ": eps = ", value, " must lie in (0, T) = (0, ",
            sde.T(), ")");
    return value;
}
}  // namespace detail

// Runs the sampler from a given state x at t = T (for example a prior sample, or
// a state prepared by the caller); x is updated in place. Returns the NFE.
template <backend Backend, sde SDE, score_model Model, class Predictor, class Corrector,
          class Observer = no_observer>
    requires std::same_as<typename Model::backend_type, Backend>
std::size_t pc_sample_from(const SDE& sde, Model& model, const Predictor& predictor, const Corrector& corrector,
                           batch<Backend>& x, const pc_options& options, const Backend& be = Backend{},
                           Observer&& observer = {}) {
    using Real = typename Backend::value_type;
    using context = sampling_context<Backend, SDE, Model>;
    static_assert(sgm::predictor<Predictor, context>, "not an sgm predictor: needs p.predict(ctx, step)");
    static_assert(sgm::corrector<Corrector, context>, "not an sgm corrector: needs c.correct(ctx, step)");
    const double eps_value = detail::resolve_eps(sde, options.eps, "pc_sample");
    detail::require(x.size() >= 1, "pc_sample: empty batch; expected at least one sample");
    if constexpr (!affine_sde<SDE>)
        detail::require(!options.denoise, "pc_sample: denoise needs an SDE with marginal_std(t); set denoise = false");

    context ctx(be, sde, model, x, random::noise_key{options.seed, options.first_sample});
    const std::size_t n = sde.steps();
    const Real t_end = sde.T(), eps = Real(eps_value);
    const auto time_at = [&](std::size_t i) {
        return n == 1 ? t_end : t_end + (eps - t_end) * Real(i) / Real(n - 1);
    };
    for (std::size_t i = 0; i < n; ++i) {
        const Real t = time_at(i);
        const Real t_next = i + 1 < n ? time_at(i + 1) : Real(0);
        const step_info<Real> step{t, t - t_next, n - 1 - i, i};
        corrector.correct(ctx, step);
        if (i + 1 == n && options.denoise) {
            if constexpr (affine_sde<SDE>) tweedie_denoise(ctx, t);
        } else {
            predictor.predict(ctx, step);
        }
        if (options.check_finite) ctx.check_state(i, t_next);
        observer(step_report<Real>{i, n, (i + 1 == n && options.denoise) ? t : t_next,
                                   static_cast<batch_view<const Real>>(x.view()), ctx.nfe()});
    }
    return ctx.nfe();
}

// Draws options.count samples: a prior sample (noise draw 0), then pc_sample_from.
template <backend Backend, sde SDE, score_model Model, class Predictor, class Corrector,
          class Observer = no_observer>
    requires std::same_as<typename Model::backend_type, Backend>
sample_result<Backend> pc_sample(const SDE& sde, Model& model, const Predictor& predictor,
                                 const Corrector& corrector, const pc_options& options, const Backend& be,
                                 Observer&& observer = {}) {
    detail::require(options.count >= 1, "pc_sample: count = ", options.count, "; expected at least 1");
    sample_result<Backend> result{
        sample_prior(sde, options.count, model.dim(), random::noise_key{options.seed, options.first_sample}, be),
        0};
    result.nfe = pc_sample_from(sde, model, predictor, corrector, result.samples, options, be,
                                std::forward<Observer>(observer));
    return result;
}

// The same with a default-constructed backend of the model's type.
template <sde SDE, score_model Model, class Predictor, class Corrector>
sample_result<typename Model::backend_type> pc_sample(const SDE& sde, Model& model, const Predictor& predictor,
                                                      const Corrector& corrector, const pc_options& options) {
    return pc_sample(sde, model, predictor, corrector, options, typename Model::backend_type{});
}

}  // namespace sgm
