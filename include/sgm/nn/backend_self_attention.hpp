#pragma once
// sgm::nn::backend_self_attention — the self-attention block of
// self_attention.hpp (GroupNorm, 1×1 q/k/v projections, softmax attention over
// the H·W positions, output projection, residual) with its weights and loops on
// a backend. Built from a host self_attention, whose parameter names it keeps
// (collected under the given prefix, as the host network names them).
// Follows the layer conventions (layer.hpp) with backend pointers and no
// context argument: forward(x, y, n), backward(dy, dx, n, g).

#include <cmath>
#include <cstddef>
#include <string>

#include "../error.hpp"
#include "backend_layer_ops.hpp"
#include "backend_parameters.hpp"
#include "kernels/attention.hpp"
#include "kernels/elementwise.hpp"
#include "layer.hpp"
#include "self_attention.hpp"

namespace sgm::nn {

template <class Backend>
class backend_self_attention {
public:
    using value_type = typename Backend::value_type;
    using Real = value_type;

    explicit backend_self_attention(self_attention<Real>& host, const std::string& prefix = "", Backend be = Backend{})
        : c_(host.channels()), p_(host.positions()), g_(host.groups()), eps_(host.eps()),
          out_scale_(host.output_scale()), params_(collected(host, prefix), be), be_(std::move(be)) {}

    [[nodiscard]] std::size_t input_size() const { return c_ * p_; }
    [[nodiscard]] std::size_t output_size() const { return c_ * p_; }
    [[nodiscard]] backend_parameters<Backend>& parameters() { return params_; }

    void forward(const Real* x, Real* y, std::size_t n) {
        grow(n);
        input_ = x;
        batch_ = n;
        const std::size_t values = n * c_ * p_;
        backend_ops::norm_forward(be_, params_, norm_weight, norm(), x, d(stats_), d(h_in_), n, eps_);
        for (std::size_t t = 0; t < 3; ++t)
            backend_ops::conv_forward(be_, params_, q_weight + 2 * t, pointwise(), d(h_in_), d(qkv_[t]), n);
        be_.for_each_index(n * p_, kernels::attention_softmax<Real>{d(qkv_[0]), d(qkv_[1]), d(attention_), geometry(),
                                                                    scale()});
        be_.for_each_index(values, kernels::attention_mix<Real>{d(attention_), d(qkv_[2]), d(mixed_), geometry()});
        backend_ops::conv_forward(be_, params_, out_weight, pointwise(), d(mixed_), d(work_[0]), n);
        be_.for_each_index(values, kernels::add_scaled<Real>{x, d(work_[0]), y, out_scale_});
    }

    void backward(const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "backend_self_attention::backward: batch ", n,
                             " differs from the forward's ", batch_);
        const bool params = wants_parameter_grads(g);
        if (dx == nullptr && !params) return;
        const std::size_t values = n * c_ * p_;
        Real* d_out = d(work_[0]);
        Real* d_mixed = d(work_[1]);
        be_.for_each_index(values, kernels::scale_copy<Real>{dy, d_out, out_scale_});
        backend_ops::conv_backward(be_, params_, out_weight, pointwise(), d_out, d(mixed_), d_mixed, n, params);
        // Through the attention: dv, dS, then dq and dk.
        be_.for_each_index(values, kernels::attention_value_grad<Real>{d(attention_), d_mixed, d(d_qkv_[2]),
                                                                       geometry()});
        be_.for_each_index(n * p_, kernels::attention_score_grad<Real>{d(attention_), d_mixed, d(qkv_[2]),
                                                                       d(d_scores_), geometry(), scale()});
        be_.for_each_index(values, kernels::attention_query_grad<Real>{d(d_scores_), d(qkv_[1]), d(d_qkv_[0]),
                                                                       geometry()});
        be_.for_each_index(values, kernels::attention_key_grad<Real>{d(d_scores_), d(qkv_[0]), d(d_qkv_[1]),
                                                                     geometry()});
        // Through the projections: dH = W_qᵀ dq + W_kᵀ dk + W_vᵀ dv.
        Real* d_h = d(work_[0]);
        for (std::size_t t = 0; t < 3; ++t) {
            backend_ops::conv_backward(be_, params_, q_weight + 2 * t, pointwise(), d(d_qkv_[t]), d(h_in_),
                                       t == 0 ? d_h : d_mixed, n, params);
            if (t > 0) be_.for_each_index(values, kernels::scale_add<Real>{d_h, d_mixed, d_h, Real(1)});
        }
        // Through the group norm, then join the residual's gradient.
        backend_ops::norm_backward(be_, params_, norm_weight, norm(), input_, d_h, d(stats_), d(sums_),
                                   dx == nullptr ? nullptr : d_mixed, n, params);
        if (dx == nullptr) return;
        be_.for_each_index(values, kernels::scale_add<Real>{dy, d_mixed, dx, out_scale_});
    }

private:
    // Tensor order of self_attention::collect.
    enum : std::size_t { norm_weight, norm_bias, q_weight, q_bias, k_weight, k_bias, v_weight, v_bias, out_weight,
                         out_bias };

    static parameter_list<Real> collected(self_attention<Real>& host, const std::string& prefix) {
        parameter_list<Real> list;
        host.collect(list, prefix);
        return list;
    }
    static Real* d(typename Backend::vector& v) { return Backend::data(v); }

    [[nodiscard]] kernels::norm_geometry norm() const { return {c_, g_, p_}; }
    // The 1×1 projections see the P positions as one P × 1 image.
    [[nodiscard]] kernels::conv_geometry pointwise() const { return {c_, c_, p_, 1, 1, 1, 0}; }
    [[nodiscard]] kernels::attention_geometry geometry() const { return {c_, p_}; }
    [[nodiscard]] Real scale() const { return Real(1 / std::sqrt(static_cast<double>(c_))); }

    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const std::size_t values = n * c_ * p_;
        stats_ = be_.make_vector(2 * n * g_);
        sums_ = be_.make_vector(2 * n * c_);
        h_in_ = be_.make_vector(values);
        mixed_ = be_.make_vector(values);
        attention_ = be_.make_vector(n * p_ * p_);
        d_scores_ = be_.make_vector(n * p_ * p_);
        for (auto* v : {&qkv_[0], &qkv_[1], &qkv_[2], &d_qkv_[0], &d_qkv_[1], &d_qkv_[2], &work_[0], &work_[1]})
            *v = be_.make_vector(values);
        capacity_ = n;
    }

    std::size_t c_, p_, g_;
    double eps_;
    Real out_scale_;
    backend_parameters<Backend> params_;
    Backend be_;
    typename Backend::vector stats_, sums_, h_in_, mixed_, attention_, d_scores_, qkv_[3], d_qkv_[3], work_[2];
    const Real* input_ = nullptr;
    std::size_t capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
