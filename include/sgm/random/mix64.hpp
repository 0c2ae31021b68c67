#pragma once
// splitmix64's finalizer: a bijection of 64-bit words that mixes every bit.
// Used to derive independent Philox keys (per training step, for dropout masks,
// for parameter initialization) from one user seed.

#include <cstdint>

#include "../config.hpp"

namespace sgm::random {

[[nodiscard]] SGM_HOST_DEVICE constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace sgm::random
