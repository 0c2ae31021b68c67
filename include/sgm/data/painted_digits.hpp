#pragma once
// Gray images painted in one colour each — a 3-channel data set made from a
// 1-channel one (e.g. MNIST), for training and testing colorization.
//
// Image i is painted in the fully saturated, full-value hue h_i drawn from a
// counter-based uniform keyed by (seed, first_index + i): pixel v becomes
// v · rgb(h_i) in each of the three channels (channel-major). Painting the same
// images with the same seed and indices always gives the same colours.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../error.hpp"
#include "../random/philox_uniform.hpp"
#include "image_set.hpp"

namespace sgm::data {

// RGB of hue h ∈ [0, 1) at saturation 1 and value 1 (the HSV → RGB formula).
[[nodiscard]] inline std::array<double, 3> hue_color(double h) {
    const double x = 6 * h;
    const auto channel = [&](double offset) {
        const double k = std::fmod(offset + x, 6.0);
        return 1 - std::max(0.0, std::min({k, 4 - k, 1.0}));
    };
    return {channel(5), channel(3), channel(1)};
}

inline constexpr std::uint64_t default_paint_seed = 20210101;

template <class Real>
[[nodiscard]] image_set<Real> paint_images(const image_set<Real>& gray, std::uint64_t first_index,
                                           std::uint64_t seed = default_paint_seed) {
    detail::require(gray.channels() == 1, "paint_images: the images have ", gray.channels(),
                    " channels; expected gray (1 channel)");
    const std::size_t n = gray.size(), hw = gray.height() * gray.width();
    std::vector<Real> rgb(n * 3 * hw);
    for (std::size_t i = 0; i < n; ++i) {
        const auto color = hue_color(random::uniform<double>(seed, first_index + i, 0, 0));
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t p = 0; p < hw; ++p)
                rgb[(i * 3 + c) * hw + p] = Real(double(gray.pixels()[i * hw + p]) * color[c]);
    }
    return image_set<Real>(n, 3, gray.height(), gray.width(), std::move(rgb), gray.labels());
}

}  // namespace sgm::data
