#pragma once
// NumPy .npy files of float32 arrays (the format of numpy.save), to exchange
// samples and images with Python.
//
//   bytes 0–5  "\x93NUMPY"      6–7  version (major, minor)
//   then the header length (uint16 LE for version 1, uint32 LE for 2 and 3),
//   then a Python dict literal {'descr': '<f4', 'fortran_order': False,
//   'shape': (n, 1, 28, 28), } padded with spaces and ended by '\n' so that the
//   data starts at a multiple of 64 bytes, then the values, C order.
//
// write_npy writes version 1.0, little-endian '<f4'. read_npy accepts versions
// 1, 2 and 3 of that dtype in C order only, and checks that the file holds
// exactly the values its shape promises; anything else is an sgm::error that
// says what was found.

#include <bit>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"
#include "atomic_file.hpp"
#include "input_file.hpp"

namespace sgm::io {

static_assert(std::endian::native == std::endian::little, "npy: the reader and writer assume a little-endian host");

struct npy_array {
    std::vector<std::size_t> shape;
    std::vector<float> values;  // C order
};

namespace detail {

inline constexpr char npy_magic[] = "\x93NUMPY";

[[nodiscard]] inline std::string npy_header(std::span<const std::size_t> shape) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i) dict += std::to_string(shape[i]) + (i + 1 < shape.size() || i == 0 ? ", " : "");
    if (shape.size() == 1) dict.pop_back();  // "(n,)" rather than "(n, )"
    dict += "), }";
    const std::size_t unpadded = 10 + dict.size() + 1;  // magic, version, length, dict, '\n'
    dict.append((64 - unpadded % 64) % 64, ' ');
    dict += '\n';
    return dict;
}

// A tiny parser for the header dict: keys and values as numpy writes them.
class npy_dict_parser {
public:
    npy_dict_parser(std::string_view text, std::string source) : s_(text), src_(std::move(source)) {}

    void parse(std::string& descr, bool& fortran, std::vector<std::size_t>& shape) {
        bool have_descr = false, have_order = false, have_shape = false;
        expect('{');
        while (true) {
            skip();
            if (peek() == '}') break;
            const std::string key = quoted();
            expect(':');
            if (key == "descr") {
                descr = quoted();
                have_descr = true;
            } else if (key == "fortran_order") {
                skip();
                if (s_.substr(i_, 4) == "True") fortran = true, i_ += 4;
                else if (s_.substr(i_, 5) == "False") fortran = false, i_ += 5;
                else fail("fortran_order is not True or False");
                have_order = true;
            } else if (key == "shape") {
                shape = tuple();
                have_shape = true;
            } else {
                fail("unknown header key '" + key + "'");
            }
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != '}') fail("expected ',' or '}' after the value of '" + key + "'");
        }
        ++i_;
        skip();
        if (i_ != s_.size()) fail("text after the header dict");
        if (!have_descr || !have_order || !have_shape)
            fail("the header lacks one of 'descr', 'fortran_order', 'shape'");
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw error(src_ + ": malformed .npy header (" + what + " at character " + std::to_string(i_) + "): " +
                    std::string(s_));
    }
    void skip() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
    }
    [[nodiscard]] char peek() {
        skip();
        if (i_ >= s_.size()) fail("unexpected end");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    std::string quoted() {
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string");
        const std::size_t end = s_.find(q, i_ + 1);
        if (end == std::string_view::npos) fail("unterminated string");
        std::string out(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
        return out;
    }
    std::vector<std::size_t> tuple() {
        std::vector<std::size_t> out;
        expect('(');
        while (peek() != ')') {
            if (!std::isdigit(static_cast<unsigned char>(s_[i_]))) fail("expected a dimension");
            std::uint64_t v = 0;
            while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
                if (v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) fail("dimension too large");
                v = v * 10 + static_cast<std::uint64_t>(s_[i_++] - '0');
            }
            if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2's long suffix
            out.push_back(static_cast<std::size_t>(v));
            if (peek() == ',') ++i_;
            else if (peek() != ')') fail("expected ',' or ')' in the shape");
        }
        ++i_;
        return out;
    }

    std::string_view s_;
    std::string src_;
    std::size_t i_ = 0;
};

}  // namespace detail

// Writes values (C order) as a float32 array of `shape`, atomically.
inline void write_npy(const std::filesystem::path& path, std::span<const std::size_t> shape,
                      std::span<const float> values) {
    std::size_t count = 1;
    for (const std::size_t d : shape) {
        sgm::detail::require(d == 0 || count <= std::numeric_limits<std::size_t>::max() / d, "write_npy: shape of '",
                             path.string(), "' overflows the size type");
        count *= d;
    }
    sgm::detail::require(values.size() == count, "write_npy: ", values.size(), " values for a shape of ", count,
                         " ('", path.string(), "')");
    const std::string dict = detail::npy_header(shape);
    sgm::detail::require(dict.size() <= 65535, "write_npy: header of ", dict.size(), " bytes is too long for ",
                         "version 1.0");
    std::string head(detail::npy_magic, 6);
    head += '\x01';
    head += '\x00';
    head += static_cast<char>(dict.size() & 0xff);
    head += static_cast<char>(dict.size() >> 8);
    head += dict;
    const std::span<const std::byte> pieces[] = {std::as_bytes(std::span<const char>(head)), std::as_bytes(values)};
    write_file_atomically(path, pieces);
}
inline void write_npy(const std::filesystem::path& path, std::initializer_list<std::size_t> shape,
                      std::span<const float> values) {
    write_npy(path, std::span<const std::size_t>(shape.begin(), shape.size()), values);
}

// Parses a whole .npy file held in memory; `source` names it in messages.
[[nodiscard]] inline npy_array parse_npy(std::span<const std::byte> bytes, const std::string& source) {
    const auto fail = [&](const std::string& what) -> void { throw error(source + ": " + what); };
    if (bytes.size() < 10 || std::memcmp(bytes.data(), detail::npy_magic, 6) != 0) {
        fail("not a NumPy .npy file (it does not start with \\x93NUMPY)");
    }
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    const unsigned major = byte(6), minor = byte(7);
    if (major < 1 || major > 3 || minor != 0)
        fail("unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
             "; expected 1.0, 2.0 or 3.0");
    std::size_t header_len = 0, start = 0;
    if (major == 1) {
        header_len = byte(8) | (std::size_t{byte(9)} << 8);
        start = 10;
    } else {
        if (bytes.size() < 12) fail("the file ends inside its header");
        header_len = byte(8) | (std::size_t{byte(9)} << 8) | (std::size_t{byte(10)} << 16) |
                     (std::size_t{byte(11)} << 24);
        start = 12;
    }
    if (header_len > bytes.size() - start)
        fail("the header claims " + std::to_string(header_len) + " bytes but the file has " +
             std::to_string(bytes.size() - start) + " after the length field");
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + start, header_len);
    std::string descr;
    bool fortran = false;
    npy_array out;
    detail::npy_dict_parser(text, source).parse(descr, fortran, out.shape);
    if (descr != "<f4")
        fail("dtype '" + descr + "' is not supported; expected little-endian float32 '<f4' " +
             "(in Python: numpy.save(path, x.astype(numpy.float32)))");
    if (fortran) fail("the array is in Fortran order; expected C order (numpy.ascontiguousarray)");
    std::size_t count = 1;
    for (const std::size_t d : out.shape) {
        if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d / sizeof(float)) fail("the shape overflows");
        count *= d;
    }
    const std::size_t data_start = start + header_len, have = bytes.size() - data_start;
    if (have != count * sizeof(float))
        fail("the shape promises " + std::to_string(count) + " float32 values (" + std::to_string(count * 4) +
             " bytes) but the file holds " + std::to_string(have) + " bytes of data");
    out.values.resize(count);
    if (count > 0) std::memcpy(out.values.data(), bytes.data() + data_start, count * sizeof(float));
    return out;
}

[[nodiscard]] inline npy_array read_npy(const std::filesystem::path& path) {
    const input_file file(path);
    const auto bytes = file.read_all();
    return parse_npy(bytes, "'" + path.string() + "'");
}

}  // namespace sgm::io
