#pragma once
// sgm::train::batch_key — what the randomness of one training batch depends on.
//
// The times, noise levels, noise and data indices of a batch are pure functions of
// (seed, step, global sample index), so a resumed run repeats them exactly and a
// sample's draws do not depend on the batch size or its position in the batch.
//
// The Philox key of a step is a 64-bit mix of (seed, step) (step_seed below); the
// sample counter is first_sample + b. Draw indices within a step:
//   0  the loss's time t or noise level i (uniform)
//   1  the loss's noise z (normal, one value per element)
//   2+ free for the caller (data indices, dequantization, dropout)

#include <cstdint>

#include "../random/mix64.hpp"

namespace sgm::train {

struct batch_key {
    std::uint64_t seed = 0;
    std::uint64_t step = 0;
    std::uint64_t first_sample = 0;  // global index of the batch's sample 0
};

// Draw indices used by the losses (see above).
inline constexpr std::uint32_t time_draw = 0;
inline constexpr std::uint32_t noise_draw = 1;
inline constexpr std::uint32_t first_free_draw = 2;

// The Philox key for the key's step. For a fixed seed, distinct steps give distinct
// keys (a composition of bijections), so no two steps of a run share noise.
[[nodiscard]] constexpr std::uint64_t step_seed(const batch_key& key) noexcept {
    return random::mix64(key.seed ^ random::mix64(key.step + 0x9e3779b97f4a7c15ULL));
}

}  // namespace sgm::train
