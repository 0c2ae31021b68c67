#pragma once
// Element kernels of the denoising score-matching losses (dsm_options.hpp) for
// backend loops. The per-sample coefficients sit in one array of 6·n values:
// t, mean, std, a, c (n each), then the gradient factor 2·w·ρ·a/n.

#include <cstddef>
#include <cstdint>

#include "../../config.hpp"
#include "../../random/philox_normal.hpp"

namespace sgm::train::kernels {

enum dsm_column : std::size_t { dsm_t = 0, dsm_mean, dsm_std, dsm_a, dsm_c, dsm_factor, dsm_columns };

// z = the standard normals of (seed, first_sample + b, draw) and x = mean·x0 + std·z,
// one thread per block of four values of a sample (the host loss's layout).
template <class Real>
struct dsm_perturb {
    const Real* x0;
    const Real* coef;
    Real* x;
    Real* z;
    std::uint64_t seed, first_sample;
    std::uint32_t draw;
    std::size_t n, d, blocks;  // blocks = ⌈d/4⌉ per sample
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / blocks, block = i - b * blocks;
        Real values[4];
        random::normal_block<Real>(seed, first_sample + b, draw, static_cast<std::uint32_t>(block), values);
        const Real mean = coef[dsm_mean * n + b], std = coef[dsm_std * n + b];
        for (std::size_t k = 0; k < 4 && 4 * block + k < d; ++k) {
            const std::size_t j = b * d + 4 * block + k;
            z[j] = values[k];
            x[j] = mean * x0[j] + std * values[k];
        }
    }
};

// squares[b] = Σ_j (a_b s_bj + c_b z_bj)², summed in double in ascending j.
template <class Real>
struct dsm_residual_squares {
    const Real* score;
    const Real* z;
    const Real* coef;
    Real* squares;
    std::size_t n, d;
    SGM_HOST_DEVICE void operator()(std::size_t b) const {
        const Real a = coef[dsm_a * n + b], c = coef[dsm_c * n + b];
        double sum = 0;
        for (std::size_t j = b * d; j < (b + 1) * d; ++j) {
            const double r = double(a * score[j] + c * z[j]);
            sum += r * r;
        }
        squares[b] = Real(sum);
    }
};

// dL/ds_bj = factor_b · (a_b s_bj + c_b z_bj).
template <class Real>
struct dsm_score_gradient {
    const Real* score;
    const Real* z;
    const Real* coef;
    Real* dscore;
    std::size_t n, d;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / d;
        const double r = double(coef[dsm_a * n + b] * score[i] + coef[dsm_c * n + b] * z[i]);
        dscore[i] = Real(double(coef[dsm_factor * n + b]) * r);
    }
};

}  // namespace sgm::train::kernels
