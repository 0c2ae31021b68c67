#pragma once
// Element kernels that build an MLP's input rows [x, emb(c)] from a batch of
// samples and their conditioning values, and take the x part back out of the
// input's gradient. The embedding is the sinusoidal one of DDPM or NCSN++'s
// Gaussian Fourier features (see time_embedding.hpp), computed in double as the
// host layer does.

#include <cmath>
#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

// Row r of the output: d values of x, then e = 2h embedding values
// [sin(c·ω_k), cos(c·ω_k)], k < h, with
//   ω_k = exp(−k·log_step)     when frequencies is null (sinusoidal),
//   ω_k = 2π·frequencies[k]     otherwise (Gaussian Fourier).
template <class Real>
struct embed_input {
    const Real* x;
    const Real* c;
    const Real* frequencies;
    Real* rows;
    std::size_t d, e;
    double log_step;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t width = d + e, r = i / width, j = i % width;
        if (j < d) {
            rows[i] = x[r * d + j];
            return;
        }
        const std::size_t half = e / 2, k = (j - d) % half;
        const double arg = frequencies
                               ? 2.0 * 3.14159265358979323846 * static_cast<double>(c[r]) *
                                     static_cast<double>(frequencies[k])
                               : static_cast<double>(c[r]) * std::exp(-log_step * static_cast<double>(k));
        rows[i] = static_cast<Real>(j - d < half ? std::sin(arg) : std::cos(arg));
    }
};

// dx[r, j] = d_rows[r, j] for the d data columns; index r·d + j.
template <class Real>
struct take_data_columns {
    const Real* rows;
    Real* x;
    std::size_t d, e;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { x[i] = rows[(i / d) * (d + e) + i % d]; }
};

}  // namespace sgm::nn::kernels
