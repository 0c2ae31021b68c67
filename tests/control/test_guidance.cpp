// Classifier guidance against exact answers. With a Gaussian mixture whose class
// is the component, ∇ₓ log p_t(y | x) is known in closed form, and the guided
// score at scale 1 is exactly the score of component y: guided sampling must draw
// from that component alone, with its mean and covariance.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "sampler/mixture_2d_settings.hpp"
#include "sampler/sampler_matrix.hpp"
#include "support/statistics.hpp"

namespace {

using namespace sgm::test;

constexpr std::size_t sample_count = 4000;

template <class SDE>
using exact_score = sgm::mixture_score<backend, SDE>;

// Component k of the 2-D test mixture as a mixture of one.
sgm::gaussian_mixture<double> component(std::size_t k) {
    const auto& t = mixture_2d_target();
    return sgm::gaussian_mixture<double>::gaussian(
        {t.means[2 * k], t.means[2 * k + 1]},
        {t.covariances.begin() + 4 * long(k), t.covariances.begin() + 4 * long(k) + 4});
}

// Every sample must be assigned (most probable component of the data mixture) to
// `label`: at least 99%, and in fact at most a Poisson handful of the exact
// component's 1e-8 misassignments. Then the samples, whitened with component
// `label`'s own (μ, Σ), must look like N(0, I) within 5 standard errors.
void check_component(const std::vector<double>& host, std::size_t n, std::size_t label) {
    const auto& t = mixture_2d_target();
    std::size_t agree = 0;
    for (std::size_t b = 0; b < n; ++b) {
        const auto posterior = t.reference.posterior({host[2 * b], host[2 * b + 1]}, 1.0, 0.0);
        if (std::size_t(std::max_element(posterior.begin(), posterior.end()) - posterior.begin()) == label) ++agree;
    }
    const vector mu{{t.means[2 * label], t.means[2 * label + 1]}};
    const matrix cov = to_matrix(
        {t.covariances.begin() + 4 * long(label), t.covariances.begin() + 4 * long(label) + 4}, 2);
    const auto s = summarize_whitened(whiten(to_matrix(host, n, 2), mu, cov));
    INFO("class " << label << ": " << agree << " of " << n << " samples agree; mean z " << s.max_mean_z
                  << ", trace z " << s.trace_z << ", entry z " << s.max_entry_z);
    CHECK(double(agree) >= 0.99 * double(n));
    CHECK(double(n - agree) <= poisson_upper(1e-8 * double(n), 5));
    CHECK(s.max_mean_z <= family_threshold(2));
    CHECK(std::abs(s.trace_z) <= 5);
    CHECK(s.max_entry_z <= family_threshold(3));
}

}  // namespace

TEMPLATE_TEST_CASE("guided score at scale 1 is the exact score of the requested component", "[control][guidance]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const auto& t = mixture_2d_target();
    const backend be;
    const auto sde = sde_traits<TestType>::make(1000, t.sigma_max);
    exact_score<TestType> model(t.mixture, sde, be), guide(t.mixture, sde, be);
    sgm::guided_score guided(model, guide, 1.0, be);
    const std::size_t n = 6;
    const auto x = t.mixture.sample(n, 5);
    const std::vector<double> times{1e-3, 0.05, 0.2, 0.5, 0.8, 1.0};
    const std::vector<std::size_t> labels{0, 1, 2, 2, 1, 0};
    guided.set_labels(labels);
    std::vector<double> got(n * 2);
    guided.score({x.data(), n, 2}, times.data(), {got.data(), n, 2});
    double worst = 0, scale = 0;
    for (std::size_t b = 0; b < n; ++b) {
        exact_score<TestType> single(component(labels[b]), sde, be);
        std::vector<double> want(2);
        single.score({x.data() + 2 * b, 1, 2}, times.data() + b, {want.data(), 1, 2});
        for (std::size_t j = 0; j < 2; ++j) {
            worst = std::max(worst, std::abs(got[2 * b + j] - want[j]));
            scale = std::max(scale, std::abs(want[j]));
        }
    }
    INFO("largest difference " << worst << " of scores up to " << scale);
    CHECK(scale > 0.1);
    CHECK(worst <= 1e-12 * std::max(1.0, scale) * 100);

    // Scale 0 is the unconditional score; scale w adds w times the gradient.
    std::vector<double> plain(n * 2), doubled(n * 2);
    model.score({x.data(), n, 2}, times.data(), {plain.data(), n, 2});
    guided.set_scale(2);
    guided.score({x.data(), n, 2}, times.data(), {doubled.data(), n, 2});
    for (std::size_t i = 0; i < n * 2; ++i) CHECK(doubled[i] - plain[i] == Approx(2 * (got[i] - plain[i])).margin(1e-9));
    guided.set_scale(0);
    guided.score({x.data(), n, 2}, times.data(), {doubled.data(), n, 2});
    CHECK(doubled == plain);
}

TEMPLATE_TEST_CASE("guided PC sampling draws from the requested component", "[control][guidance][pc]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>) {
    const auto& t = mixture_2d_target();
    const auto configurations = pc_configurations<TestType>();
    const std::size_t index = GENERATE_COPY(range(std::size_t(0), configurations.size()));
    const auto [p, c] = configurations[index];
    const std::size_t label = index % 3;
    const pc_settings s = settings_2d<TestType>(p, c, sample_count);
    const backend be;
    const auto sde = sde_traits<TestType>::make(s.steps, t.sigma_max);
    exact_score<TestType> model(t.mixture, sde, be), guide(t.mixture, sde, be);
    sgm::guided_score guided(model, guide, 1.0, be);
    guided.set_label(label, s.count);
    sgm::pc_options options;
    options.count = s.count;
    options.eps = sde_traits<TestType>::eps;
    options.seed = 77 + index;
    std::vector<double> host;
    std::size_t nfe = 0;
    const auto start = std::chrono::steady_clock::now();
    with_policies<TestType>(p, c, s, [&](auto predictor, auto corrector) {
        auto result = sgm::pc_sample(sde, guided, predictor, corrector, options, be);
        nfe = result.nfe;
        host = result.samples.to_host(be);
    });
    INFO(describe<TestType>(std::string(name(p)) + " + " + name(c), s.steps, nfe, seconds_since(start)));
    check_component(host, s.count, label);
}

TEMPLATE_TEST_CASE("guided probability-flow ODE sampling draws from the requested component",
                   "[control][guidance][ode]", sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const auto& t = mixture_2d_target();
    const std::size_t label = 2;  // the lightest component (weight 0.2)
    const backend be;
    // VE's prior N(0, σ_max² I) is centred on the mixture, not on the component
    // (|μ_2| = 4.85): the deterministic flow carries that offset to the end shrunk
    // by about sd/σ_max (sd = 0.63), a mean error of 4.85·√4000/σ_max standard
    // errors — 24 at the data's σ_max, 0.3 at σ_max = 1000. (The stochastic
    // samplers forget their start and need no such care.)
    const double sigma_max = std::is_same_v<TestType, sgm::ve_sde<double>> ? 1000.0 : t.sigma_max;
    const auto sde = sde_traits<TestType>::make(1000, sigma_max);
    exact_score<TestType> model(t.mixture, sde, be), guide(t.mixture, sde, be);
    sgm::guided_score guided(model, guide, 1.0, be);
    guided.set_label(label, sample_count);
    sgm::ode_options options;
    options.count = sample_count;
    options.eps = sde_traits<TestType>::eps;
    options.seed = 99;
    const auto result = sgm::ode_sample(sde, guided, options, be);
    INFO("NFE " << result.nfe);
    check_component(result.samples.to_host(be), sample_count, label);
}

TEST_CASE("guidance rejects bad labels, label counts and scales", "[control][guidance][errors]") {
    const auto& t = mixture_2d_target();
    const backend be;
    const sgm::vp_sde<double> sde;
    exact_score<sgm::vp_sde<double>> model(t.mixture, sde, be), guide(t.mixture, sde, be);
    sgm::guided_score guided(model, guide, 1.0, be);
    CHECK(guided.classes() == 3);
    CHECK_THROWS_WITH(guided.set_label(3, 4), Catch::Contains("label[0] = 3") && Catch::Contains("[0, 3)"));
    CHECK_THROWS_WITH(guided.set_scale(std::nan("")), Catch::Contains("guidance scale = nan"));
    CHECK_THROWS_WITH(guided.set_scale(-1), Catch::Contains("guidance scale = -1"));
    CHECK_THROWS_WITH(sgm::guided_score(model, guide, INFINITY, be), Catch::Contains("guidance scale = inf"));
    std::vector<double> x(8, 0.5), times(4, 0.5), out(8);
    CHECK_THROWS_WITH(guided.score({x.data(), 4, 2}, times.data(), {out.data(), 4, 2}),
                      Catch::Contains("4 samples but 0 labels"));
    guided.set_label(1, 3);
    CHECK_THROWS_WITH(guided.score({x.data(), 4, 2}, times.data(), {out.data(), 4, 2}),
                      Catch::Contains("4 samples but 3 labels"));
    const std::vector<std::size_t> labels{0, 1, 7, 2};
    CHECK_THROWS_WITH(guide.log_prob_gradient({x.data(), 4, 2}, times.data(), labels, {out.data(), 4, 2}),
                      Catch::Contains("label[2] = 7"));
}
