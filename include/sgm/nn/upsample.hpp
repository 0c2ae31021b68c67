#pragma once
// Nearest-neighbour upsampling by 2 on NCHW batches: each value becomes a 2×2
// block, C×H×W → C×2H×2W. Backward sums each block's four gradients.

#include <algorithm>
#include <cstddef>
#include <string>

#include "../error.hpp"
#include "cpu_context.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {

template <class Real>
class upsample_nearest {
public:
    using value_type = Real;

    upsample_nearest(std::size_t channels, std::size_t height, std::size_t width)
        : c_(channels), h_(height), w_(width) {
        sgm::detail::require(channels > 0 && height > 0 && width > 0, "upsample_nearest: shape ", channels, "x",
                             height, "x", width, " must be positive");
    }

    [[nodiscard]] std::size_t output_height() const { return 2 * h_; }
    [[nodiscard]] std::size_t output_width() const { return 2 * w_; }
    [[nodiscard]] std::size_t input_size() const { return c_ * h_ * w_; }
    [[nodiscard]] std::size_t output_size() const { return 4 * c_ * h_ * w_; }
    void collect(parameter_list<Real>&, const std::string&) {}

    void forward(const cpu_context& ctx, const Real* x, Real* y, std::size_t n) {
        const std::size_t wo = 2 * w_;
        const chunking planes{n * c_, plane_grain()};
        ctx.for_each(planes.count(), [&](std::size_t chunk) {
            for (std::size_t p = planes.begin(chunk); p < planes.end(chunk); ++p)
                for (std::size_t i = 0; i < h_; ++i) {
                    const Real* src = x + (p * h_ + i) * w_;
                    Real* top = y + (p * 2 * h_ + 2 * i) * wo;
                    for (std::size_t j = 0; j < w_; ++j) top[2 * j] = top[2 * j + 1] = src[j];
                    std::copy_n(top, wo, top + wo);
                }
        });
    }

    // Parameter-free: g is ignored.
    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t n, gradients = {}) {
        if (dx == nullptr) return;
        const std::size_t wo = 2 * w_;
        const chunking planes{n * c_, plane_grain()};
        ctx.for_each(planes.count(), [&](std::size_t chunk) {
            for (std::size_t p = planes.begin(chunk); p < planes.end(chunk); ++p)
                for (std::size_t i = 0; i < h_; ++i) {
                    const Real* top = dy + (p * 2 * h_ + 2 * i) * wo;
                    const Real* bottom = top + wo;
                    Real* d = dx + (p * h_ + i) * w_;
                    for (std::size_t j = 0; j < w_; ++j)
                        d[j] = (top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1]);
                }
        });
    }

private:
    // Whole planes per task, about 32k output values each.
    [[nodiscard]] std::size_t plane_grain() const {
        const std::size_t plane = 4 * h_ * w_;
        return plane >= (1 << 15) ? 1 : (1 << 15) / plane;
    }

    std::size_t c_, h_, w_;
};

}  // namespace sgm::nn
