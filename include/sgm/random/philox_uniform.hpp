#pragma once
// Counter-based uniform noise on (0, 1), for dequantization. Same counter layout as
// philox_normal.hpp: the value for (seed, sample, draw, element) is a pure function
// of those four numbers. Callers keep uniform and normal draws apart by draw index.

#include <Random123/philox.h>

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../config.hpp"
#include "philox_normal.hpp"

namespace sgm::random {

template <class Real>
SGM_HOST_DEVICE inline Real uniform(std::uint64_t seed, std::uint64_t sample, std::uint32_t draw,
                                    std::uint64_t element) {
    r123::Philox4x32 rng;
    r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(element / 4), draw,
                                       static_cast<std::uint32_t>(sample), static_cast<std::uint32_t>(sample >> 32)}};
    r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
    const auto words = rng(ctr, key);
    // (w + ½)·2⁻³² lies strictly inside (0, 1) in double; in float it can round to 1,
    // so clamp to the largest value below 1.
    const Real u = Real((double(words.v[element % 4]) + 0.5) * 2.3283064365386963e-10);
    constexpr Real below_one = Real(1) - std::numeric_limits<Real>::epsilon() / 2;
    return u < below_one ? u : below_one;
}

// Fills a batch (size × dim, sample-major, backend memory) with uniforms of draw `draw`.
template <class Backend>
void fill_uniform(const Backend& be, typename Backend::value_type* out, std::size_t size, std::size_t dim,
                  noise_key key, std::uint32_t draw) {
    using Real = typename Backend::value_type;
    be.for_each_index(size * dim, [=] SGM_HOST_DEVICE(std::size_t i) {
        out[i] = uniform<Real>(key.seed, key.first_sample + i / dim, draw, i % dim);
    });
}

}  // namespace sgm::random
