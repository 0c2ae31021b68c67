#pragma once
// The network concept: a trainable function y = f_θ(x, c) of a batch of inputs
// x (n × input_size) and one conditioning scalar c per sample (σ(t), log σ(t)
// or 999·t; see score_network), with its own backward pass.
//
// N models sgm::nn::network when, for net of type N:
//  1. N::value_type is the arithmetic type of its values and parameters.
//  2. net.input_size() is the number of values per sample; the output has as many.
//  3. net.forward(x, c, y, n) writes y; it keeps what backward needs (the caller
//     keeps x alive until then).
//  4. net.backward(dy, dx, n, g) turns dL/dy into dL/dx (skipped when dx is
//     null) and, unless g == gradients::input_only, adds dL/dθ into the
//     parameters' grad — for the x and c of the last forward.
//  5. net.parameters() lists its tensors (parameter_list), in a fixed order.
//  6. net.set_mode(pass_mode) switches training behaviour (dropout) on or off.
//  7. net.set_context(cpu_context) chooses where its loops run.

#include <concepts>
#include <cstddef>

#include "cpu_context.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {

// The part of the concept a score model needs (items 1–4 and 6): a function
// with its backward pass. Its pointers may be in device memory (backend_mlp).
template <class N>
concept differentiable_network =
    requires(N& net, const typename N::value_type* in, typename N::value_type* out, std::size_t n, gradients g,
             pass_mode mode) {
        { net.input_size() } -> std::convertible_to<std::size_t>;
        net.forward(in, in, out, n);
        net.backward(in, out, n, g);
        net.set_mode(mode);
    };

// The whole concept: a host network that the trainer, the optimizer and the
// checkpoint code work with.
template <class N>
concept network = differentiable_network<N> &&
                  requires(N& net, cpu_context ctx) {
                      { net.parameters() } -> std::same_as<parameter_list<typename N::value_type>>;
                      net.set_context(ctx);
                  };

}  // namespace sgm::nn
