#pragma once
// Counter-based Gaussian noise. The normal for (seed, global sample index, draw,
// element) is a pure function of those four numbers, so a sample's noise does not
// depend on the batch it is in, its position there, the thread count or the backend.
//
// One Philox4x32-10 call yields four 32-bit words: counter = {element / 4, draw,
// sample low, sample high}, key = {seed low, seed high}. Box–Muller turns the four
// words into four normals; element % 4 picks one.

#include <Random123/philox.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../config.hpp"

namespace sgm::random {

struct noise_key {
    std::uint64_t seed = 0;
    std::uint64_t first_sample = 0;  // global index of the batch's sample 0
};

namespace detail {
// Maps a 32-bit word to (0, 1]: never 0, so log() is finite.
template <class Real>
SGM_HOST_DEVICE inline Real open_unit(std::uint32_t word) {
    return (static_cast<Real>(word) + Real(1)) * Real(2.3283064365386963e-10);  // 2^-32
}
}  // namespace detail

// Four normals for one block of four consecutive elements of one sample.
template <class Real>
SGM_HOST_DEVICE inline void normal_block(std::uint64_t seed, std::uint64_t sample, std::uint32_t draw,
                                         std::uint32_t block, Real out[4]) {
    r123::Philox4x32 rng;
    r123::Philox4x32::ctr_type ctr = {{block, draw, static_cast<std::uint32_t>(sample),
                                       static_cast<std::uint32_t>(sample >> 32)}};
    r123::Philox4x32::key_type key = {
        {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
    const auto words = rng(ctr, key);
    constexpr Real two_pi = Real(6.283185307179586476925286766559);
    for (int pair = 0; pair < 2; ++pair) {
        const Real radius = std::sqrt(Real(-2) * std::log(detail::open_unit<Real>(words.v[2 * pair])));
        const Real angle = two_pi * detail::open_unit<Real>(words.v[2 * pair + 1]);
        out[2 * pair] = radius * std::cos(angle);
        out[2 * pair + 1] = radius * std::sin(angle);
    }
}

// The standard normal for one (seed, sample, draw, element).
template <class Real>
SGM_HOST_DEVICE inline Real normal(std::uint64_t seed, std::uint64_t sample, std::uint32_t draw,
                                   std::uint64_t element) {
    Real block[4];
    normal_block<Real>(seed, sample, draw, static_cast<std::uint32_t>(element / 4), block);
    return block[element % 4];
}

// Fills a batch (size × dim, sample-major, in backend memory) with draw `draw`.
template <class Backend>
void fill_normal(const Backend& be, typename Backend::value_type* out, std::size_t size,
                 std::size_t dim, noise_key key, std::uint32_t draw) {
    using Real = typename Backend::value_type;
    const std::size_t blocks = (dim + 3) / 4;
    be.for_each_index(size * blocks, [=] SGM_HOST_DEVICE(std::size_t i) {
        const std::size_t b = i / blocks;
        const std::size_t block = i % blocks;
        Real values[4];
        normal_block<Real>(key.seed, key.first_sample + b, draw, static_cast<std::uint32_t>(block), values);
        const std::size_t first = block * 4;
        for (std::size_t k = 0; k < 4 && first + k < dim; ++k) out[b * dim + first + k] = values[k];
    });
}

}  // namespace sgm::random
