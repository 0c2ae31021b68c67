// The probability-flow likelihood with the exact divergence matches the analytic
// log-density of a Gaussian mixture perturbed to t = eps, for VE, VP, sub-VP and a
// user SDE, at points of high and low density; encode from the likelihood solve
// decodes back to the data.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/likelihood/log_likelihood.hpp>
#include <sgm/sample/ode_sampler.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

#include "likelihood_fixtures.hpp"

namespace {

using serial = sgm::serial_backend<double>;
using data_batch = sgm::batch<serial>;

struct exact_run {
    std::vector<double> log_p, expected;
    std::vector<double> log_p_T;  // the true density of the latent at T (not the prior)
    sgm::likelihood_result<serial> result;
};

// ODE log p with the exact trace against mixture_score::log_density at eps.
template <class SDE>
exact_run run_exact(const sgm::gaussian_mixture<double>& mixture, const SDE& sde, const std::vector<double>& points,
                    double rtol = 1e-5, sgm::odeint::error_norm norm = sgm::odeint::error_norm::max) {
    sgm::mixture_score<serial, SDE> model(mixture, sde);
    const std::size_t d = mixture.dim(), n = points.size() / d;
    const auto x = data_batch::from_host(points, n, d);
    sgm::likelihood_options options;
    options.divergence = sgm::divergence_estimator::exact;
    options.rtol = options.atol = rtol;
    options.error_norm = norm;
    auto result = sgm::log_likelihood(sde, model, x, options);
    std::vector<double> expected(n), t(n, options.eps), log_p_T(n), T(n, sde.T());
    model.log_density(x.view(), t.data(), expected.data());
    model.log_density(result.latent.view(), T.data(), log_p_T.data());
    return {result.log_p, expected, log_p_T, std::move(result)};
}

// The ODE computes log p_eps(x) = log p_T(z) + ∫ ∇·F dt, then substitutes the prior
// for the unknown p_T. Two claims, checked separately:
//  - flow: ∫ ∇·F dt (delta_log_p) is exact: with the true log p_T(z) added it gives
//    the analytic log p_eps(x) within 1e-3 nats, whatever the prior mismatch;
//  - full: where the SDE makes p_T equal to the prior (mismatch below 1e-4 at every
//    point, required first), log_p itself is within 1e-3 nats.
enum class claim { flow, full };

template <class SDE>
void check_exact(const sgm::gaussian_mixture<double>& mixture, const SDE& sde, const sgm::test::named_points& p,
                 claim what, double rtol = 1e-5) {
    const auto run = run_exact(mixture, sde, p.values, rtol);
    for (std::size_t i = 0; i < p.names.size(); ++i) {
        const double flow_part = run.result.delta_log_p[i] + run.log_p_T[i];
        const double prior_mismatch = run.result.prior_log_p[i] - run.log_p_T[i];
        CAPTURE(p.names[i], run.log_p[i], run.expected[i], flow_part, prior_mismatch, run.result.nfe);
        CHECK(run.result.std_error[i] == 0.0);
        CHECK(run.result.log_p[i] == run.result.prior_log_p[i] + run.result.delta_log_p[i]);
        if (what == claim::flow) {
            CHECK(std::abs(flow_part - run.expected[i]) < 1e-3);
        } else {
            REQUIRE(std::abs(prior_mismatch) < 1e-4);
            CHECK(std::abs(run.log_p[i] - run.expected[i]) < 1e-3);
        }
    }
}

}  // namespace

TEST_CASE("the probability-flow integral gives the 2-D mixture density within 1e-3 nats", "[likelihood]") {
    const auto mixture = sgm::test::mixture_2d_three();
    const auto points = sgm::test::points_2d();
    // VE's far-tail point, solved alone at the default rtol 1e-5, is off by 1.3e-3
    // nats (solver error in the accumulated divergence, whose local error bound is
    // rtol·|a| ≈ 2e-4 per step); 1e-6 brings every point below 1e-3.
    SECTION("VE") { check_exact(mixture, sgm::ve_sde<double>(0.01, 50), points, claim::flow, 1e-6); }
    SECTION("VP") { check_exact(mixture, sgm::vp_sde<double>(), points, claim::flow); }
    SECTION("sub-VP") { check_exact(mixture, sgm::sub_vp_sde<double>(), points, claim::flow); }
    SECTION("user SDE, affine drift") { check_exact(mixture, sgm::test::constant_rate_vp{}, points, claim::flow); }
    SECTION("user SDE, declared drift derivative") {
        check_exact(mixture, sgm::test::constant_rate_vp_with_derivative{}, points, claim::flow);
    }
}

TEST_CASE("the probability-flow integral gives the 16-d Gaussian density within 1e-3 nats", "[likelihood]") {
    const auto gaussian = sgm::test::gaussian_16d();
    const auto points = sgm::test::points_16d();
    SECTION("VE") { check_exact(gaussian, sgm::ve_sde<double>(0.01, 50), points, claim::flow); }
    SECTION("VP") { check_exact(gaussian, sgm::vp_sde<double>(), points, claim::flow); }
    SECTION("sub-VP") { check_exact(gaussian, sgm::sub_vp_sde<double>(), points, claim::flow); }
}

TEST_CASE("exact-trace ODE log p equals the analytic density when the prior is p_T", "[likelihood]") {
    // β_max = 40 puts m(T) at e^-10 and VP/sub-VP's p_T within 1e-5 of the prior;
    // VE needs σ_max far above the data's spread. Its wide time range makes the
    // accumulated divergence the largest term, so VE runs at rtol 1e-6 (at 1e-5
    // the far-tail point is off by 1.8e-3, all solver error).
    const auto mixture = sgm::test::mixture_2d_three();
    const auto gaussian = sgm::test::gaussian_16d();
    SECTION("VE, 2-D") { check_exact(mixture, sgm::ve_sde<double>(0.01, 5000), sgm::test::points_2d(), claim::full, 1e-6); }
    SECTION("VE, 16-d") { check_exact(gaussian, sgm::ve_sde<double>(0.01, 20000), sgm::test::points_16d(), claim::full, 1e-6); }
    SECTION("VP, 2-D") { check_exact(mixture, sgm::vp_sde<double>(0.1, 40), sgm::test::points_2d(), claim::full); }
    SECTION("VP, 16-d") { check_exact(gaussian, sgm::vp_sde<double>(0.1, 40), sgm::test::points_16d(), claim::full); }
    SECTION("sub-VP, 2-D") { check_exact(mixture, sgm::sub_vp_sde<double>(0.1, 40), sgm::test::points_2d(), claim::full); }
    SECTION("sub-VP, 16-d") {
        check_exact(gaussian, sgm::sub_vp_sde<double>(0.1, 40), sgm::test::points_16d(), claim::full);
    }
}

TEST_CASE("the error of ODE log p falls with the solver tolerance", "[likelihood]") {
    // A loose tolerance must be visibly worse than the default; otherwise the 1e-3
    // agreement above would say nothing about the solve.
    const auto gaussian = sgm::test::gaussian_16d();
    const auto points = sgm::test::points_16d().values;
    const sgm::vp_sde<double> sde;
    double loose = 0, tight = 0;
    const auto a = run_exact(gaussian, sde, points, 1e-2), b = run_exact(gaussian, sde, points, 1e-6);
    // The solver's part only: the prior mismatch does not depend on the tolerance.
    const auto flow_error = [](const exact_run& r, std::size_t i) {
        return std::abs(r.result.delta_log_p[i] + r.log_p_T[i] - r.expected[i]);
    };
    for (std::size_t i = 0; i < a.log_p.size(); ++i) {
        loose = std::max(loose, flow_error(a, i));
        tight = std::max(tight, flow_error(b, i));
    }
    CAPTURE(loose, tight, a.result.nfe, b.result.nfe);
    CHECK(tight < 1e-4);
    CHECK(loose > 10 * tight);
    CHECK(b.result.nfe > a.result.nfe);
}

TEST_CASE("the latent of the likelihood solve decodes back to the data", "[likelihood]") {
    // Points of moderate density: between two modes the reverse flow separates
    // nearby latents exponentially, so decoding there is ill-conditioned.
    const auto mixture = sgm::test::mixture_2d_three();
    const std::vector<double> points = {0.35, 3.0, 3.8, -3.0, 1.0, 2.2, -2.5, -3.6, 4.2, -2.1};
    const sgm::vp_sde<double> sde;
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(mixture, sde);
    const auto x = data_batch::from_host(points, points.size() / 2, 2);
    sgm::likelihood_options options;
    options.divergence = sgm::divergence_estimator::exact;
    auto result = sgm::log_likelihood(sde, model, x, options);

    // The latent is the ODE encoding: the same as ode_encode from the same eps.
    data_batch encoded = x;
    sgm::ode_options ode;
    ode.eps = options.eps;
    sgm::ode_encode(sde, model, encoded, ode);
    const auto z = result.latent.to_host(), z_ode = encoded.to_host();
    // Two adaptive solves with their own step sequences: agreement to ~rtol.
    for (std::size_t i = 0; i < z.size(); ++i) CHECK(z[i] == Approx(z_ode[i]).epsilon(1e-4).margin(1e-4));

    sgm::ode_decode(sde, model, result.latent, ode);
    const auto back = result.latent.to_host();
    for (std::size_t i = 0; i < points.size(); ++i) {
        CAPTURE(i);
        CHECK(back[i] == Approx(points[i]).margin(1e-4));
    }
}

TEST_CASE("a sample's log p does not depend on its batch unless coupled step control is asked for", "[likelihood]") {
    const auto mixture = sgm::test::mixture_2d_three();
    const auto points = sgm::test::points_2d().values;
    const sgm::vp_sde<double> sde;
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(mixture, sde);
    const std::size_t n = points.size() / 2;
    const auto batch = data_batch::from_host(points, n, 2);
    for (const auto estimator : {sgm::divergence_estimator::exact, sgm::divergence_estimator::rademacher}) {
        sgm::likelihood_options o;
        o.divergence = estimator;
        o.probes = 2;
        o.seed = 9;
        const auto together = sgm::log_likelihood(sde, model, batch, o);
        std::size_t nfe = 0;
        for (std::size_t b = 0; b < n; ++b) {
            sgm::likelihood_options alone_options = o;
            alone_options.first_sample = b;  // the same global index, hence the same probes
            const auto alone = sgm::log_likelihood(
                sde, model, data_batch::from_host(std::vector<double>(points.begin() + 2 * b, points.begin() + 2 * b + 2), 1, 2),
                alone_options);
            CAPTURE(int(estimator), b);
            CHECK(alone.log_p[0] == together.log_p[b]);
            CHECK((alone.std_error[0] == together.std_error[b] || std::isnan(alone.std_error[0])));
            nfe += alone.nfe;
        }
        CHECK(together.nfe == nfe);  // totals over the per-sample solves

        // One solve for the batch: one step size, the same answer within the tolerance.
        o.coupled_step_control = true;
        const auto coupled = sgm::log_likelihood(sde, model, batch, o);
        for (std::size_t b = 0; b < n; ++b) CHECK(coupled.log_p[b] == Approx(together.log_p[b]).margin(1e-3));
    }
}

TEST_CASE("the RMS error norm takes fewer steps and keeps the density within 1e-3 nats", "[likelihood]") {
    // scipy's norm (the paper's): the step's error is bounded in root mean square over
    // the state [x | ∫∇·F] instead of in every value.
    const auto gaussian = sgm::test::gaussian_16d();
    const auto points = sgm::test::points_16d().values;
    const auto flow_error = [](const exact_run& r, std::size_t i) {
        return std::abs(r.result.delta_log_p[i] + r.log_p_T[i] - r.expected[i]);
    };
    const auto check_sde = [&](const auto& sde) {
        const auto max = run_exact(gaussian, sde, points, 1e-5, sgm::odeint::error_norm::max);
        const auto rms = run_exact(gaussian, sde, points, 1e-5, sgm::odeint::error_norm::rms);
        double worst = 0;
        for (std::size_t i = 0; i < rms.log_p.size(); ++i) worst = std::max(worst, flow_error(rms, i));
        CAPTURE(worst, max.result.nfe, rms.result.nfe);
        CHECK(worst < 1e-3);
        CHECK(rms.result.nfe < max.result.nfe);
    };
    SECTION("VE") { check_sde(sgm::ve_sde<double>(0.01, 50)); }
    SECTION("VP") { check_sde(sgm::vp_sde<double>()); }
    SECTION("sub-VP") { check_sde(sgm::sub_vp_sde<double>()); }
}
