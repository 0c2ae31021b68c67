#pragma once
// How the likelihood computes the divergence of the probability-flow drift,
//   ∇·F(x,t) = Σ_i ∂f/∂x_i − ½ g(t)² tr(∂s/∂x).
// exact: tr(∂s/∂x) from D products with the unit vectors e_1 … e_D (cost ∝ D).
// rademacher / gaussian: Hutchinson–Skilling, tr(J) ≈ (1/K) Σ_k ε_kᵀ J ε_k with K
// probes per sample of ±1 entries or of standard normals, unbiased for any K, drawn
// once and held fixed over one solve (the ODE then stays deterministic).

#include <cstdint>

#include "../config.hpp"
#include "../random/philox_normal.hpp"

namespace sgm {

enum class divergence_estimator { exact, rademacher, gaussian };

namespace detail {

// Probe k of sample b uses noise draw first_draw + k; the entries are the normals of
// that draw (gaussian) or their signs (rademacher: a symmetric normal's sign is ±1
// with probability ½ each).
template <class Backend>
void fill_probes(const Backend& be, typename Backend::value_type* out, std::size_t size, std::size_t probes,
                 std::size_t dim, random::noise_key key, std::uint32_t first_draw, bool signs) {
    using Real = typename Backend::value_type;
    const std::size_t blocks = (dim + 3) / 4;
    be.for_each_index(size * probes * blocks, [=] SGM_HOST_DEVICE(std::size_t i) {
        const std::size_t row = i / blocks, block = i % blocks;
        const std::size_t b = row / probes, k = row % probes;
        Real values[4];
        random::normal_block<Real>(key.seed, key.first_sample + b, first_draw + static_cast<std::uint32_t>(k),
                                   static_cast<std::uint32_t>(block), values);
        const std::size_t first = block * 4;
        for (std::size_t j = 0; j < 4 && first + j < dim; ++j) {
            const Real z = values[j];
            out[row * dim + first + j] = signs ? (z < Real(0) ? Real(-1) : Real(1)) : z;
        }
    });
}

}  // namespace detail
}  // namespace sgm
