#pragma once
// A direct, independent evaluation of a Gaussian mixture perturbed by an affine
// SDE: component k at time t is N(m μ_k, m² Σ_k + s² I). Uses Cholesky factors
// (the library uses eigendecompositions) and log-sum-exp, in double precision.

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <vector>

#include <sgm/score/gaussian_mixture.hpp>

namespace sgm::test {

struct reference_mixture {
    std::vector<double> weights;      // K
    std::vector<double> means;        // K × D
    std::vector<double> covariances;  // K × D × D, row-major
    std::size_t dim;

    std::size_t components() const { return weights.size(); }

    // Per-component log π_k + log N(x; m μ_k, m² Σ_k + s² I), and C_k⁻¹ (x − m μ_k).
    struct evaluation {
        std::vector<double> log_joint;           // K
        std::vector<Eigen::VectorXd> precision;  // K vectors of length D
    };

    evaluation evaluate(const std::vector<double>& x, double m, double s) const {
        const auto d = static_cast<Eigen::Index>(dim);
        evaluation e;
        for (std::size_t k = 0; k < components(); ++k) {
            Eigen::MatrixXd c(d, d);
            Eigen::VectorXd y(d);
            for (Eigen::Index i = 0; i < d; ++i) {
                y(i) = x[i] - m * means[k * dim + i];
                for (Eigen::Index j = 0; j < d; ++j)
                    c(i, j) = m * m * covariances[(k * dim + i) * dim + j] + (i == j ? s * s : 0.0);
            }
            const Eigen::LLT<Eigen::MatrixXd> llt(c);
            const Eigen::VectorXd w = llt.solve(y);
            double log_det = 0;
            for (Eigen::Index i = 0; i < d; ++i) log_det += 2 * std::log(llt.matrixL()(i, i));
            e.log_joint.push_back(std::log(weights[k]) - 0.5 * y.dot(w) - 0.5 * log_det -
                                  0.5 * double(d) * std::log(2 * std::numbers::pi));
            e.precision.push_back(w);
        }
        return e;
    }

    static double log_sum_exp(const std::vector<double>& v) {
        double best = -std::numeric_limits<double>::infinity();
        for (double a : v) best = std::max(best, a);
        double sum = 0;
        for (double a : v) sum += std::exp(a - best);
        return best + std::log(sum);
    }

    double log_density(const std::vector<double>& x, double m, double s) const {
        return log_sum_exp(evaluate(x, m, s).log_joint);
    }

    // p(k | x) = π_k N_k(x) / Σ_j π_j N_j(x).
    std::vector<double> posterior(const std::vector<double>& x, double m, double s) const {
        const auto e = evaluate(x, m, s);
        const double lse = log_sum_exp(e.log_joint);
        std::vector<double> r;
        for (double a : e.log_joint) r.push_back(std::exp(a - lse));
        return r;
    }

    // ∇ log p = −Σ_k p(k | x) C_k⁻¹ (x − m μ_k).
    std::vector<double> score(const std::vector<double>& x, double m, double s) const {
        const auto e = evaluate(x, m, s);
        const double lse = log_sum_exp(e.log_joint);
        std::vector<double> g(dim, 0.0);
        for (std::size_t k = 0; k < components(); ++k) {
            const double r = std::exp(e.log_joint[k] - lse);
            for (std::size_t i = 0; i < dim; ++i) g[i] -= r * e.precision[k](static_cast<Eigen::Index>(i));
        }
        return g;
    }
};

// Three components with full covariances in D = 3: the shared fixture of the
// mixture tests.
inline sgm::gaussian_mixture<double> three_full() {
    return {{0.2, 0.5, 0.3},
            {1, 1, 0, -1, 0.5, 2, 0, -2, -1},
            {1.0, 0.3, -0.2, 0.3, 0.8, 0.1, -0.2, 0.1, 0.6,  //
             0.4, 0.0, 0.1, 0.0, 1.2, -0.5, 0.1, -0.5, 0.9,  //
             2.0, 0.9, 0.0, 0.9, 1.0, 0.2, 0.0, 0.2, 0.3}};
}

}  // namespace sgm::test
