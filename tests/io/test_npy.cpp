// NumPy .npy files: round trips, the exact header numpy expects, files numpy
// itself writes (versions 1 and 2), and malformed files rejected with messages.

#include <catch2/catch.hpp>

#include <sgm/io/npy.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "io_test_support.hpp"

namespace {

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::filesystem::path& p, const std::string& s) {
    std::ofstream out(p, std::ios::binary);
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

// A version-1 file with the given header dict (padded as numpy pads) and data bytes.
std::string npy_file(const std::string& dict, const std::string& data, char major = 1) {
    std::string header = dict;
    const std::size_t fixed = major == 1 ? 10 : 12;
    while ((fixed + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out("\x93NUMPY", 6);
    out += major;
    out += '\0';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    if (major != 1) out += std::string(2, '\0');
    return out + header + data;
}

std::string float_bytes(const std::vector<float>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

}  // namespace

TEST_CASE("npy: a round trip keeps shape and values exactly", "[io][npy]") {
    sgm_test::scratch_dir dir;
    std::vector<float> values(2 * 1 * 3 * 4);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::sin(float(i)) * 1e3f;
    values[5] = -0.0f;
    values[7] = 1e-40f;  // subnormal
    sgm::io::write_npy(dir / "a.npy", {2, 1, 3, 4}, values);
    const auto a = sgm::io::read_npy(dir / "a.npy");
    CHECK(a.shape == std::vector<std::size_t>{2, 1, 3, 4});
    REQUIRE(a.values.size() == values.size());
    CHECK(std::memcmp(a.values.data(), values.data(), values.size() * sizeof(float)) == 0);

    SECTION("one dimension, and an empty array") {
        sgm::io::write_npy(dir / "b.npy", {3}, std::vector<float>{1, 2, 3});
        const auto b = sgm::io::read_npy(dir / "b.npy");
        CHECK(b.shape == std::vector<std::size_t>{3});
        CHECK(b.values == std::vector<float>{1, 2, 3});
        sgm::io::write_npy(dir / "c.npy", {0, 784}, std::vector<float>{});
        const auto c = sgm::io::read_npy(dir / "c.npy");
        CHECK(c.shape == std::vector<std::size_t>{0, 784});
        CHECK(c.values.empty());
    }
}

TEST_CASE("npy: the header is numpy's version 1.0 layout, padded to 64 bytes", "[io][npy]") {
    sgm_test::scratch_dir dir;
    sgm::io::write_npy(dir / "a.npy", {5, 1, 28, 28}, std::vector<float>(5 * 784, 0.5f));
    const std::string text = read_text(dir / "a.npy");
    REQUIRE(text.size() > 10);
    CHECK(text.substr(0, 6) == std::string("\x93NUMPY", 6));
    CHECK(text[6] == 1);
    CHECK(text[7] == 0);
    const std::size_t header_len = std::size_t(std::uint8_t(text[8])) | (std::size_t(std::uint8_t(text[9])) << 8);
    CHECK((10 + header_len) % 64 == 0);
    CHECK(text.size() == 10 + header_len + 5 * 784 * 4);
    const std::string header = text.substr(10, header_len);
    CHECK(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 1, 28, 28), }"));
    CHECK(header.back() == '\n');
    sgm::io::write_npy(dir / "b.npy", {7}, std::vector<float>(7));
    CHECK(read_text(dir / "b.npy").find("'shape': (7,), }") != std::string::npos);
}

TEST_CASE("npy: files as numpy writes them are read, versions 1 and 2", "[io][npy]") {
    sgm_test::scratch_dir dir;
    const std::vector<float> v{0.25f, -1, 3};
    // numpy.save's exact dict for a (3,) float32 array, and a hand-ordered variant.
    write_text(dir / "a.npy", npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", float_bytes(v)));
    CHECK(sgm::io::read_npy(dir / "a.npy").values == v);
    write_text(dir / "b.npy", npy_file("{\"shape\": (1, 3), \"fortran_order\": False, \"descr\": \"<f4\"}",
                                       float_bytes(v), 2));
    const auto b = sgm::io::read_npy(dir / "b.npy");
    CHECK(b.shape == std::vector<std::size_t>{1, 3});
    CHECK(b.values == v);
}

TEST_CASE("npy: malformed and unsupported files are rejected with a message", "[io][npy]") {
    sgm_test::scratch_dir dir;
    const std::string data = float_bytes({1, 2, 3, 4});
    const auto rejects = [&](const std::string& file, const std::string& message) {
        write_text(dir / "bad.npy", file);
        REQUIRE_THROWS_WITH(sgm::io::read_npy(dir / "bad.npy"), Catch::Contains(message));
    };
    const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    rejects("PK\x03\x04 not numpy at all", "not a NumPy .npy file");
    rejects("", "not a NumPy .npy file");
    rejects(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data), "dtype '<f8'");
    rejects(npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", data), "expected little-endian");
    rejects(npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (16,), }", data), "float32");
    rejects(npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data), "Fortran order");
    rejects(npy_file(good_dict, data.substr(0, 12)), "promises 4 float32 values (16 bytes) but the file holds 12");
    rejects(npy_file(good_dict, data + "xxxx"), "holds 20 bytes");
    rejects(npy_file("{'descr': '<f4', 'fortran_order': False}", data), "lacks one of");
    rejects(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", data), "expected a dimension");
    rejects(npy_file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (4,), }", data), "True or False");
    rejects(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}", data), "unknown header key");
    rejects(npy_file("{'descr': '<f4 , 'fortran_order': False, 'shape': (4,), }", data), "malformed .npy header");
    rejects(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", data),
            "dimension too large");
    std::string version = npy_file(good_dict, data);
    version[6] = 4;
    rejects(version, "unsupported .npy version 4.0");
    std::string long_header = npy_file(good_dict, data);
    long_header[9] = '\x7f';  // header length beyond the end of the file
    rejects(long_header, "the header claims");
    REQUIRE_THROWS_WITH(sgm::io::read_npy(dir / "missing.npy"), Catch::Contains("cannot open"));
    REQUIRE_THROWS_WITH(sgm::io::write_npy(dir / "x.npy", {2, 3}, std::vector<float>(5)),
                        Catch::Contains("5 values for a shape of 6"));
}
