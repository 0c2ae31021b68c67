#pragma once
// Shared data of the likelihood tests: a 2-D three-component mixture, a 16-d
// Gaussian with a full covariance, points of high and low density for each, and a
// user-written affine SDE.

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <sgm/score/gaussian_mixture.hpp>

namespace sgm::test {

inline gaussian_mixture<double> mixture_2d_three() {
    return {{0.5, 0.3, 0.2},
            {0.35, 3.0, -3.1, -3.0, 3.8, -3.0},
            {0.5, 0.2, 0.2, 0.3, 0.3, -0.1, -0.1, 0.6, 0.4, 0.0, 0.0, 0.4}};
}

// Σ = A Aᵀ / 16 + 0.2 I with A_ij = sin(1 + 3i + 7j): full, well conditioned, fixed.
inline gaussian_mixture<double> gaussian_16d() {
    const std::size_t d = 16;
    std::vector<double> a(d * d), cov(d * d), mean(d);
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) a[i * d + j] = std::sin(1.0 + 3.0 * double(i) + 7.0 * double(j));
    for (std::size_t i = 0; i < d; ++i) {
        mean[i] = 0.5 * std::cos(double(i));
        for (std::size_t j = 0; j < d; ++j) {
            double s = 0;
            for (std::size_t k = 0; k < d; ++k) s += a[i * d + k] * a[j * d + k];
            cov[i * d + j] = s / 16.0 + (i == j ? 0.2 : 0.0);
        }
    }
    return gaussian_mixture<double>::gaussian(mean, cov);
}

// Named points: the component means (high density), between components and far
// out (low density).
struct named_points {
    std::vector<std::string> names;
    std::vector<double> values;  // names.size() × D
};

inline named_points points_2d() {
    return {{"mean of component 0", "mean of component 2", "between components", "far tail (log p ≈ -60)"},
            {0.35, 3.0, 3.8, -3.0, 0.0, -0.5, -6.0, 6.5}};
}

inline named_points points_16d() {
    const auto g = gaussian_16d();
    named_points p{{"mean", "one sd out along a diagonal", "four sd out"}, {}};
    for (double scale : {0.0, 0.25, 1.0})
        for (std::size_t i = 0; i < 16; ++i) p.values.push_back(g.means()[i] + scale * (i % 2 ? 1.0 : -1.0) * 1.9);
    return p;
}

// A user-written affine SDE: constant-rate VP, dx = −½β x dt + √β dw, with
// m(t) = e^{−βt/2}, s(t)² = 1 − e^{−βt}. No drift_derivative: the library
// differentiates the affine drift itself.
struct constant_rate_vp {
    using value_type = double;
    double beta = 8.0;
    double T() const { return 1.0; }
    std::size_t steps() const { return 1000; }
    double drift(double x, double) const { return -0.5 * beta * x; }
    double diffusion(double) const { return std::sqrt(beta); }
    double prior_std() const { return 1.0; }
    double mean_coefficient(double t) const { return std::exp(-0.5 * beta * t); }
    double marginal_std(double t) const { return std::sqrt(-std::expm1(-beta * t)); }
};

// The same SDE declaring its drift derivative, the route non-affine SDEs take.
struct constant_rate_vp_with_derivative : constant_rate_vp {
    double drift_derivative(double, double) const { return -0.5 * beta; }
};

}  // namespace sgm::test
