#pragma once
// sgm::gaussian_mixture — a host-side description of a Gaussian mixture
// Σ_k π_k N(μ_k, Σ_k) in D dimensions, with exact sampling. The analytic score of
// its perturbed versions lives in score/mixture_score.hpp.

#include <Eigen/Dense>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../error.hpp"
#include "../random/philox_normal.hpp"

namespace sgm {

template <class Real = double>
class gaussian_mixture {
public:
    using value_type = Real;

    // weights: K; means: K×D; covariances: K×D×D row-major, symmetric positive definite.
    gaussian_mixture(std::vector<Real> weights, std::vector<Real> means, std::vector<Real> covariances)
        : weights_(std::move(weights)), means_(std::move(means)), covariances_(std::move(covariances)) {
        const std::size_t k = weights_.size();
        detail::require(k >= 1, "gaussian_mixture: no components; expected at least one weight");
        detail::require(means_.size() % k == 0 && !means_.empty(), "gaussian_mixture: ", means_.size(),
                        " mean values do not split into ", k, " components");
        dim_ = means_.size() / k;
        detail::require(covariances_.size() == k * dim_ * dim_, "gaussian_mixture: got ",
                        covariances_.size(), " covariance values, expected K*D*D = ", k * dim_ * dim_);
        Real total = 0;
        for (std::size_t c = 0; c < k; ++c) {
            detail::require(std::isfinite(weights_[c]) && weights_[c] > 0, "gaussian_mixture: weight[",
                            c, "] = ", weights_[c], "; expected a finite value > 0");
            total += weights_[c];
        }
        detail::require(std::abs(total - Real(1)) < Real(1e-6), "gaussian_mixture: weights sum to ",
                        total, "; expected 1");
        for (Real m : means_)
            detail::require(std::isfinite(m), "gaussian_mixture: non-finite mean value ", m);
        decompose();
    }

    // One component N(mean, covariance).
    static gaussian_mixture gaussian(std::vector<Real> mean, std::vector<Real> covariance) {
        return gaussian_mixture({Real(1)}, std::move(mean), std::move(covariance));
    }
    // One component with a diagonal covariance.
    static gaussian_mixture diagonal_gaussian(std::vector<Real> mean, const std::vector<Real>& variances) {
        detail::require(mean.size() == variances.size(), "gaussian_mixture::diagonal_gaussian: ",
                        mean.size(), " means but ", variances.size(), " variances");
        const std::size_t d = mean.size();
        std::vector<Real> cov(d * d, Real(0));
        for (std::size_t i = 0; i < d; ++i) cov[i * d + i] = variances[i];
        return gaussian(std::move(mean), std::move(cov));
    }

    [[nodiscard]] std::size_t dim() const { return dim_; }
    [[nodiscard]] std::size_t components() const { return weights_.size(); }
    [[nodiscard]] const std::vector<Real>& weights() const { return weights_; }
    [[nodiscard]] const std::vector<Real>& means() const { return means_; }
    [[nodiscard]] const std::vector<Real>& covariances() const { return covariances_; }
    // Σ_k = Q_k diag(λ_k) Q_kᵀ: eigenvectors (K×D×D, Q_k row-major) and eigenvalues (K×D).
    [[nodiscard]] const std::vector<Real>& eigenvectors() const { return eigenvectors_; }
    [[nodiscard]] const std::vector<Real>& eigenvalues() const { return eigenvalues_; }
    [[nodiscard]] bool is_diagonal() const { return diagonal_; }

    // Mixture mean and covariance (D and D×D): the moments every sampler must reproduce.
    [[nodiscard]] std::vector<Real> mean() const {
        std::vector<Real> m(dim_, Real(0));
        for (std::size_t c = 0; c < components(); ++c)
            for (std::size_t i = 0; i < dim_; ++i) m[i] += weights_[c] * means_[c * dim_ + i];
        return m;
    }
    [[nodiscard]] std::vector<Real> covariance() const {
        const auto m = mean();
        std::vector<Real> cov(dim_ * dim_, Real(0));
        for (std::size_t c = 0; c < components(); ++c)
            for (std::size_t i = 0; i < dim_; ++i)
                for (std::size_t j = 0; j < dim_; ++j) {
                    const Real di = means_[c * dim_ + i] - m[i], dj = means_[c * dim_ + j] - m[j];
                    cov[i * dim_ + j] += weights_[c] * (covariances_[(c * dim_ + i) * dim_ + j] + di * dj);
                }
        return cov;
    }

    // n exact samples (n × D, host memory), a pure function of (seed, sample index).
    [[nodiscard]] std::vector<Real> sample(std::size_t n, std::uint64_t seed) const {
        std::vector<Real> out(n * dim_);
        for (std::size_t s = 0; s < n; ++s) {
            // Draw 0 picks the component, draw 1 gives the Gaussian coordinates.
            Real u[4];
            random::normal_block<Real>(seed, s, 0, 0, u);
            const Real uniform = Real(0.5) * std::erfc(-u[0] / std::sqrt(Real(2)));
            std::size_t c = 0;
            Real acc = weights_[0];
            while (uniform > acc && c + 1 < components()) acc += weights_[++c];
            for (std::size_t i = 0; i < dim_; ++i) {
                Real v = means_[c * dim_ + i];
                for (std::size_t j = 0; j < dim_; ++j)
                    v += eigenvectors_[(c * dim_ + i) * dim_ + j] * std::sqrt(eigenvalues_[c * dim_ + j]) *
                         random::normal<Real>(seed, s, 1, j);
                out[s * dim_ + i] = v;
            }
        }
        return out;
    }

private:
    // Checks symmetry and positive definiteness, and stores Σ_k = Q_k diag(λ_k) Q_kᵀ.
    // Diagonal mixtures keep Q = I and λ in coordinate order (the fast path of the score).
    void decompose() {
        const std::size_t k = components(), d = dim_;
        eigenvectors_.assign(k * d * d, Real(0));
        eigenvalues_.assign(k * d, Real(0));
        diagonal_ = true;
        for (std::size_t c = 0; c < k; ++c)
            for (std::size_t i = 0; i < d; ++i)
                for (std::size_t j = 0; j < d; ++j) {
                    const Real v = covariances_[(c * d + i) * d + j];
                    const Real vt = covariances_[(c * d + j) * d + i];
                    detail::require(std::isfinite(v) && std::abs(v - vt) <= Real(1e-9) * (1 + std::abs(v)),
                                    "gaussian_mixture: covariance ", c, " is not symmetric and finite at (",
                                    i, ",", j, "): ", v, " vs ", vt);
                    if (i != j && v != 0) diagonal_ = false;
                }
        using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        for (std::size_t c = 0; c < k; ++c) {
            matrix cov(d, d);
            for (std::size_t i = 0; i < d; ++i)
                for (std::size_t j = 0; j < d; ++j) cov(i, j) = covariances_[(c * d + i) * d + j];
            Eigen::SelfAdjointEigenSolver<matrix> eig;
            if (!diagonal_) eig.compute(cov);
            for (std::size_t j = 0; j < d; ++j) {
                const double lambda = diagonal_ ? cov(j, j) : eig.eigenvalues()(j);
                detail::require(lambda > 0, "gaussian_mixture: covariance ", c, " has eigenvalue ", lambda,
                                "; expected positive definite");
                eigenvalues_[c * d + j] = static_cast<Real>(lambda);
                for (std::size_t i = 0; i < d; ++i)
                    eigenvectors_[(c * d + i) * d + j] =
                        diagonal_ ? Real(i == j ? 1 : 0) : static_cast<Real>(eig.eigenvectors()(i, j));
            }
        }
    }

    std::vector<Real> weights_, means_, covariances_;
    std::vector<Real> eigenvectors_, eigenvalues_;
    std::size_t dim_ = 0;
    bool diagonal_ = true;
};

}  // namespace sgm
