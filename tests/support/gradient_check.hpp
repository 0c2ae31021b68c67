#pragma once
// Finite-difference checks of a layer's or network's backward pass, in double.
//
// The scalar tested is L(x, θ) = Σ_i w_i y_i(x, θ) with fixed random weights w,
// so dL/dy = w is what backward receives. Each checked coordinate is compared
// with a central difference (h = 1e-6, truncation error O(h²) ≈ 1e-12 relative
// for smooth layers, rounding ≈ 1e-10 / h): the tolerance is an absolute error
// relative to the largest gradient entry, so tiny entries cannot fail on
// rounding and large ones cannot hide.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <sgm/random/philox_normal.hpp>

namespace sgm::test {

struct gradient_check_result {
    double max_abs_error = 0;   // max |analytic − finite difference| over checked coordinates
    double max_abs_gradient = 0;
    std::size_t checked = 0;
    [[nodiscard]] double relative() const { return max_abs_error / std::max(max_abs_gradient, 1e-300); }
};

inline std::vector<double> random_vector(std::size_t n, std::uint64_t seed, double scale = 1.0) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = scale * random::normal<double>(seed, 0, 0, i);
    return v;
}

// Indices to check: all when n ≤ limit, else `limit` spread evenly (deterministic).
inline std::vector<std::size_t> coordinates_to_check(std::size_t n, std::size_t limit) {
    std::vector<std::size_t> out;
    if (n <= limit) {
        for (std::size_t i = 0; i < n; ++i) out.push_back(i);
        return out;
    }
    for (std::size_t k = 0; k < limit; ++k) out.push_back((k * n) / limit + (k * 7919) % std::max<std::size_t>(1, n / limit));
    return out;
}

// loss(): runs the forward pass at the current values and returns Σ w_i y_i.
// `values`: the vector being checked (an input or a parameter's value), mutated
// in place and restored. `analytic`: dL/d(values) from the backward pass.
inline gradient_check_result check_gradient(const std::function<double()>& loss, std::vector<double>& values,
                                            const std::vector<double>& analytic, std::size_t limit = 200,
                                            double h = 1e-6) {
    gradient_check_result r;
    for (const double g : analytic) r.max_abs_gradient = std::max(r.max_abs_gradient, std::abs(g));
    for (const std::size_t i : coordinates_to_check(values.size(), limit)) {
        const double saved = values[i];
        values[i] = saved + h;
        const double up = loss();
        values[i] = saved - h;
        const double down = loss();
        values[i] = saved;
        const double fd = (up - down) / (2 * h);
        r.max_abs_error = std::max(r.max_abs_error, std::abs(fd - analytic[i]));
        ++r.checked;
    }
    return r;
}

inline double weighted_sum(const std::vector<double>& y, const std::vector<double>& w) {
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
    return s;
}

}  // namespace sgm::test
