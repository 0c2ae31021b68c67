#pragma once
// Probability-flow ODE sampling, encoding and decoding.
//
// decode: integrate x from T down to eps (latent → data); encode: from eps up to T
// (data → latent). Methods: adaptive Dormand–Prince RK45 through Boost.Odeint
// (rtol, atol; default 1e-5 as in the paper), or fixed-step Euler / Heun with
// `steps` uniform steps. The adaptive step size is controlled over the whole
// batch (one error norm, as in the paper's solver), so adaptive results depend on
// which samples share a batch; fixed-step results do not.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../error.hpp"
#include "../sde/prior.hpp"
#include "pc_sampler.hpp"
#include "probability_flow.hpp"
#include "rk45.hpp"
#include "sampling_context.hpp"
#include "step_info.hpp"
#include "tweedie.hpp"

namespace sgm {

enum class ode_method { rk45, euler, heun };

struct ode_options {
    std::size_t count = 1;          // number of samples (ode_sample only)
    ode_method method = ode_method::rk45;
    double rtol = 1e-5, atol = 1e-5;  // rk45 tolerances
    // rk45: the norm of the scaled error: max over all B × D values (every value
    // within tolerance; odeint's default) or RMS (scipy's solve_ivp, as in the
    // paper code: far fewer steps for images, with a few values less accurate).
    odeint::error_norm error_norm = odeint::error_norm::max;
    std::size_t steps = 1000;       // euler / heun: number of uniform steps
    std::optional<double> eps;      // the data end of the time interval; default sampling_eps(sde)
    bool denoise = true;            // ode_sample only: final Tweedie step at eps
    std::uint64_t seed = 0;         // prior noise (ode_sample only)
    std::uint64_t first_sample = 0;
    bool check_finite = true;
};

struct ode_stats {
    std::size_t nfe = 0;    // score evaluations
    std::size_t steps = 0;  // accepted steps
};

namespace detail {

inline void check_ode_options(const ode_options& o) {
    if (o.method == ode_method::rk45) {
        require(std::isfinite(o.rtol) && o.rtol > 0, "ode: rtol = ", o.rtol, "; expected a finite value > 0");
        require(std::isfinite(o.atol) && o.atol > 0, "ode: atol = ", o.atol, "; expected a finite value > 0");
    } else {
        require(o.steps >= 1, "ode: steps = ", o.steps, "; expected at least 1 for a fixed-step method");
    }
}

// Integrates the probability flow from t0 to t1 in place.
template <backend Backend, sde SDE, score_model Model, class Observer>
ode_stats integrate_flow(const SDE& sde, Model& model, batch<Backend>& x, double t0, double t1,
                         const ode_options& options, const Backend& be, Observer& observer) {
    using Real = typename Backend::value_type;
    using vector = typename Backend::vector;
    check_ode_options(options);
    require(x.size() >= 1, "ode: empty batch; expected at least one sample");
    probability_flow<Backend, SDE, Model> flow(be, sde, model, x.size(), x.dim(), options.check_finite,
                                               options.first_sample);
    ode_stats stats;
    const auto report = [&](Real t) {  // after stats.steps steps
        observer(step_report<Real>{stats.steps - 1, stats.steps, t,
                                   static_cast<batch_view<const Real>>(x.view()), flow.nfe()});
    };

    if (options.method == ode_method::rk45) {
        stats.steps = integrate_rk45(
            flow, x.values(), t0, t1, options.rtol, options.atol, options.error_norm, be,
            [&](double t, std::size_t steps) {
                stats.steps = steps;
                report(Real(t));
            },
            [&](std::size_t steps) { flow.set_step(steps); },
            [&] { return concat("ode (", flow.nfe(), " score evaluations)"); });
    } else {
        const std::size_t n = x.size() * x.dim();
        vector k1 = be.make_vector(n), k2 = be.make_vector(n), trial = be.make_vector(n);
        const Real h = Real((t1 - t0) / double(options.steps));
        Real* xs = x.data();
        Real* d1 = Backend::data(k1);
        Real* d2 = Backend::data(k2);
        Real* tr = Backend::data(trial);
        for (std::size_t i = 0; i < options.steps; ++i) {
            const Real t = Real(t0 + (t1 - t0) * double(i) / double(options.steps));
            flow.set_step(i);
            flow(x.values(), k1, t);
            if (options.method == ode_method::euler) {
                be.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t j) { xs[j] += h * d1[j]; });
            } else {  // Heun: trapezoid of the slopes at both ends of an Euler step
                be.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t j) { tr[j] = xs[j] + h * d1[j]; });
                flow(trial, k2, t + h);
                be.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t j) {
                    xs[j] += Real(0.5) * h * (d1[j] + d2[j]);
                });
            }
            ++stats.steps;
            report(t + h);
        }
    }
    stats.nfe = flow.nfe();
    if (options.check_finite) {
        const Real* xs = x.data();
        const std::size_t n = x.size() * x.dim();
        const std::size_t bad = be.find_first(n, [=] SGM_HOST_DEVICE(std::size_t i) { return !std::isfinite(xs[i]); });
        require(bad == n, "ode: non-finite state in sample ", options.first_sample + bad / x.dim(),
                " (batch position ", bad / x.dim(), ") at the end time ", t1, " after ", stats.steps, " steps");
    }
    return stats;
}

}  // namespace detail

// Latents (at T) → data (at eps), in place. No denoising.
template <backend Backend, sde SDE, score_model Model, class Observer = no_observer>
    requires std::same_as<typename Model::backend_type, Backend>
ode_stats ode_decode(const SDE& sde, Model& model, batch<Backend>& x, const ode_options& options,
                     const Backend& be = Backend{}, Observer&& observer = {}) {
    const double eps = detail::resolve_eps(sde, options.eps, "ode");
    return detail::integrate_flow(sde, model, x, double(sde.T()), eps, options, be, observer);
}

// Data (at eps) → latents (at T), in place.
template <backend Backend, sde SDE, score_model Model, class Observer = no_observer>
    requires std::same_as<typename Model::backend_type, Backend>
ode_stats ode_encode(const SDE& sde, Model& model, batch<Backend>& x, const ode_options& options,
                     const Backend& be = Backend{}, Observer&& observer = {}) {
    const double eps = detail::resolve_eps(sde, options.eps, "ode");
    return detail::integrate_flow(sde, model, x, eps, double(sde.T()), options, be, observer);
}

// Draws options.count samples: prior sample (noise draw 0), decode, then Tweedie
// at eps when options.denoise.
template <backend Backend, sde SDE, score_model Model, class Observer = no_observer>
    requires std::same_as<typename Model::backend_type, Backend>
sample_result<Backend> ode_sample(const SDE& sde, Model& model, const ode_options& options, const Backend& be,
                                  Observer&& observer = {}) {
    detail::require(options.count >= 1, "ode_sample: count = ", options.count, "; expected at least 1");
    const random::noise_key key{options.seed, options.first_sample};
    sample_result<Backend> result{sample_prior(sde, options.count, model.dim(), key, be), 0};
    result.nfe = ode_decode(sde, model, result.samples, options, be, observer).nfe;
    if (options.denoise) {
        if constexpr (affine_sde<SDE>) {
            sampling_context<Backend, SDE, Model> ctx(be, sde, model, result.samples, key);
            tweedie_denoise(ctx, typename Backend::value_type(detail::resolve_eps(sde, options.eps, "ode")));
            result.nfe += ctx.nfe();
        } else {
            detail::require(false, "ode_sample: denoise needs an SDE with marginal_std(t); set denoise = false");
        }
    }
    return result;
}

template <sde SDE, score_model Model>
sample_result<typename Model::backend_type> ode_sample(const SDE& sde, Model& model, const ode_options& options) {
    return ode_sample(sde, model, options, typename Model::backend_type{});
}

}  // namespace sgm
