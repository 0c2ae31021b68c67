// Inpainting and colorization against Gaussians, where the conditional law of
// the missing part is known in closed form.
//
// The samplers replace the known part by the data perturbed to the current time
// (the paper's method). That is exact when the missing part is independent of
// the known one, and the first tests use such Gaussians (with dense covariances
// inside each part and off-mean observations). For correlated parts the method
// itself is biased; there the test compares the samples with the exact law of
// the method's own linear-Gaussian recursion, and reports the true conditional
// next to it (docs/inpainting.md quotes the numbers).

#include <catch2/catch.hpp>

#include <Eigen/Dense>

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

// A 6-D Gaussian whose known coordinates {0, 2, 4} are independent of the
// missing ones {1, 3, 5}; each part has a dense covariance.
struct block_gaussian {
    std::vector<std::size_t> known{0, 2, 4}, missing{1, 3, 5};
    std::vector<double> mean{1.0, -0.5, 0.3, 0.8, -1.0, 0.2};
    matrix known_cov = (matrix(3, 3) << 0.7, 0.3, 0.0, 0.3, 0.9, 0.2, 0.0, 0.2, 0.5).finished();
    matrix missing_cov = (matrix(3, 3) << 1.0, 0.5, 0.2, 0.5, 0.8, -0.3, 0.2, -0.3, 0.6).finished();
    std::vector<double> observed{2.0, -1.0, 0.5};  // the known coordinates, away from their means

    std::vector<double> covariance() const {
        std::vector<double> c(36, 0.0);
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t j = 0; j < 3; ++j) {
                c[known[i] * 6 + known[j]] = known_cov(long(i), long(j));
                c[missing[i] * 6 + missing[j]] = missing_cov(long(i), long(j));
            }
        return c;
    }
    sgm::gaussian_mixture<double> mixture() const { return sgm::gaussian_mixture<double>::gaussian(mean, covariance()); }
    vector missing_mean() const { return vector{{mean[1], mean[3], mean[5]}}; }

    // Mask and values for `count` samples.
    sgm::imputation_target<backend> target(std::size_t count, const backend& be) const {
        std::vector<double> mask(6, 0.0), values(6 * count, std::nan(""));
        for (std::size_t i = 0; i < 3; ++i) mask[known[i]] = 1;
        for (std::size_t b = 0; b < count; ++b)
            for (std::size_t i = 0; i < 3; ++i) values[b * 6 + known[i]] = observed[i];
        return sgm::imputation_target<backend>::shared_mask(mask, values, count, 6, be);
    }
};

// The rows' coordinates `columns`, as an n × |columns| matrix.
matrix columns_of(const std::vector<double>& host, std::size_t n, std::size_t d, const std::vector<std::size_t>& columns) {
    matrix out(long(n), long(columns.size()));
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t j = 0; j < columns.size(); ++j) out(long(b), long(j)) = host[b * d + columns[j]];
    return out;
}

// The whitened rows must look like N(0, I) within 5 standard errors.
void check_gaussian(const matrix& x, const vector& mean, const matrix& cov, const std::string& what) {
    const auto s = summarize_whitened(whiten(x, mean, cov));
    const std::size_t d = std::size_t(x.cols());
    INFO(what << ": mean z " << s.max_mean_z << ", trace z " << s.trace_z << ", entry z " << s.max_entry_z
              << "; sample mean " << s.mean.transpose());
    CHECK(s.max_mean_z <= family_threshold(d));
    CHECK(std::abs(s.trace_z) <= 5);
    CHECK(s.max_entry_z <= family_threshold(d * d));
}

// Every sample's known coordinates equal the observation exactly.
void check_known_part(const std::vector<double>& host, std::size_t n, const block_gaussian& g) {
    std::size_t wrong = 0;
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < 3; ++i) wrong += host[b * 6 + g.known[i]] != g.observed[i];
    CHECK(wrong == 0);
}

}  // namespace

TEMPLATE_TEST_CASE("PC inpainting of independent parts draws the exact conditional", "[control][inpainting][pc]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>) {
    const block_gaussian g;
    const auto configurations = pc_configurations<TestType>();
    const std::size_t index = GENERATE_COPY(range(std::size_t(0), configurations.size()));
    const auto [p, c] = configurations[index];
    const pc_settings s = settings_2d<TestType>(p, c, sample_count);
    const backend be;
    const auto sde = sde_traits<TestType>::make(s.steps, 10.0);
    sgm::mixture_score<backend, TestType> model(g.mixture(), sde, be);
    sgm::pc_options options;
    options.eps = sde_traits<TestType>::eps;
    options.seed = 500 + index;
    std::vector<double> host;
    std::size_t nfe = 0;
    const auto start = std::chrono::steady_clock::now();
    with_policies<TestType>(p, c, s, [&](auto predictor, auto corrector) {
        auto result = sgm::impute_pc(sde, model, predictor, corrector, g.target(s.count, be), options, be);
        nfe = result.nfe;
        host = result.samples.to_host(be);
    });
    INFO(describe<TestType>(std::string(name(p)) + " + " + name(c), s.steps, nfe, seconds_since(start)));
    check_known_part(host, s.count, g);
    check_gaussian(columns_of(host, s.count, 6, g.missing), g.missing_mean(), g.missing_cov, "missing part");
}

TEMPLATE_TEST_CASE("ODE inpainting of independent parts draws the exact conditional", "[control][inpainting][ode]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const block_gaussian g;
    const backend be;
    // VE's prior is centred at 0, the missing part at |μ| ≈ 1: the deterministic
    // flow keeps ~sd/σ_max of that offset, 6 standard errors at σ_max = 10 and
    // 0.06 at 1000 (the stochastic samplers forget their start).
    const double sigma_max = std::is_same_v<TestType, sgm::ve_sde<double>> ? 1000.0 : 10.0;
    const auto sde = sde_traits<TestType>::make(1000, sigma_max);
    sgm::mixture_score<backend, TestType> model(g.mixture(), sde, be);
    sgm::ode_options options;
    options.eps = sde_traits<TestType>::eps;
    options.seed = 42;
    const auto result = sgm::impute_ode(sde, model, g.target(sample_count, be), options, be);
    const auto host = result.samples.to_host(be);
    INFO("NFE " << result.nfe);
    check_known_part(host, sample_count, g);
    check_gaussian(columns_of(host, sample_count, 6, g.missing), g.missing_mean(), g.missing_cov, "missing part");
}

namespace {

// The exact law of reverse diffusion + replacement on a Gaussian N(μ, Σ):
// every step is affine in x plus independent Gaussian noise, so mean v and
// covariance P follow a recursion mirroring impute_pc step by step.
template <class SDE>
std::pair<vector, matrix> replacement_law(const SDE& sde, const vector& mu, const matrix& sigma,
                                          const std::vector<std::size_t>& known, const vector& y, double eps) {
    const long d = mu.size();
    const matrix id = matrix::Identity(d, d);
    const auto precision = [&](double t) {
        const double m = sde.mean_coefficient(t), s = sde.marginal_std(t);
        return matrix((m * m * sigma + s * s * id).inverse());
    };
    vector v = vector::Zero(d);
    matrix p = sde.prior_std() * sde.prior_std() * id;
    const auto replace = [&](double t, bool exact) {
        const double m = exact ? 1 : sde.mean_coefficient(t), s = exact ? 0 : sde.marginal_std(t);
        for (std::size_t i = 0; i < known.size(); ++i) {
            const long k = long(known[i]);
            v(k) = m * y(long(i));
            p.row(k).setZero();
            p.col(k).setZero();
            p(k, k) = s * s;
        }
    };
    replace(sde.T(), false);
    const std::size_t n = sde.steps();
    const double t_end = sde.T();
    for (std::size_t i = 0; i < n; ++i) {
        const double t = t_end + (eps - t_end) * double(i) / double(n - 1);
        const matrix a = precision(t);
        const double m = sde.mean_coefficient(t);
        if (i + 1 == n) {  // Tweedie at eps, then the observation itself
            const double s2 = sde.marginal_std(t) * sde.marginal_std(t);
            const matrix c = (id - s2 * a) / m;
            v = c * v + s2 * a * mu;
            p = c * p * c.transpose();
            replace(0, true);
            break;
        }
        const std::size_t k = n - 1 - i;
        const double drift = sgm::discrete_drift(sde, 1.0, t, k), g = sgm::discrete_diffusion(sde, t, k);
        const matrix b = (1 - drift) * id - g * g * a;
        v = b * v + g * g * m * (a * mu);
        p = b * p * b.transpose() + g * g * id;
        replace(t_end + (eps - t_end) * double(i + 1) / double(n - 1), false);
    }
    return {v, p};
}

}  // namespace

TEMPLATE_TEST_CASE("PC inpainting of correlated parts follows the method's exact recursion",
                   "[control][inpainting][pc]", sgm::ve_sde<double>, sgm::vp_sde<double>) {
    // N(μ, Σ) in 4-D, Σ_ij = s_i s_j 0.7^|i−j|: coordinates 0, 1 known, 2, 3 missing.
    const std::vector<std::size_t> known{0, 1}, missing{2, 3};
    const vector mu{{0.5, -0.3, 0.2, 0.4}}, s{{0.8, 1.0, 0.9, 1.1}};
    matrix sigma(4, 4);
    for (long i = 0; i < 4; ++i)
        for (long j = 0; j < 4; ++j) sigma(i, j) = s(i) * s(j) * std::pow(0.7, std::abs(double(i - j)));
    const vector y{{1.5, 0.8}};
    std::vector<double> mean(mu.data(), mu.data() + 4), cov(16);
    for (long i = 0; i < 4; ++i)
        for (long j = 0; j < 4; ++j) cov[std::size_t(i * 4 + j)] = sigma(i, j);
    const auto data = sgm::gaussian_mixture<double>::gaussian(mean, cov);

    const backend be;
    const auto sde = sde_traits<TestType>::make(200, 8.0);
    sgm::mixture_score<backend, TestType> model(data, sde, be);
    std::vector<double> mask{1, 1, 0, 0}, values(4 * sample_count, 0.0);
    for (std::size_t b = 0; b < sample_count; ++b) {
        values[b * 4] = y(0);
        values[b * 4 + 1] = y(1);
    }
    sgm::pc_options options;
    options.eps = sde_traits<TestType>::eps;
    options.seed = 7;
    const auto result = sgm::impute_pc(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{},
                                       sgm::imputation_target<backend>::shared_mask(mask, values, sample_count, 4, be),
                                       options, be);
    const auto host = result.samples.to_host(be);

    const auto [v, p] = replacement_law(sde, mu, sigma, known, y, *options.eps);
    const vector law_mean = v.tail(2);
    const matrix law_cov = p.bottomRightCorner(2, 2);
    // The true conditional of the missing part given the known one.
    const matrix s12 = sigma.topRightCorner(2, 2), s11 = sigma.topLeftCorner(2, 2);
    const vector true_mean = mu.tail(2) + s12.transpose() * s11.ldlt().solve(y - mu.head(2));
    const matrix true_cov = sigma.bottomRightCorner(2, 2) - s12.transpose() * s11.ldlt().solve(s12);
    INFO(sde_traits<TestType>::name << ": method's law mean " << law_mean.transpose() << ", variances "
                                    << law_cov.diagonal().transpose() << "; true conditional mean "
                                    << true_mean.transpose() << ", variances " << true_cov.diagonal().transpose());
    check_gaussian(columns_of(host, sample_count, 4, missing), law_mean, law_cov, "missing part vs recursion");
    for (std::size_t b = 0; b < sample_count; ++b) {
        REQUIRE(host[b * 4] == y(0));
        REQUIRE(host[b * 4 + 1] == y(1));
    }
}

TEST_CASE("imputation targets reject bad masks and observations", "[control][inpainting][errors]") {
    const backend be;
    const std::vector<double> values{1, 2, 3, 4};
    CHECK_THROWS_WITH(sgm::imputation_target<backend>(std::vector<double>{1, 0.5, 0, 1}, values, 2, 2, be),
                      Catch::Contains("mask value 0.5 at sample 0, coordinate 1") && Catch::Contains("0 (missing) or 1"));
    CHECK_THROWS_WITH(sgm::imputation_target<backend>(std::vector<double>{1, 0, 0}, values, 2, 2, be),
                      Catch::Contains("the mask has 3 values, expected count*dim = 2*2 = 4"));
    CHECK_THROWS_WITH(sgm::imputation_target<backend>::shared_mask(std::vector<double>{1, 0, 1}, values, 2, 2, be),
                      Catch::Contains("the mask has 3 values, expected dim = 2"));
    CHECK_THROWS_WITH(sgm::imputation_target<backend>(std::vector<double>{1, 0, 0, 1},
                                                      std::vector<double>{1, 2, 3, INFINITY}, 2, 2, be),
                      Catch::Contains("observed value inf at sample 1, coordinate 1 is not finite"));
    // Missing positions may hold anything, NaN included.
    const sgm::imputation_target<backend> ok(std::vector<double>{1, 0, 0, 1}, std::vector<double>{1, NAN, NAN, 4}, 2,
                                             2, be);
    CHECK(ok.known_count() == 2);
    CHECK(be.to_host(std::vector<double>(ok.values(), ok.values() + 4)) == std::vector<double>{1, 0, 0, 4});

    const block_gaussian g;
    const sgm::vp_sde<double> sde;
    sgm::mixture_score<backend, sgm::vp_sde<double>> model(g.mixture(), sde, be);
    const sgm::imputation_target<backend> narrow(std::vector<double>{1, 0, 0, 1}, values, 2, 2, be);
    CHECK_THROWS_WITH(sgm::impute_pc(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{}, narrow, {}, be),
                      Catch::Contains("impute_pc: the target has dim 2 but the score model expects dim 6"));
    CHECK_THROWS_WITH(sgm::impute_ode(sde, model, narrow, {}, be),
                      Catch::Contains("impute_ode: the target has dim 2 but the score model expects dim 6"));
}
