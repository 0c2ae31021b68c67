// gaussian_mixture: moments and exact sampling.

#include <catch2/catch.hpp>

#include "support/reference_mixture.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

#include <sgm/score/gaussian_mixture.hpp>

namespace {

using sgm::test::three_full;

}  // namespace

TEST_CASE("gaussian_mixture mean and covariance follow the law of total covariance", "[mixture]") {
    // 1-d: weights (1/4, 3/4), means (−2, 2), variances (1, 4).
    const sgm::gaussian_mixture<double> g({0.25, 0.75}, {-2, 2}, {1, 4});
    REQUIRE(g.dim() == 1);
    REQUIRE(g.components() == 2);
    const double mean = 0.25 * -2 + 0.75 * 2;
    const double var = 0.25 * (1 + (-2 - mean) * (-2 - mean)) + 0.75 * (4 + (2 - mean) * (2 - mean));
    CHECK(g.mean()[0] == Approx(mean).epsilon(1e-15));
    CHECK(g.covariance()[0] == Approx(var).epsilon(1e-15));
}

TEST_CASE("gaussian_mixture's eigendecomposition reproduces each covariance", "[mixture]") {
    const auto g = three_full();
    const std::size_t d = g.dim();
    for (std::size_t c = 0; c < g.components(); ++c)
        for (std::size_t i = 0; i < d; ++i)
            for (std::size_t j = 0; j < d; ++j) {
                double v = 0;
                for (std::size_t l = 0; l < d; ++l)
                    v += g.eigenvectors()[(c * d + i) * d + l] * g.eigenvalues()[c * d + l] *
                         g.eigenvectors()[(c * d + j) * d + l];
                CHECK(v == Approx(g.covariances()[(c * d + i) * d + j]).margin(1e-12));
            }
}

TEST_CASE("gaussian_mixture::sample has the mixture's mean and covariance", "[mixture]") {
    const auto g = three_full();
    const std::size_t n = 20000, d = g.dim();
    const auto x = g.sample(n, 5);
    REQUIRE(x.size() == n * d);
    const auto mean = g.mean(), cov = g.covariance();

    std::vector<double> m(d, 0.0);
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t i = 0; i < d; ++i) m[i] += x[s * d + i] / double(n);
    for (std::size_t i = 0; i < d; ++i) {
        CAPTURE(i);
        CHECK(std::abs(m[i] - mean[i]) < 5 * std::sqrt(cov[i * d + i] / double(n)));
    }
    // Each sample covariance entry is a mean of p = (x_i − m_i)(x_j − m_j): its
    // standard error is sd(p) / sqrt(n), estimated from the same samples.
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            double sum = 0, sum_sq = 0;
            for (std::size_t s = 0; s < n; ++s) {
                const double p = (x[s * d + i] - m[i]) * (x[s * d + j] - m[j]);
                sum += p, sum_sq += p * p;
            }
            const double c = sum / double(n);
            const double se = std::sqrt((sum_sq / double(n) - c * c) / double(n));
            CAPTURE(i, j, c, cov[i * d + j], se);
            CHECK(std::abs(c - cov[i * d + j]) < 5 * se);
        }
}

TEST_CASE("gaussian_mixture::sample is a pure function of seed and sample index", "[mixture]") {
    const auto g = three_full();
    const auto a = g.sample(10, 3), b = g.sample(25, 3), c = g.sample(10, 4);
    CHECK(std::equal(a.begin(), a.end(), b.begin()));
    CHECK(a != c);
}
