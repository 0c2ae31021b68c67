#pragma once
// Heat maps of values given on a coarse grid (one value per cell, drawn as a
// block of pixels) on a fixed colour scale, with a labelled colour bar: for
// pictures that compare several fields on one scale. Not part of the library.

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "canvas.hpp"
#include "plot.hpp"

namespace examples {

// White to a deep red: for non-negative quantities such as errors.
inline rgb white_to_red(double v) {
    v = std::clamp(v, 0.0, 1.0);
    return v < 0.5 ? mix(rgb{255, 255, 255}, rgb{240, 140, 60}, 2 * v) : mix(rgb{240, 140, 60}, rgb{150, 10, 20}, 2 * v - 1);
}

// Fills the view with `columns × rows` cells (values row after row, top row first,
// as examples::pixel_centres orders them), each coloured colormap((value − low) /
// (high − low)), clipped to [0, 1]. The view's size should be a multiple of the grid's.
inline void cell_heat_map(canvas& c, const view& v, const std::vector<double>& values, int columns, int rows,
                          double low, double high, const std::function<rgb(double)>& colormap) {
    const double span = high > low ? high - low : 1.0;
    for (int j = 0; j < v.height; ++j)
        for (int i = 0; i < v.width; ++i) {
            const int ci = std::min(columns - 1, i * columns / v.width);
            const int cj = std::min(rows - 1, j * rows / v.height);
            const double value = values[std::size_t(cj) * std::size_t(columns) + std::size_t(ci)];
            c.set(v.left + i, v.top + j, colormap((value - low) / span));
        }
}

// A horizontal colour bar at (left, top), `width` × `height` pixels, with the
// scale's ends and middle written below it (printf format `format`, e.g. "%.1f").
inline void color_bar(canvas& c, int left, int top, int width, int height, double low, double high,
                      const std::function<rgb(double)>& colormap, const char* format, rgb ink) {
    for (int i = 0; i < width; ++i) {
        const rgb colour = colormap((i + 0.5) / width);
        for (int j = 0; j < height; ++j) c.set(left + i, top + j, colour);
    }
    c.frame(left - 1, top - 1, width + 2, height + 2, {60, 60, 60});
    const double marks[3] = {low, 0.5 * (low + high), high};
    for (int m = 0; m < 3; ++m) {
        char text[48];
        std::snprintf(text, sizeof text, format, marks[m]);
        const int w = canvas::text_width(text);
        const int x = left + m * width / 2 - (m == 0 ? 0 : (m == 1 ? w / 2 : w));
        c.text(x, top + height + 4, text, ink);
    }
}

}  // namespace examples
