// IDX reader: every element type, plain and gzipped, in memory and on disk,
// and every malformed input rejected with a message naming the problem.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sgm/data/idx.hpp>
#include <sgm/error.hpp>

#include "io_test_support.hpp"

using Catch::Contains;
using sgm_test::bytes;
using sgm_test::to_bytes;
using sgm_test::u32_be;

namespace {

bytes idx_header(int type, std::initializer_list<std::uint32_t> dims) {
    bytes out = to_bytes({0, 0, type, static_cast<int>(dims.size())});
    for (const auto d : dims) out = sgm_test::concat({out, u32_be(d)});
    return out;
}

sgm::data::idx_array parse(const bytes& b) { return sgm::data::parse_idx(b); }

// 2 images of 2x3 pixels.
const bytes images_2x2x3 = sgm_test::concat({idx_header(0x08, {2, 2, 3}), to_bytes({0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255})});

}  // namespace

TEST_CASE("IDX u8 images parse from memory", "[io][idx]") {
    const auto a = parse(images_2x2x3);
    CHECK(a.type == sgm::data::idx_type::u8);
    CHECK(a.dims == std::vector<std::size_t>{2, 2, 3});
    REQUIRE(a.size() == 12);
    const auto& v = a.as<std::uint8_t>();
    CHECK(v[0] == 0);
    CHECK(v[5] == 5);
    CHECK(v[11] == 255);
    CHECK(a.to_double()[6] == 250.0);
    REQUIRE_THROWS_WITH(a.as<float>(), Contains("IDX data has type u8"));
}

TEST_CASE("IDX big-endian element types decode exactly", "[io][idx]") {
    using sgm::data::idx_type;
    const auto i8 = parse(sgm_test::concat({idx_header(0x09, {3}), to_bytes({0xff, 0x80, 0x7f})}));
    CHECK(i8.type == idx_type::i8);
    CHECK(i8.as<std::int8_t>() == std::vector<std::int8_t>{-1, -128, 127});

    const auto i16 = parse(sgm_test::concat({idx_header(0x0B, {2}), to_bytes({0x80, 0x00, 0x01, 0x02})}));
    CHECK(i16.as<std::int16_t>() == std::vector<std::int16_t>{-32768, 258});

    const auto i32 = parse(sgm_test::concat({idx_header(0x0C, {1, 2}), to_bytes({0xff, 0xff, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04})}));
    CHECK(i32.dims == std::vector<std::size_t>{1, 2});
    CHECK(i32.as<std::int32_t>() == std::vector<std::int32_t>{-2, 0x01020304});

    // 1.5f = 0x3fc00000, -2.25 = 0xc002000000000000
    const auto f32 = parse(sgm_test::concat({idx_header(0x0D, {1}), to_bytes({0x3f, 0xc0, 0, 0})}));
    CHECK(f32.as<float>() == std::vector<float>{1.5f});
    const auto f64 = parse(sgm_test::concat({idx_header(0x0E, {1}), to_bytes({0xc0, 0x02, 0, 0, 0, 0, 0, 0})}));
    CHECK(f64.as<double>() == std::vector<double>{-2.25});
    CHECK(f64.to_double() == std::vector<double>{-2.25});
    CHECK(i16.to_double() == std::vector<double>{-32768.0, 258.0});
}

TEST_CASE("IDX files on disk, plain and gzipped", "[io][idx]") {
    const sgm_test::scratch_dir dir;
    const bytes labels = sgm_test::concat({idx_header(0x08, {4}), to_bytes({7, 0, 200, 9})});
    sgm_test::write_file(dir / "images.idx", images_2x2x3);
    sgm_test::write_file(dir / "images.idx.gz", sgm_test::gzip(images_2x2x3));
    sgm_test::write_file(dir / "labels.idx.gz", sgm_test::gzip(labels));

    for (const char* name : {"images.idx", "images.idx.gz"}) {
        const auto img = sgm::data::load_idx_images(dir / name);
        CHECK(img.count == 2);
        CHECK(img.rows == 2);
        CHECK(img.cols == 3);
        CHECK(img.pixels == parse(images_2x2x3).as<std::uint8_t>());
    }
    // Labels are plain u8: values of 10 and more are kept, not rejected.
    CHECK(sgm::data::load_idx_labels(dir / "labels.idx.gz") == std::vector<std::uint8_t>{7, 0, 200, 9});

    REQUIRE_THROWS_WITH(sgm::data::load_idx_images(dir / "labels.idx.gz"),
                        Contains("labels.idx.gz") && Contains("images must have 3 dimensions (count, rows, cols), found 1"));
    REQUIRE_THROWS_WITH(sgm::data::load_idx_labels(dir / "images.idx"), Contains("labels must have 1 dimension, found 3"));
    sgm_test::write_file(dir / "wide.idx", sgm_test::concat({idx_header(0x0B, {1}), to_bytes({0, 1})}));
    REQUIRE_THROWS_WITH(sgm::data::load_idx_labels(dir / "wide.idx"), Contains("element type u8, found i16"));
    REQUIRE_THROWS_WITH(sgm::data::read_idx(dir / "missing.idx"), Contains("cannot open") && Contains("missing.idx"));
}

TEST_CASE("IDX gzip streams: several members, large data", "[io][idx]") {
    // gzip allows concatenated members; zcat reads them as one stream.
    const bytes head(images_2x2x3.begin(), images_2x2x3.begin() + 9);
    const bytes tail(images_2x2x3.begin() + 9, images_2x2x3.end());
    CHECK(parse(sgm_test::concat({sgm_test::gzip(head), sgm_test::gzip(tail)})).as<std::uint8_t>() ==
          parse(images_2x2x3).as<std::uint8_t>());

    // 3 MB of pixels: larger than one read chunk, so the buffer grows while inflating.
    const std::uint32_t count = 3000;
    bytes big = idx_header(0x08, {count, 32, 32});
    for (std::size_t i = 0; i < std::size_t{count} * 1024; ++i) big.push_back(static_cast<std::byte>((i * 7) % 251));
    const auto a = parse(sgm_test::gzip(big));
    REQUIRE(a.size() == std::size_t{count} * 1024);
    CHECK(a.as<std::uint8_t>()[123457] == (123457 * 7) % 251);
}

TEST_CASE("IDX rejects malformed headers", "[io][idx][errors]") {
    REQUIRE_THROWS_WITH(parse(to_bytes({0, 0, 8})), Contains("IDX file '<memory>'") && Contains("truncated: 3 bytes, shorter than the 4-byte magic"));
    REQUIRE_THROWS_WITH(parse(to_bytes({1, 0, 8, 1, 0, 0, 0, 1, 0})), Contains("bad magic number 0x01000801"));
    REQUIRE_THROWS_WITH(parse(to_bytes({0, 0, 0x0A, 1, 0, 0, 0, 1, 0})),
                        Contains("unknown element type code 0a") && Contains("expected 08 u8"));
    REQUIRE_THROWS_WITH(parse(to_bytes({0, 0, 8, 0})), Contains("has 0 dimensions"));
    REQUIRE_THROWS_WITH(parse(idx_header(0x08, {3, 0, 2})), Contains("dimension 1 has size 0"));
    REQUIRE_THROWS_WITH(parse(sgm_test::concat({to_bytes({0, 0, 8, 3}), u32_be(5)})),
                        Contains("declares 3 dimensions (12 bytes) but only 4 bytes follow"));
    // A product that overflows 64 bits, and one merely absurd.
    REQUIRE_THROWS_WITH(parse(idx_header(0x08, {0xffffffff, 0xffffffff, 0xffffffff})),
                        Contains("dimensions 4294967295x4294967295x... of u8 exceed the 17179869184-byte limit"));
    REQUIRE_THROWS_WITH(parse(idx_header(0x0C, {0x80000000, 4})), Contains("exceed the 17179869184-byte limit"));
}

TEST_CASE("IDX rejects truncated and trailing data", "[io][idx][errors]") {
    const bytes cut(images_2x2x3.begin(), images_2x2x3.end() - 7);
    REQUIRE_THROWS_WITH(parse(cut), Contains("truncated: the data (2x2x3 u8 values) needs 12 bytes, but only 5 bytes follow the header"));
    REQUIRE_THROWS_WITH(parse(sgm_test::concat({images_2x2x3, to_bytes({1, 2})})),
                        Contains("trailing data: 2 bytes after the 12 bytes of data (2x2x3 u8 values)"));
    // A header claiming 8 GiB over 10 bytes of data fails before allocating anything.
    REQUIRE_THROWS_WITH(parse(sgm_test::concat({idx_header(0x08, {0x80000000, 4}), bytes(10)})),
                        Contains("needs 8589934592 bytes, but only 10 bytes follow"));
    // Every truncation of a valid file is rejected, plain or gzipped.
    for (std::size_t n = 0; n < images_2x2x3.size(); ++n) {
        const bytes part(images_2x2x3.begin(), images_2x2x3.begin() + static_cast<std::ptrdiff_t>(n));
        REQUIRE_THROWS_AS(parse(part), sgm::error);
    }
    const bytes gz = sgm_test::gzip(images_2x2x3);
    for (std::size_t n = 0; n < gz.size(); ++n) {
        const bytes part(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(n));
        REQUIRE_THROWS_AS(parse(part), sgm::error);
    }
}

TEST_CASE("IDX rejects corrupt gzip", "[io][idx][errors]") {
    const bytes gz = sgm_test::gzip(images_2x2x3);
    // The trailer (CRC-32, length) cut off: all the data is there, the stream is not.
    REQUIRE_THROWS_WITH(parse(bytes(gz.begin(), gz.end() - 8)), Contains("gzip stream is truncated"));
    bytes bad_crc = gz;
    bad_crc[gz.size() - 8] ^= std::byte{0x01};
    REQUIRE_THROWS_WITH(parse(bad_crc), Contains("gzip data is corrupt: incorrect data check"));
    bytes bad_method = gz;
    bad_method[2] = std::byte{7};  // compression method must be 8 (deflate)
    REQUIRE_THROWS_WITH(parse(bad_method), Contains("gzip data is corrupt"));
    REQUIRE_THROWS_WITH(parse(sgm_test::concat({gz, to_bytes({0, 0, 0})})),
                        Contains("3 trailing bytes after the gzip stream"));
    // A complete gzip stream whose content is a truncated or overlong IDX file.
    REQUIRE_THROWS_WITH(parse(sgm_test::gzip(bytes(images_2x2x3.begin(), images_2x2x3.end() - 7))),
                        Contains("truncated: the data (2x2x3 u8 values) needs 12 bytes, but only 5 are present"));
    REQUIRE_THROWS_WITH(parse(sgm_test::gzip(sgm_test::concat({images_2x2x3, to_bytes({9})}))),
                        Contains("trailing data: more bytes after the 12 bytes of data"));
    // Every single-byte corruption is either caught or harmless, never a crash.
    for (std::size_t i = 0; i < gz.size(); ++i) {
        bytes b = gz;
        b[i] ^= std::byte{0x5a};
        try {
            (void)parse(b);
        } catch (const sgm::error&) {
        }
    }
    // A gzipped header claiming 8 GiB over a few bytes: memory grows only with real data.
    REQUIRE_THROWS_WITH(parse(sgm_test::gzip(sgm_test::concat({idx_header(0x08, {0x80000000, 4}), bytes(10)}))),
                        Contains("needs 8589934592 bytes, but only 10 are present"));
}
