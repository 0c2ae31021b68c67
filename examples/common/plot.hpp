#pragma once
// 2-D plotting helpers for the examples: a data-to-pixel view, density heat maps
// with contour lines, and scatter plots, all drawn onto an examples::canvas.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "canvas.hpp"

namespace examples {

// Maps the data box [x_min, x_max] × [y_min, y_max] onto a width × height pixel
// rectangle whose top-left corner is (left, top); y grows upwards in data space.
struct view {
    double x_min, x_max, y_min, y_max;
    int left, top, width, height;

    [[nodiscard]] double px(double x) const { return left + (x - x_min) / (x_max - x_min) * width; }
    [[nodiscard]] double py(double y) const { return top + (y_max - y) / (y_max - y_min) * height; }
    // Data coordinates of the centre of pixel column i / row j of the rectangle.
    [[nodiscard]] double data_x(int i) const { return x_min + (i + 0.5) / width * (x_max - x_min); }
    [[nodiscard]] double data_y(int j) const { return y_max - (j + 0.5) / height * (y_max - y_min); }
    [[nodiscard]] bool contains(double x, double y) const {
        return x >= x_min && x <= x_max && y >= y_min && y <= y_max;
    }
};

// The centres of the view's pixels as (x, y) pairs, row after row: where to
// evaluate a density for heat_map.
inline std::vector<double> pixel_centres(const view& v) {
    std::vector<double> xy;
    xy.reserve(std::size_t(v.width) * std::size_t(v.height) * 2);
    for (int j = 0; j < v.height; ++j)
        for (int i = 0; i < v.width; ++i) {
            xy.push_back(v.data_x(i));
            xy.push_back(v.data_y(j));
        }
    return xy;
}

// Fills the view with colormap((log p − max log p) / range + 1), clipped to [0, 1]:
// a log-scale heat map that shows `range` nats of density below the peak.
inline void heat_map(canvas& c, const view& v, const std::vector<double>& log_density, double range,
                     const std::function<rgb(double)>& colormap) {
    const double top = *std::max_element(log_density.begin(), log_density.end());
    for (int j = 0; j < v.height; ++j)
        for (int i = 0; i < v.width; ++i) {
            const double lp = log_density[std::size_t(j) * std::size_t(v.width) + std::size_t(i)];
            c.set(v.left + i, v.top + j, colormap((lp - top) / range + 1));
        }
}

// Contour lines of log p every `spacing` nats below the peak, down to `range`.
inline void contours(canvas& c, const view& v, const std::vector<double>& log_density, double spacing,
                     double range, rgb colour, double alpha) {
    const double top = *std::max_element(log_density.begin(), log_density.end());
    const auto level = [&](int i, int j) {
        const double lp = log_density[std::size_t(j) * std::size_t(v.width) + std::size_t(i)];
        return lp < top - range ? -1 : int(std::floor((top - lp) / spacing));
    };
    for (int j = 0; j + 1 < v.height; ++j)
        for (int i = 0; i + 1 < v.width; ++i) {
            const int here = level(i, j);
            if (here != level(i + 1, j) || here != level(i, j + 1)) c.blend(v.left + i, v.top + j, colour, alpha);
        }
}

// Draws the points (x, y pairs) that fall inside the view; returns how many fell outside.
inline std::size_t scatter(canvas& c, const view& v, const std::vector<double>& xy, rgb colour, double radius,
                           double alpha) {
    std::size_t outside = 0;
    for (std::size_t k = 0; k + 1 < xy.size(); k += 2) {
        if (!v.contains(xy[k], xy[k + 1])) {
            ++outside;
            continue;
        }
        c.disc(v.px(xy[k]), v.py(xy[k + 1]), radius, colour, alpha);
    }
    return outside;
}

// Light grid lines and labels at multiples of `step` in data units.
inline void grid(canvas& c, const view& v, double step, rgb colour, rgb label) {
    for (double x = std::ceil(v.x_min / step) * step; x <= v.x_max; x += step) {
        const int p = int(std::lround(v.px(x)));
        for (int j = 0; j < v.height; ++j) c.blend(p, v.top + j, colour, 0.35);
        char text[32];
        std::snprintf(text, sizeof text, "%g", x);
        c.text(p + 3, v.top + v.height - 11, text, label);
    }
    for (double y = std::ceil(v.y_min / step) * step; y <= v.y_max; y += step) {
        const int p = int(std::lround(v.py(y)));
        for (int i = 0; i < v.width; ++i) c.blend(v.left + i, p, colour, 0.35);
        char text[32];
        std::snprintf(text, sizeof text, "%g", y);
        c.text(v.left + 3, p + 2, text, label);
    }
}

}  // namespace examples
