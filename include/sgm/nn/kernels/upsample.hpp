#pragma once
// Element kernels of nearest-neighbour upsampling by 2 (upsample.hpp) on NCHW
// batches, for backend loops: each value becomes a 2×2 block; the backward
// sums each block's four gradients.

#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

// y[p, i, j] = x[p, i/2, j/2] over planes p of H×W; index (p·2H + i)·2W + j.
template <class Real>
struct upsample_forward {
    const Real* x;
    Real* y;
    std::size_t height, width;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t wo = 2 * width, j = index % wo, i = (index / wo) % (2 * height), p = index / (wo * 2 * height);
        y[index] = x[(p * height + i / 2) * width + j / 2];
    }
};

// dx[p, i, j] = (dy[2i, 2j] + dy[2i, 2j+1]) + (dy[2i+1, 2j] + dy[2i+1, 2j+1]); index (p·H + i)·W + j.
template <class Real>
struct upsample_backward {
    const Real* dy;
    Real* dx;
    std::size_t height, width;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t wo = 2 * width, j = index % width, i = (index / width) % height, p = index / (width * height);
        const Real* top = dy + (p * 2 * height + 2 * i) * wo + 2 * j;
        dx[index] = (top[0] + top[1]) + (top[wo] + top[wo + 1]);
    }
};

}  // namespace sgm::nn::kernels
