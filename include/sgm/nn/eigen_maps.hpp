#pragma once
// Row-major Eigen views over raw arrays, the GEMM currency of the nn layers.

#include <Eigen/Core>

#include <cstddef>

namespace sgm::nn::detail {

template <class Real>
using row_matrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class Real>
[[nodiscard]] inline Eigen::Map<row_matrix<Real>> map(Real* p, std::size_t rows, std::size_t cols) {
    return {p, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
}
template <class Real>
[[nodiscard]] inline Eigen::Map<const row_matrix<Real>> map(const Real* p, std::size_t rows, std::size_t cols) {
    return {p, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
}

}  // namespace sgm::nn::detail
