#pragma once
// Tiles images (sample-major C×H×W floats in [0, 1]) into one picture and writes it
// as PNG: `columns` per row, each pixel drawn as zoom×zoom, a gap between tiles.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include <sgm/error.hpp>
#include <sgm/io/png.hpp>

namespace cli {

struct image_shape {
    std::size_t channels = 1, height = 28, width = 28;
    [[nodiscard]] std::size_t size() const { return channels * height * width; }
};

inline void write_image_grid(const std::filesystem::path& path, std::span<const float> pixels, std::size_t count,
                             image_shape shape, std::size_t columns, std::size_t zoom = 3, std::size_t gap = 2) {
    sgm::detail::require(shape.channels == 1 || shape.channels == 3, "image grid: ", shape.channels,
                         " channels; expected 1 or 3");
    sgm::detail::require(pixels.size() >= count * shape.size(), "image grid: ", pixels.size(), " values for ", count,
                         " images of ", shape.size());
    columns = std::clamp<std::size_t>(columns, 1, std::max<std::size_t>(count, 1));
    const std::size_t rows = (count + columns - 1) / columns;
    const std::size_t tw = shape.width * zoom, th = shape.height * zoom;
    const std::size_t width = columns * (tw + gap) + gap, height = rows * (th + gap) + gap, c = shape.channels;
    std::vector<std::uint8_t> canvas(width * height * c, 40);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t x0 = gap + (i % columns) * (tw + gap), y0 = gap + (i / columns) * (th + gap);
        const float* img = pixels.data() + i * shape.size();
        for (std::size_t y = 0; y < th; ++y)
            for (std::size_t x = 0; x < tw; ++x)
                for (std::size_t ch = 0; ch < c; ++ch) {
                    const float v = img[ch * shape.height * shape.width + (y / zoom) * shape.width + x / zoom];
                    const float u = std::isfinite(v) ? std::clamp(v, 0.0f, 1.0f) : 0.0f;
                    canvas[((y0 + y) * width + x0 + x) * c + ch] = static_cast<std::uint8_t>(std::lround(u * 255));
                }
    }
    sgm::io::write_png(path, width, height, c, canvas);
}

}  // namespace cli
