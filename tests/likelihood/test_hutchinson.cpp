// Hutchinson–Skilling divergence estimates: unbiased for Rademacher and Gaussian
// probes (the mean over many probes agrees with the exact trace within 5 standard
// errors), with a reported standard error that matches the spread over repeated
// solves, and probes that stay fixed within a solve (deterministic results).

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/likelihood/log_likelihood.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

#include "likelihood_fixtures.hpp"

namespace {

using serial = sgm::serial_backend<double>;
using data_batch = sgm::batch<serial>;

template <class SDE>
sgm::likelihood_result<serial> solve(const sgm::gaussian_mixture<double>& mixture, const SDE& sde,
                                     const std::vector<double>& points, sgm::divergence_estimator estimator,
                                     std::size_t probes, std::uint64_t seed, double rtol) {
    sgm::mixture_score<serial, SDE> model(mixture, sde);
    const auto x = data_batch::from_host(points, points.size() / mixture.dim(), mixture.dim());
    sgm::likelihood_options options;
    options.divergence = estimator;
    options.probes = probes;
    options.seed = seed;
    options.rtol = options.atol = rtol;
    return sgm::log_likelihood(sde, model, x, options);
}

// The mean over K probes of one solve against the exact trace, in units of the
// reported standard error. Tight solver tolerances keep the solver's own error
// (~1e-6 here) far below the standard errors (~1e-2).
template <class SDE>
void check_unbiased(const sgm::gaussian_mixture<double>& mixture, const SDE& sde, const sgm::test::named_points& p,
                    sgm::divergence_estimator estimator) {
    const double rtol = 1e-7;
    const auto exact = solve(mixture, sde, p.values, sgm::divergence_estimator::exact, 1, 0, rtol);
    const auto estimate = solve(mixture, sde, p.values, estimator, 400, 7, rtol);
    for (std::size_t i = 0; i < p.names.size(); ++i) {
        const double z = (estimate.log_p[i] - exact.log_p[i]) / estimate.std_error[i];
        CAPTURE(p.names[i], exact.log_p[i], estimate.log_p[i], estimate.std_error[i], z);
        REQUIRE(estimate.std_error[i] > 0);
        CHECK(std::abs(z) < 5);
        // The latent does not depend on the divergence estimator.
        const auto za = exact.latent.to_host(), zb = estimate.latent.to_host();
        for (std::size_t j = 0; j < mixture.dim(); ++j)
            CHECK(zb[i * mixture.dim() + j] == Approx(za[i * mixture.dim() + j]).epsilon(1e-5).margin(1e-5));
    }
}

}  // namespace

TEST_CASE("Hutchinson estimates with Rademacher probes are unbiased", "[likelihood][hutchinson]") {
    SECTION("16-d Gaussian, VP") {
        check_unbiased(sgm::test::gaussian_16d(), sgm::vp_sde<double>(), sgm::test::points_16d(),
                       sgm::divergence_estimator::rademacher);
    }
    SECTION("2-D mixture, VE") {
        check_unbiased(sgm::test::mixture_2d_three(), sgm::ve_sde<double>(0.01, 50), sgm::test::points_2d(),
                       sgm::divergence_estimator::rademacher);
    }
}

TEST_CASE("Hutchinson estimates with Gaussian probes are unbiased", "[likelihood][hutchinson]") {
    SECTION("16-d Gaussian, sub-VP") {
        check_unbiased(sgm::test::gaussian_16d(), sgm::sub_vp_sde<double>(), sgm::test::points_16d(),
                       sgm::divergence_estimator::gaussian);
    }
    SECTION("2-D mixture, VP") {
        check_unbiased(sgm::test::mixture_2d_three(), sgm::vp_sde<double>(), sgm::test::points_2d(),
                       sgm::divergence_estimator::gaussian);
    }
}

TEST_CASE("the reported standard error matches the spread over repeated solves", "[likelihood][hutchinson]") {
    // 30 solves with 8 probes each and different seeds. The sample standard
    // deviation of 30 normal estimates has a relative standard error of
    // 1/sqrt(2·29) = 0.131; 5 of those bound the ratio to the reported error.
    const auto gaussian = sgm::test::gaussian_16d();
    const auto points = sgm::test::points_16d();
    const sgm::vp_sde<double> sde;
    const std::size_t solves = 30;
    for (const auto estimator : {sgm::divergence_estimator::rademacher, sgm::divergence_estimator::gaussian}) {
        std::vector<std::vector<double>> log_p(points.names.size());
        std::vector<double> reported(points.names.size(), 0.0);
        for (std::size_t s = 0; s < solves; ++s) {
            const auto r = solve(gaussian, sde, points.values, estimator, 8, 100 + s, 1e-6);
            for (std::size_t i = 0; i < points.names.size(); ++i) {
                log_p[i].push_back(r.log_p[i]);
                reported[i] += r.std_error[i] / double(solves);
            }
        }
        for (std::size_t i = 0; i < points.names.size(); ++i) {
            double mean = 0, ss = 0;
            for (double v : log_p[i]) mean += v / double(solves);
            for (double v : log_p[i]) ss += (v - mean) * (v - mean);
            const double spread = std::sqrt(ss / double(solves - 1));
            CAPTURE(int(estimator), points.names[i], spread, reported[i]);
            CHECK(std::abs(spread / reported[i] - 1) < 5 * 0.131);
        }
    }
}

TEST_CASE("Gaussian probes have a larger variance than Rademacher probes", "[likelihood][hutchinson]") {
    // For a symmetric J: Var(εᵀJε) = 2 Σ_{i≠j} J_ij² (Rademacher) and 2 Σ_ij J_ij²
    // (Gaussian). The score Jacobian of a Gaussian is −C_t⁻¹, whose diagonal dominates.
    const auto gaussian = sgm::test::gaussian_16d();
    const auto points = sgm::test::points_16d();
    const sgm::vp_sde<double> sde;
    const auto rad = solve(gaussian, sde, points.values, sgm::divergence_estimator::rademacher, 400, 3, 1e-6);
    const auto gau = solve(gaussian, sde, points.values, sgm::divergence_estimator::gaussian, 400, 3, 1e-6);
    for (std::size_t i = 0; i < points.names.size(); ++i) {
        CAPTURE(points.names[i], rad.std_error[i], gau.std_error[i]);
        CHECK(gau.std_error[i] > 1.5 * rad.std_error[i]);
    }
}

TEST_CASE("probes are fixed by the seed: the same seed gives the same numbers", "[likelihood][hutchinson]") {
    const auto mixture = sgm::test::mixture_2d_three();
    const auto points = sgm::test::points_2d().values;
    const sgm::vp_sde<double> sde;
    const auto a = solve(mixture, sde, points, sgm::divergence_estimator::rademacher, 3, 11, 1e-5);
    const auto b = solve(mixture, sde, points, sgm::divergence_estimator::rademacher, 3, 11, 1e-5);
    const auto c = solve(mixture, sde, points, sgm::divergence_estimator::rademacher, 3, 12, 1e-5);
    CHECK(a.log_p == b.log_p);
    CHECK(a.std_error == b.std_error);
    CHECK(a.log_p != c.log_p);
    // One probe: no spread to estimate the error from.
    const auto one = solve(mixture, sde, points, sgm::divergence_estimator::gaussian, 1, 11, 1e-5);
    CHECK(std::isnan(one.std_error[0]));
}
