// Softmax cross-entropy: value against a direct formula, dlogits against finite
// differences, stability for huge logits, accuracy counting, and bad labels.

#include <catch2/catch.hpp>

#include <sgm/train/cross_entropy.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "support/finite_difference.hpp"
#include "support/gradient_check.hpp"

TEST_CASE("cross_entropy: loss and gradient match the formula and finite differences", "[train][cross_entropy]") {
    const std::size_t n = 4, k = 5;
    const std::vector<double> z = sgm::test::random_vector(n * k, 31, 2.0);
    const std::vector<int> labels{0, 4, 2, 2};
    std::vector<double> grad(n * k);
    const auto r = sgm::train::cross_entropy<double>(z.data(), labels, grad.data(), n, k);

    double expected = 0;
    for (std::size_t b = 0; b < n; ++b) {
        double sum = 0;
        for (std::size_t c = 0; c < k; ++c) sum += std::exp(z[b * k + c]);
        expected -= z[b * k + std::size_t(labels[b])] - std::log(sum);
    }
    CHECK(r.loss == Approx(expected / double(n)).epsilon(1e-14));

    const auto loss = [&](const std::vector<double>& v) {
        return sgm::train::cross_entropy<double>(v.data(), labels, nullptr, n, k).loss;
    };
    const auto fd = sgm::test::central_gradient(loss, z, 1e-6);
    for (std::size_t i = 0; i < z.size(); ++i) CHECK(grad[i] == Approx(fd[i]).margin(1e-9));
    // Each row of the gradient sums to 0 (softmax minus a one-hot, over n).
    for (std::size_t b = 0; b < n; ++b) {
        double s = 0;
        for (std::size_t c = 0; c < k; ++c) s += grad[b * k + c];
        CHECK(std::abs(s) < 1e-15);
    }
}

TEST_CASE("cross_entropy: huge logits stay finite and exact", "[train][cross_entropy]") {
    // exp(1000) overflows; the shifted form does not. Row 0: the label wins by 10.
    const std::vector<float> z{1000, 990, -1000, 5e30f, 5e30f, 0};
    const std::vector<int> labels{0, 2};
    std::vector<float> grad(6);
    const auto r = sgm::train::cross_entropy<float>(z.data(), labels, grad.data(), 2, 3);
    REQUIRE(std::isfinite(r.loss));
    // Row 0: −log p0 = log(1 + e^−10 + e^−2000); row 1: −log p2 = 5e30 + log 2.
    const double row0 = std::log1p(std::exp(-10.0));
    const double row1 = double(5e30f) + std::log(2.0);
    CHECK(r.loss == Approx((row0 + row1) / 2).epsilon(1e-6));
    for (const float g : grad) REQUIRE(std::isfinite(g));
    CHECK(grad[1] == Approx(std::exp(-10.0) / (1 + std::exp(-10.0)) / 2).epsilon(1e-5));
    CHECK(grad[5] == Approx(-0.5).epsilon(1e-6));
    CHECK(r.correct == 1);

    std::vector<double> logp(6), p(6);
    sgm::train::log_softmax(z.data(), logp.data(), 2, 3);
    sgm::train::softmax(z.data(), p.data(), 2, 3);
    CHECK(logp[0] == Approx(-row0).epsilon(1e-9));
    CHECK(logp[2] == Approx(-2000 - row0).epsilon(1e-9));
    CHECK(p[3] == Approx(0.5).epsilon(1e-12));
    CHECK(p[5] == 0.0);
    // In place.
    std::vector<float> same = z;
    sgm::train::softmax(same.data(), same.data(), 2, 3);
    CHECK(same[3] == Approx(0.5f));
}

TEST_CASE("cross_entropy: bad labels and non-finite logits are errors", "[train][cross_entropy]") {
    const std::vector<double> z{0.1, 0.2, 0.3, 0.4};
    const std::vector<int> bad{0, 2};
    REQUIRE_THROWS_WITH(sgm::train::cross_entropy<double>(z.data(), bad, nullptr, 2, 2),
                        Catch::Contains("label[1] = 2"));
    const std::vector<int> negative{-1, 0};
    REQUIRE_THROWS_WITH(sgm::train::cross_entropy<double>(z.data(), negative, nullptr, 2, 2),
                        Catch::Contains("label[0] = -1"));
    const std::vector<int> one{0};
    REQUIRE_THROWS_WITH(sgm::train::cross_entropy<double>(z.data(), one, nullptr, 2, 2),
                        Catch::Contains("1 labels for 2 rows"));
    std::vector<double> nan = z;
    nan[1] = std::numeric_limits<double>::quiet_NaN();
    const std::vector<int> ok{0, 1};
    REQUIRE_THROWS_WITH(sgm::train::cross_entropy<double>(nan.data(), ok, nullptr, 2, 2), Catch::Contains("finite"));
}
