// The observer hook and the NFE count of every sampler, and the probability-flow
// ODE's encode → decode round trip.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <sgm/sgm.hpp>

#include "sampler_matrix.hpp"

namespace {

using namespace sgm::test;

struct recorded {
    std::size_t index, steps, nfe, size, dim;
    double t;
};

// An observer that keeps what it is told, and a copy of the last state it saw.
struct recorder {
    std::vector<recorded>* reports;
    std::vector<double>* last_state;
    void operator()(const sgm::step_report<double>& r) const {
        reports->push_back({r.index, r.steps, r.nfe, r.x.size, r.x.dim, r.t});
        last_state->assign(r.x.data, r.x.data + r.x.count());
    }
};

// Score evaluations per PC step: one per predictor update, one per corrector update.
std::size_t evaluations(predictor_kind p) {
    return p == predictor_kind::none ? 0 : 1;
}
std::size_t evaluations(corrector_kind c, std::size_t corrector_steps) {
    return c == corrector_kind::none ? 0 : corrector_steps;
}

}  // namespace

TEMPLATE_TEST_CASE("the PC sampler reports every step once, with rising NFE and falling t", "[sampler][pc][observer]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const auto configurations = pc_configurations<TestType>();
    const std::size_t index = GENERATE_COPY(range(std::size_t(0), configurations.size()));
    const bool denoise = GENERATE(true, false);
    const auto [p, c] = configurations[index];
    const std::size_t n = 30, count = 8;
    pc_settings s;
    s.count = count;
    s.steps = n;
    s.corrector_steps = 3;
    s.batch_averaged_norms = true;

    const auto& target = mixture_2d_target();
    const TestType sde = sde_traits<TestType>::make(n, target.sigma_max);
    const backend be;
    sgm::mixture_score<backend, TestType> model(target.mixture, sde, be);
    sgm::pc_options options;
    options.count = count;
    options.eps = sde_traits<TestType>::eps;
    options.denoise = denoise;
    std::vector<recorded> reports;
    std::vector<double> last_state;
    std::size_t nfe = 0;
    std::vector<double> samples;
    with_policies<TestType>(p, c, s, [&](auto predictor, auto corrector) {
        auto result = sgm::pc_sample(sde, model, predictor, corrector, options, be, recorder{&reports, &last_state});
        nfe = result.nfe;
        samples = result.samples.to_host(be);
    });

    INFO(sde_traits<TestType>::name << " " << name(p) << " + " << name(c) << ", denoise " << denoise);
    // Every step costs its predictor's and corrector's evaluations; with
    // denoising, Tweedie's formula (one evaluation) replaces the last predictor step.
    const std::size_t per_step = evaluations(p) + evaluations(c, s.corrector_steps);
    const std::size_t expected_nfe = n * per_step + (denoise ? 1 - evaluations(p) : 0);
    CHECK(nfe == expected_nfe);
    REQUIRE(reports.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        INFO("report " << i << ": t = " << reports[i].t << ", nfe = " << reports[i].nfe);
        CHECK(reports[i].index == i);
        CHECK(reports[i].steps == n);
        CHECK(reports[i].size == count);
        CHECK(reports[i].dim == 2);
        const std::size_t nfe_after = i + 1 == n ? expected_nfe : (i + 1) * per_step;
        CHECK(reports[i].nfe == nfe_after);
        if (i > 0) CHECK(reports[i].nfe > reports[i - 1].nfe);
        // t after step i is t_{i+1} of linspace(T, eps, N), then 0; the Tweedie
        // step reports the time it denoises at, eps, so t repeats there.
        if (i > 0 && !(denoise && i + 1 == n)) CHECK(reports[i].t < reports[i - 1].t);
    }
    CHECK(reports.back().t == (denoise ? Approx(*options.eps) : Approx(0.0)));
    CHECK(reports.front().t < double(sde.T()));
    CHECK(last_state == samples);
}

TEMPLATE_TEST_CASE("the ODE samplers report every step once, with rising NFE and monotone t",
                   "[sampler][ode][observer]", sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const auto method = GENERATE(sgm::ode_method::rk45, sgm::ode_method::euler, sgm::ode_method::heun);
    const std::size_t steps = 25, count = 8;
    const auto& target = mixture_2d_target();
    const TestType sde = sde_traits<TestType>::make(1000, target.sigma_max);
    const backend be;
    sgm::mixture_score<backend, TestType> model(target.mixture, sde, be);
    sgm::ode_options options;
    options.count = count;
    options.method = method;
    options.steps = steps;
    options.eps = sde_traits<TestType>::eps;
    std::vector<recorded> reports;
    std::vector<double> last_state;
    const auto result = sgm::ode_sample(sde, model, options, be, recorder{&reports, &last_state});
    INFO(sde_traits<TestType>::name << " " << name(method));

    // Fixed-step methods: one report per step, 1 (Euler) or 2 (Heun) evaluations
    // each, plus one for the final Tweedie step, which is not a solver step.
    REQUIRE(!reports.empty());
    if (method != sgm::ode_method::rk45) {
        const std::size_t per_step = method == sgm::ode_method::euler ? 1 : 2;
        REQUIRE(reports.size() == steps);
        for (std::size_t i = 0; i < steps; ++i) {
            CHECK(reports[i].index == i);
            CHECK(reports[i].steps == i + 1);
            CHECK(reports[i].nfe == (i + 1) * per_step);
        }
        CHECK(result.nfe == steps * per_step + 1);
    } else {
        CHECK(result.nfe == reports.back().nfe + 1);
    }
    for (std::size_t i = 1; i < reports.size(); ++i) {
        CHECK(reports[i].t < reports[i - 1].t);
        CHECK(reports[i].nfe > reports[i - 1].nfe);
        CHECK(reports[i].index == reports[i - 1].index + 1);
    }
    CHECK(reports.front().t < double(sde.T()));
    CHECK(reports.back().t == Approx(*options.eps).epsilon(1e-9));

    // Encoding runs the other way.
    auto x = sgm::batch<backend>::from_host(last_state, count, 2, be);
    reports.clear();
    const auto stats = sgm::ode_encode(sde, model, x, options, be, recorder{&reports, &last_state});
    REQUIRE(!reports.empty());
    for (std::size_t i = 1; i < reports.size(); ++i) {
        CHECK(reports[i].t > reports[i - 1].t);
        CHECK(reports[i].nfe > reports[i - 1].nfe);
    }
    CHECK(reports.back().t == Approx(double(sde.T())).epsilon(1e-9));
    CHECK(stats.nfe == reports.back().nfe);
    CHECK(stats.steps == reports.size());
}

// Encoding exact data with the probability-flow ODE (RK45, the paper's
// rtol = atol = 1e-5) and decoding the latents returns the data: the two
// integrations are inverse to the solver's accuracy.
TEMPLATE_TEST_CASE("ODE encode then decode returns the data", "[sampler][ode][round-trip]", sgm::ve_sde<double>,
                   sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const std::size_t count = 256;
    const auto& target = mixture_2d_target();
    const TestType sde = sde_traits<TestType>::make(1000, target.sigma_max);
    const backend be;
    sgm::mixture_score<backend, TestType> model(target.mixture, sde, be);
    const std::vector<double> data = target.mixture.sample(count, 404);
    auto x = sgm::batch<backend>::from_host(data, count, 2, be);
    sgm::ode_options options;
    options.eps = sde_traits<TestType>::eps;

    const auto encoded = sgm::ode_encode(sde, model, x, options, be);
    const auto latents = x.to_host(be);
    // The latents follow p_T ≈ the prior N(0, σ_T² I): the encoder moved them
    // (the data's mean square is 9–10 per coordinate; VP's prior has 1, VE's ~120).
    double mean_square = 0;
    for (double v : latents) mean_square += v * v / double(latents.size());
    const double prior_var = double(sde.prior_std()) * double(sde.prior_std());
    INFO(sde_traits<TestType>::name << ": latent mean square " << mean_square << ", prior variance " << prior_var
                                    << ", encode NFE " << encoded.nfe);
    CHECK(mean_square > 0.5 * prior_var);
    CHECK(mean_square < 2.0 * prior_var);

    const auto decoded_stats = sgm::ode_decode(sde, model, x, options, be);
    const auto decoded = x.to_host(be);
    double worst = 0;
    for (std::size_t b = 0; b < count; ++b) {
        const double err = std::hypot(decoded[2 * b] - data[2 * b], decoded[2 * b + 1] - data[2 * b + 1]);
        worst = std::max(worst, err / std::hypot(data[2 * b], data[2 * b + 1]));
    }
    INFO("decode NFE " << decoded_stats.nfe << ", largest relative round-trip error " << worst);
    CHECK(worst < 1e-4);
}
