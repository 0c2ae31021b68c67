// mixture_score::score_vjp: the score it returns is score()'s, and vᵀ ∂s/∂x matches
// central differences of the score, for full and diagonal mixtures under VE, VP
// and sub-VP, on the serial and TBB backends.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/backend/tbb.hpp>
#include <sgm/concepts/differentiable_score_model.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

#include "support/reference_mixture.hpp"

namespace {

using serial = sgm::serial_backend<double>;
static_assert(sgm::vjp_score_model<sgm::mixture_score<serial, sgm::vp_sde<double>>>);

sgm::gaussian_mixture<double> diagonal_pair() {
    return {{0.3, 0.7}, {-2, 0, 1, 2, 1, -1}, {0.5, 0, 0, 0, 1, 0, 0, 0, 2, 1.5, 0, 0, 0, 0.2, 0, 0, 0, 0.8}};
}

template <class SDE>
void check_vjp(const sgm::gaussian_mixture<double>& mixture, const SDE& sde) {
    sgm::mixture_score<serial, SDE> model(mixture, sde);
    const std::size_t d = mixture.dim(), b = 4;
    std::vector<double> x(b * d), v(b * d), t = {1e-3, 0.2, 0.5, 0.9};
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = 1.5 * std::sin(0.7 * double(i) + 0.3);
        v[i] = std::cos(1.3 * double(i));
    }
    std::vector<double> score(b * d), vjp(b * d), plain(b * d);
    model.score_vjp({x.data(), b, d}, t.data(), {v.data(), b, d}, {score.data(), b, d}, {vjp.data(), b, d});
    model.score({x.data(), b, d}, t.data(), {plain.data(), b, d});
    CHECK(score == plain);

    const double h = 1e-5;
    for (std::size_t s = 0; s < b; ++s) {
        // Column j of J by central differences: (s(x + h e_j) − s(x − h e_j)) / 2h.
        std::vector<double> fd(d, 0.0);
        double scale = 1;
        for (std::size_t j = 0; j < d; ++j) {
            std::vector<double> up(x.begin() + s * d, x.begin() + (s + 1) * d), down = up, su(d), sd(d);
            up[j] += h;
            down[j] -= h;
            model.score({up.data(), 1, d}, &t[s], {su.data(), 1, d});
            model.score({down.data(), 1, d}, &t[s], {sd.data(), 1, d});
            for (std::size_t i = 0; i < d; ++i) {
                const double jij = (su[i] - sd[i]) / (2 * h);
                fd[j] += v[s * d + i] * jij;  // (vᵀJ)_j = Σ_i v_i J_ij
                scale = std::max(scale, std::abs(jij));
            }
        }
        for (std::size_t j = 0; j < d; ++j) {
            CAPTURE(s, j, t[s]);
            CHECK(vjp[s * d + j] == Approx(fd[j]).margin(1e-6 * scale));
        }
    }

    // The TBB backend gives identical numbers.
    sgm::mixture_score<sgm::tbb_backend<double>, SDE> parallel(mixture, sde, sgm::tbb_backend<double>(2));
    std::vector<double> score2(b * d), vjp2(b * d);
    parallel.score_vjp({x.data(), b, d}, t.data(), {v.data(), b, d}, {score2.data(), b, d}, {vjp2.data(), b, d});
    CHECK(score2 == score);
    CHECK(vjp2 == vjp);
}

}  // namespace

TEST_CASE("mixture_score's vector-Jacobian product matches finite differences of its score", "[mixture][vjp]") {
    const auto full = sgm::test::three_full();
    const auto diagonal = diagonal_pair();
    SECTION("VE, full") { check_vjp(full, sgm::ve_sde<double>(0.01, 50)); }
    SECTION("VP, full") { check_vjp(full, sgm::vp_sde<double>()); }
    SECTION("sub-VP, full") { check_vjp(full, sgm::sub_vp_sde<double>()); }
    SECTION("VE, diagonal") { check_vjp(diagonal, sgm::ve_sde<double>(0.01, 50)); }
    SECTION("VP, diagonal") { check_vjp(diagonal, sgm::vp_sde<double>()); }
}

TEST_CASE("mixture_score's Jacobian is symmetric: uᵀ(Jv) = vᵀ(Ju)", "[mixture][vjp]") {
    const auto full = sgm::test::three_full();
    const sgm::vp_sde<double> sde;
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(full, sde);
    const std::vector<double> x = {0.4, -0.2, 1.1}, u = {1, 2, -1}, v = {-0.5, 0.3, 2};
    const double t = 0.05;
    std::vector<double> s(3), ju(3), jv(3);
    model.score_vjp({x.data(), 1, 3}, &t, {u.data(), 1, 3}, {s.data(), 1, 3}, {ju.data(), 1, 3});
    model.score_vjp({x.data(), 1, 3}, &t, {v.data(), 1, 3}, {s.data(), 1, 3}, {jv.data(), 1, 3});
    double a = 0, b = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        a += u[i] * jv[i];
        b += v[i] * ju[i];
    }
    CHECK(a == Approx(b).epsilon(1e-12));
}
