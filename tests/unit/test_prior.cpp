// The prior N(0, prior_std² I): sampling and log-density.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/backend/tbb.hpp>
#include <sgm/sde/prior.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

namespace {

template <class Real, class S>
void check_prior(const S& sde, double expected_std) {
    const sgm::serial_backend<Real> be;
    const std::size_t count = 2000, dim = 50;
    const double n = double(count * dim);
    const sgm::random::noise_key key{77, 300};
    const auto x = sgm::sample_prior(sde, count, dim, key, be);
    REQUIRE(x.size() == count);
    REQUIRE(x.dim() == dim);
    const auto host = x.to_host(be);

    // Noise draw 0 of the key, scaled by the prior std.
    for (std::size_t b = 0; b < count; b += 97)
        for (std::size_t i = 0; i < dim; ++i)
            CHECK(host[b * dim + i] == Real(sgm::random::normal<Real>(key.seed, key.first_sample + b, 0, i) *
                                            Real(expected_std)));

    double mean = 0, sq = 0;
    for (Real v : host) mean += v;
    mean /= n;
    for (Real v : host) sq += (v - mean) * (v - mean);
    const double var = sq / (n - 1);
    // Standard errors: σ/sqrt(n) for the mean, σ² sqrt(2/n) for the variance.
    const double s2 = expected_std * expected_std;
    CHECK(std::abs(mean) < 5 * expected_std / std::sqrt(n));
    CHECK(std::abs(var - s2) < 5 * s2 * std::sqrt(2 / n));

    // The same samples on the TBB backend.
    const sgm::tbb_backend<Real> tbb;
    CHECK(sgm::sample_prior(sde, count, dim, key, tbb).to_host(tbb) == host);
}

template <class Real, class S>
void check_log_density(const S& sde, double sigma) {
    const sgm::serial_backend<Real> be;
    const std::size_t count = 5, dim = 7;
    std::vector<Real> values(count * dim);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = Real(sigma * (0.3 * double(i % 11) - 1.4));
    values[0] = Real(40 * sigma);  // far in the tail
    const auto x = sgm::batch<sgm::serial_backend<Real>>::from_host(values, count, dim, be);
    std::vector<Real> out(count);
    sgm::prior_log_density(sde, x, out.data(), be);
    for (std::size_t b = 0; b < count; ++b) {
        double sq = 0;
        for (std::size_t i = 0; i < dim; ++i) sq += double(values[b * dim + i]) * double(values[b * dim + i]);
        // log N(x; 0, σ² I) = −|x|²/(2σ²) − (D/2) log(2π σ²).
        const double expected = -sq / (2 * sigma * sigma) - 0.5 * double(dim) * std::log(2 * std::numbers::pi * sigma * sigma);
        CAPTURE(b);
        CHECK(double(out[b]) == Approx(expected).epsilon(sizeof(Real) == 4 ? 1e-5 : 1e-12));
    }
}

}  // namespace

TEMPLATE_TEST_CASE("sample_prior draws the prior N(0, prior_std^2 I) from noise draw 0", "[prior]", float, double) {
    using Real = TestType;
    SECTION("VE: std sigma_max") { check_prior<Real>(sgm::ve_sde<Real>(Real(0.01), Real(50)), double(Real(50))); }
    SECTION("VP: std 1") { check_prior<Real>(sgm::vp_sde<Real>(), 1.0); }
    SECTION("sub-VP: std 1") { check_prior<Real>(sgm::sub_vp_sde<Real>(), 1.0); }
}

TEMPLATE_TEST_CASE("prior_log_density is the Gaussian log-density", "[prior]", float, double) {
    using Real = TestType;
    check_log_density<Real>(sgm::ve_sde<Real>(Real(0.01), Real(50)), double(Real(50)));
    check_log_density<Real>(sgm::ve_sde<Real>(Real(0.01), Real(3)), double(Real(3)));
    check_log_density<Real>(sgm::vp_sde<Real>(), 1.0);
    check_log_density<Real>(sgm::sub_vp_sde<Real>(), 1.0);
}
