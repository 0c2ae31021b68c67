// The PNG writer: signature, header fields, chunk CRCs and the pixel rows read back
// through zlib; bad arguments are errors.

#include <catch2/catch.hpp>

#include <zlib.h>

#include <sgm/error.hpp>
#include <sgm/io/png.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::uint32_t be32(const unsigned char* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
}

struct chunk {
    std::string type;
    std::vector<unsigned char> data;
};

// Parses a PNG file into its chunks, checking the signature and every CRC.
std::vector<chunk> read_chunks(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::vector<unsigned char> signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    REQUIRE(bytes.size() > 8);
    REQUIRE(std::vector<unsigned char>(bytes.begin(), bytes.begin() + 8) == signature);
    std::vector<chunk> chunks;
    std::size_t at = 8;
    while (at < bytes.size()) {
        REQUIRE(at + 12 <= bytes.size());
        const std::uint32_t length = be32(&bytes[at]);
        REQUIRE(at + 12 + length <= bytes.size());
        const uLong crc = ::crc32(0L, &bytes[at + 4], uInt(4 + length));
        CHECK(be32(&bytes[at + 8 + length]) == std::uint32_t(crc));
        chunks.push_back({std::string(bytes.begin() + std::ptrdiff_t(at + 4), bytes.begin() + std::ptrdiff_t(at + 8)),
                          std::vector<unsigned char>(bytes.begin() + std::ptrdiff_t(at + 8),
                                                     bytes.begin() + std::ptrdiff_t(at + 8 + length))});
        at += 12 + length;
    }
    return chunks;
}

std::filesystem::path temp_png(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "sgm_png_test";
    std::filesystem::create_directories(dir);
    return dir / name;
}

}  // namespace

TEST_CASE("write_png: gray and RGB images read back exactly", "[io][png]") {
    for (const std::size_t channels : {1u, 3u}) {
        const std::size_t w = 5, h = 3;
        std::vector<std::uint8_t> pixels(w * h * channels);
        for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::uint8_t((i * 53 + 7) % 256);
        const auto path = temp_png("image" + std::to_string(channels) + ".png");
        sgm::io::write_png(path, w, h, channels, pixels);

        const auto chunks = read_chunks(path);
        REQUIRE(chunks.size() == 3);
        CHECK(chunks[0].type == "IHDR");
        CHECK(chunks[1].type == "IDAT");
        CHECK(chunks[2].type == "IEND");
        CHECK(chunks[2].data.empty());
        const auto& ihdr = chunks[0].data;
        REQUIRE(ihdr.size() == 13);
        CHECK(be32(&ihdr[0]) == w);
        CHECK(be32(&ihdr[4]) == h);
        CHECK(int(ihdr[8]) == 8);                         // bit depth
        CHECK(int(ihdr[9]) == (channels == 1 ? 0 : 2));   // gray or truecolor
        CHECK((ihdr[10] | ihdr[11] | ihdr[12]) == 0);    // deflate, filter 0, no interlace

        std::vector<unsigned char> raw(h * (1 + w * channels));
        uLongf size = raw.size();
        REQUIRE(uncompress(raw.data(), &size, chunks[1].data.data(), uLong(chunks[1].data.size())) == Z_OK);
        REQUIRE(size == raw.size());
        for (std::size_t y = 0; y < h; ++y) {
            CHECK(int(raw[y * (1 + w * channels)]) == 0);  // filter type none
            for (std::size_t i = 0; i < w * channels; ++i)
                CHECK(raw[y * (1 + w * channels) + 1 + i] == pixels[y * w * channels + i]);
        }
    }
}

TEST_CASE("write_png: bad arguments are errors naming the problem", "[io][png]") {
    using Catch::Matchers::Contains;
    const std::vector<std::uint8_t> six(6, 0);
    const auto path = temp_png("bad.png");
    CHECK_THROWS_WITH(sgm::io::write_png(path, 3, 1, 2, six), Contains("2 channels"));
    CHECK_THROWS_WITH(sgm::io::write_png(path, 0, 1, 1, six), Contains("empty or too large"));
    CHECK_THROWS_WITH(sgm::io::write_png(path, 2, 2, 1, six), Contains("6 bytes for a 2x2x1 image; expected 4"));
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_THROWS_AS(sgm::io::write_png(temp_png("no_such_dir") / "x.png", 3, 2, 1, six), sgm::error);
}
