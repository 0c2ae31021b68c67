// bits/dim of dequantized 8-bit data: the dequantized points lie in their level's
// cube; bits/dim is the change-of-variables formula applied to the ODE likelihood;
// and for data on a single level under its best Gaussian model it equals the
// analytic cross-entropy (≈ 0.25 bits, positive) for both common data ranges.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/likelihood/bits_per_dim.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/vp.hpp>

#include "likelihood_fixtures.hpp"

namespace {

using serial = sgm::serial_backend<double>;
using data_batch = sgm::batch<serial>;

}  // namespace

TEST_CASE("dequantize puts every value inside its level's cell of the model range", "[likelihood][bpd]") {
    const std::vector<double> levels = {0, 255, 17, 128, 3, 200};
    const auto q = data_batch::from_host(levels, 2, 3);
    sgm::bits_per_dim_options o;
    o.data_lower = -1;
    o.data_upper = 1;
    const double width = 2.0 / 256;
    const auto a = sgm::dequantize(q, 0, o).to_host(), b = sgm::dequantize(q, 1, o).to_host();
    const auto a_again = sgm::dequantize(q, 0, o).to_host();
    for (std::size_t i = 0; i < levels.size(); ++i) {
        CAPTURE(i, a[i]);
        CHECK(a[i] > -1 + width * levels[i]);
        CHECK(a[i] < -1 + width * (levels[i] + 1));
        CHECK(a[i] != b[i]);
        CHECK(a[i] == a_again[i]);
    }
}

TEST_CASE("bits/dim is the change of variables applied to the ODE log-likelihood", "[likelihood][bpd]") {
    // A 2-D mixture in the model range [−1, 1]; VP with β_max = 40 so that p_T is the
    // prior and the exact-trace ODE log p is the analytic density (see the exact tests).
    const sgm::gaussian_mixture<double> mixture({0.6, 0.4}, {-0.3, 0.2, 0.4, -0.1},
                                                {0.04, 0.01, 0.01, 0.03, 0.02, 0, 0, 0.05});
    const sgm::vp_sde<double> sde(0.1, 40);
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(mixture, sde);
    const std::vector<double> levels = {90, 153, 140, 120, 101, 99, 180, 140};
    const auto q = data_batch::from_host(levels, 4, 2);
    sgm::bits_per_dim_options o;
    o.likelihood.divergence = sgm::divergence_estimator::exact;
    o.data_lower = -1;
    o.data_upper = 1;
    o.dequantization_draws = 3;
    const auto result = sgm::bits_per_dim(sde, model, q, o);
    CHECK(result.offset_bits == Approx(7.0).epsilon(1e-15));

    // The same points, the analytic density: bpd = −log p / (D ln 2) + 7.
    std::vector<double> expected(4, 0.0), t(4, o.likelihood.eps);
    for (std::size_t j = 0; j < 3; ++j) {
        const auto y = sgm::dequantize(q, j, o);
        std::vector<double> log_p(4);
        model.log_density(y.view(), t.data(), log_p.data());
        for (std::size_t b = 0; b < 4; ++b) expected[b] += (-log_p[b] / (2 * std::numbers::ln2) + 7) / 3;
    }
    for (std::size_t b = 0; b < 4; ++b) {
        CAPTURE(b, result.bits_per_dim[b], expected[b], result.std_error[b]);
        // 1e-3 nats of ODE error is 7.2e-4 bits per dimension in 2-D.
        CHECK(std::abs(result.bits_per_dim[b] - expected[b]) < 1e-3 / (2 * std::numbers::ln2));
        CHECK(result.std_error[b] > 0);  // spread over three draws
    }
    double mean = 0;
    for (double v : result.bits_per_dim) mean += v / 4;
    CHECK(result.mean == Approx(mean).epsilon(1e-14));
    CHECK(result.nfe > 0);
}

namespace {

// Data on one level q in every coordinate; the model is the Gaussian that fits the
// dequantized data: mean at the cell centre, variance (cell width)²/12. Under VP the
// ODE returns the density at eps, N(m μ, m² v + s²) with m, s at eps; the expected
// bits/dim is the cross-entropy of the uniform cell under it, in closed form.
void check_single_level(double lower, double upper, double expected_offset) {
    const std::size_t d = 4, count = 12, level = 100;
    const double width = (upper - lower) / 256, centre = lower + width * (double(level) + 0.5);
    const double variance = width * width / 12;
    const auto gaussian =
        sgm::gaussian_mixture<double>::diagonal_gaussian(std::vector<double>(d, centre), std::vector<double>(d, variance));
    const sgm::vp_sde<double> sde(0.1, 40);
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(gaussian, sde);
    const auto q = data_batch::from_host(std::vector<double>(count * d, double(level)), count, d);
    sgm::bits_per_dim_options o;
    o.likelihood.divergence = sgm::divergence_estimator::exact;
    o.data_lower = lower;
    o.data_upper = upper;
    o.dequantization_draws = 16;
    const auto result = sgm::bits_per_dim(sde, model, q, o);
    CHECK(result.offset_bits == Approx(expected_offset).epsilon(1e-15));

    // E[−log N(y; mμ, v_t)] = ½ log(2π v_t) + (Var y + (E y − mμ)²) / (2 v_t), per dimension.
    const double eps = o.likelihood.eps, m = sde.mean_coefficient(eps), s = sde.marginal_std(eps);
    const double v_t = m * m * variance + s * s;
    const double bias = centre - m * centre;
    const double nats = 0.5 * std::log(2 * std::numbers::pi * v_t) + (variance + bias * bias) / (2 * v_t);
    const double expected = nats / std::numbers::ln2 + expected_offset;
    CAPTURE(lower, upper, result.mean, result.mean_std_error, expected, result.nfe);
    // With s(eps) → 0 this is ½ log₂(2πe/12) = 0.2546 bits: positive.
    CHECK(expected > 0.25);
    CHECK(result.mean > 0);
    CHECK(std::abs(result.mean - expected) < 5 * result.mean_std_error);
}

}  // namespace

TEST_CASE("bits/dim of single-level data equals the analytic cross-entropy", "[likelihood][bpd]") {
    SECTION("data range [0, 1]: offset 8 bits") { check_single_level(0, 1, 8); }
    SECTION("data range [-1, 1]: offset 7 bits") { check_single_level(-1, 1, 7); }
    SECTION("data range [0, 256]: no offset") { check_single_level(0, 256, 0); }
}
