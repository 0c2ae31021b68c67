// Convergence order of the fixed-step samplers against exact answers, with no
// Monte-Carlo error: on a Gaussian target the probability-flow ODE is linear
// and its flow map is known in closed form, and Euler–Maruyama's output is an
// affine function of its start and of the noise draws, which are pure functions
// of (seed, sample, draw) and can be regenerated.

#include <catch2/catch.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <sgm/sgm.hpp>

#include "support/statistics.hpp"

namespace {

using backend = sgm::serial_backend<double>;
using sgm::test::observed_order;

template <class SDE>
SDE make_sde(std::size_t n) {
    if constexpr (std::is_same_v<SDE, sgm::ve_sde<double>>)
        return SDE(0.01, 3.0, n);
    else
        return SDE(0.1, 20.0, n);
}

template <class SDE>
double eps_for() {
    return std::is_same_v<SDE, sgm::ve_sde<double>> ? 1e-5 : 1e-3;
}

// Variance of the perturbed data N(m μ, m²λ + s²) at time t.
template <class SDE>
double marginal_variance(const SDE& sde, double lambda, double t) {
    const double m = sde.mean_coefficient(t), s = sde.marginal_std(t);
    return m * m * lambda + s * s;
}

// Euler and Heun decoding of latents through the probability flow of N(μ, λ).
// The flow is linear: x(t) − m(t)μ = sqrt(v(t)/v(T)) (x(T) − m(T)μ), v the
// marginal variance, since d log v/dt = 2f/x + g²/v holds for every affine SDE.
// Returns the largest absolute error over a few latents.
template <class SDE>
double ode_decode_error(sgm::ode_method method, std::size_t steps) {
    const double mu = 0.5, lambda = 0.25;
    const SDE sde = make_sde<SDE>(1000);
    const backend be;
    sgm::mixture_score<backend, SDE> model(sgm::gaussian_mixture<double>::diagonal_gaussian({mu}, {lambda}), sde, be);
    std::vector<double> latents;
    for (double z = -2; z <= 2; z += 0.5) latents.push_back(sde.prior_std() * z);
    auto x = sgm::batch<backend>::from_host(latents, latents.size(), 1, be);
    sgm::ode_options options;
    options.method = method;
    options.steps = steps;
    options.eps = eps_for<SDE>();
    sgm::ode_decode(sde, model, x, options, be);
    const auto decoded = x.to_host(be);
    const double t_end = sde.T(), eps = eps_for<SDE>();
    const double scale = std::sqrt(marginal_variance(sde, lambda, eps) / marginal_variance(sde, lambda, t_end));
    double worst = 0;
    for (std::size_t b = 0; b < latents.size(); ++b) {
        const double exact = sde.mean_coefficient(eps) * mu + scale * (latents[b] - sde.mean_coefficient(t_end) * mu);
        worst = std::max(worst, std::abs(decoded[b] - exact));
    }
    return worst;
}

// E[x²] of Euler–Maruyama's output, exactly, for data N(0, λ) in 1-D, the chain
// started from the exact p_T and run to t = 0 (no denoising).
//
// The chain is affine: x_out = A x_T + Σ_k c_k z_k with z_k draw k of the
// sample. Two runs with the same seed from x_T = 0 and x_T = 1 give A; the c_k
// follow by least squares against the regenerated draws (the fit is exact, which
// also checks the draw numbering). Then E[x²] = A² v(T) + Σ c_k².
struct em_moment {
    double relative_error;  // against the exact E[x²] = v(0)
    double fit_residual;    // ‖Z c − x_out‖ / ‖x_out‖
    double spread_of_a;     // how much the A of different samples differ
};

template <class SDE>
em_moment euler_maruyama_second_moment(double lambda, std::size_t steps) {
    const SDE sde = make_sde<SDE>(steps);
    const backend be;
    sgm::mixture_score<backend, SDE> model(sgm::gaussian_mixture<double>::diagonal_gaussian({0.0}, {lambda}), sde, be);
    const std::size_t count = 2 * steps + 16;  // more equations than unknown c_k
    sgm::pc_options options;
    options.count = count;
    options.eps = eps_for<SDE>();
    options.denoise = false;
    options.seed = 2024;
    const auto run = [&](double start) {
        auto x = sgm::batch<backend>::from_host(std::vector<double>(count, start), count, 1, be);
        sgm::pc_sample_from(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, x, options, be);
        return x.to_host(be);
    };
    const auto from_zero = run(0.0), from_one = run(1.0);

    em_moment out{};
    double a = from_one[0] - from_zero[0];
    for (std::size_t b = 0; b < count; ++b)
        out.spread_of_a = std::max(out.spread_of_a, std::abs(from_one[b] - from_zero[b] - a));

    // Draw k + 1 is the noise of step k (draw 0 is reserved for the prior).
    Eigen::MatrixXd z{Eigen::Index(count), Eigen::Index(steps)};
    Eigen::VectorXd y{Eigen::Index(count)};
    for (std::size_t b = 0; b < count; ++b) {
        y(Eigen::Index(b)) = from_zero[b];
        for (std::size_t k = 0; k < steps; ++k)
            z(Eigen::Index(b), Eigen::Index(k)) =
                sgm::random::normal<double>(options.seed, b, static_cast<std::uint32_t>(k + 1), 0);
    }
    const Eigen::VectorXd c = (z.transpose() * z).llt().solve(z.transpose() * y);
    out.fit_residual = (z * c - y).norm() / y.norm();

    const double second_moment = a * a * marginal_variance(sde, lambda, sde.T()) + c.squaredNorm();
    const double exact = marginal_variance(sde, lambda, 0.0);
    out.relative_error = second_moment / exact - 1;
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("fixed-step ODE decoding converges at order 1 (Euler) and 2 (Heun)", "[sampler][ode][convergence]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const std::vector<std::size_t> steps{40, 80, 160, 320};
    for (const auto& [method, order] :
         {std::pair{sgm::ode_method::euler, 1.0}, std::pair{sgm::ode_method::heun, 2.0}}) {
        std::vector<double> h, err;
        for (std::size_t n : steps) {
            h.push_back(1.0 / double(n));
            err.push_back(ode_decode_error<TestType>(method, n));
        }
        const double observed = observed_order(h, err);
        INFO("method " << (method == sgm::ode_method::euler ? "euler" : "heun") << ": errors " << err[0] << ", "
                       << err[1] << ", " << err[2] << ", " << err[3] << "; observed order " << observed);
        for (std::size_t i = 1; i < err.size(); ++i) CHECK(err[i] < err[i - 1]);
        CHECK(observed == Approx(order).margin(0.1 * order));
    }
}

TEMPLATE_TEST_CASE("Euler–Maruyama's second moment converges at weak order 1", "[sampler][pc][convergence]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    // VE's variance error nearly cancels for data wider than σ_min (steps where
    // σ(t)² > λ err one way, steps where σ(t)² < λ the other), so its first-order
    // term would only show at N ≫ 1000; with data much narrower than σ_min every
    // step errs the same way.
    constexpr bool ve = std::is_same_v<TestType, sgm::ve_sde<double>>;
    const double lambda = ve ? 1e-6 : 0.5;
    const std::vector<std::size_t> steps =
        ve ? std::vector<std::size_t>{50, 100, 200, 400} : std::vector<std::size_t>{25, 50, 100, 200};
    std::vector<double> h, err;
    for (std::size_t n : steps) {
        const auto m = euler_maruyama_second_moment<TestType>(lambda, n);
        INFO("N = " << n << ": relative error of E[x²] " << m.relative_error << ", fit residual " << m.fit_residual
                    << ", spread of A " << m.spread_of_a);
        CHECK(m.fit_residual < 1e-10);
        CHECK(m.spread_of_a < 1e-12);
        h.push_back(1.0 / double(n));
        err.push_back(std::abs(m.relative_error));
    }
    const double observed = observed_order(h, err);
    INFO("errors " << err[0] << ", " << err[1] << ", " << err[2] << ", " << err[3] << "; observed order " << observed);
    for (std::size_t i = 1; i < err.size(); ++i) CHECK(err[i] < err[i - 1]);
    CHECK(observed == Approx(1.0).margin(0.15));
}
