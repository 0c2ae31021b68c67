#pragma once
// sgm::nn::backend_residual_block — the DDPM++ residual block of
// residual_block.hpp on a backend:
//
//   h = conv₀(SiLU(GN₀(x))) + Dense(e)        e = SiLU(time embedding), per channel
//   h = conv₁(SiLU(GN₁(h)))                   dropout as in evaluation (identity)
//   y = (skip(x) + h) / √2                     skip = x, or a 1×1 conv
//
// Built from a host residual_block, whose tensor names it keeps (collected
// under the prefix "block"). Training with dropout needs the host block.
// forward(x, e, y, n); backward(dy, dx, de, n, g) adds dL/de into de, since one
// embedding feeds every block.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "../error.hpp"
#include "backend_parameters.hpp"
#include "kernels/conv2d.hpp"
#include "kernels/dense.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/group_norm.hpp"
#include "kernels/silu.hpp"
#include "layer.hpp"
#include "residual_block.hpp"

namespace sgm::nn {

template <class Backend>
class backend_residual_block {
public:
    using value_type = typename Backend::value_type;
    using Real = value_type;

    explicit backend_residual_block(residual_block<Real>& host, Backend be = Backend{})
        : s_(host.shape()), params_(collected(host), be), be_(std::move(be)) {}

    [[nodiscard]] std::size_t input_size() const { return s_.in_channels * plane(); }
    [[nodiscard]] std::size_t output_size() const { return s_.out_channels * plane(); }
    [[nodiscard]] backend_parameters<Backend>& parameters() { return params_; }

    // x: n × input_size; e: n × embedding_size (already through SiLU); y: n × output_size.
    void forward(const Real* x, const Real* e, Real* y, std::size_t n) {
        grow(n);
        input_ = x;
        embedding_ = e;
        batch_ = n;
        const std::size_t in = n * input_size(), out = n * output_size();
        normalize(x, d(stats0_), norm0_weight, norm(s_.in_channels), d(a_), n);
        be_.for_each_index(in, kernels::silu_forward<Real>{d(a_), d(b_)});
        be_.for_each_index(out, kernels::conv2d_forward<Real>{d(b_), params_.value(conv0_weight),
                                                              params_.value(conv0_weight + 1), d(h_), conv0()});
        be_.for_each_index(n * s_.out_channels,
                           kernels::dense_forward<Real>{e, params_.value(embed_weight), params_.value(embed_weight + 1),
                                                        d(projected_), s_.embedding_size, s_.out_channels});
        be_.for_each_index(out, kernels::add_plane_shift<Real>{d(h_), d(projected_), plane()});
        normalize(d(h_), d(stats1_), norm1_weight, norm(s_.out_channels), d(d_), n);
        be_.for_each_index(out, kernels::silu_forward<Real>{d(d_), d(f_)});
        be_.for_each_index(out, kernels::conv2d_forward<Real>{d(f_), params_.value(conv1_weight),
                                                              params_.value(conv1_weight + 1), y, conv1()});
        const Real* skip = x;
        if (has_skip()) {
            be_.for_each_index(out, kernels::conv2d_forward<Real>{x, params_.value(skip_weight),
                                                                  params_.value(skip_weight + 1), d(skipped_), skip_conv()});
            skip = d(skipped_);
        }
        be_.for_each_index(out, kernels::add_scaled<Real>{y, skip, y, root_half()});
    }

    // dy → dx (may be null), dL/de added into de, parameter grads per g.
    void backward(const Real* dy, Real* dx, Real* de, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "backend_residual_block::backward: batch ", n,
                             " differs from the forward's ", batch_);
        const bool params = wants_parameter_grads(g);
        const std::size_t in = n * input_size(), out = n * output_size();
        be_.for_each_index(out, kernels::scale_copy<Real>{dy, d(dscaled_), root_half()});
        // conv₁, SiLU, GN₁: dL/dh into grad_out_a_.
        conv_backward(d(dscaled_), d(f_), conv1_weight, conv1(), d(grad_out_a_), n, params);
        be_.for_each_index(out, kernels::silu_backward<Real>{d(d_), d(grad_out_a_), d(grad_out_b_)});
        normalize_backward(d(h_), d(grad_out_b_), d(stats1_), norm1_weight, norm(s_.out_channels), d(grad_out_a_), n,
                           params);
        // The embedding's projection.
        be_.for_each_index(n * s_.out_channels, kernels::plane_sums<Real>{d(grad_out_a_), d(dprojected_), plane()});
        const std::size_t e = s_.embedding_size, c = s_.out_channels;
        be_.for_each_index(n * e, kernels::dense_input_grad<Real>{d(dprojected_), params_.value(embed_weight),
                                                                  d(de_local_), e, c});
        be_.for_each_index(n * e, kernels::scale_add<Real>{d(de_local_), de, de, Real(1)});
        if (params) {
            be_.for_each_index(c * e, kernels::dense_weight_grad<Real>{d(dprojected_), embedding_,
                                                                       params_.grad(embed_weight), e, c, n});
            be_.for_each_index(c, kernels::dense_bias_grad<Real>{d(dprojected_), params_.grad(embed_weight + 1), c, n});
        }
        // conv₀, SiLU, GN₀.
        conv_backward(d(grad_out_a_), d(b_), conv0_weight, conv0(), d(grad_in_a_), n, params);
        be_.for_each_index(in, kernels::silu_backward<Real>{d(a_), d(grad_in_a_), d(grad_in_b_)});
        normalize_backward(input_, d(grad_in_b_), d(stats0_), norm0_weight, norm(s_.in_channels),
                           dx == nullptr ? nullptr : d(grad_in_a_), n, params);
        // The skip path joins dx.
        const Real* skip_grad = d(dscaled_);
        if (has_skip()) {
            conv_backward(d(dscaled_), input_, skip_weight, skip_conv(), dx == nullptr ? nullptr : d(grad_in_b_), n,
                          params);
            skip_grad = d(grad_in_b_);
        }
        if (dx != nullptr) be_.for_each_index(in, kernels::scale_add<Real>{d(grad_in_a_), skip_grad, dx, Real(1)});
    }

private:
    // Tensor order of residual_block::collect.
    enum : std::size_t { norm0_weight = 0, conv0_weight = 2, embed_weight = 4, norm1_weight = 6, conv1_weight = 8,
                         skip_weight = 10 };

    static parameter_list<Real> collected(residual_block<Real>& host) {
        parameter_list<Real> list;
        host.collect(list, "block");
        return list;
    }
    static Real* d(typename Backend::vector& v) { return Backend::data(v); }
    static Real root_half() { return Real(1) / std::sqrt(Real(2)); }

    [[nodiscard]] bool has_skip() const { return s_.in_channels != s_.out_channels; }
    [[nodiscard]] std::size_t plane() const { return s_.height * s_.width; }
    [[nodiscard]] kernels::norm_geometry norm(std::size_t channels) const {
        return {channels, default_groups(channels), plane()};
    }
    [[nodiscard]] kernels::conv_geometry conv0() const {
        return {s_.in_channels, s_.out_channels, s_.height, s_.width, 3, 1, 1};
    }
    [[nodiscard]] kernels::conv_geometry conv1() const {
        return {s_.out_channels, s_.out_channels, s_.height, s_.width, 3, 1, 1};
    }
    [[nodiscard]] kernels::conv_geometry skip_conv() const {
        return {s_.in_channels, s_.out_channels, s_.height, s_.width, 1, 1, 0};
    }

    void normalize(const Real* x, Real* stats, std::size_t weight, const kernels::norm_geometry& g, Real* y,
                   std::size_t n) {
        be_.for_each_index(n * g.groups, kernels::group_norm_stats<Real>{x, stats, g, 1e-6});
        be_.for_each_index(n * g.channels * g.spatial,
                           kernels::group_norm_forward<Real>{x, stats, params_.value(weight),
                                                             params_.value(weight + 1), y, g});
    }

    // dy → dx (skipped when null) and the γ, β gradients when params.
    void normalize_backward(const Real* x, const Real* dy, const Real* stats, std::size_t weight,
                            const kernels::norm_geometry& g, Real* dx, std::size_t n, bool params) {
        be_.for_each_index(n * g.channels, kernels::group_norm_channel_sums<Real>{x, dy, stats, d(sums_), g});
        if (params)
            be_.for_each_index(g.channels, kernels::group_norm_parameter_grad<Real>{
                                               d(sums_), params_.grad(weight), params_.grad(weight + 1), g.channels, n});
        if (dx != nullptr)
            be_.for_each_index(n * g.channels * g.spatial, kernels::group_norm_input_grad<Real>{
                                                               x, dy, stats, d(sums_), params_.value(weight), dx, g});
    }

    // A convolution's backward: dx (skipped when null) and its parameter gradients when params.
    void conv_backward(const Real* dy, const Real* x, std::size_t weight, const kernels::conv_geometry& g, Real* dx,
                       std::size_t n, bool params) {
        if (dx != nullptr)
            be_.for_each_index(n * g.in_channels * g.height * g.width,
                               kernels::conv2d_input_grad<Real>{dy, params_.value(weight), dx, g});
        if (!params) return;
        be_.for_each_index(g.out_channels * g.in_channels * g.kernel * g.kernel,
                           kernels::conv2d_weight_grad<Real>{dy, x, params_.grad(weight), g, n});
        be_.for_each_index(g.out_channels, kernels::conv2d_bias_grad<Real>{dy, params_.grad(weight + 1), g, n});
    }

    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const std::size_t in = n * input_size(), out = n * output_size();
        for (auto* v : {&a_, &b_, &grad_in_a_, &grad_in_b_}) *v = be_.make_vector(in);
        for (auto* v : {&h_, &d_, &f_, &dscaled_, &grad_out_a_, &grad_out_b_}) *v = be_.make_vector(out);
        if (has_skip()) skipped_ = be_.make_vector(out);
        projected_ = be_.make_vector(n * s_.out_channels);
        dprojected_ = be_.make_vector(n * s_.out_channels);
        de_local_ = be_.make_vector(n * s_.embedding_size);
        stats0_ = be_.make_vector(2 * n * default_groups(s_.in_channels));
        stats1_ = be_.make_vector(2 * n * default_groups(s_.out_channels));
        sums_ = be_.make_vector(2 * n * std::max(s_.in_channels, s_.out_channels));
        capacity_ = n;
    }

    residual_block_shape s_;
    backend_parameters<Backend> params_;
    Backend be_;
    // a = GN₀(x), b = SiLU(a), h = conv₀(b) + embed, d = GN₁(h), f = SiLU(d)
    typename Backend::vector a_, b_, h_, d_, f_, skipped_, projected_, stats0_, stats1_, sums_;
    typename Backend::vector dscaled_, grad_out_a_, grad_out_b_, grad_in_a_, grad_in_b_, dprojected_, de_local_;
    const Real* input_ = nullptr;
    const Real* embedding_ = nullptr;
    std::size_t capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
