#pragma once
// Sample moments and their distance to a target's exact moments: the quality
// numbers the examples print.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace examples {

// The largest distance between two of the 2-D points (x, y, x, y, …): the paper's
// rule for the VE SDE's sigma_max.
inline double largest_distance_2d(const std::vector<double>& xy) {
    double best = 0;
    for (std::size_t a = 0; a < xy.size(); a += 2)
        for (std::size_t b = a + 2; b < xy.size(); b += 2)
            best = std::max(best, std::hypot(xy[a] - xy[b], xy[a + 1] - xy[b + 1]));
    return best;
}

// Mean (D) of n samples stored sample after sample (n × D).
inline std::vector<double> sample_mean(const std::vector<double>& xs, std::size_t dim) {
    const std::size_t n = xs.size() / dim;
    std::vector<double> m(dim, 0.0);
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t i = 0; i < dim; ++i) m[i] += xs[s * dim + i];
    for (double& v : m) v /= double(n);
    return m;
}

// Unbiased covariance (D × D, row-major).
inline std::vector<double> sample_covariance(const std::vector<double>& xs, std::size_t dim) {
    const std::size_t n = xs.size() / dim;
    const auto m = sample_mean(xs, dim);
    std::vector<double> c(dim * dim, 0.0);
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t i = 0; i < dim; ++i)
            for (std::size_t j = 0; j < dim; ++j) c[i * dim + j] += (xs[s * dim + i] - m[i]) * (xs[s * dim + j] - m[j]);
    for (double& v : c) v /= double(n - 1);
    return c;
}

struct moment_error {
    double mean;        // ‖sample mean − true mean‖
    double covariance;  // ‖sample cov − true cov‖_F / ‖true cov‖_F
};

inline moment_error compare_moments(const std::vector<double>& xs, std::size_t dim,
                                    const std::vector<double>& true_mean, const std::vector<double>& true_cov) {
    const auto m = sample_mean(xs, dim);
    const auto c = sample_covariance(xs, dim);
    double dm = 0, dc = 0, norm = 0;
    for (std::size_t i = 0; i < dim; ++i) dm += (m[i] - true_mean[i]) * (m[i] - true_mean[i]);
    for (std::size_t i = 0; i < dim * dim; ++i) {
        dc += (c[i] - true_cov[i]) * (c[i] - true_cov[i]);
        norm += true_cov[i] * true_cov[i];
    }
    return {std::sqrt(dm), std::sqrt(dc / norm)};
}

}  // namespace examples

namespace examples {

// The typical errors that `count` exact samples of `target` make by chance: the
// root mean square of compare_moments over `draws` independent draws.
template <class Mixture>
moment_error typical_error(const Mixture& target, std::size_t count, std::uint64_t seed, int draws = 16) {
    moment_error rms{0, 0};
    for (int d = 0; d < draws; ++d) {
        const auto e = compare_moments(target.sample(count, seed + std::uint64_t(d)), target.dim(), target.mean(),
                                       target.covariance());
        rms.mean += e.mean * e.mean / draws;
        rms.covariance += e.covariance * e.covariance / draws;
    }
    return {std::sqrt(rms.mean), std::sqrt(rms.covariance)};
}

}  // namespace examples
