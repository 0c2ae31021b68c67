#pragma once
// The layer conventions every sgm::nn layer follows (no base class: layers are
// plain types composed at compile time).
//
// Activations are contiguous, sample-major arrays: a batch of n samples of a
// layer's input shape (C×H×W for images, F for vectors), n·size values.
//
//   forward(ctx, x, y, n)          writes y from x. A layer keeps a pointer to x
//                                  (and any cache it needs) for backward: the
//                                  caller keeps x alive and unchanged until the
//                                  matching backward has run.
//   backward(ctx, dy, dx, n, g)    from dL/dy writes dL/dx into dx (skipped when
//                                  dx is null) and, when g == gradients::parameters_and_input
//                                  or parameters_only, *adds* dL/dθ into each
//                                  parameter's grad.
//   collect(list, prefix)          registers the layer's parameters in order.
//
// Workspace grows to the largest batch seen and is reused: after the first
// pass no layer allocates through operator new (tested). Eigen's GEMM may still
// take its packing buffers from malloc for deep products (beyond Eigen's
// 128 KB stack limit), e.g. the stride-2 convolutions.

#include <cstddef>
#include <cstdint>

namespace sgm::nn {

enum class gradients { parameters_and_input, input_only, parameters_only };

[[nodiscard]] constexpr bool wants_parameter_grads(gradients g) { return g != gradients::input_only; }

// What a pass is for. Dropout is active in training only; its mask is a pure
// function of (seed, step, first_sample + sample, element), so a resumed run
// draws the same masks.
struct pass_mode {
    bool training = false;
    std::uint64_t seed = 0;
    std::uint64_t step = 0;
    std::uint64_t first_sample = 0;
};

}  // namespace sgm::nn
