#pragma once
// Deterministic parameter initialization: parameter i of a list gets the
// counter-based stream (init_key(seed), i), so the same seed gives the same
// network on every machine, thread count and backend. The key is mixed so that
// weights never share Philox counters with sampling noise drawn under the same seed.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../random/mix64.hpp"
#include "../random/philox_normal.hpp"
#include "../random/philox_uniform.hpp"
#include "parameter.hpp"

namespace sgm::nn {

// PyTorch's default for dense and convolution layers: U(-1/√fan_in, 1/√fan_in).
[[nodiscard]] inline init_rule fan_in_uniform(std::size_t fan_in) {
    return {init_rule::kind::uniform, 1.0 / std::sqrt(static_cast<double>(fan_in))};
}
// Variance-preserving uniform (Glorot "fan_avg") scaled by `scale`, as DDPM++ uses;
// scale near 0 gives the near-zero init of a residual branch's last layer.
[[nodiscard]] inline init_rule fan_avg_uniform(std::size_t fan_in, std::size_t fan_out, double scale = 1.0) {
    const double variance = scale / ((static_cast<double>(fan_in) + static_cast<double>(fan_out)) / 2.0);
    return {init_rule::kind::uniform, std::sqrt(3.0 * variance)};
}

[[nodiscard]] constexpr std::uint64_t init_key(std::uint64_t seed) {
    return random::mix64(seed ^ 0xbb67ae8584caa73bULL);
}

template <class Real>
void initialize(parameter<Real>& p, std::uint64_t seed, std::uint64_t stream) {
    const std::uint64_t key = init_key(seed);
    for (std::size_t j = 0; j < p.size(); ++j) {
        double v = 0;
        switch (p.init.type) {
            case init_rule::kind::zeros: v = 0; break;
            case init_rule::kind::ones: v = 1; break;
            case init_rule::kind::uniform:
                v = p.init.scale * (2.0 * random::uniform<double>(key, stream, 0, j) - 1.0);
                break;
            case init_rule::kind::normal: v = p.init.scale * random::normal<double>(key, stream, 0, j); break;
        }
        p.value[j] = static_cast<Real>(v);
    }
    std::fill(p.grad.begin(), p.grad.end(), Real(0));
}

template <class Real>
void initialize(const parameter_list<Real>& list, std::uint64_t seed) {
    for (std::size_t i = 0; i < list.size(); ++i) initialize(*list[i].tensor, seed, i);
}

}  // namespace sgm::nn
