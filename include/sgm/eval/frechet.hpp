#pragma once
// The Fréchet distance between two Gaussians fitted to feature vectors — with a
// classifier's penultimate activations as the features, the FID-style measure
// of how close generated images are to real ones.
//
//   FD = ‖μa − μb‖² + tr(Σa + Σb − 2 (Σa^{1/2} Σb Σa^{1/2})^{1/2})
//
// Both square roots come from symmetric eigen-decompositions (Eigen's
// SelfAdjointEigenSolver), with eigenvalues that rounding makes slightly
// negative clipped to 0. The result is symmetric in its arguments (the trace
// term equals Σ √λ over the eigenvalues λ of Σa Σb) and is 0 for a fit and itself,
// up to rounding. Everything runs in double.

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

#include "../error.hpp"

namespace sgm::eval {

// Mean and unbiased (n − 1) covariance of n feature vectors of dimension d.
struct gaussian_fit {
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;
    std::size_t count = 0;

    [[nodiscard]] std::size_t dim() const { return static_cast<std::size_t>(mean.size()); }
};

// features: n × d values, row-major (one feature vector per row).
template <class Real>
[[nodiscard]] gaussian_fit fit_gaussian(std::span<const Real> features, std::size_t n, std::size_t d) {
    using sgm::detail::require;
    require(d > 0, "fit_gaussian: feature dimension is 0");
    require(n >= 2, "fit_gaussian: ", n, " feature vectors; a covariance needs at least 2");
    require(features.size() == n * d, "fit_gaussian: ", features.size(), " values given for ", n, " vectors of ",
            d, " features (expected ", n * d, ")");
    Eigen::MatrixXd x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            const double v = static_cast<double>(features[i * d + j]);
            require(std::isfinite(v), "fit_gaussian: feature [", i, ", ", j, "] = ", v, "; expected a finite value");
            x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v;
        }
    gaussian_fit fit;
    fit.count = n;
    fit.mean = x.colwise().mean().transpose();
    x.rowwise() -= fit.mean.transpose();
    fit.covariance = (x.transpose() * x) / static_cast<double>(n - 1);
    return fit;
}

namespace detail {

inline void check_fit(const gaussian_fit& f, const char* which) {
    using sgm::detail::require;
    const auto d = f.mean.size();
    require(d > 0, "frechet_distance: fit ", which, " is empty");
    require(f.covariance.rows() == d && f.covariance.cols() == d, "frechet_distance: fit ", which, " has a mean of ",
            d, " values but a ", f.covariance.rows(), "×", f.covariance.cols(), " covariance");
    require(f.mean.allFinite() && f.covariance.allFinite(), "frechet_distance: fit ", which,
            " has non-finite entries");
}

// The symmetric square root V diag(√max(λ, 0)) Vᵀ of a symmetric matrix.
[[nodiscard]] inline Eigen::MatrixXd symmetric_sqrt(const Eigen::MatrixXd& a) {
    const Eigen::MatrixXd s = 0.5 * (a + a.transpose());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(s);
    sgm::detail::require(eig.info() == Eigen::Success, "frechet_distance: eigen-decomposition failed");
    const Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
    return eig.eigenvectors() * root.asDiagonal() * eig.eigenvectors().transpose();
}

}  // namespace detail

[[nodiscard]] inline double frechet_distance(const gaussian_fit& a, const gaussian_fit& b) {
    detail::check_fit(a, "a");
    detail::check_fit(b, "b");
    sgm::detail::require(a.dim() == b.dim(), "frechet_distance: the fits have ", a.dim(), " and ", b.dim(),
                         " features; expected the same dimension");
    const Eigen::MatrixXd ra = detail::symmetric_sqrt(a.covariance);
    Eigen::MatrixXd m = ra * b.covariance * ra;
    m = 0.5 * (m + m.transpose());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m, Eigen::EigenvaluesOnly);
    sgm::detail::require(eig.info() == Eigen::Success, "frechet_distance: eigen-decomposition failed");
    const double cross = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
    const double fd = (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() - 2.0 * cross;
    return std::max(fd, 0.0);
}

}  // namespace sgm::eval
