// silu: forward and backward against the formula evaluated with std::exp in
// long double, in float and double, across the vectorized body, the tail of a
// block and chunks split between threads; saturation at large |x|; the
// backward against finite differences; bit-identical on 1 and 2 threads.

#include <catch2/catch.hpp>

#include <sgm/nn/silu.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "support/gradient_check.hpp"

namespace {

using sgm::nn::cpu_context;
using sgm::nn::silu;

long double reference_forward(long double x) { return x / (1.0L + std::exp(-x)); }
long double reference_derivative(long double x) {
    const long double s = 1.0L / (1.0L + std::exp(-x));
    return s * (1.0L + x * (1.0L - s));
}

// 70,001 values: more than two chunks of 2^15 (so two threads both work), a
// count that is not a multiple of the SIMD width or of the backward's block,
// spread over [-30, 30] with the saturated ends included.
template <class Real>
std::vector<Real> inputs() {
    const auto z = sgm::test::random_vector(70001, 17, 6.0);
    std::vector<Real> x(z.size());
    for (std::size_t i = 0; i < z.size(); ++i) x[i] = static_cast<Real>(z[i]);
    x[0] = Real(-30);
    x[1] = Real(30);
    x[2] = Real(0);
    x[3] = Real(-1e-3);
    return x;
}

// |computed − exact| ≤ k·ε·(|exact| + scale): relative where the value is
// large, absolute near the zero of each function (x = 0, and x ≈ −1.28 for
// the derivative), where cancellation in the formula sets the error.
template <class Real>
void check_against_reference(int threads) {
    const auto x = inputs<Real>();
    const std::size_t n = x.size();
    std::vector<Real> y(n), dy(n), dx(n);
    for (std::size_t i = 0; i < n; ++i) dy[i] = static_cast<Real>(1 + 0.25 * std::sin(0.1 * double(i)));
    silu<Real> act;
    const cpu_context ctx(threads);
    act.forward(ctx, x.data(), y.data(), n);
    act.backward(ctx, dy.data(), dx.data(), n);

    const long double eps = std::numeric_limits<Real>::epsilon();
    long double worst_y = 0, worst_dx = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const long double xi = x[i];
        const long double ey = reference_forward(xi);
        const long double edx = static_cast<long double>(dy[i]) * reference_derivative(xi);
        worst_y = std::max(worst_y, std::abs(y[i] - ey) / (eps * (std::abs(ey) + std::abs(xi) * 1e-2L + 1e-2L)));
        worst_dx = std::max(worst_dx, std::abs(dx[i] - edx) / (eps * (std::abs(edx) + std::abs(xi) + 1)));
    }
    INFO("forward error " << double(worst_y) << " eps, backward " << double(worst_dx) << " eps");
    CHECK(worst_y <= 8);
    CHECK(worst_dx <= 16);
    // Saturation: σ(−30)·(−30) is −2.8e−12, σ(30)·30 is 30 − 2.8e−12; the derivative 0 and 1.
    CHECK(std::abs(y[0]) < Real(1e-10));
    CHECK(std::abs(y[1] - Real(30)) <= Real(3e-12) + Real(30) * std::numeric_limits<Real>::epsilon());
    CHECK(y[2] == Real(0));
    CHECK(std::abs(dx[0]) < Real(1e-10));
}

}  // namespace

TEST_CASE("silu: float and double forward and backward match the formula", "[nn][silu]") {
    for (const int threads : {1, 2}) {
        INFO(threads << " threads");
        check_against_reference<float>(threads);
        check_against_reference<double>(threads);
    }
}

TEST_CASE("silu: backward matches finite differences", "[nn][silu][gradient]") {
    auto x = sgm::test::random_vector(1000, 23, 4.0);
    const auto w = sgm::test::random_vector(x.size(), 24);
    silu<double> act;
    const cpu_context ctx(1);
    std::vector<double> y(x.size()), dx(x.size());
    const auto loss = [&] {
        act.forward(ctx, x.data(), y.data(), x.size());
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
        return s;
    };
    loss();
    act.backward(ctx, w.data(), dx.data(), x.size());
    const auto r = sgm::test::check_gradient(loss, x, dx);
    INFO("relative error " << r.relative() << " over " << r.checked << " coordinates");
    CHECK(r.checked == 200);
    CHECK(r.relative() < 1e-8);
}

TEST_CASE("silu: bit-identical on 1 and 2 threads; null dx is a no-op", "[nn][silu][determinism]") {
    const auto x = inputs<float>();
    std::vector<float> dy(x.size(), 0.5f);
    std::vector<std::vector<float>> results;
    for (const int threads : {1, 2}) {
        silu<float> act;
        const cpu_context ctx(threads);
        std::vector<float> y(x.size()), dx(x.size());
        act.forward(ctx, x.data(), y.data(), x.size());
        act.backward(ctx, dy.data(), dx.data(), x.size());
        act.backward(ctx, dy.data(), nullptr, x.size());  // no input gradient wanted
        y.insert(y.end(), dx.begin(), dx.end());
        results.push_back(std::move(y));
    }
    CHECK(std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(float)) == 0);
}

TEST_CASE("silu: a value's result does not depend on its address", "[nn][silu][determinism]") {
    // The same 1,000 values stored at offsets 0 to 7 of a buffer: a vectorized
    // loop that peels unaligned heads with scalar code would give some of them
    // different last bits (a resumed training run would then not be bit-identical).
    const auto x = inputs<float>();
    const std::size_t n = 1000;
    std::vector<float> reference_y, reference_dx;
    for (std::size_t offset = 0; offset < 8; ++offset) {
        INFO("offset " << offset);
        std::vector<float> xs(n + offset), dy(n + offset, 0.75f), y(n + offset), dx(n + offset);
        std::copy_n(x.begin(), n, xs.begin() + long(offset));
        silu<float> act;
        const cpu_context ctx(1);
        act.forward(ctx, xs.data() + offset, y.data() + offset, n);
        act.backward(ctx, dy.data() + offset, dx.data() + offset, n);
        const std::vector<float> out_y(y.begin() + long(offset), y.end()), out_dx(dx.begin() + long(offset), dx.end());
        if (offset == 0) {
            reference_y = out_y;
            reference_dx = out_dx;
            continue;
        }
        CHECK(std::memcmp(out_y.data(), reference_y.data(), n * sizeof(float)) == 0);
        CHECK(std::memcmp(out_dx.data(), reference_dx.data(), n * sizeof(float)) == 0);
    }
}
