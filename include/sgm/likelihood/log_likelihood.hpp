#pragma once
// Exact log-likelihood through the probability-flow ODE (Song et al. 2021, app. D.2):
//   log p_eps(x) = log p_T(z) + ∫_eps^T ∇·F(x(t), t) dt,   z = x(T),
// with x(t) solving dx/dt = F(x,t) = f(x,t) − ½ g(t)² s(x,t) from x(eps) = x. The ODE and
// the integral are solved together by adaptive RK45; the divergence is exact (D
// Jacobian products) or Hutchinson–Skilling (K probes per sample).
//
// The result is the density of x at time eps, not at 0; eps defaults to 1e-5.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/differentiable_score_model.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../error.hpp"
#include "../sde/drift_derivative.hpp"
#include "../sde/prior.hpp"
#include "../sample/rk45.hpp"
#include "augmented_flow.hpp"
#include "divergence_estimator.hpp"

namespace sgm {

struct likelihood_options {
    divergence_estimator divergence = divergence_estimator::rademacher;
    std::size_t probes = 1;           // K, Hutchinson probes per sample (≥ 2 for a standard error)
    double rtol = 1e-5, atol = 1e-5;  // RK45 tolerances
    // How RK45 measures a step's error against the tolerances: max bounds every value
    // of the state [x | ∫∇·F] (the default, strictest); rms bounds their root mean
    // square, as scipy's solve_ivp in the paper's code does, at fewer steps.
    odeint::error_norm error_norm = odeint::error_norm::max;
    double eps = 1e-5;                // the data end of the time interval
    std::uint64_t seed = 0;           // Hutchinson probes
    std::uint64_t first_sample = 0;   // global index of the batch's first sample (noise, messages)
    std::size_t max_values = std::size_t(1) << 20;  // cap on rows × D per model call
    bool check_finite = true;
    // false (default): every sample is solved on its own, so its log p does not
    // depend on the batch it is in. true: one solve for the batch with one step size
    // (the paper's way; fewer, larger model calls, but a sample's result then moves
    // within the tolerance with its batch mates, and NFE grows with the batch).
    bool coupled_step_control = false;
};

template <backend Backend>
struct likelihood_result {
    std::vector<double> log_p;        // per sample: prior_log_p + delta_log_p
    std::vector<double> std_error;    // per sample: over the K probes; 0 for exact, NaN for K = 1
    std::vector<double> prior_log_p;  // log p_T(z)
    std::vector<double> delta_log_p;  // ∫ ∇·F dt (mean over probes)
    batch<Backend> latent;            // z = x(T)
    std::size_t nfe = 0;              // right-hand-side evaluations (summed over per-sample solves)
    std::size_t steps = 0;            // accepted RK45 steps (summed over per-sample solves)
};

namespace detail {

inline void check_likelihood_options(const likelihood_options& o, double T) {
    require(std::isfinite(o.rtol) && o.rtol > 0, "log_likelihood: rtol = ", o.rtol, "; expected a finite value > 0");
    require(std::isfinite(o.atol) && o.atol > 0, "log_likelihood: atol = ", o.atol, "; expected a finite value > 0");
    require(std::isfinite(o.eps) && o.eps > 0 && o.eps < T, "log_likelihood: eps = ", o.eps,
            "; expected a value in (0, T) with T = ", T);
    require(o.divergence == divergence_estimator::exact || o.probes >= 1, "log_likelihood: probes = ", o.probes,
            "; expected at least 1 Hutchinson probe per sample");
    require(o.max_values >= 1, "log_likelihood: max_values = 0; expected at least 1");
}

template <backend Backend, differentiable_drift_sde SDE, differentiable_score_model Model>
likelihood_result<Backend> log_likelihood_impl(const SDE& sde, Model& model, const batch<Backend>& x,
                                               const likelihood_options& o, const Backend& be,
                                               std::uint32_t first_probe_draw, std::size_t position_offset = 0);

// One solve per sample (same probes and noise keys as in a batch: they follow the
// global sample index), gathered into one result.
template <backend Backend, differentiable_drift_sde SDE, differentiable_score_model Model>
likelihood_result<Backend> solve_each_sample(const SDE& sde, Model& model, const batch<Backend>& x,
                                             const likelihood_options& o, const Backend& be,
                                             std::uint32_t first_probe_draw) {
    using Real = typename Backend::value_type;
    const std::size_t b_count = x.size(), d = x.dim();
    likelihood_result<Backend> all;
    all.latent = batch<Backend>(b_count, d, be);
    batch<Backend> one(1, d, be);
    likelihood_options single = o;
    single.coupled_step_control = true;
    for (std::size_t b = 0; b < b_count; ++b) {
        const Real* src = x.data() + b * d;
        Real* dst = one.data();
        be.for_each_index(d, [=] SGM_HOST_DEVICE(std::size_t i) { dst[i] = src[i]; });
        single.first_sample = o.first_sample + b;
        auto r = log_likelihood_impl(sde, model, one, single, be, first_probe_draw, b);
        all.log_p.push_back(r.log_p[0]);
        all.std_error.push_back(r.std_error[0]);
        all.prior_log_p.push_back(r.prior_log_p[0]);
        all.delta_log_p.push_back(r.delta_log_p[0]);
        all.nfe += r.nfe;
        all.steps += r.steps;
        const Real* z = r.latent.data();
        Real* out = all.latent.data() + b * d;
        be.for_each_index(d, [=] SGM_HOST_DEVICE(std::size_t i) { out[i] = z[i]; });
    }
    return all;
}

// first_probe_draw lets bits_per_dim give each dequantization draw its own probes;
// position_offset is x's position in the caller's batch, for messages.
template <backend Backend, differentiable_drift_sde SDE, differentiable_score_model Model>
likelihood_result<Backend> log_likelihood_impl(const SDE& sde, Model& model, const batch<Backend>& x,
                                               const likelihood_options& o, const Backend& be,
                                               std::uint32_t first_probe_draw, std::size_t position_offset) {
    using Real = typename Backend::value_type;
    check_likelihood_options(o, double(sde.T()));
    const std::size_t b_count = x.size(), d = x.dim();
    require(b_count >= 1, "log_likelihood: empty batch; expected at least one sample");
    require(d == model.dim(), "log_likelihood: data have dim ", d, ", the score model expects dim ", model.dim());
    const Real* xs = x.data();
    const std::size_t bad = be.find_first(b_count * d, [=] SGM_HOST_DEVICE(std::size_t i) { return !std::isfinite(xs[i]); });
    require(bad == b_count * d, "log_likelihood: non-finite value in sample ", o.first_sample + bad / d,
            " (batch position ", bad / d, "), coordinate ", bad % d, "; expected finite data");
    if (!o.coupled_step_control && b_count > 1) return solve_each_sample(sde, model, x, o, be, first_probe_draw);

    using flow_type = augmented_flow<Backend, SDE, Model>;
    flow_type flow(be, sde, model,
                   typename flow_type::setup{b_count, d, o.divergence, o.probes, {o.seed, o.first_sample},
                                             first_probe_draw, o.max_values, o.check_finite, position_offset});
    const std::size_t a = flow.accumulators();
    auto state = be.make_vector(flow.state_size());  // [x | 0]
    Real* st = Backend::data(state);
    be.for_each_index(b_count * d, [=] SGM_HOST_DEVICE(std::size_t i) { st[i] = xs[i]; });

    likelihood_result<Backend> result;
    result.steps = integrate_rk45(
        flow, state, o.eps, double(sde.T()), o.rtol, o.atol, o.error_norm, be, [](double, std::size_t) {},
        [&](std::size_t steps) { flow.set_step(steps); },
        [&] { return concat("log_likelihood (", flow.nfe(), " evaluations)"); });
    result.nfe = flow.nfe();

    result.latent = batch<Backend>(b_count, d, be);
    Real* z = result.latent.data();
    const Real* final_state = Backend::data(state);
    be.for_each_index(b_count * d, [=] SGM_HOST_DEVICE(std::size_t i) { z[i] = final_state[i]; });
    auto prior = be.make_vector(b_count);
    prior_log_density(sde, result.latent, Backend::data(prior), be);

    const std::vector<Real> host_state = be.to_host(state);
    const std::vector<Real> host_prior = be.to_host(prior);
    for (std::size_t b = 0; b < b_count; ++b) {
        const Real* acc = host_state.data() + b_count * d + b * a;
        double mean = 0;
        for (std::size_t k = 0; k < a; ++k) mean += double(acc[k]);
        mean /= double(a);
        double se = 0;
        if (o.divergence != divergence_estimator::exact) {
            if (a < 2) {
                se = std::numeric_limits<double>::quiet_NaN();
            } else {
                double ss = 0;
                for (std::size_t k = 0; k < a; ++k) ss += (double(acc[k]) - mean) * (double(acc[k]) - mean);
                se = std::sqrt(ss / double(a - 1) / double(a));
            }
        }
        result.prior_log_p.push_back(double(host_prior[b]));
        result.delta_log_p.push_back(mean);
        result.log_p.push_back(double(host_prior[b]) + mean);
        result.std_error.push_back(se);
    }
    if (o.check_finite) {
        for (std::size_t b = 0; b < b_count; ++b)
            require(std::isfinite(result.log_p[b]), "log_likelihood: non-finite log-likelihood ", result.log_p[b],
                    " for sample ", o.first_sample + b, " (batch position ", position_offset + b, ") after ", result.steps, " steps");
    }
    return result;
}

}  // namespace detail

// log p_eps(x) for every sample of x, with the latent z = x(T) and the work done.
// Needs a score model with input Jacobian products (sgm::differentiable_score_model)
// and an SDE whose drift derivative is known (affine SDEs, or drift_derivative(x, t)).
template <backend Backend, sde SDE, score_model Model>
    requires std::same_as<typename Model::backend_type, Backend>
likelihood_result<Backend> log_likelihood(const SDE& sde, Model& model, const batch<Backend>& x,
                                          const likelihood_options& options, const Backend& be = Backend{}) {
    static_assert(differentiable_score_model<Model>,
                  "sgm::log_likelihood needs a score model with input Jacobian products: give the model "
                  "score_vjp(x, t, v, score, vjp) or score_jvp(x, t, v, score, jvp) "
                  "(see docs/concepts/score_model.md)");
    static_assert(differentiable_drift_sde<SDE>,
                  "sgm::log_likelihood needs the drift's derivative: give the SDE drift_derivative(x, t) or make "
                  "it affine (mean_coefficient and marginal_std)");
    if constexpr (differentiable_score_model<Model> && differentiable_drift_sde<SDE>)
        return detail::log_likelihood_impl(sde, model, x, options, be, 1);
    else
        return {};
}

}  // namespace sgm
