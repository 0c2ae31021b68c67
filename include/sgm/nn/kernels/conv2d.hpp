#pragma once
// Element kernels of a 2-D convolution (cross-correlation, as conv2d.hpp and
// PyTorch's Conv2d) on NCHW batches, for backend loops:
//
//   y[b, o, i, j] = bias[o] + Σ_{c, u, v} W[o, c, u, v] · x[b, c, i·s + u − p, j·s + v − p]
//
// with x reading as zero outside the image. Each functor computes one output
// value by direct summation in a fixed order (c, u, v; or o, u, v; or b, i, j),
// so every backend gives the same numbers. These are the building blocks of a
// backend U-Net; they trade the host layer's GEMM speed for running anywhere.

#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

// The sizes of one convolution; out_height/out_width follow from the rest.
struct conv_geometry {
    std::size_t in_channels, out_channels, height, width, kernel, stride, padding;

    [[nodiscard]] SGM_HOST_DEVICE std::size_t out_height() const {
        return (height + 2 * padding - kernel) / stride + 1;
    }
    [[nodiscard]] SGM_HOST_DEVICE std::size_t out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
    // The input coordinate that output position i reads at tap u; false when it
    // falls in the zero padding.
    [[nodiscard]] SGM_HOST_DEVICE bool source(std::size_t i, std::size_t u, std::size_t extent,
                                              std::size_t& at) const {
        const std::size_t shifted = i * stride + u;  // = input + padding
        if (shifted < padding || shifted - padding >= extent) return false;
        at = shifted - padding;
        return true;
    }
};

// y, index ((b·out + o)·ho + i)·wo + j.
template <class Real>
struct conv2d_forward {
    const Real* x;
    const Real* weight;
    const Real* bias;  // null: no bias
    Real* y;
    conv_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t ho = g.out_height(), wo = g.out_width(), k = g.kernel;
        const std::size_t j = index % wo, i = (index / wo) % ho, o = (index / (wo * ho)) % g.out_channels,
                          b = index / (wo * ho * g.out_channels);
        Real acc = 0;
        for (std::size_t c = 0; c < g.in_channels; ++c) {
            const Real* image = x + (b * g.in_channels + c) * g.height * g.width;
            const Real* taps = weight + (o * g.in_channels + c) * k * k;
            for (std::size_t u = 0; u < k; ++u) {
                std::size_t row;
                if (!g.source(i, u, g.height, row)) continue;
                for (std::size_t v = 0; v < k; ++v) {
                    std::size_t col;
                    if (g.source(j, v, g.width, col)) acc += taps[u * k + v] * image[row * g.width + col];
                }
            }
        }
        y[index] = bias ? acc + bias[o] : acc;
    }
};

// dx[b, c, r, q] = Σ_{o, u, v} W[o, c, u, v] · dy[b, o, i, j] over the outputs
// (i, j) that read (r, q) at tap (u, v): i·s + u − p = r, j·s + v − p = q.
template <class Real>
struct conv2d_input_grad {
    const Real* dy;
    const Real* weight;
    Real* dx;
    conv_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t ho = g.out_height(), wo = g.out_width(), k = g.kernel, s = g.stride;
        const std::size_t q = index % g.width, r = (index / g.width) % g.height,
                          c = (index / (g.width * g.height)) % g.in_channels,
                          b = index / (g.width * g.height * g.in_channels);
        Real acc = 0;
        for (std::size_t o = 0; o < g.out_channels; ++o) {
            const Real* grad = dy + (b * g.out_channels + o) * ho * wo;
            const Real* taps = weight + (o * g.in_channels + c) * k * k;
            for (std::size_t u = 0; u < k; ++u) {
                const std::size_t ru = r + g.padding;  // = i·s + u
                if (ru < u || (ru - u) % s != 0 || (ru - u) / s >= ho) continue;
                const std::size_t i = (ru - u) / s;
                for (std::size_t v = 0; v < k; ++v) {
                    const std::size_t qv = q + g.padding;
                    if (qv < v || (qv - v) % s != 0 || (qv - v) / s >= wo) continue;
                    acc += taps[u * k + v] * grad[i * wo + (qv - v) / s];
                }
            }
        }
        dx[index] = acc;
    }
};

// dW[o, c, u, v] += Σ_{b, i, j} dy[b, o, i, j] · x[b, c, i·s + u − p, j·s + v − p].
template <class Real>
struct conv2d_weight_grad {
    const Real* dy;
    const Real* x;
    Real* weight_grad;
    conv_geometry g;
    std::size_t n;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t ho = g.out_height(), wo = g.out_width(), k = g.kernel;
        const std::size_t v = index % k, u = (index / k) % k, c = (index / (k * k)) % g.in_channels,
                          o = index / (k * k * g.in_channels);
        Real acc = 0;
        for (std::size_t b = 0; b < n; ++b) {
            const Real* grad = dy + (b * g.out_channels + o) * ho * wo;
            const Real* image = x + (b * g.in_channels + c) * g.height * g.width;
            for (std::size_t i = 0; i < ho; ++i) {
                std::size_t row;
                if (!g.source(i, u, g.height, row)) continue;
                for (std::size_t j = 0; j < wo; ++j) {
                    std::size_t col;
                    if (g.source(j, v, g.width, col)) acc += grad[i * wo + j] * image[row * g.width + col];
                }
            }
        }
        weight_grad[index] += acc;
    }
};

// db[o] += Σ_{b, i, j} dy[b, o, i, j].
template <class Real>
struct conv2d_bias_grad {
    const Real* dy;
    Real* bias_grad;
    conv_geometry g;
    std::size_t n;
    SGM_HOST_DEVICE void operator()(std::size_t o) const {
        const std::size_t plane = g.out_height() * g.out_width();
        Real acc = 0;
        for (std::size_t b = 0; b < n; ++b) {
            const Real* grad = dy + (b * g.out_channels + o) * plane;
            for (std::size_t p = 0; p < plane; ++p) acc += grad[p];
        }
        bias_grad[o] += acc;
    }
};

}  // namespace sgm::nn::kernels
