#pragma once
// The DDPM++ residual block with a time embedding:
//
//   h = conv₀(SiLU(GN₀(x))) + Dense(e)            (e = SiLU(time embedding), per channel)
//   h = conv₁(Dropout(SiLU(GN₁(h))))              (conv₁ starts near zero)
//   y = (skip(x) + h) / √2                         (skip = x, or a 1×1 conv when channels change)
//
// Shapes: x is in_channels × H × W per sample, y out_channels × H × W, e has
// embedding_size values per sample. backward adds dL/de into a caller-owned buffer,
// since one embedding feeds every block.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conv2d.hpp"
#include "cpu_context.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "group_norm.hpp"
#include "init.hpp"
#include "layer.hpp"
#include "parameter.hpp"
#include "silu.hpp"

namespace sgm::nn {

// DDPM++'s group count: min(channels / 4, 32).
[[nodiscard]] inline std::size_t default_groups(std::size_t channels) {
    return std::max<std::size_t>(1, std::min<std::size_t>(channels / 4, 32));
}

struct residual_block_shape {
    std::size_t in_channels = 0, out_channels = 0, height = 0, width = 0, embedding_size = 0;
    double dropout = 0.0;
    std::uint32_t dropout_stream = 0;
};

template <class Real>
class residual_block {
public:
    using value_type = Real;

    explicit residual_block(const residual_block_shape& s)
        : s_(s),
          norm0_(s.in_channels, default_groups(s.in_channels), s.height * s.width),
          conv0_({s.in_channels, s.out_channels, s.height, s.width, 3, 1, 1}, true,
                 fan_avg_uniform(9 * s.in_channels, 9 * s.out_channels)),
          embed_(s.embedding_size, s.out_channels),
          norm1_(s.out_channels, default_groups(s.out_channels), s.height * s.width),
          drop_(s.dropout, s.dropout_stream),
          conv1_({s.out_channels, s.out_channels, s.height, s.width, 3, 1, 1}, true,
                 fan_avg_uniform(9 * s.out_channels, 9 * s.out_channels, 1e-10)) {
        if (s.in_channels != s.out_channels)
            skip_.emplace(conv2d_shape{s.in_channels, s.out_channels, s.height, s.width, 1, 1, 0});
    }

    [[nodiscard]] const residual_block_shape& shape() const { return s_; }
    [[nodiscard]] std::size_t input_size() const { return s_.in_channels * s_.height * s_.width; }
    [[nodiscard]] std::size_t output_size() const { return s_.out_channels * s_.height * s_.width; }

    void collect(parameter_list<Real>& list, const std::string& prefix) {
        norm0_.collect(list, prefix + ".norm0");
        conv0_.collect(list, prefix + ".conv0");
        embed_.collect(list, prefix + ".embed");
        norm1_.collect(list, prefix + ".norm1");
        conv1_.collect(list, prefix + ".conv1");
        if (skip_) skip_->collect(list, prefix + ".skip");
    }

    // x: n × input_size; e: n × embedding_size (already through SiLU); y: n × output_size.
    void forward(const cpu_context& ctx, const Real* x, const Real* e, Real* y, std::size_t n,
                 const pass_mode& mode) {
        grow(n);
        const std::size_t in = input_size(), out = output_size(), hw = s_.height * s_.width;
        norm0_.forward(ctx, x, a_.data(), n);
        act0_.forward(ctx, a_.data(), b_.data(), n * in);
        conv0_.forward(ctx, b_.data(), h_.data(), n);
        embed_.forward(ctx, e, projected_.data(), n);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < s_.out_channels; ++c) {
                Real* row = h_.data() + i * out + c * hw;
                const Real shift = projected_[i * s_.out_channels + c];
                for (std::size_t p = 0; p < hw; ++p) row[p] += shift;
            }
        norm1_.forward(ctx, h_.data(), d_.data(), n);
        act1_.forward(ctx, d_.data(), f_.data(), n * out);
        // In place: no backward reads f (SiLU's reads d), and in eval mode this is no copy.
        drop_.forward(ctx, f_.data(), f_.data(), n, out, mode);
        conv1_.forward(ctx, f_.data(), y, n);
        const Real* skip = x;
        if (skip_) {
            skip_->forward(ctx, x, skipped_.data(), n);
            skip = skipped_.data();
        }
        const Real r = Real(1) / std::sqrt(Real(2));
        for (std::size_t i = 0; i < n * out; ++i) y[i] = (y[i] + skip[i]) * r;
    }

    // dy → dx (may be null), dL/de added into de, parameter grads per g.
    void backward(const cpu_context& ctx, const Real* dy, Real* dx, Real* de, std::size_t n, gradients g) {
        grow_gradients(n);
        const std::size_t in = input_size(), out = output_size(), hw = s_.height * s_.width;
        const Real r = Real(1) / std::sqrt(Real(2));
        for (std::size_t i = 0; i < n * out; ++i) dscaled_[i] = dy[i] * r;
        conv1_.backward(ctx, dscaled_.data(), grad_out_a_.data(), n, g);
        drop_.backward(ctx, grad_out_a_.data(), grad_out_a_.data(), n, out);
        act1_.backward(ctx, grad_out_a_.data(), grad_out_b_.data(), n * out);
        norm1_.backward(ctx, grad_out_b_.data(), grad_out_a_.data(), n, g);  // dL/dh
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < s_.out_channels; ++c) {
                const Real* row = grad_out_a_.data() + i * out + c * hw;
                Real acc = 0;
                for (std::size_t p = 0; p < hw; ++p) acc += row[p];
                dprojected_[i * s_.out_channels + c] = acc;
            }
        embed_.backward(ctx, dprojected_.data(), de_local_.data(), n, g);
        for (std::size_t i = 0; i < n * s_.embedding_size; ++i) de[i] += de_local_[i];
        conv0_.backward(ctx, grad_out_a_.data(), grad_in_a_.data(), n, g);
        act0_.backward(ctx, grad_in_a_.data(), grad_in_b_.data(), n * in);
        norm0_.backward(ctx, grad_in_b_.data(), dx == nullptr ? grad_in_a_.data() : dx, n, g);
        if (dx == nullptr) {
            if (skip_) skip_->backward(ctx, dscaled_.data(), nullptr, n, g);
            return;
        }
        if (skip_) {
            skip_->backward(ctx, dscaled_.data(), grad_in_a_.data(), n, g);
            for (std::size_t i = 0; i < n * in; ++i) dx[i] += grad_in_a_[i];
        } else {
            for (std::size_t i = 0; i < n * in; ++i) dx[i] += dscaled_[i];
        }
    }

private:
    // Activations in forward; the gradient scratch at the first backward, so a
    // network that only samples never holds it.
    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const std::size_t in = input_size(), out = output_size();
        for (auto* v : {&a_, &b_}) v->resize(n * in);
        for (auto* v : {&h_, &d_, &f_}) v->resize(n * out);
        if (skip_) skipped_.resize(n * out);
        projected_.resize(n * s_.out_channels);
        capacity_ = n;
    }

    void grow_gradients(std::size_t n) {
        if (n <= gradient_capacity_) return;
        for (auto* v : {&grad_in_a_, &grad_in_b_}) v->resize(n * input_size());
        for (auto* v : {&dscaled_, &grad_out_a_, &grad_out_b_}) v->resize(n * output_size());
        dprojected_.resize(n * s_.out_channels);
        de_local_.resize(n * s_.embedding_size);
        gradient_capacity_ = n;
    }

    residual_block_shape s_;
    group_norm<Real> norm0_;
    silu<Real> act0_;
    conv2d<Real> conv0_;
    dense<Real> embed_;
    group_norm<Real> norm1_;
    silu<Real> act1_;
    dropout<Real> drop_;
    conv2d<Real> conv1_;
    std::optional<conv2d<Real>> skip_;
    // a = GN₀(x), b = SiLU(a), h = conv₀(b) + embed, d = GN₁(h), f = dropout(SiLU(d))
    std::vector<Real> a_, b_, h_, d_, f_, skipped_, projected_;
    std::vector<Real> dscaled_, grad_out_a_, grad_out_b_, grad_in_a_, grad_in_b_, dprojected_, de_local_;
    std::size_t capacity_ = 0, gradient_capacity_ = 0;
};

}  // namespace sgm::nn
