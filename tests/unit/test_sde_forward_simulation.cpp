// The forward SDEs simulated with Euler–Maruyama reproduce their closed-form
// perturbation kernels: x(t) | x(0) ~ N(m(t) x(0), s(t)²).

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/random/philox_normal.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

namespace {

// Simulates P = size × dim independent paths of dx = f(x,t) dt + g(t) dw from
// x(0) = x0 + start_std · z (noise draw 0) with 2000 Euler–Maruyama steps
// (draws 1, 2, …) on the grid t_n = T (n/2000)^power, and checks the sample mean
// and variance at t = 0.05, 0.2, 0.5, 1 (times T) against m(t) x0 and s(t)².
// power = 2 puts more steps near t = 0, where the VP and sub-VP coefficients
// change fastest relative to the variance.
//
// Time discretization: the drifts are linear, f = a(t) x, so the EM iterates are
// exactly Gaussian with moments following  μ ← (1 + a dt) μ,  v ← (1 + a dt)² v + g² dt.
// That recursion gives the EM bias exactly; the tolerance is 5 standard errors plus
// that bias, and the grid is chosen so the bias stays below half a standard error
// (checked), i.e. negligible.
template <class SDE>
void check_kernel(const SDE& sde, double x0, double start_std, std::uint64_t seed, double power) {
    const std::size_t size = 2048, dim = 4, paths = size * dim, steps = 2000;
    const double T = sde.T();
    std::vector<double> grid(steps + 1);
    for (std::size_t n = 0; n <= steps; ++n) grid[n] = T * std::pow(double(n) / double(steps), power);
    // Snap the nearest grid point onto each checkpoint time.
    std::vector<std::size_t> checkpoints;
    for (double c : {0.05, 0.2, 0.5, 1.0}) {
        const auto n = std::size_t(std::lround(double(steps) * std::pow(c, 1 / power)));
        grid[n] = c * T;
        checkpoints.push_back(n);
    }
    const sgm::serial_backend<double> be;

    std::vector<double> x(paths), z(paths);
    sgm::random::fill_normal(be, z.data(), size, dim, {seed, 0}, 0);
    for (std::size_t i = 0; i < paths; ++i) x[i] = x0 + start_std * z[i];
    double em_mean = x0, em_var = start_std * start_std;

    std::size_t next = 0;
    for (std::size_t n = 0; n < steps; ++n) {
        const double t = grid[n], dt = grid[n + 1] - grid[n];
        const double g = sde.diffusion(t), a = sde.drift(1.0, t), noise = g * std::sqrt(dt);
        sgm::random::fill_normal(be, z.data(), size, dim, {seed, 0}, std::uint32_t(n + 1));
        for (std::size_t i = 0; i < paths; ++i) x[i] += sde.drift(x[i], t) * dt + noise * z[i];
        em_mean *= 1 + a * dt;
        em_var = (1 + a * dt) * (1 + a * dt) * em_var + g * g * dt;

        if (n + 1 != checkpoints[next]) continue;
        ++next;
        const double tc = grid[n + 1];
        double mean = 0, var = 0;
        for (double v : x) mean += v;
        mean /= double(paths);
        for (double v : x) var += (v - mean) * (v - mean);
        var /= double(paths - 1);

        const double m = sde.mean_coefficient(tc), s = sde.marginal_std(tc);
        const double kernel_mean = m * x0, kernel_var = s * s;
        const double se_mean = s / std::sqrt(double(paths));
        const double se_var = kernel_var * std::sqrt(2.0 / double(paths - 1));
        const double bias_mean = std::abs(em_mean - kernel_mean), bias_var = std::abs(em_var - kernel_var);
        CAPTURE(tc, mean, kernel_mean, se_mean, bias_mean, var, kernel_var, se_var, bias_var);
        CHECK(bias_mean < 0.5 * se_mean);
        CHECK(bias_var < 0.5 * se_var);
        CHECK(std::abs(mean - kernel_mean) < 5 * se_mean + bias_mean);
        CHECK(std::abs(var - kernel_var) < 5 * se_var + bias_var);
    }
    REQUIRE(next == checkpoints.size());
}

}  // namespace

TEST_CASE("Euler-Maruyama paths of the VE SDE match its perturbation kernel", "[sde][simulation]") {
    const sgm::ve_sde<double> sde(0.01, 50);
    // ve_sde's kernel has std σ(t), as in the paper: it treats x(0) as carrying
    // σ_min noise (the SDE itself only adds σ(t)² − σ_min²). So the paths start
    // from x0 + σ_min z.
    check_kernel(sde, 1.5, sde.sigma_min(), 11, 1.0);
}

TEST_CASE("Euler-Maruyama paths of the VP SDE match its perturbation kernel", "[sde][simulation]") {
    check_kernel(sgm::vp_sde<double>(0.1, 20), 1.5, 0.0, 12, 2.0);
}

TEST_CASE("Euler-Maruyama paths of the sub-VP SDE match its perturbation kernel", "[sde][simulation]") {
    check_kernel(sgm::sub_vp_sde<double>(0.1, 20), 1.5, 0.0, 13, 2.0);
}
