// Counter-based noise: purity, independence of batch layout and backend, and the
// distribution of the values.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/backend/tbb.hpp>
#include <sgm/random/philox_normal.hpp>
#include <sgm/random/philox_uniform.hpp>

namespace {

template <class Backend>
std::vector<typename Backend::value_type> fill(const Backend& be, std::size_t size, std::size_t dim,
                                               sgm::random::noise_key key, std::uint32_t draw) {
    auto v = be.make_vector(size * dim);
    sgm::random::fill_normal(be, Backend::data(v), size, dim, key, draw);
    return be.to_host(v);
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = double(a.size());
    double ma = 0, mb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
    ma /= n, mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

}  // namespace

TEMPLATE_TEST_CASE("normal() is a pure function of seed and sample and draw and element", "[random]", float, double) {
    using Real = TestType;
    const Real first = sgm::random::normal<Real>(42, 1234, 5, 17);
    // Interleave other calls: no hidden state.
    (void)sgm::random::normal<Real>(1, 2, 3, 4);
    CHECK(sgm::random::normal<Real>(42, 1234, 5, 17) == first);
    // normal() picks element % 4 of the block element / 4.
    Real block[4];
    sgm::random::normal_block<Real>(42, 1234, 5, 17 / 4, block);
    CHECK(block[17 % 4] == first);
}

TEST_CASE("normal() differs across seeds and samples and draws and elements including high words", "[random]") {
    const std::uint64_t high = std::uint64_t(1) << 32;
    std::set<double> seen;
    std::size_t count = 0;
    for (std::uint64_t seed : {std::uint64_t(0), std::uint64_t(1), high, high + 1})
        for (std::uint64_t sample : {std::uint64_t(0), std::uint64_t(1), high, high + 1})
            for (std::uint32_t draw : {0u, 1u, 2u, 0xFFFFFFFFu})
                for (std::uint64_t element = 0; element < 9; ++element) {
                    seen.insert(sgm::random::normal<double>(seed, sample, draw, element));
                    ++count;
                }
    // Any two equal values would mean two counters mapped to the same stream.
    CHECK(seen.size() == count);
}

TEST_CASE("float and double noise come from the same Philox words", "[random]") {
    // Float Box–Muller loses at most sqrt(2·2^-24) in the radius where u rounds to 1.
    for (std::uint64_t sample = 0; sample < 2000; ++sample)
        for (std::uint64_t element = 0; element < 4; ++element) {
            const double d = sgm::random::normal<double>(7, sample, 1, element);
            const double f = sgm::random::normal<float>(7, sample, 1, element);
            CHECK(std::abs(f - d) <= 5e-4 + 1e-5 * std::abs(d));
        }
}

TEMPLATE_TEST_CASE("fill_normal does not depend on batch size or first_sample or backend", "[random]", float,
                   double) {
    using Real = TestType;
    const sgm::serial_backend<Real> serial;
    const std::size_t dim = 13;  // not a multiple of 4: the last block is partial
    const std::uint64_t seed = 99;
    const std::uint32_t draw = 3;

    const auto whole = fill(serial, 10, dim, {seed, 0}, draw);
    for (std::size_t b = 0; b < 10; ++b)
        for (std::size_t e = 0; e < dim; ++e)
            REQUIRE(whole[b * dim + e] == sgm::random::normal<Real>(seed, b, draw, e));

    SECTION("a sub-batch starting at first_sample gives the same rows") {
        const auto part = fill(serial, 3, dim, {seed, 4}, draw);
        for (std::size_t i = 0; i < 3 * dim; ++i) CHECK(part[i] == whole[4 * dim + i]);
    }
    SECTION("tbb, with enough blocks to run in parallel, equals serial") {
        const std::size_t size = 700;  // 700 × 4 blocks, more than one TBB grain
        const auto reference = fill(serial, size, dim, {seed, 1000}, draw);
        CHECK(fill(sgm::tbb_backend<Real>(), size, dim, {seed, 1000}, draw) == reference);
        CHECK(fill(sgm::tbb_backend<Real>(2), size, dim, {seed, 1000}, draw) == reference);
        CHECK(fill(sgm::tbb_backend<Real>(1), size, dim, {seed, 1000}, draw) == reference);
    }
    SECTION("different draws and seeds give different batches") {
        CHECK(fill(serial, 10, dim, {seed, 0}, draw + 1) != whole);
        CHECK(fill(serial, 10, dim, {seed + 1, 0}, draw) != whole);
    }
}

TEMPLATE_TEST_CASE("a million normals have mean 0 and variance 1 and a normal distribution", "[random]", float,
                   double) {
    using Real = TestType;
    const std::size_t size = 1000, dim = 1000, n = size * dim;
    const auto raw = fill(sgm::serial_backend<Real>(), size, dim, {2024, 0}, 1);
    std::vector<double> z(raw.begin(), raw.end());

    double mean = 0;
    for (double v : z) mean += v;
    mean /= double(n);
    double var = 0;
    for (double v : z) var += (v - mean) * (v - mean);
    var /= double(n - 1);
    // Standard errors for N(0,1): 1/sqrt(n) for the mean, sqrt(2/n) for the variance.
    CHECK(std::abs(mean) < 5 / std::sqrt(double(n)));
    CHECK(std::abs(var - 1) < 5 * std::sqrt(2 / double(n)));

    // Tails: P(|Z| > 3) = 2.6998e-3, a binomial count.
    const double p3 = std::erfc(3 / std::sqrt(2.0));
    const double tail = double(std::count_if(z.begin(), z.end(), [](double v) { return std::abs(v) > 3; }));
    CHECK(std::abs(tail - n * p3) < 5 * std::sqrt(n * p3 * (1 - p3)));

    // Chi-square over 100 equiprobable bins: 99 degrees of freedom, mean 99, sd sqrt(198).
    std::vector<double> bins(100, 0.0);
    for (double v : z) bins[std::min<std::size_t>(99, std::size_t(normal_cdf(v) * 100))] += 1;
    double chi2 = 0;
    const double expected = double(n) / 100;
    for (double c : bins) chi2 += (c - expected) * (c - expected) / expected;
    CAPTURE(chi2);
    CHECK(chi2 < 99 + 5 * std::sqrt(198.0));

    // Kolmogorov–Smirnov: P(sqrt(n) D > 1.95) ≈ 2 exp(−2·1.95²) = 1e-3.
    std::sort(z.begin(), z.end());
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double f = normal_cdf(z[i]);
        d = std::max({d, f - double(i) / double(n), double(i + 1) / double(n) - f});
    }
    CAPTURE(d * std::sqrt(double(n)));
    CHECK(d * std::sqrt(double(n)) < 1.95);
}

TEST_CASE("the four normals of a block and neighbouring draws and samples are uncorrelated", "[random]") {
    const std::size_t size = 1000, dim = 1000, blocks = size * dim / 4;
    const sgm::serial_backend<double> be;
    const auto z = fill(be, size, dim, {31, 0}, 2);
    const auto next_draw = fill(be, size, dim, {31, 0}, 3);
    const auto next_sample = fill(be, size, dim, {31, 1}, 2);  // row b is sample b + 1

    std::vector<std::vector<double>> lane(4), square(4);
    for (std::size_t k = 0; k < blocks; ++k)
        for (std::size_t j = 0; j < 4; ++j) {
            lane[j].push_back(z[4 * k + j]);
            square[j].push_back(z[4 * k + j] * z[4 * k + j]);
        }
    // For independent variables the sample correlation has standard error 1/sqrt(n).
    const double tol = 5 / std::sqrt(double(blocks));
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = i + 1; j < 4; ++j) {
            CAPTURE(i, j);
            CHECK(std::abs(correlation(lane[i], lane[j])) < tol);
            // Box–Muller pairs share a radius: squares expose any dependence.
            CHECK(std::abs(correlation(square[i], square[j])) < tol);
        }
    // Same element, next draw; same element, next sample (rows 1.. of z vs rows 0.. of next_sample).
    const std::vector<double> a(z.begin() + dim, z.end()), b(next_sample.begin(), next_sample.end() - dim);
    const double tol_all = 5 / std::sqrt(double(size * dim - dim));
    CHECK(std::abs(correlation(z, next_draw)) < 5 / std::sqrt(double(size * dim)));
    CHECK(a == b);  // the same sample seen from two batches: identical noise
    const std::vector<double> shifted(z.begin(), z.end() - dim);
    CHECK(std::abs(correlation(shifted, a)) < tol_all);
}

TEMPLATE_TEST_CASE("a million uniforms lie in (0, 1) and have a uniform distribution", "[random]", float, double) {
    using Real = TestType;
    const std::size_t size = 1000, dim = 1000, n = size * dim;
    const sgm::serial_backend<Real> be;
    auto raw = be.make_vector(n);
    sgm::random::fill_uniform(be, raw.data(), size, dim, {77, 5}, 3);
    std::vector<double> u(raw.begin(), raw.end());
    CHECK(std::all_of(u.begin(), u.end(), [](double v) { return v > 0 && v < 1; }));
    // Pure function of (seed, sample, draw, element).
    CHECK(u[1234] == double(sgm::random::uniform<Real>(77, 5 + 1234 / dim, 3, 1234 % dim)));
    // Mean ½ and variance 1/12, with standard errors sqrt(1/(12n)) and sqrt(1/(180n)).
    double mean = 0;
    for (double v : u) mean += v / double(n);
    double var = 0;
    for (double v : u) var += (v - mean) * (v - mean) / double(n - 1);
    CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / (12 * double(n))));
    CHECK(std::abs(var - 1.0 / 12) < 5 * std::sqrt(1.0 / (180 * double(n))));
    // Kolmogorov–Smirnov, as for the normals.
    std::sort(u.begin(), u.end());
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) d = std::max({d, u[i] - double(i) / double(n), double(i + 1) / double(n) - u[i]});
    CAPTURE(d * std::sqrt(double(n)));
    CHECK(d * std::sqrt(double(n)) < 1.95);
}
