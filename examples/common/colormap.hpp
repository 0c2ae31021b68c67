#pragma once
// Colour maps for the examples' pictures.

#include <algorithm>
#include <array>
#include <cmath>

#include "canvas.hpp"

namespace examples {

// Matplotlib's viridis, sampled at nine evenly spaced points and interpolated linearly.
inline rgb viridis(double v) {
    static constexpr std::array<rgb, 9> anchors{{{68, 1, 84},
                                                 {71, 45, 123},
                                                 {59, 82, 139},
                                                 {44, 114, 142},
                                                 {33, 145, 140},
                                                 {40, 174, 128},
                                                 {94, 201, 98},
                                                 {173, 220, 48},
                                                 {253, 231, 37}}};
    v = std::clamp(v, 0.0, 1.0) * double(anchors.size() - 1);
    const auto i = std::min<std::size_t>(std::size_t(v), anchors.size() - 2);
    return mix(anchors[i], anchors[i + 1], v - double(i));
}

// White to a pale blue-grey: a quiet background that leaves points readable.
inline rgb pale_blues(double v) {
    return mix(rgb{255, 255, 255}, rgb{150, 180, 215}, std::clamp(v, 0.0, 1.0));
}

}  // namespace examples
