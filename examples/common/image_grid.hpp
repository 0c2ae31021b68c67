#pragma once
// Tiles a batch of gray or RGB images (sample-major C×H×W, values in [lo, hi])
// into one PNG, `columns` images per row, each pixel drawn as a `zoom`×`zoom` block.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "canvas.hpp"

namespace examples {

struct image_shape {
    std::size_t channels = 1, height = 28, width = 28;
    [[nodiscard]] std::size_t size() const { return channels * height * width; }
};

// Draws images [0, count) of `pixels` into a fresh canvas.
inline canvas image_grid(const std::vector<double>& pixels, std::size_t count, image_shape shape, std::size_t columns,
                         int zoom = 2, double lo = 0.0, double hi = 1.0, int gap = 2) {
    columns = std::max<std::size_t>(1, std::min(columns, count));
    const std::size_t rows = (count + columns - 1) / columns;
    const int w = int(shape.width) * zoom, h = int(shape.height) * zoom;
    canvas c(int(columns) * (w + gap) + gap, int(rows) * (h + gap) + gap, {40, 40, 40});
    const auto level = [&](double v) {
        const double u = std::clamp((v - lo) / (hi - lo), 0.0, 1.0);
        return static_cast<std::uint8_t>(std::lround(255.0 * u));
    };
    const std::size_t plane = shape.height * shape.width;
    for (std::size_t k = 0; k < count; ++k) {
        const double* img = pixels.data() + k * shape.size();
        const int x0 = gap + int(k % columns) * (w + gap), y0 = gap + int(k / columns) * (h + gap);
        for (std::size_t y = 0; y < shape.height; ++y)
            for (std::size_t x = 0; x < shape.width; ++x) {
                const std::size_t p = y * shape.width + x;
                rgb colour;
                if (shape.channels >= 3)
                    colour = {level(img[p]), level(img[plane + p]), level(img[2 * plane + p])};
                else
                    colour = {level(img[p]), level(img[p]), level(img[p])};
                c.fill_rect(x0 + int(x) * zoom, y0 + int(y) * zoom, zoom, zoom, colour);
            }
    }
    return c;
}

}  // namespace examples
