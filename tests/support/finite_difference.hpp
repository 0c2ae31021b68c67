#pragma once
// Central finite differences for gradient checks in tests.

#include <cstddef>
#include <vector>

namespace sgm::test {

// f'(t) ≈ (f(t + h) − f(t − h)) / 2h; truncation error h² f'''/6.
template <class F>
double central_derivative(F&& f, double t, double h) {
    return (f(t + h) - f(t - h)) / (2 * h);
}

// ∇f(x) by central differences along each coordinate.
template <class F>
std::vector<double> central_gradient(F&& f, const std::vector<double>& x, double h) {
    std::vector<double> grad(x.size());
    std::vector<double> probe = x;
    for (std::size_t i = 0; i < x.size(); ++i) {
        probe[i] = x[i] + h;
        const double up = f(probe);
        probe[i] = x[i] - h;
        const double down = f(probe);
        probe[i] = x[i];
        grad[i] = (up - down) / (2 * h);
    }
    return grad;
}

}  // namespace sgm::test
