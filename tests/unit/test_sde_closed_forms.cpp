// VE, VP and sub-VP SDEs against the paper's closed forms, the moment ODE of the
// perturbation kernel, and the SMLD / DDPM discrete chains.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <sgm/sde/discretization.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

#include "support/finite_difference.hpp"

namespace {

static_assert(sgm::affine_sde<sgm::ve_sde<float>> && sgm::affine_sde<sgm::ve_sde<double>>);
static_assert(sgm::affine_sde<sgm::vp_sde<float>> && sgm::affine_sde<sgm::vp_sde<double>>);
static_assert(sgm::affine_sde<sgm::sub_vp_sde<float>> && sgm::affine_sde<sgm::sub_vp_sde<double>>);
static_assert(sgm::ancestral_sde<sgm::ve_sde<double>> && sgm::ancestral_sde<sgm::vp_sde<double>>);
// The paper defines no ancestral chain for sub-VP.
static_assert(!sgm::ancestral_sde<sgm::sub_vp_sde<double>>);

// Relative tolerance for comparing a Real computation with the double closed form
// evaluated at the same (Real-rounded) parameters: a few dozen ulps.
template <class Real>
constexpr double rel_tol = sizeof(Real) == 4 ? 4e-6 : 1e-12;

template <class Real>
void check_close(double actual, double expected, double amplification = 1) {
    CHECK(actual == Approx(expected).epsilon(rel_tol<Real> * amplification).margin(1e-30));
}

// The paper's formulas, written independently of the library.
struct ve_closed_form {
    double smin, smax, T;
    double sigma(double t) const { return smin * std::pow(smax / smin, t / T); }
    double g(double t) const { return sigma(t) * std::sqrt(2 * std::log(smax / smin) / T); }
};

struct vp_closed_form {
    double b0, b1, T;
    double beta(double t) const { return b0 + (b1 - b0) * t / T; }
    double integral_beta(double t) const { return b0 * t + 0.5 * (b1 - b0) * t * t / T; }
    double log_m(double t) const { return -0.25 * t * t * (b1 - b0) / T - 0.5 * t * b0; }
    double m(double t) const { return std::exp(log_m(t)); }
    // 1 − m² without cancellation at small t.
    double one_minus_m2(double t) const { return -std::expm1(2 * log_m(t)); }
    double vp_std(double t) const { return std::sqrt(one_minus_m2(t)); }
    double sub_vp_std(double t) const { return one_minus_m2(t); }
    double sub_vp_g(double t) const { return std::sqrt(beta(t) * -std::expm1(-2 * integral_beta(t))); }
};

const std::vector<double> times = {1e-6, 1e-3, 0.05, 0.2, 0.5, 0.77, 1.0};

}  // namespace

TEMPLATE_TEST_CASE("ve_sde matches sigma(t) = smin (smax/smin)^t and g = sigma sqrt(2 log(smax/smin))", "[sde]",
                   float, double) {
    using Real = TestType;
    for (const double T : {1.0, 2.0}) {
        const sgm::ve_sde<Real> sde(Real(0.01), Real(50), 1000, Real(T));
        const ve_closed_form ref{double(Real(0.01)), double(Real(50)), T};
        CHECK(double(sde.T()) == T);
        CHECK(sde.steps() == 1000);
        check_close<Real>(sde.prior_std(), ref.smax);
        for (double u : times) {
            const double t = u * T;
            const Real rt = Real(t);
            CAPTURE(T, t);
            check_close<Real>(sde.marginal_std(rt), ref.sigma(double(rt)));
            check_close<Real>(sde.diffusion(rt), ref.g(double(rt)));
            CHECK(sde.mean_coefficient(rt) == Real(1));
            CHECK(sde.drift(Real(3.5), rt) == Real(0));
        }
        check_close<Real>(sde.marginal_std(Real(T)), ref.smax);
        check_close<Real>(sde.marginal_std(Real(0)), ref.smin);
    }
}

TEMPLATE_TEST_CASE("vp_sde matches log m(t) = -t^2 (b1-b0)/4 - t b0/2 and s(t)^2 = 1 - m^2", "[sde]", float,
                   double) {
    using Real = TestType;
    for (const double T : {1.0, 2.0}) {
        const sgm::vp_sde<Real> sde(Real(0.1), Real(20), 1000, Real(T));
        const vp_closed_form ref{double(Real(0.1)), double(Real(20)), T};
        CHECK(sde.prior_std() == Real(1));
        for (double u : times) {
            const double t = u * T;
            const Real rt = Real(t);
            const double td = double(rt);
            CAPTURE(T, t);
            check_close<Real>(sde.mean_coefficient(rt), ref.m(td));
            // Relative accuracy also at t = 1e-6, where 1 − m² ≈ 1e-7 (no cancellation).
            check_close<Real>(sde.marginal_std(rt), ref.vp_std(td));
            check_close<Real>(sde.diffusion(rt), std::sqrt(ref.beta(td)));
            for (double x : {-2.0, 0.3, 7.0})
                check_close<Real>(sde.drift(Real(x), rt), -0.5 * ref.beta(td) * double(Real(x)));
        }
    }
}

TEMPLATE_TEST_CASE("sub_vp_sde matches s(t) = 1 - m^2 and g^2 = beta (1 - exp(-2 int beta))", "[sde]", float,
                   double) {
    using Real = TestType;
    for (const double T : {1.0, 2.0}) {
        const sgm::sub_vp_sde<Real> sde(Real(0.1), Real(20), 1000, Real(T));
        const vp_closed_form ref{double(Real(0.1)), double(Real(20)), T};
        CHECK(sde.prior_std() == Real(1));
        for (double u : times) {
            const double t = u * T;
            const Real rt = Real(t);
            const double td = double(rt);
            CAPTURE(T, t);
            check_close<Real>(sde.mean_coefficient(rt), ref.m(td));
            check_close<Real>(sde.marginal_std(rt), ref.sub_vp_std(td));
            check_close<Real>(sde.diffusion(rt), ref.sub_vp_g(td));
            for (double x : {-2.0, 0.3, 7.0})
                check_close<Real>(sde.drift(Real(x), rt), -0.5 * ref.beta(td) * double(Real(x)));
        }
    }
}

namespace {

// The kernel N(m(t) x0, s(t)² I) of dx = a(t) x dt + g(t) dw solves the moment
// ODEs m' = a m and (s²)' = 2 a s² + g². Checked by central differences.
template <class S>
void check_moment_odes(const S& sde) {
    // Central-difference error h² |f'''| / 6 + ε |f| / h: below 1e-9 relative here.
    const double h = 1e-6;
    for (double u : {0.02, 0.1, 0.3, 0.5, 0.8, 0.95}) {
        const double t = u * double(sde.T());
        CAPTURE(t);
        const double a = sde.drift(1.0, t);  // drifts are linear: f(x, t) = a(t) x
        const double m = sde.mean_coefficient(t), s = sde.marginal_std(t), g = sde.diffusion(t);
        const double dm = sgm::test::central_derivative([&](double r) { return sde.mean_coefficient(r); }, t, h);
        const double dvar = sgm::test::central_derivative(
            [&](double r) {
                const double sr = sde.marginal_std(r);
                return sr * sr;
            },
            t, h);
        CHECK(dm == Approx(a * m).epsilon(1e-7).margin(1e-12));
        CHECK(dvar == Approx(2 * a * s * s + g * g).epsilon(1e-7));
    }
}

}  // namespace

TEST_CASE("the perturbation kernels solve the moment ODE of their SDE", "[sde]") {
    SECTION("VE") {
        check_moment_odes(sgm::ve_sde<double>());
        check_moment_odes(sgm::ve_sde<double>(0.1, 5.0, 100, 3.0));
    }
    SECTION("VP") {
        check_moment_odes(sgm::vp_sde<double>());
        check_moment_odes(sgm::vp_sde<double>(0.5, 4.0, 100, 2.0));
    }
    SECTION("sub-VP") {
        check_moment_odes(sgm::sub_vp_sde<double>());
        check_moment_odes(sgm::sub_vp_sde<double>(0.5, 4.0, 100, 2.0));
    }
}

TEMPLATE_TEST_CASE("ve_sde's discrete chain is SMLD's: geometric sigmas and ancestral steps", "[sde]", float,
                   double) {
    using Real = TestType;
    const std::size_t n = 100;
    const sgm::ve_sde<Real> sde(Real(0.01), Real(50), n);
    const double smin = double(Real(0.01)), smax = double(Real(50));
    const auto sigma = [&](std::size_t k) { return smin * std::pow(smax / smin, double(k) / double(n - 1)); };
    check_close<Real>(sde.discrete_sigma(0), smin);
    check_close<Real>(sde.discrete_sigma(n - 1), smax);
    for (std::size_t k : {std::size_t(0), std::size_t(1), std::size_t(17), std::size_t(50), n - 2, n - 1}) {
        CAPTURE(k);
        const double s = sigma(k), prev = k == 0 ? 0.0 : sigma(k - 1);
        check_close<Real>(sde.discrete_sigma(k), s);
        // SMLD forward chain x_k = x_{k-1} + sqrt(σ_k² − σ_{k-1}²) z, σ_{-1} = 0.
        CHECK(sgm::discrete_drift(sde, Real(1.7), Real(0.5), k) == Real(0));
        // σ_k² − σ_{k-1}² cancels: relative errors of σ grow by σ_k² / (σ_k² − σ_{k-1}²).
        const double cancel = s * s / (s * s - prev * prev);
        check_close<Real>(sgm::discrete_diffusion(sde, Real(0.5), k), std::sqrt(s * s - prev * prev), cancel);
        // Ancestral: x_{k-1} = x_k + (σ_k² − σ_{k-1}²) s + sqrt(σ_{k-1}² (σ_k² − σ_{k-1}²) / σ_k²) z.
        const auto c = sde.ancestral(k);
        CHECK(c.a == Real(1));
        check_close<Real>(c.b, s * s - prev * prev, cancel);
        check_close<Real>(c.c, std::sqrt(prev * prev * (s * s - prev * prev) / (s * s)), cancel);
        CHECK(sgm::langevin_alpha(sde, k) == Real(1));
    }
    // One level: linspace(log σ_min, log σ_max, 1) = {log σ_min}.
    const sgm::ve_sde<Real> single(Real(0.01), Real(50), 1);
    check_close<Real>(single.discrete_sigma(0), smin);
}

TEMPLATE_TEST_CASE("vp_sde's discrete chain is DDPM's: N betas evenly spaced from b0·T/N to b1·T/N", "[sde]", float, double) {
    using Real = TestType;
    const std::size_t n = 1000;
    const sgm::vp_sde<Real> sde(Real(0.1), Real(20), n);
    const double b0 = double(Real(0.1)), b1 = double(Real(20));
    const auto beta = [&](std::size_t k) { return b0 / n + (b1 / n - b0 / n) * double(k) / double(n - 1); };
    check_close<Real>(sde.discrete_beta(0), b0 / n);
    check_close<Real>(sde.discrete_beta(n - 1), b1 / n);
    for (std::size_t k : {std::size_t(0), std::size_t(1), std::size_t(333), std::size_t(500), n - 2, n - 1}) {
        CAPTURE(k);
        const double b = beta(k);
        check_close<Real>(sde.discrete_beta(k), b);
        // DDPM forward chain x_k = sqrt(1 − β_k) x_{k-1} + sqrt(β_k) z.
        const double x = 1.7;
        // The drift is added to x, so its error is measured against x: within a few ulps of x.
        const double drift = sgm::discrete_drift(sde, Real(x), Real(0.5), k);
        CHECK(std::abs(drift - (std::sqrt(1 - b) - 1) * double(Real(x))) <=
              8 * double(std::numeric_limits<Real>::epsilon()) * x);
        check_close<Real>(sgm::discrete_diffusion(sde, Real(0.5), k), std::sqrt(b));
        // Ancestral: x_{k-1} = (x_k + β_k s) / sqrt(1 − β_k) + sqrt(β_k) z.
        const auto c = sde.ancestral(k);
        check_close<Real>(c.a, 1 / std::sqrt(1 - b));
        check_close<Real>(c.b, b / std::sqrt(1 - b));
        check_close<Real>(c.c, std::sqrt(b));
        // Langevin α_k = 1 − β_k, as in the paper's code.
        check_close<Real>(sgm::langevin_alpha(sde, k), 1 - b);
    }
    const sgm::vp_sde<Real> single(Real(0.1), Real(0.5), 1);
    check_close<Real>(single.discrete_beta(0), double(Real(0.1)));
    // β_k = β(t_k)·T/N: with T = 2 the chain covers the SDE's whole ∫β = T(b0 + b1)/2.
    const sgm::vp_sde<Real> longer(Real(0.1), Real(20), n, Real(2));
    double integral = 0;
    for (std::size_t k = 0; k < n; ++k) integral += double(longer.discrete_beta(k));
    CHECK(integral == Approx(2 * (b0 + b1) / 2).epsilon(1e-5));
}

TEMPLATE_TEST_CASE("sub_vp_sde uses the default Euler discretization with dt = T/N", "[sde]", float, double) {
    using Real = TestType;
    const std::size_t n = 500;
    const double T = 2.0;
    const sgm::sub_vp_sde<Real> sde(Real(0.1), Real(20), n, Real(T));
    const sgm::vp_sde<Real> vp(Real(0.1), Real(20), n, Real(T));
    const double dt = T / double(n);
    for (double t : {0.01, 0.4, 1.3, 2.0}) {
        CAPTURE(t);
        const Real rt = Real(t);
        const std::size_t k = 123;
        check_close<Real>(sgm::discrete_drift(sde, Real(0.8), rt, k), double(sde.drift(Real(0.8), rt)) * dt);
        check_close<Real>(sgm::discrete_diffusion(sde, rt, k), double(sde.diffusion(rt)) * std::sqrt(dt));
        // It shares the VP schedule's Langevin α.
        CHECK(sgm::langevin_alpha(sde, k) == sgm::langevin_alpha(vp, k));
    }
}
