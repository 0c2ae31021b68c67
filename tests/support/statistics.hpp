#pragma once
// Sample statistics for distribution tests: moments, whitening against a known
// covariance, and the standard errors that turn them into z-scores.
//
// Every check here compares an estimate with its exact value in units of the
// estimate's standard error under the null hypothesis (the samples are exact), so
// a tolerance of "5 standard errors" means the same thing for every sample size.
// Samples are host vectors of n × d values, sample after sample.

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace sgm::test {

using matrix = Eigen::MatrixXd;
using vector = Eigen::VectorXd;

// Maps n × d row-major host values to an n × d matrix (copy).
inline matrix to_matrix(const std::vector<double>& values, std::size_t n, std::size_t d) {
    matrix x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t j = 0; j < d; ++j)
            x(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(j)) = values[b * d + j];
    return x;
}

inline matrix to_matrix(const std::vector<double>& row_major_square, std::size_t d) {
    return to_matrix(row_major_square, d, d);
}

struct moments {
    std::size_t count = 0;
    vector mean;
    matrix covariance;  // unbiased (divides by count − 1)
};

// Mean and unbiased covariance of the rows of x.
inline moments sample_moments(const matrix& x) {
    moments m;
    m.count = static_cast<std::size_t>(x.rows());
    m.mean = x.colwise().mean().transpose();
    const matrix centered = x.rowwise() - m.mean.transpose();
    m.covariance = centered.transpose() * centered / double(std::max<Eigen::Index>(1, x.rows() - 1));
    return m;
}

// The rows of x whose label equals `label`.
inline matrix select_rows(const matrix& x, const std::vector<std::size_t>& labels, std::size_t label) {
    std::vector<Eigen::Index> rows;
    for (std::size_t b = 0; b < labels.size(); ++b)
        if (labels[b] == label) rows.push_back(static_cast<Eigen::Index>(b));
    matrix out(static_cast<Eigen::Index>(rows.size()), x.cols());
    for (std::size_t r = 0; r < rows.size(); ++r) out.row(static_cast<Eigen::Index>(r)) = x.row(rows[r]);
    return out;
}

// w = L⁻¹ (x − μ) for every row, with Σ = L Lᵀ: if x ~ N(μ, Σ) then w ~ N(0, I).
inline matrix whiten(const matrix& x, const vector& mean, const matrix& covariance) {
    const Eigen::LLT<matrix> llt(covariance);
    const matrix centered = (x.rowwise() - mean.transpose()).transpose();  // d × n
    return llt.matrixL().solve(centered).transpose();
}

// Upper quantile of χ²_k at the tail probability of a standard normal beyond z
// (Wilson–Hilferty; accurate to a few percent of the quantile for k ≥ 1).
inline double chi_square_upper(double k, double z) {
    const double a = 2.0 / (9.0 * k);
    const double c = 1.0 - a + z * std::sqrt(a);
    return k * c * c * c;
}

// What whitened samples (rows of w, which should be N(0, I)) look like, each in a
// form with a known null distribution.
struct whitened_summary {
    std::size_t count = 0, dim = 0;
    double mean_chi2 = 0;    // n ‖w̄‖², ~ χ²_d
    double max_mean_z = 0;   // max_j |w̄_j| √n, each ~ N(0, 1)
    double trace_z = 0;      // (tr C / d − 1) / √(2 / (d (n − 1))), ~ N(0, 1)
    double max_entry_z = 0;  // max_ij |C_ij − δ_ij| / √((1 + δ_ij) / (n − 1)), each ~ N(0, 1)
    double frobenius_z = 0;  // (‖C − I‖²_F − d(d+1)/(n−1)) / (2√(d(d+1)) / (n−1)), ~ N(0, 1)
    vector mean;
    matrix covariance;
};

// Null distributions for n i.i.d. N(0, I_d) rows with C the unbiased sample
// covariance: Var C_ii = 2/(n−1), Var C_ij = 1/(n−1) (i ≠ j), the C_ij nearly
// independent, so ‖C − I‖²_F ≈ (2/(n−1)) χ²_{d(d+1)/2}.
inline whitened_summary summarize_whitened(const matrix& w) {
    whitened_summary s;
    const moments m = sample_moments(w);
    s.count = m.count;
    s.dim = static_cast<std::size_t>(w.cols());
    s.mean = m.mean;
    s.covariance = m.covariance;
    const double n = double(s.count), d = double(s.dim), dof = n - 1;
    s.mean_chi2 = n * m.mean.squaredNorm();
    s.max_mean_z = m.mean.cwiseAbs().maxCoeff() * std::sqrt(n);
    s.trace_z = (m.covariance.trace() / d - 1) / std::sqrt(2 / (d * dof));
    const matrix deviation = m.covariance - matrix::Identity(w.cols(), w.cols());
    for (Eigen::Index i = 0; i < w.cols(); ++i)
        for (Eigen::Index j = 0; j < w.cols(); ++j) {
            const double se = std::sqrt((i == j ? 2.0 : 1.0) / dof);
            s.max_entry_z = std::max(s.max_entry_z, std::abs(deviation(i, j)) / se);
        }
    const double frob_mean = d * (d + 1) / dof, frob_sd = 2 * std::sqrt(d * (d + 1)) / dof;
    s.frobenius_z = (deviation.squaredNorm() - frob_mean) / frob_sd;
    return s;
}

// z-score of an observed proportion k/n against its exact probability p.
inline double proportion_z(std::size_t k, std::size_t n, double p) {
    return (double(k) / double(n) - p) / std::sqrt(p * (1 - p) / double(n));
}

// Largest count of a Poisson(λ) variable that is still within `z` standard
// deviations (plus one, so that λ ≪ 1 still allows a single event).
inline double poisson_upper(double lambda, double z) {
    return lambda + z * std::sqrt(lambda) + 1;
}

// Two-sided normal tail P(|Z| > z).
inline double normal_two_sided_tail(double z) {
    return std::erfc(z / std::sqrt(2.0));
}

// The threshold for the largest of m |z|-scores that keeps the family-wise
// false-alarm probability at that of a single |z| > z_single test (Bonferroni).
inline double family_threshold(std::size_t m, double z_single = 5) {
    const double target = normal_two_sided_tail(z_single) / double(std::max<std::size_t>(1, m));
    double lo = z_single, hi = z_single + 10;
    for (int i = 0; i < 100; ++i) {
        const double mid = 0.5 * (lo + hi);
        (normal_two_sided_tail(mid) > target ? lo : hi) = mid;
    }
    return hi;
}

// Least-squares slope of log(err) against log(h): the observed order of convergence.
inline double observed_order(const std::vector<double>& h, const std::vector<double>& err) {
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
        mx += std::log(h[i]);
        my += std::log(err[i]);
    }
    mx /= double(h.size());
    my /= double(h.size());
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
        sxy += (std::log(h[i]) - mx) * (std::log(err[i]) - my);
        sxx += (std::log(h[i]) - mx) * (std::log(h[i]) - mx);
    }
    return sxy / sxx;
}

}  // namespace sgm::test
