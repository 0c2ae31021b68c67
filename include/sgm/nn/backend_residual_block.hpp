#pragma once
// sgm::nn::backend_residual_block — the DDPM++ residual block of
// residual_block.hpp on a backend:
//
//   h = conv₀(SiLU(GN₀(x))) + Dense(e)        e = SiLU(time embedding), per channel
//   h = conv₁(dropout(SiLU(GN₁(h))))          dropout masks as the host block's
//   y = (skip(x) + h) / √2                     skip = x, or a 1×1 conv
//
// Built from a host residual_block, whose tensor names it keeps (collected
// under the given prefix, as the host network names them). In training mode
// (set_mode) the dropout masks are the host block's for the same pass_mode.
// forward(x, e, y, n); backward(dy, dx, de, n, g) adds dL/de into de, since one
// embedding feeds every block.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "../error.hpp"
#include "backend_layer_ops.hpp"
#include "backend_parameters.hpp"
#include "kernels/dropout.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/silu.hpp"
#include "layer.hpp"
#include "residual_block.hpp"

namespace sgm::nn {

template <class Backend>
class backend_residual_block {
public:
    using value_type = typename Backend::value_type;
    using Real = value_type;

    explicit backend_residual_block(residual_block<Real>& host, const std::string& prefix = "block",
                                    Backend be = Backend{})
        : s_(host.shape()), params_(collected(host, prefix), be), be_(std::move(be)) {}

    [[nodiscard]] std::size_t input_size() const { return s_.in_channels * plane(); }
    [[nodiscard]] std::size_t output_size() const { return s_.out_channels * plane(); }
    [[nodiscard]] backend_parameters<Backend>& parameters() { return params_; }
    // Training mode turns dropout on (when the block has any) for the next passes.
    void set_mode(const pass_mode& mode) { mode_ = mode; }

    // x: n × input_size; e: n × embedding_size (already through SiLU); y: n × output_size.
    void forward(const Real* x, const Real* e, Real* y, std::size_t n) {
        grow(n);
        input_ = x;
        embedding_ = e;
        batch_ = n;
        const std::size_t in = n * input_size(), out = n * output_size();
        backend_ops::norm_forward(be_, params_, norm0_weight, norm(s_.in_channels), x, d(stats0_), d(a_), n);
        be_.for_each_index(in, kernels::silu_forward<Real>{d(a_), d(b_)});
        backend_ops::conv_forward(be_, params_, conv0_weight, conv0(), d(b_), d(h_), n);
        backend_ops::dense_forward(be_, params_, embed_weight, s_.embedding_size, s_.out_channels, e, d(projected_), n);
        be_.for_each_index(out, kernels::add_plane_shift<Real>{d(h_), d(projected_), plane()});
        backend_ops::norm_forward(be_, params_, norm1_weight, norm(s_.out_channels), d(h_), d(stats1_), d(d_), n);
        be_.for_each_index(out, kernels::silu_forward<Real>{d(d_), d(f_)});
        dropped_ = mode_.training && s_.dropout > 0;
        if (dropped_) be_.for_each_index(out, dropout_mask(d(f_), d(f_)));  // f_ now holds g
        backend_ops::conv_forward(be_, params_, conv1_weight, conv1(), d(f_), y, n);
        const Real* skip = x;
        if (has_skip()) {
            backend_ops::conv_forward(be_, params_, skip_weight, skip_conv(), x, d(skipped_), n);
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
        backend_ops::conv_backward(be_, params_, conv1_weight, conv1(), d(dscaled_), d(f_), d(grad_out_a_), n, params);
        if (dropped_) be_.for_each_index(out, dropout_mask(d(grad_out_a_), d(grad_out_a_)));
        be_.for_each_index(out, kernels::silu_backward<Real>{d(d_), d(grad_out_a_), d(grad_out_b_)});
        backend_ops::norm_backward(be_, params_, norm1_weight, norm(s_.out_channels), d(h_), d(grad_out_b_),
                                   d(stats1_), d(sums_), d(grad_out_a_), n, params);
        // The embedding's projection.
        const std::size_t e = s_.embedding_size;
        be_.for_each_index(n * s_.out_channels, kernels::plane_sums<Real>{d(grad_out_a_), d(dprojected_), plane()});
        backend_ops::dense_backward(be_, params_, embed_weight, e, s_.out_channels, d(dprojected_), embedding_,
                                    d(de_local_), n, params);
        be_.for_each_index(n * e, kernels::scale_add<Real>{d(de_local_), de, de, Real(1)});
        // conv₀, SiLU, GN₀.
        backend_ops::conv_backward(be_, params_, conv0_weight, conv0(), d(grad_out_a_), d(b_), d(grad_in_a_), n,
                                   params);
        be_.for_each_index(in, kernels::silu_backward<Real>{d(a_), d(grad_in_a_), d(grad_in_b_)});
        backend_ops::norm_backward(be_, params_, norm0_weight, norm(s_.in_channels), input_, d(grad_in_b_),
                                   d(stats0_), d(sums_), dx == nullptr ? nullptr : d(grad_in_a_), n, params);
        // The skip path joins dx.
        const Real* skip_grad = d(dscaled_);
        if (has_skip()) {
            backend_ops::conv_backward(be_, params_, skip_weight, skip_conv(), d(dscaled_), input_,
                                       dx == nullptr ? nullptr : d(grad_in_b_), n, params);
            skip_grad = d(grad_in_b_);
        }
        if (dx != nullptr) be_.for_each_index(in, kernels::scale_add<Real>{d(grad_in_a_), skip_grad, dx, Real(1)});
    }

private:
    // Tensor order of residual_block::collect.
    enum : std::size_t { norm0_weight = 0, conv0_weight = 2, embed_weight = 4, norm1_weight = 6, conv1_weight = 8,
                         skip_weight = 10 };

    static parameter_list<Real> collected(residual_block<Real>& host, const std::string& prefix) {
        parameter_list<Real> list;
        host.collect(list, prefix);
        return list;
    }
    static Real* d(typename Backend::vector& v) { return Backend::data(v); }
    static Real root_half() { return Real(1) / std::sqrt(Real(2)); }

    // The dropout of the last forward's pass_mode, applied to x (activations or their gradient).
    [[nodiscard]] kernels::dropout_apply<Real> dropout_mask(const Real* x, Real* y) const {
        return {x, y, dropout_key(mode_.seed, mode_.step), mode_.first_sample, s_.dropout_stream, output_size(),
                1.0 - s_.dropout};
    }

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
    // a = GN₀(x), b = SiLU(a), h = conv₀(b) + embed, d = GN₁(h), f = SiLU(d) (then dropout in place)
    typename Backend::vector a_, b_, h_, d_, f_, skipped_, projected_, stats0_, stats1_, sums_;
    typename Backend::vector dscaled_, grad_out_a_, grad_out_b_, grad_in_a_, grad_in_b_, dprojected_, de_local_;
    const Real* input_ = nullptr;
    const Real* embedding_ = nullptr;
    std::size_t capacity_ = 0, batch_ = 0;
    pass_mode mode_{};
    bool dropped_ = false;  // whether the last forward applied dropout
};

}  // namespace sgm::nn
