// mixture_score: the exact score, log-density and component posterior of a
// Gaussian mixture perturbed by VE / VP / sub-VP, against a direct evaluation
// (Cholesky, in tests/support) and finite differences of the log-density.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/backend/tbb.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

#include "support/finite_difference.hpp"
#include "support/reference_mixture.hpp"

namespace {

using sgm::test::three_full;

using serial = sgm::serial_backend<double>;
using view = sgm::batch_view<const double>;

sgm::test::reference_mixture reference_of(const sgm::gaussian_mixture<double>& g) {
    return {g.weights(), g.means(), g.covariances(), g.dim()};
}

// One component, full covariance, D = 2.
sgm::gaussian_mixture<double> one_full() {
    return sgm::gaussian_mixture<double>::gaussian({0.5, -1.0}, {2.0, 0.6, 0.6, 0.5});
}
// Two components, diagonal covariances, D = 3.
sgm::gaussian_mixture<double> two_diagonal() {
    return {{0.3, 0.7},
            {-2, 0, 1, 2, 1, -1},
            {0.5, 0, 0, 0, 1, 0, 0, 0, 2,  //
             1.5, 0, 0, 0, 0.2, 0, 0, 0, 0.8}};
}
// Evaluates everything at once for a batch with per-sample times.
struct evaluation {
    std::vector<double> score, log_p, posterior;
};

template <class Model>
evaluation evaluate(Model& model, const std::vector<double>& x, const std::vector<double>& t) {
    const std::size_t b = t.size(), d = model.dim(), k = model.components();
    evaluation e{std::vector<double>(b * d), std::vector<double>(b), std::vector<double>(b * k)};
    const view xv{x.data(), b, d};
    model.score(xv, t.data(), {e.score.data(), b, d});
    model.log_density(xv, t.data(), e.log_p.data());
    model.component_posterior(xv, t.data(), e.posterior.data());
    return e;
}

// Score, log-density and posterior of every sample against the direct evaluation
// and against central differences of the model's own log-density.
template <class SDE>
void check_mixture(const sgm::gaussian_mixture<double>& mixture, const SDE& sde, const std::vector<double>& times,
                   const std::vector<double>& points) {
    sgm::mixture_score<serial, SDE> model(mixture, sde);
    const auto ref = reference_of(mixture);
    const std::size_t d = mixture.dim(), k = mixture.components(), b = points.size() / d;
    // Time differs per sample within the batch.
    std::vector<double> t(b);
    for (std::size_t i = 0; i < b; ++i) t[i] = times[i % times.size()];
    const auto e = evaluate(model, points, t);

    for (std::size_t i = 0; i < b; ++i) {
        const std::vector<double> x(points.begin() + i * d, points.begin() + (i + 1) * d);
        const double m = sde.mean_coefficient(t[i]), s = sde.marginal_std(t[i]);
        CAPTURE(i, t[i]);
        CHECK(e.log_p[i] == Approx(ref.log_density(x, m, s)).epsilon(1e-11));

        const auto post = ref.posterior(x, m, s);
        double total = 0;
        for (std::size_t c = 0; c < k; ++c) {
            total += e.posterior[i * k + c];
            CHECK(e.posterior[i * k + c] == Approx(post[c]).margin(1e-10));
        }
        CHECK(total == Approx(1).epsilon(1e-12));

        const auto grad = ref.score(x, m, s);
        double scale = 1;
        for (double g : grad) scale = std::max(scale, std::abs(g));
        for (std::size_t j = 0; j < d; ++j) CHECK(e.score[i * d + j] == Approx(grad[j]).margin(1e-9 * scale));

        // Central differences of log p_t; h² f''' / 6 + ε |log p| / h stays below 1e-6 · scale.
        const double ti = t[i];
        const auto log_p = [&](const std::vector<double>& y) {
            double out;
            model.log_density(view{y.data(), 1, d}, &ti, &out);
            return out;
        };
        const auto fd = sgm::test::central_gradient(log_p, x, 1e-5);
        for (std::size_t j = 0; j < d; ++j) CHECK(e.score[i * d + j] == Approx(fd[j]).margin(1e-6 * scale));

        // The same sample alone gives the same numbers as in the batch.
        const auto alone = evaluate(model, x, {ti});
        for (std::size_t j = 0; j < d; ++j) CHECK(alone.score[j] == e.score[i * d + j]);
        CHECK(alone.log_p[0] == e.log_p[i]);
    }
}

// A few moderate points and a few far out (|x| ≈ 30-80).
std::vector<double> points_for(std::size_t d) {
    std::vector<double> p;
    const double moderate[] = {0.3, -1.2, 0.7, 1.9, 0.05, -0.4, -2.5, 2.2, 1.1};
    for (double v : moderate) p.push_back(v);
    const double far[] = {30, -45, 12, -80, 5, 60, 55, 55, -55};
    for (double v : far) p.push_back(v);
    p.resize(p.size() / d * d);
    return p;
}

}  // namespace

TEST_CASE("mixture_score is the gradient of log_density and log_density is the perturbed mixture density", "[mixture]") {
    const std::vector<std::pair<const char*, sgm::gaussian_mixture<double>>> mixtures = {
        {"1 component, full", one_full()}, {"2 components, diagonal", two_diagonal()},
        {"3 components, full", three_full()}};
    REQUIRE(mixtures[1].second.is_diagonal());
    REQUIRE_FALSE(mixtures[2].second.is_diagonal());
    for (const auto& [name, mixture] : mixtures) {
        CAPTURE(name);
        const auto points = points_for(mixture.dim());
        SECTION(std::string("VE ") + name) {
            check_mixture(mixture, sgm::ve_sde<double>(0.01, 50), {1e-5, 0.1, 0.4, 0.7, 1.0}, points);
        }
        SECTION(std::string("VP ") + name) {
            check_mixture(mixture, sgm::vp_sde<double>(), {1e-3, 0.1, 0.3, 0.6, 1.0}, points);
        }
        SECTION(std::string("sub-VP ") + name) {
            check_mixture(mixture, sgm::sub_vp_sde<double>(), {1e-3, 0.1, 0.3, 0.6, 1.0}, points);
        }
    }
}

TEST_CASE("mixture_score stays finite and exact far in the tails where direct evaluation underflows", "[mixture]") {
    // Two equal-covariance components; on the symmetry axis both responsibilities are 1/2.
    const sgm::gaussian_mixture<double> mixture({0.5, 0.5}, {-1, 0, 1, 0}, {0.5, 0, 0, 0.5, 0.5, 0, 0, 0.5});
    const sgm::vp_sde<double> sde;
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(mixture, sde);
    const auto ref = reference_of(mixture);
    const double t = 0.05, m = sde.mean_coefficient(t), s = sde.marginal_std(t);
    const double v = m * m * 0.5 + s * s;

    for (const std::vector<double>& x : {std::vector<double>{0, 80}, std::vector<double>{-70, 40},
                                         std::vector<double>{300, -200}}) {
        CAPTURE(x[0], x[1]);
        // Naive evaluation: Σ_k π_k N_k(x) underflows to 0, so log p = −inf and r = 0/0.
        double naive = 0;
        for (std::size_t c = 0; c < 2; ++c) {
            const double dx = x[0] - m * mixture.means()[2 * c], dy = x[1] - m * mixture.means()[2 * c + 1];
            naive += 0.5 * std::exp(-(dx * dx + dy * dy) / (2 * v)) / (2 * std::numbers::pi * v);
        }
        REQUIRE(naive == 0.0);

        const auto e = evaluate(model, x, {t});
        CHECK(std::isfinite(e.log_p[0]));
        CHECK(e.log_p[0] == Approx(ref.log_density(x, m, s)).epsilon(1e-12));
        const auto grad = ref.score(x, m, s);
        for (std::size_t j = 0; j < 2; ++j) {
            CHECK(std::isfinite(e.score[j]));
            CHECK(e.score[j] == Approx(grad[j]).epsilon(1e-10));
        }
        const auto post = ref.posterior(x, m, s);
        CHECK(e.posterior[0] == Approx(post[0]).margin(1e-12));
        CHECK(e.posterior[0] + e.posterior[1] == Approx(1).epsilon(1e-12));
    }
    // On the symmetry axis: r = (1/2, 1/2) and the score is −(x − m·(0,0)) / v.
    const auto e = evaluate(model, {0, 80}, {t});
    CHECK(e.posterior[0] == Approx(0.5).epsilon(1e-12));
    CHECK(e.score[1] == Approx(-80 / v).epsilon(1e-12));
}

TEST_CASE("component_posterior follows Bayes' rule for well-separated components", "[mixture]") {
    // Near component 0's mean at small t the posterior is nearly certain; far on
    // the other side, component 1 wins.
    const auto mixture = two_diagonal();
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(mixture, sgm::vp_sde<double>());
    const auto e = evaluate(model, {-2, 0, 1, 2, 1, -1}, {1e-3, 1e-3});
    CHECK(e.posterior[0] > 0.999);
    CHECK(e.posterior[3] > 0.999);
    // At t = T the perturbed components are almost N(0, I): the posterior is the prior weights.
    const auto late = evaluate(model, {0.1, 0.2, -0.3}, {1.0});
    CHECK(late.posterior[0] == Approx(0.3).margin(0.02));
}

TEST_CASE("mixture_score in float agrees with the double reference", "[mixture]") {
    const auto g = three_full();
    std::vector<float> w(g.weights().begin(), g.weights().end()), mu(g.means().begin(), g.means().end()),
        cov(g.covariances().begin(), g.covariances().end());
    const sgm::gaussian_mixture<float> mixture(w, mu, cov);
    const sgm::vp_sde<float> sde;
    sgm::mixture_score<sgm::serial_backend<float>, sgm::vp_sde<float>> model(mixture, sde);
    const auto ref = reference_of(g);
    const std::vector<float> x = {0.3f, -1.2f, 0.7f, 1.9f, 0.05f, -0.4f, -2.5f, 2.2f, 1.1f};
    const std::vector<float> t = {0.01f, 0.3f, 0.8f};
    std::vector<float> score(9), log_p(3);
    model.score({x.data(), 3, 3}, t.data(), {score.data(), 3, 3});
    model.log_density({x.data(), 3, 3}, t.data(), log_p.data());
    for (std::size_t i = 0; i < 3; ++i) {
        const std::vector<double> xi(x.begin() + 3 * i, x.begin() + 3 * i + 3);
        const double m = sde.mean_coefficient(t[i]), s = sde.marginal_std(t[i]);
        const auto grad = ref.score(xi, m, s);
        CAPTURE(i);
        // Float rounding of the inputs and of the eigendecomposition: ~1e-5 relative.
        CHECK(log_p[i] == Approx(ref.log_density(xi, m, s)).epsilon(1e-4));
        for (std::size_t j = 0; j < 3; ++j) CHECK(score[3 * i + j] == Approx(grad[j]).margin(1e-4 * (1 + std::abs(grad[j]))));
    }
}

TEST_CASE("mixture_score gives the same values on the TBB backend", "[mixture]") {
    const auto mixture = three_full();
    const sgm::ve_sde<double> sde;
    sgm::mixture_score<serial, sgm::ve_sde<double>> a(mixture, sde);
    sgm::mixture_score<sgm::tbb_backend<double>, sgm::ve_sde<double>> b(mixture, sde, sgm::tbb_backend<double>(2));
    const std::size_t n = 2000;  // enough elements for several TBB tasks
    std::vector<double> x(n * 3), t(n);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * double(i)) * 3;
    for (std::size_t i = 0; i < n; ++i) t[i] = 1e-5 + double(i) / double(n);
    const auto ea = evaluate(a, x, t), eb = evaluate(b, x, t);
    CHECK(ea.score == eb.score);
    CHECK(ea.log_p == eb.log_p);
    CHECK(ea.posterior == eb.posterior);
}
