#pragma once
// Element kernel of inverted dropout for backend loops: the same keep decision
// as nn::dropout (dropout.hpp), so a backend network trains with the host
// network's masks. Element e of global sample s is kept when
//   random::uniform<double>(key, s, stream, e) < keep,   key = dropout_key(seed, step),
// and kept values are scaled by 1/keep. The mask is recomputed from the counter
// in the backward pass instead of being stored.

#include <cstddef>
#include <cstdint>

#include "../../config.hpp"
#include "../../random/philox_uniform.hpp"

namespace sgm::nn::kernels {

// y = mask ⊙ x / keep over n samples of sample_size values; y may be x. Used
// for the forward (x = activations) and the backward (x = dL/dy).
template <class Real>
struct dropout_apply {
    const Real* x;
    Real* y;
    std::uint64_t key;
    std::uint64_t first_sample;
    std::uint32_t stream;
    std::size_t sample_size;
    double keep;
    SGM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t b = i / sample_size;
        const bool kept = random::uniform<double>(key, first_sample + b, stream, i - b * sample_size) < keep;
        y[i] = kept ? x[i] * static_cast<Real>(1.0 / keep) : Real(0);
    }
};

}  // namespace sgm::nn::kernels
