// The Fréchet distance between Gaussian fits: closed forms (1-D, commuting
// diagonal covariances), symmetry, rotation invariance, a non-commuting case
// against the eigenvalues of Σa Σb, zero for a fit and itself, the fit's
// unbiased covariance, and errors for bad input.

#include <catch2/catch.hpp>

#include <sgm/eval/frechet.hpp>
#include <sgm/random/philox_normal.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

namespace {

sgm::eval::gaussian_fit make_fit(Eigen::VectorXd mean, Eigen::MatrixXd covariance) {
    sgm::eval::gaussian_fit f;
    f.mean = std::move(mean);
    f.covariance = std::move(covariance);
    f.count = 100;
    return f;
}

// A random symmetric positive definite matrix A Aᵀ + 0.1 I.
Eigen::MatrixXd random_spd(std::size_t d, std::uint64_t seed) {
    Eigen::MatrixXd a(d, d);
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j)
            a(Eigen::Index(i), Eigen::Index(j)) = sgm::random::normal<double>(seed, i, 0, j);
    return a * a.transpose() + 0.1 * Eigen::MatrixXd::Identity(Eigen::Index(d), Eigen::Index(d));
}

Eigen::VectorXd random_vector(std::size_t d, std::uint64_t seed) {
    Eigen::VectorXd v(static_cast<Eigen::Index>(d));
    for (std::size_t i = 0; i < d; ++i) v(Eigen::Index(i)) = sgm::random::normal<double>(seed, 0, 1, i);
    return v;
}

// tr (Σa Σb)^{1/2} from the (real, non-negative) eigenvalues of the non-symmetric Σa Σb.
double trace_sqrt_of_product(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    Eigen::EigenSolver<Eigen::MatrixXd> eig(a * b);
    double sum = 0;
    for (Eigen::Index i = 0; i < eig.eigenvalues().size(); ++i) {
        REQUIRE(std::abs(eig.eigenvalues()(i).imag()) < 1e-8 * std::abs(eig.eigenvalues()(i).real()) + 1e-12);
        sum += std::sqrt(std::max(0.0, eig.eigenvalues()(i).real()));
    }
    return sum;
}

}  // namespace

TEST_CASE("frechet: 1-D Gaussians give (mu1 - mu2)^2 + (sigma1 - sigma2)^2", "[unit][frechet]") {
    for (const auto& [m1, s1, m2, s2] : std::vector<std::array<double, 4>>{
             {0, 1, 0, 1}, {1.5, 0.3, -2, 2.5}, {0, 4, 3, 0.01}, {-7, 1e-3, -7, 10}}) {
        const auto a = make_fit(Eigen::VectorXd::Constant(1, m1), Eigen::MatrixXd::Constant(1, 1, s1 * s1));
        const auto b = make_fit(Eigen::VectorXd::Constant(1, m2), Eigen::MatrixXd::Constant(1, 1, s2 * s2));
        const double expected = (m1 - m2) * (m1 - m2) + (s1 - s2) * (s1 - s2);
        CHECK(sgm::eval::frechet_distance(a, b) == Approx(expected).epsilon(1e-12).margin(1e-12));
    }
}

TEST_CASE("frechet: diagonal covariances commute and give a sum over coordinates", "[unit][frechet]") {
    const Eigen::VectorXd va = (Eigen::VectorXd(4) << 1, 0.25, 9, 2).finished();
    const Eigen::VectorXd vb = (Eigen::VectorXd(4) << 4, 0.25, 1, 0.5).finished();
    const Eigen::VectorXd ma = (Eigen::VectorXd(4) << 0, 1, 2, 3).finished();
    const Eigen::VectorXd mb = (Eigen::VectorXd(4) << 1, 1, -2, 3.5).finished();
    const auto a = make_fit(ma, va.asDiagonal());
    const auto b = make_fit(mb, vb.asDiagonal());
    double expected = (ma - mb).squaredNorm();
    for (Eigen::Index i = 0; i < 4; ++i) expected += std::pow(std::sqrt(va(i)) - std::sqrt(vb(i)), 2);
    CHECK(sgm::eval::frechet_distance(a, b) == Approx(expected).epsilon(1e-12));
}

TEST_CASE("frechet: a non-commuting case matches the eigenvalues of Sigma_a Sigma_b", "[unit][frechet]") {
    const std::size_t d = 12;
    const auto a = make_fit(random_vector(d, 1), random_spd(d, 2));
    const auto b = make_fit(random_vector(d, 3), random_spd(d, 4));
    REQUIRE(((a.covariance * b.covariance) - (b.covariance * a.covariance)).norm() > 1.0);  // they do not commute
    const double expected = (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() -
                            2 * trace_sqrt_of_product(a.covariance, b.covariance);
    const double fd = sgm::eval::frechet_distance(a, b);
    CHECK(fd == Approx(expected).epsilon(1e-9));
    SECTION("symmetric in its arguments") { CHECK(sgm::eval::frechet_distance(b, a) == Approx(fd).epsilon(1e-10)); }
    SECTION("invariant under a rotation of the feature space") {
        const Eigen::HouseholderQR<Eigen::MatrixXd> qr(random_spd(d, 5));
        const Eigen::MatrixXd q = qr.householderQ();
        const auto ra = make_fit(q * a.mean, q * a.covariance * q.transpose());
        const auto rb = make_fit(q * b.mean, q * b.covariance * q.transpose());
        CHECK(sgm::eval::frechet_distance(ra, rb) == Approx(fd).epsilon(1e-9));
    }
}

TEST_CASE("frechet: a fit and itself are at distance 0, a shifted copy at the squared shift", "[unit][frechet]") {
    const std::size_t d = 20;
    const auto a = make_fit(random_vector(d, 7), random_spd(d, 8));
    const double scale = a.covariance.trace();
    CHECK(sgm::eval::frechet_distance(a, a) <= 1e-10 * scale);
    // A singular covariance (rank 3 of 20): clipped eigenvalues keep it finite and 0.
    Eigen::MatrixXd low = Eigen::MatrixXd::Zero(Eigen::Index(d), 3);
    for (Eigen::Index i = 0; i < low.size(); ++i) low(i) = std::sin(0.7 * double(i));
    const auto s = make_fit(Eigen::VectorXd::Zero(Eigen::Index(d)), low * low.transpose());
    CHECK(sgm::eval::frechet_distance(s, s) <= 1e-10 * s.covariance.trace());
    auto shifted = a;
    shifted.mean += random_vector(d, 9);
    CHECK(sgm::eval::frechet_distance(a, shifted) == Approx((shifted.mean - a.mean).squaredNorm()).epsilon(1e-9));
}

TEST_CASE("fit_gaussian: mean and unbiased covariance", "[unit][frechet]") {
    // Rows (1, 2), (3, 0), (5, 4): mean (3, 2); deviations (-2, 0), (0, -2), (2, 2).
    const std::vector<float> x{1, 2, 3, 0, 5, 4};
    const auto f = sgm::eval::fit_gaussian<float>(x, 3, 2);
    CHECK(f.count == 3);
    CHECK(f.dim() == 2);
    CHECK(f.mean(0) == 3);
    CHECK(f.mean(1) == 2);
    CHECK(f.covariance(0, 0) == Approx(8.0 / 2));
    CHECK(f.covariance(1, 1) == Approx(8.0 / 2));
    CHECK(f.covariance(0, 1) == Approx(4.0 / 2));
    CHECK(f.covariance(1, 0) == f.covariance(0, 1));
}

TEST_CASE("fit_gaussian and frechet_distance: bad input is an error naming it", "[unit][frechet]") {
    const std::vector<double> one{1, 2};
    REQUIRE_THROWS_WITH(sgm::eval::fit_gaussian<double>(one, 1, 2), Catch::Contains("at least 2"));
    const std::vector<double> x{1, 2, 3, 4, 5, 6};
    REQUIRE_THROWS_WITH(sgm::eval::fit_gaussian<double>(x, 2, 2), Catch::Contains("expected 4"));
    REQUIRE_THROWS_WITH(sgm::eval::fit_gaussian<double>(x, 6, 0), Catch::Contains("dimension is 0"));
    std::vector<double> bad = x;
    bad[3] = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_WITH(sgm::eval::fit_gaussian<double>(bad, 3, 2), Catch::Contains("feature [1, 1]"));
    bad[3] = std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_WITH(sgm::eval::fit_gaussian<double>(bad, 3, 2), Catch::Contains("finite"));

    const auto a = sgm::eval::fit_gaussian<double>(x, 3, 2);
    const auto b = sgm::eval::fit_gaussian<double>(x, 2, 3);
    REQUIRE_THROWS_WITH(sgm::eval::frechet_distance(a, b), Catch::Contains("2 and 3 features"));
    auto broken = a;
    broken.covariance.resize(3, 3);
    REQUIRE_THROWS_WITH(sgm::eval::frechet_distance(a, broken), Catch::Contains("3×3 covariance"));
    broken = a;
    broken.mean(0) = std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_WITH(sgm::eval::frechet_distance(broken, a), Catch::Contains("non-finite"));
    REQUIRE_THROWS_WITH(sgm::eval::frechet_distance(sgm::eval::gaussian_fit{}, a), Catch::Contains("empty"));
}
