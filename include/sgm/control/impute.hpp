#pragma once
// Inpainting / imputation: samples of the missing part of each target sample
// given its known part, from an unconditional score model.
//
// impute_pc: the predictor–corrector sampler with every step wrapped in
// sgm::imputing (the known part replaced by the data perturbed to the current
// time). impute_ode: the probability-flow ODE with sgm::known_part_score. Both
// start from a prior sample whose known part is the data perturbed to T,
// m(T) y + s(T) z (not raw data next to noise), and end with the known part equal
// to the observation. options.count is ignored: the target sets the sample count.

#include <cstddef>
#include <utility>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "../sample/ode_sampler.hpp"
#include "../sample/pc_sampler.hpp"
#include "../sample/sampling_context.hpp"
#include "../sample/step_info.hpp"
#include "../sample/tweedie.hpp"
#include "../sde/prior.hpp"
#include "imputation_target.hpp"
#include "imputing_step.hpp"
#include "known_part_score.hpp"

namespace sgm {

namespace detail {

// A prior sample (noise draw 0) whose known part is m(T) y + s(T) z, z the same draw.
template <backend Backend, affine_sde SDE>
batch<Backend> imputation_start(const SDE& sde, const imputation_target<Backend>& target, random::noise_key key,
                                const Backend& be) {
    using Real = typename Backend::value_type;
    batch<Backend> x = sample_prior(sde, target.size(), target.dim(), key, be);
    const Real t_end = sde.T();
    const Real m = sde.mean_coefficient(t_end), ratio = sde.marginal_std(t_end) / sde.prior_std();
    const Real* mask = target.mask();
    const Real* y = target.values();
    Real* xs = x.data();
    be.for_each_index(x.size() * x.dim(), [=] SGM_HOST_DEVICE(std::size_t i) {
        if (mask[i] != Real(0)) xs[i] = m * y[i] + ratio * xs[i];
    });
    return x;
}

// The known part set to the observation itself.
template <backend Backend>
void restore_known(batch<Backend>& x, const imputation_target<Backend>& target, const Backend& be) {
    using Real = typename Backend::value_type;
    const Real* mask = target.mask();
    const Real* y = target.values();
    Real* xs = x.data();
    be.for_each_index(x.size() * x.dim(), [=] SGM_HOST_DEVICE(std::size_t i) {
        if (mask[i] != Real(0)) xs[i] = y[i];
    });
}

template <class Model, class Target>
void check_imputation_shapes(const Model& model, const Target& target, const char* sampler) {
    require(std::size_t(model.dim()) == target.dim(), sampler, ": the target has dim ", target.dim(),
            " but the score model expects dim ", model.dim());
}

}  // namespace detail

template <backend Backend, affine_sde SDE, score_model Model, class Predictor, class Corrector,
          class Observer = no_observer>
    requires std::same_as<typename Model::backend_type, Backend>
sample_result<Backend> impute_pc(const SDE& sde, Model& model, const Predictor& predictor, const Corrector& corrector,
                                 const imputation_target<Backend>& target, const pc_options& options,
                                 const Backend& be = Backend{}, Observer&& observer = {}) {
    using Real = typename Backend::value_type;
    detail::check_imputation_shapes(model, target, "impute_pc");
    const random::noise_key key{options.seed, options.first_sample};
    sample_result<Backend> result{detail::imputation_start(sde, target, key, be), 0};
    const imputing<Predictor, Real> p(predictor, target.mask(), target.values());
    const imputing<Corrector, Real> c(corrector, target.mask(), target.values());
    result.nfe = pc_sample_from(sde, model, p, c, result.samples, options, be, std::forward<Observer>(observer));
    detail::restore_known(result.samples, target, be);
    return result;
}

template <backend Backend, affine_sde SDE, score_model Model, class Observer = no_observer>
    requires std::same_as<typename Model::backend_type, Backend>
sample_result<Backend> impute_ode(const SDE& sde, Model& model, const imputation_target<Backend>& target,
                                  const ode_options& options, const Backend& be = Backend{},
                                  Observer&& observer = {}) {
    detail::check_imputation_shapes(model, target, "impute_ode");
    const random::noise_key key{options.seed, options.first_sample};
    known_part_score<Model, SDE> conditioned(model, sde, target.mask(), target.values(), target.size(), be);
    sample_result<Backend> result{detail::imputation_start(sde, target, key, be), 0};
    result.nfe = ode_decode(sde, conditioned, result.samples, options, be, std::forward<Observer>(observer)).nfe;
    if (options.denoise) {
        sampling_context<Backend, SDE, known_part_score<Model, SDE>> ctx(be, sde, conditioned, result.samples, key);
        tweedie_denoise(ctx, typename Backend::value_type(detail::resolve_eps(sde, options.eps, "impute_ode")));
        result.nfe += ctx.nfe();
    }
    detail::restore_known(result.samples, target, be);
    return result;
}

}  // namespace sgm
