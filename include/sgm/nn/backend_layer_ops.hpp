#pragma once
// The passes of the parametrized layers — convolution, group norm, dense — on
// a backend, with their weights in a backend_parameters list (the weight at
// index `weight`, its bias or β at `weight + 1`). The backend blocks and
// networks are written with these; each is a few element-kernel launches.

#include <cstddef>

#include "backend_parameters.hpp"
#include "kernels/conv2d.hpp"
#include "kernels/dense.hpp"
#include "kernels/group_norm.hpp"

namespace sgm::nn::backend_ops {

template <class Backend, class Real = typename Backend::value_type>
void conv_forward(const Backend& be, const backend_parameters<Backend>& params, std::size_t weight,
                  const kernels::conv_geometry& g, const Real* x, Real* y, std::size_t n) {
    be.for_each_index(n * g.out_channels * g.out_height() * g.out_width(),
                      kernels::conv2d_forward<Real>{x, params.value(weight), params.value(weight + 1), y, g});
}

// dy → dx (skipped when null) and, when parameter_grads, dW and db added.
template <class Backend, class Real = typename Backend::value_type>
void conv_backward(const Backend& be, backend_parameters<Backend>& params, std::size_t weight,
                   const kernels::conv_geometry& g, const Real* dy, const Real* x, Real* dx, std::size_t n,
                   bool parameter_grads) {
    if (dx != nullptr)
        be.for_each_index(n * g.in_channels * g.height * g.width,
                          kernels::conv2d_input_grad<Real>{dy, params.value(weight), dx, g});
    if (!parameter_grads) return;
    be.for_each_index(g.out_channels * g.in_channels * g.kernel * g.kernel,
                      kernels::conv2d_weight_grad<Real>{dy, x, params.grad(weight), g, n});
    be.for_each_index(g.out_channels, kernels::conv2d_bias_grad<Real>{dy, params.grad(weight + 1), g, n});
}

// stats: 2·n·groups values, kept for the backward.
template <class Backend, class Real = typename Backend::value_type>
void norm_forward(const Backend& be, const backend_parameters<Backend>& params, std::size_t weight,
                  const kernels::norm_geometry& g, const Real* x, Real* stats, Real* y, std::size_t n,
                  double eps = 1e-6) {
    be.for_each_index(n * g.groups, kernels::group_norm_stats<Real>{x, stats, g, eps});
    be.for_each_index(n * g.channels * g.spatial, kernels::group_norm_forward<Real>{
                                                      x, stats, params.value(weight), params.value(weight + 1), y, g});
}

// dy → dx (skipped when null) and, when parameter_grads, dγ and dβ added.
// sums: 2·n·channels values of scratch.
template <class Backend, class Real = typename Backend::value_type>
void norm_backward(const Backend& be, backend_parameters<Backend>& params, std::size_t weight,
                   const kernels::norm_geometry& g, const Real* x, const Real* dy, const Real* stats, Real* sums,
                   Real* dx, std::size_t n, bool parameter_grads) {
    be.for_each_index(n * g.channels, kernels::group_norm_channel_sums<Real>{x, dy, stats, sums, g});
    if (parameter_grads)
        be.for_each_index(g.channels, kernels::group_norm_parameter_grad<Real>{
                                          sums, params.grad(weight), params.grad(weight + 1), g.channels, n});
    if (dx != nullptr)
        be.for_each_index(n * g.channels * g.spatial,
                          kernels::group_norm_input_grad<Real>{x, dy, stats, sums, params.value(weight), dx, g});
}

template <class Backend, class Real = typename Backend::value_type>
void dense_forward(const Backend& be, const backend_parameters<Backend>& params, std::size_t weight,
                   std::size_t in, std::size_t out, const Real* x, Real* y, std::size_t n) {
    be.for_each_index(n * out,
                      kernels::dense_forward<Real>{x, params.value(weight), params.value(weight + 1), y, in, out});
}

// dy → dx (skipped when null) and, when parameter_grads, dW and db added.
template <class Backend, class Real = typename Backend::value_type>
void dense_backward(const Backend& be, backend_parameters<Backend>& params, std::size_t weight, std::size_t in,
                    std::size_t out, const Real* dy, const Real* x, Real* dx, std::size_t n, bool parameter_grads) {
    if (dx != nullptr)
        be.for_each_index(n * in, kernels::dense_input_grad<Real>{dy, params.value(weight), dx, in, out});
    if (!parameter_grads) return;
    be.for_each_index(out * in, kernels::dense_weight_grad<Real>{dy, x, params.grad(weight), in, out, n});
    be.for_each_index(out, kernels::dense_bias_grad<Real>{dy, params.grad(weight + 1), out, n});
}

}  // namespace sgm::nn::backend_ops
