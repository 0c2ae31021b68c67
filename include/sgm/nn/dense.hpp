#pragma once
// Fully connected layer y = x Wᵀ + b, W of shape out × in.

#include <cstddef>
#include <string>
#include <vector>

#include "../error.hpp"
#include "cpu_context.hpp"
#include "eigen_maps.hpp"
#include "init.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {

template <class Real>
class dense {
public:
    using value_type = Real;

    dense(std::size_t in, std::size_t out, bool bias = true)
        : in_(in), out_(out), has_bias_(bias),
          weight_("weight", {out, in}, fan_in_uniform(in)),
          bias_("bias", {bias ? out : 0}, fan_in_uniform(in)) {
        sgm::detail::require(in > 0 && out > 0, "dense: sizes ", in, " -> ", out, " must be positive");
    }

    [[nodiscard]] std::size_t input_size() const { return in_; }
    [[nodiscard]] std::size_t output_size() const { return out_; }
    parameter<Real>& weight() { return weight_; }
    parameter<Real>& bias() { return bias_; }

    void collect(parameter_list<Real>& list, const std::string& prefix) {
        list.add(weight_, prefix);
        if (has_bias_) list.add(bias_, prefix);
    }

    void forward(const cpu_context& ctx, const Real* x, Real* y, std::size_t n) {
        input_ = x;
        const auto w = detail::map(weight_.value.data(), out_, in_);
        const chunking rows{n, row_grain};
        ctx.for_each(rows.count(), [&](std::size_t c) {
            const std::size_t r0 = rows.begin(c), m = rows.end(c) - r0;
            auto out = detail::map(y + r0 * out_, m, out_);
            out.noalias() = detail::map(x + r0 * in_, m, in_) * w.transpose();
            if (has_bias_)
                out.rowwise() += Eigen::Map<const Eigen::Matrix<Real, 1, Eigen::Dynamic>>(
                    bias_.value.data(), static_cast<Eigen::Index>(out_));
        });
    }

    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t n, gradients g) {
        const auto w = detail::map(weight_.value.data(), out_, in_);
        const auto dout = detail::map(dy, n, out_);
        if (dx != nullptr) {
            const chunking rows{n, row_grain};
            ctx.for_each(rows.count(), [&](std::size_t c) {
                const std::size_t r0 = rows.begin(c), m = rows.end(c) - r0;
                detail::map(dx + r0 * in_, m, in_).noalias() = detail::map(dy + r0 * out_, m, out_) * w;
            });
        }
        if (!wants_parameter_grads(g)) return;
        // dW = dYᵀ X over the whole batch, split by fixed blocks of output rows:
        // each element is summed over all samples in one GEMM, whatever the threads.
        const auto xin = detail::map(input_, n, in_);
        const chunking outs{out_, out_grain};
        ctx.for_each(outs.count(), [&](std::size_t c) {
            const std::size_t o0 = outs.begin(c), m = outs.end(c) - o0;
            detail::map(weight_.grad.data() + o0 * in_, m, in_).noalias() +=
                dout.middleCols(static_cast<Eigen::Index>(o0), static_cast<Eigen::Index>(m)).transpose() * xin;
            if (has_bias_)
                for (std::size_t o = o0; o < o0 + m; ++o) {
                    Real acc = 0;
                    for (std::size_t r = 0; r < n; ++r) acc += dy[r * out_ + o];
                    bias_.grad[o] += acc;
                }
        });
    }

private:
    static constexpr std::size_t row_grain = 256;
    static constexpr std::size_t out_grain = 64;

    std::size_t in_, out_;
    bool has_bias_;
    parameter<Real> weight_, bias_;
    const Real* input_ = nullptr;
};

}  // namespace sgm::nn
