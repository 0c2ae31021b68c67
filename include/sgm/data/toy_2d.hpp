#pragma once
// Seeded 2-D toy data sets for training and testing score models. Sample s of a
// data set is a pure function of (seed, s) through the counter-based generators of
// random/: uniforms u_k = uniform(seed, s, draw 0, k), normals n_k = normal(seed, s,
// draw 1, k). So a sample does not depend on how many are drawn at once or where a
// batch starts. Values are computed in double and rounded to Real once.
//
//   mixture       8 Gaussians (FFJORD's "8gaussians"): component k = floor(8 u0),
//                 mean R (cos 2πk/8, sin 2πk/8) with R = 2√2, std σ = √2/4 per axis.
//                 Mean 0, covariance (R²/2 + σ²) I = 4.125 I.
//   checkerboard  FFJORD's: x = 4 u0 - 2, y = u1 - 2·[u2 >= ½] + (floor(x) mod 2),
//                 then (x, y)·2. Uniform on the 8 cells (i, j) of side 2 in [-4, 4]²
//                 with floor(x/2) + floor(y/2) even. Mean 0, covariance 16/3 I.
//   swiss_roll    t = 1.5π(1 + 2 u0), (t cos t, t sin t)/7 + (n0, n1)/7 (sklearn's
//                 roll with noise 1, FFJORD's x–z plane, scaled by 1/7 instead of 1/5
//                 for about unit variance: 0.92 and 1.01 per axis; mean (0.286, 0.030)).
//   two_moons     sklearn's moons with uniform angle θ = π u1: outer (cos θ, sin θ) when
//                 u0 < ½, else inner (1 - cos θ, ½ - sin θ); shifted by (-½, -¼) to mean 0;
//                 plus 0.1 (n0, n1). Variances 0.76 and 9/16 - 1/π + 0.01 ≈ 0.254.
//   rings         3 concentric circles of radius r = 1 + floor(3 u0) ∈ {1, 2, 3}, each
//                 with probability ⅓, angle 2π u1, plus 0.08 (n0, n1).
//                 Mean 0, covariance (E[r²]/2 + 0.08²) I = (7/3 + 0.0064) I.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "../random/philox_normal.hpp"
#include "../random/philox_uniform.hpp"

namespace sgm::data {

enum class toy_2d { mixture, checkerboard, swiss_roll, two_moons, rings };

inline constexpr toy_2d toy_2d_all[] = {toy_2d::mixture, toy_2d::checkerboard, toy_2d::swiss_roll,
                                        toy_2d::two_moons, toy_2d::rings};

[[nodiscard]] constexpr std::string_view toy_2d_name(toy_2d kind) {
    switch (kind) {
        case toy_2d::mixture: return "mixture";
        case toy_2d::checkerboard: return "checkerboard";
        case toy_2d::swiss_roll: return "swiss_roll";
        case toy_2d::two_moons: return "two_moons";
        case toy_2d::rings: return "rings";
    }
    return "unknown";
}

// The name as toy_2d_name writes it; anything else is an error listing the names.
[[nodiscard]] inline toy_2d parse_toy_2d(std::string_view name) {
    std::string valid;
    for (const toy_2d k : toy_2d_all) {
        if (toy_2d_name(k) == name) return k;
        valid += (valid.empty() ? "" : ", ") + std::string(toy_2d_name(k));
    }
    throw error(sgm::detail::concat("unknown toy data set '", name, "'; expected one of: ", valid));
}

// Parameters of the definitions above (for building exact references, e.g. the
// gaussian_mixture of `mixture`).
inline constexpr int toy_mixture_components = 8;
inline constexpr double toy_mixture_radius = 2.8284271247461900976;  // 2√2
inline constexpr double toy_mixture_std = 0.35355339059327376220;    // √2/4
inline constexpr double toy_swiss_roll_scale = 7.0;
inline constexpr double toy_two_moons_noise = 0.1;
inline constexpr int toy_rings_count = 3;
inline constexpr double toy_rings_noise = 0.08;

struct point_2d {
    double x = 0;
    double y = 0;
};

// Sample `index` (global) of data set `kind` under `seed`.
[[nodiscard]] inline point_2d toy_2d_point(toy_2d kind, std::uint64_t seed, std::uint64_t index) {
    constexpr double pi = 3.14159265358979323846;
    const auto u = [&](std::uint64_t k) { return random::uniform<double>(seed, index, 0, k); };
    const auto n = [&](std::uint64_t k) { return random::normal<double>(seed, index, 1, k); };
    switch (kind) {
        case toy_2d::mixture: {
            const auto k = std::min<int>(static_cast<int>(toy_mixture_components * u(0)), toy_mixture_components - 1);
            const double angle = 2 * pi * k / toy_mixture_components;
            return {toy_mixture_radius * std::cos(angle) + toy_mixture_std * n(0),
                    toy_mixture_radius * std::sin(angle) + toy_mixture_std * n(1)};
        }
        case toy_2d::checkerboard: {
            const double x = 4 * u(0) - 2;
            const auto column = static_cast<long>(std::floor(x));
            const double y = u(1) - (u(2) >= 0.5 ? 2.0 : 0.0) + static_cast<double>(((column % 2) + 2) % 2);
            return {2 * x, 2 * y};
        }
        case toy_2d::swiss_roll: {
            const double t = 1.5 * pi * (1 + 2 * u(0));
            return {(t * std::cos(t) + n(0)) / toy_swiss_roll_scale, (t * std::sin(t) + n(1)) / toy_swiss_roll_scale};
        }
        case toy_2d::two_moons: {
            const double theta = pi * u(1);
            const bool outer = u(0) < 0.5;
            const double x = outer ? std::cos(theta) : 1 - std::cos(theta);
            const double y = outer ? std::sin(theta) : 0.5 - std::sin(theta);
            return {x - 0.5 + toy_two_moons_noise * n(0), y - 0.25 + toy_two_moons_noise * n(1)};
        }
        case toy_2d::rings: {
            const int ring = std::min<int>(static_cast<int>(toy_rings_count * u(0)), toy_rings_count - 1);
            const double radius = 1 + ring;
            const double angle = 2 * pi * u(1);
            return {radius * std::cos(angle) + toy_rings_noise * n(0),
                    radius * std::sin(angle) + toy_rings_noise * n(1)};
        }
    }
    throw error(sgm::detail::concat("toy_2d_point: unknown data set code ", static_cast<int>(kind)));
}

// `count` samples (count × 2, sample-major): samples first_sample .. first_sample + count - 1.
template <class Real>
[[nodiscard]] std::vector<Real> sample_toy_2d(toy_2d kind, std::size_t count, std::uint64_t seed,
                                              std::uint64_t first_sample = 0) {
    sgm::detail::require(count == 0 || count - 1 <= std::numeric_limits<std::uint64_t>::max() - first_sample,
                         "sample_toy_2d: first_sample = ", first_sample, " with count = ", count,
                         " runs past the largest 64-bit sample index");
    std::vector<Real> out(2 * count);
    for (std::size_t i = 0; i < count; ++i) {
        const point_2d p = toy_2d_point(kind, seed, first_sample + i);
        out[2 * i] = static_cast<Real>(p.x);
        out[2 * i + 1] = static_cast<Real>(p.y);
    }
    return out;
}

}  // namespace sgm::data
