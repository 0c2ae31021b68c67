#pragma once
// Writes 8-bit gray or RGB images as PNG, with zlib (a dependency already), so
// programs can save pictures without an image library. Written atomically.

#include <zlib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"
#include "atomic_file.hpp"

namespace sgm::io {

namespace detail {

inline void put_u32(std::vector<unsigned char>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<unsigned char>(v >> s));
}

// One chunk: length, type, data, CRC of type and data.
inline void put_chunk(std::vector<unsigned char>& out, const char (&type)[5], const std::vector<unsigned char>& data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const uLong crc = ::crc32(0L, out.data() + start, static_cast<uInt>(out.size() - start));
    put_u32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace detail

// pixels: height rows of width·channels bytes (channels 1 = gray, 3 = RGB).
inline void write_png(const std::filesystem::path& path, std::size_t width, std::size_t height, std::size_t channels,
                      std::span<const std::uint8_t> pixels) {
    sgm::detail::require(channels == 1 || channels == 3, "write_png: ", channels,
                         " channels; expected 1 (gray) or 3 (RGB)");
    sgm::detail::require(width >= 1 && height >= 1 && width <= (1u << 24) && height <= (1u << 24),
                         "write_png: image size ", width, "x", height, " is empty or too large");
    sgm::detail::require(pixels.size() == width * height * channels, "write_png: ", pixels.size(), " bytes for a ",
                         width, "x", height, "x", channels, " image; expected ", width * height * channels);
    // Each row is prefixed by filter type 0 (none).
    const std::size_t row = width * channels;
    std::vector<unsigned char> raw;
    raw.reserve(height * (row + 1));
    for (std::size_t y = 0; y < height; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), pixels.begin() + std::ptrdiff_t(y * row), pixels.begin() + std::ptrdiff_t((y + 1) * row));
    }
    uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
    std::vector<unsigned char> packed(packed_size);
    sgm::detail::require(compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 9) == Z_OK,
                         "write_png: zlib failed to compress ", raw.size(), " bytes");
    packed.resize(packed_size);

    std::vector<unsigned char> file{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::vector<unsigned char> header;
    detail::put_u32(header, static_cast<std::uint32_t>(width));
    detail::put_u32(header, static_cast<std::uint32_t>(height));
    header.insert(header.end(), {8, static_cast<unsigned char>(channels == 1 ? 0 : 2), 0, 0, 0});
    detail::put_chunk(file, "IHDR", header);
    detail::put_chunk(file, "IDAT", packed);
    detail::put_chunk(file, "IEND", {});
    atomic_file out(path);
    out.write(std::span<const std::byte>(reinterpret_cast<const std::byte*>(file.data()), file.size()));
    out.commit();
}

}  // namespace sgm::io
