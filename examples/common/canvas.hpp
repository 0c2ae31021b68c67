#pragma once
// A tiny RGB canvas for the examples' pictures: pixels, alpha blending, discs,
// rectangles, text (stb_easy_font) and PNG output (stb_image_write). Not part of
// the library.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#if SGM_EXAMPLES_HAVE_STB
// Static linkage keeps the implementation private to each program's one source file.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>
#endif

namespace examples {

struct rgb {
    std::uint8_t r = 0, g = 0, b = 0;
};

inline rgb mix(rgb a, rgb b, double w) {  // (1 − w)·a + w·b
    const auto f = [w](std::uint8_t x, std::uint8_t y) {
        return static_cast<std::uint8_t>(std::lround((1 - w) * x + w * y));
    };
    return {f(a.r, b.r), f(a.g, b.g), f(a.b, b.b)};
}

class canvas {
public:
    canvas(int width, int height, rgb background = {255, 255, 255})
        : width_(width), height_(height), pixels_(std::size_t(width) * std::size_t(height), background) {}

    [[nodiscard]] int width() const { return width_; }
    [[nodiscard]] int height() const { return height_; }
    [[nodiscard]] bool inside(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }

    [[nodiscard]] rgb get(int x, int y) const { return pixels_[index(x, y)]; }
    void set(int x, int y, rgb c) {
        if (inside(x, y)) pixels_[index(x, y)] = c;
    }
    void blend(int x, int y, rgb c, double alpha) {
        if (inside(x, y)) pixels_[index(x, y)] = mix(pixels_[index(x, y)], c, alpha);
    }

    void fill_rect(int x0, int y0, int w, int h, rgb c) {
        for (int y = std::max(0, y0); y < std::min(height_, y0 + h); ++y)
            for (int x = std::max(0, x0); x < std::min(width_, x0 + w); ++x) pixels_[index(x, y)] = c;
    }
    void frame(int x0, int y0, int w, int h, rgb c) {
        fill_rect(x0, y0, w, 1, c);
        fill_rect(x0, y0 + h - 1, w, 1, c);
        fill_rect(x0, y0, 1, h, c);
        fill_rect(x0 + w - 1, y0, 1, h, c);
    }

    // An anti-aliased disc centred at (cx, cy) in pixel units, blended with `alpha`.
    void disc(double cx, double cy, double radius, rgb c, double alpha) {
        const int x0 = int(std::floor(cx - radius - 1)), x1 = int(std::ceil(cx + radius + 1));
        const int y0 = int(std::floor(cy - radius - 1)), y1 = int(std::ceil(cy + radius + 1));
        for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x) {
                const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
                const double cover = std::clamp(radius + 0.5 - d, 0.0, 1.0);
                if (cover > 0) blend(x, y, c, alpha * cover);
            }
    }

    // Copies another canvas with its top-left corner at (x0, y0).
    void paste(const canvas& other, int x0, int y0) {
        for (int y = 0; y < other.height(); ++y)
            for (int x = 0; x < other.width(); ++x) set(x0 + x, y0 + y, other.get(x, y));
    }

    // Text with its top-left corner at (x, y); `scale` enlarges the 7-pixel font.
    void text(int x, int y, const std::string& s, rgb c, int scale = 1) {
#if SGM_EXAMPLES_HAVE_STB
        // 64 bytes per quad, at most 11 quads per glyph ('X'); a smaller buffer drops glyphs.
        std::vector<char> buffer(s.size() * 11 * 64 + 64);
        std::string copy = s;
        const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, buffer.data(), int(buffer.size()));
        struct vertex {
            float x, y, z;
            unsigned char color[4];
        };
        const auto* v = reinterpret_cast<const vertex*>(buffer.data());
        for (int q = 0; q < quads; ++q) {
            const vertex& a = v[4 * q];
            const vertex& b = v[4 * q + 2];  // the opposite corner
            fill_rect(x + int(std::lround(a.x * scale)), y + int(std::lround(a.y * scale)),
                      int(std::lround((b.x - a.x) * scale)), int(std::lround((b.y - a.y) * scale)), c);
        }
#else
        (void)x, (void)y, (void)s, (void)c, (void)scale;
#endif
    }
    [[nodiscard]] static int text_width(const std::string& s, int scale = 1) {
#if SGM_EXAMPLES_HAVE_STB
        std::string copy = s;
        return stb_easy_font_width(copy.data()) * scale;
#else
        return int(s.size()) * 6 * scale;
#endif
    }

    // Writes a PNG; false when it cannot (no stb at build time, or an I/O error).
    [[nodiscard]] bool write_png(const std::string& path) const {
#if SGM_EXAMPLES_HAVE_STB
        static_assert(sizeof(rgb) == 3, "rgb must be packed for stb_image_write");
        return stbi_write_png(path.c_str(), width_, height_, 3, pixels_.data(), width_ * 3) != 0;
#else
        (void)path;
        return false;
#endif
    }

private:
    [[nodiscard]] std::size_t index(int x, int y) const { return std::size_t(y) * std::size_t(width_) + std::size_t(x); }

    int width_, height_;
    std::vector<rgb> pixels_;
};

}  // namespace examples
