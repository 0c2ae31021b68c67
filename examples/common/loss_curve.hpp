#pragma once
// The training loss curve: reads the trainer's CSV log (step, loss, ...) and
// draws the loss against the step on a log scale, as a PNG.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "canvas.hpp"

namespace examples {

namespace loss_curve_detail {
template <class... T>
std::string format(const char* fmt, T... values) {
    char text[256];
    std::snprintf(text, sizeof text, fmt, values...);
    return text;
}
}  // namespace loss_curve_detail

inline const rgb ink{30, 30, 30}, grey{110, 110, 110}, light{225, 225, 225};

// A line of discs from (x0, y0) to (x1, y1) in pixels.
inline void line(canvas& c, double x0, double y0, double x1, double y1, rgb colour, double width) {
    const int pieces = std::max(1, int(std::ceil(std::hypot(x1 - x0, y1 - y0) * 2)));
    for (int k = 0; k <= pieces; ++k) {
        const double f = double(k) / pieces;
        c.disc(x0 + f * (x1 - x0), y0 + f * (y1 - y0), width / 2, colour, 0.8);
    }
}

// The loss against the step, log scale on y, with grid lines at 1, 2 and 5 × 10^k.
inline bool draw_loss_curve(const std::vector<double>& steps, const std::vector<double>& losses,
                     const std::filesystem::path& path, const std::string& title) {
    constexpr int width = 720, height = 420, left = 70, top = 50, plot_w = 620, plot_h = 310;
    canvas c(width, height);
    c.text(left, 14, title, ink, 2);
    if (steps.empty()) return c.write_png(path.string());
    const auto [min_loss, max_loss] = std::minmax_element(losses.begin(), losses.end());
    const double lo = *min_loss / 1.15, hi = *max_loss * 1.15;
    const double x_max = std::max(1.0, steps.back());
    const auto px = [&](double s) { return left + s / x_max * plot_w; };
    const auto py = [&](double l) { return top + (std::log10(hi) - std::log10(l)) / std::log10(hi / lo) * plot_h; };
    // Grid lines at m·10^k (m = 1..9); labels on all of them within one decade, else on 1, 2, 5.
    const bool narrow = hi / lo < 12;
    for (double decade = std::pow(10.0, std::floor(std::log10(lo))); decade <= hi; decade *= 10)
        for (int m = 1; m <= 9; ++m) {
            const double v = decade * m;
            if (v < lo || v > hi) continue;
            const int y = int(std::lround(py(v)));
            c.fill_rect(left, y, plot_w, 1, m == 1 ? rgb{200, 200, 200} : light);
            if (narrow || m == 1 || m == 2 || m == 5)
                c.text(left - 8 - canvas::text_width(loss_curve_detail::format("%g", v)), y - 3, loss_curve_detail::format("%g", v), grey);
        }
    for (int k = 0; k <= 5; ++k) {
        const double s = x_max * k / 5;
        c.fill_rect(int(std::lround(px(s))), top, 1, plot_h, light);
        const std::string label = x_max >= 5000 ? loss_curve_detail::format("%gk", s / 1000) : loss_curve_detail::format("%.0f", s);
        c.text(int(std::lround(px(s))) - 8, top + plot_h + 8, label, grey);
    }
    c.text(left + plot_w / 2 - 12, top + plot_h + 26, "step", ink);
    c.text(8, top - 18, "loss (mean of each log interval)", ink);
    for (std::size_t i = 1; i < steps.size(); ++i)
        line(c, px(steps[i - 1]), py(losses[i - 1]), px(steps[i]), py(losses[i]), {40, 90, 160}, 1.6);
    c.frame(left - 1, top - 1, plot_w + 2, plot_h + 2, {90, 90, 90});
    return c.write_png(path.string());
}

// (step, loss) columns of the trainer's log.
inline void read_loss_log(const std::filesystem::path& path, std::vector<double>& steps, std::vector<double>& losses) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream row(line);
        double step = 0, loss = 0;
        char comma = 0;
        if (row >> step >> comma >> loss && loss > 0) {
            steps.push_back(step);
            losses.push_back(loss);
        }
    }
}

}  // namespace examples
