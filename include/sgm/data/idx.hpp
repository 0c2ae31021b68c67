#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST, plain or gzipped:
//
//   bytes 0-1   zero
//   byte  2     element type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//   byte  3     number of dimensions (>= 1)
//   then        one big-endian u32 per dimension (each >= 1)
//   then        the elements, big-endian, C order; nothing after them
//
// Elements keep their type (idx_array::values holds a vector of it);
// to_double() converts any type. Every malformed input throws sgm::error
// naming the source and the problem; see docs/file_formats.md.

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "../error.hpp"
#include "../io/input_file.hpp"

namespace sgm::data {

enum class idx_type : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

[[nodiscard]] constexpr std::string_view idx_type_name(idx_type t) {
    switch (t) {
        case idx_type::u8: return "u8";
        case idx_type::i8: return "i8";
        case idx_type::i16: return "i16";
        case idx_type::i32: return "i32";
        case idx_type::f32: return "f32";
        case idx_type::f64: return "f64";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::size_t idx_type_size(idx_type t) {
    switch (t) {
        case idx_type::u8: case idx_type::i8: return 1;
        case idx_type::i16: return 2;
        case idx_type::i32: case idx_type::f32: return 4;
        case idx_type::f64: return 8;
    }
    return 0;
}

// Data sections above this size are rejected as corrupt (MNIST's is 47 MB).
inline constexpr std::uint64_t idx_max_data_bytes = std::uint64_t{1} << 34;  // 16 GiB

struct idx_array {
    using storage = std::variant<std::vector<std::uint8_t>, std::vector<std::int8_t>, std::vector<std::int16_t>,
                                 std::vector<std::int32_t>, std::vector<float>, std::vector<double>>;

    idx_type type = idx_type::u8;
    std::vector<std::size_t> dims;
    storage values;

    // Number of elements (product of dims).
    [[nodiscard]] std::size_t size() const {
        return std::visit([](const auto& v) { return v.size(); }, values);
    }

    // The elements as their own type; T must match `type`.
    template <class T>
    [[nodiscard]] const std::vector<T>& as() const {
        const auto* v = std::get_if<std::vector<T>>(&values);
        if (v == nullptr)
            throw error(sgm::detail::concat("IDX data has type ", idx_type_name(type), ", not the one requested"));
        return *v;
    }

    // The elements converted to double (exact for every IDX type).
    [[nodiscard]] std::vector<double> to_double() const {
        return std::visit([](const auto& v) { return std::vector<double>(v.begin(), v.end()); }, values);
    }
};

namespace detail {

using sgm::detail::concat;
using sgm::detail::require;

[[nodiscard]] inline std::string idx_source(std::string_view name) { return concat("IDX file '", name, "'"); }

// Where the bytes come from: a plain buffer, or a gzip stream inflated on demand
// (so memory grows only with data actually present, never with a claimed size).
class idx_byte_source {
public:
    idx_byte_source(std::span<const std::byte> input, std::string source)
        : input_(input), source_(std::move(source)) {
        gzip_ = input.size() >= 2 && input[0] == std::byte{0x1f} && input[1] == std::byte{0x8b};
        if (!gzip_) return;
        // 15 + 16: a gzip wrapper with the largest window; zlib checks CRC and length.
        if (inflateInit2(&z_, 15 + 16) != Z_OK) throw error(concat(source_, ": cannot initialize zlib"));
        z_open_ = true;
        set_input();
    }
    idx_byte_source(const idx_byte_source&) = delete;
    idx_byte_source& operator=(const idx_byte_source&) = delete;
    ~idx_byte_source() {
        if (z_open_) inflateEnd(&z_);
    }

    [[nodiscard]] bool gzipped() const { return gzip_; }
    [[nodiscard]] const std::string& source() const { return source_; }

    // Copies up to out.size() bytes; returns how many (fewer only at the end of the data).
    std::size_t read(std::span<std::byte> out) {
        if (!gzip_) {
            const std::size_t n = std::min(out.size(), input_.size() - pos_);
            if (n > 0) std::memcpy(out.data(), input_.data() + pos_, n);
            pos_ += n;
            return n;
        }
        std::size_t done = 0;
        while (done < out.size() && !ended_) {
            const std::size_t chunk = std::min<std::size_t>(out.size() - done, UINT_MAX);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + done);
            z_.avail_out = static_cast<uInt>(chunk);
            const int rc = inflate(&z_, Z_NO_FLUSH);
            done += chunk - z_.avail_out;
            if (rc == Z_STREAM_END) {
                next_member();
            } else if ((rc == Z_OK || rc == Z_BUF_ERROR) && z_.avail_in == 0 && z_.avail_out > 0) {
                // zlib wants more input.
                if (pos_ == input_.size())
                    throw error(concat(source_, ": gzip stream is truncated (it ends before its end marker)"));
                set_input();
            } else if (rc != Z_OK) {
                throw error(concat(source_, ": gzip data is corrupt: ",
                                   z_.msg != nullptr ? std::string(z_.msg) : concat("zlib error ", rc)));
            }
        }
        return done;
    }

    // Bytes left in a plain buffer (unknown for gzip).
    [[nodiscard]] std::size_t plain_remaining() const { return input_.size() - pos_; }

private:
    // Feeds zlib the next piece of input (avail_in is 32-bit).
    void set_input() {
        const std::size_t n = std::min<std::size_t>(input_.size() - pos_, UINT_MAX);
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input_.data() + pos_));
        z_.avail_in = static_cast<uInt>(n);
        pos_ += n;
    }

    // After a gzip member: another member may follow (as gzip allows); anything else is an error.
    void next_member() {
        const std::size_t left = z_.avail_in + (input_.size() - pos_);
        if (left == 0) {
            ended_ = true;
            return;
        }
        const auto* next = reinterpret_cast<const std::byte*>(z_.next_in);
        if (left < 2 || next[0] != std::byte{0x1f} || next[1] != std::byte{0x8b})
            throw error(concat(source_, ": ", left, " trailing bytes after the gzip stream"));
        inflateReset(&z_);
    }

    std::span<const std::byte> input_;
    std::string source_;
    std::size_t pos_ = 0;  // input consumed (handed to zlib, for gzip)
    bool gzip_ = false;
    bool ended_ = false;
    bool z_open_ = false;
    z_stream z_{};
};

template <class T>
[[nodiscard]] T load_big_endian(const std::uint8_t* p) {
    using U = std::conditional_t<sizeof(T) == 1, std::uint8_t,
              std::conditional_t<sizeof(T) == 2, std::uint16_t,
              std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | p[i]);
    return std::bit_cast<T>(u);
}

template <class T>
[[nodiscard]] std::vector<T> decode_big_endian(const std::vector<std::uint8_t>& raw) {
    std::vector<T> out(raw.size() / sizeof(T));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = load_big_endian<T>(raw.data() + i * sizeof(T));
    return out;
}

// Reads exactly n bytes, growing the buffer only as data arrives.
[[nodiscard]] inline std::vector<std::uint8_t> read_data(idx_byte_source& in, std::uint64_t n,
                                                         std::string_view what) {
    if (!in.gzipped())
        require(in.plain_remaining() >= n, in.source(), ": truncated: the data (", what, ") needs ", n,
                " bytes, but only ", in.plain_remaining(), " bytes follow the header");
    std::vector<std::uint8_t> out;
    if (!in.gzipped()) out.reserve(static_cast<std::size_t>(n));
    while (out.size() < n) {
        const std::size_t old = out.size();
        const std::size_t grow = static_cast<std::size_t>(std::min<std::uint64_t>(n - old, std::max<std::size_t>(old, 1 << 20)));
        out.resize(old + grow);
        const std::size_t got = in.read(std::as_writable_bytes(std::span(out)).subspan(old, grow));
        if (got < grow)
            throw error(concat(in.source(), ": truncated: the data (", what, ") needs ", n, " bytes, but only ",
                               old + got, " are present"));
    }
    return out;
}

}  // namespace detail

// Parses an IDX file held in memory (gzipped if it starts with 1f 8b);
// `source` names it in errors.
[[nodiscard]] inline idx_array parse_idx(std::span<const std::byte> bytes, std::string_view source = "<memory>") {
    using detail::concat;
    using detail::require;
    detail::idx_byte_source in(bytes, detail::idx_source(source));
    const std::string& src = in.source();

    std::uint8_t magic[4];
    const std::size_t got = in.read(std::as_writable_bytes(std::span(magic)));
    require(got == 4, src, ": truncated: ", got, " bytes, shorter than the 4-byte magic number");
    const auto magic_hex = [&] {
        static constexpr char hex[] = "0123456789abcdef";
        std::string s = "0x";
        for (const auto b : magic) s += {hex[b >> 4], hex[b & 0xF]};
        return s;
    };
    require(magic[0] == 0 && magic[1] == 0, src, ": bad magic number ", magic_hex(),
            "; an IDX file starts with two zero bytes, a type code and the number of dimensions");
    const auto type = static_cast<idx_type>(magic[2]);
    require(idx_type_size(type) != 0, src, ": unknown element type code ", magic_hex().substr(6, 2),
            " (magic ", magic_hex(), "); expected 08 u8, 09 i8, 0b i16, 0c i32, 0d f32 or 0e f64");
    const std::size_t ndims = magic[3];
    require(ndims >= 1, src, ": has 0 dimensions; expected at least 1");

    std::vector<std::uint8_t> dim_bytes(4 * ndims);
    const std::size_t dims_got = in.read(std::as_writable_bytes(std::span(dim_bytes)));
    require(dims_got == dim_bytes.size(), src, ": truncated: the header declares ", ndims, " dimensions (",
            4 * ndims, " bytes) but only ", dims_got, " bytes follow the magic number");

    idx_array out;
    out.type = type;
    // The element count is checked against the limit before each multiplication,
    // so the product never overflows.
    const std::uint64_t max_count = idx_max_data_bytes / idx_type_size(type);
    std::uint64_t count = 1;
    std::string shape;
    for (std::size_t i = 0; i < ndims; ++i) {
        const std::uint32_t d = detail::load_big_endian<std::uint32_t>(dim_bytes.data() + 4 * i);
        require(d > 0, src, ": dimension ", i, " has size 0");
        out.dims.push_back(d);
        shape += concat(i > 0 ? "x" : "", d);
        require(count <= max_count / d, src, ": dimensions ", shape, i + 1 < ndims ? "x..." : "", " of ",
                idx_type_name(type), " exceed the ", idx_max_data_bytes, "-byte limit (corrupt header?)");
        count *= d;
    }
    const std::uint64_t data_bytes = count * idx_type_size(type);
    const std::string what = concat(shape, " ", idx_type_name(type), " values");
    auto raw = detail::read_data(in, data_bytes, what);

    std::uint8_t extra = 0;
    const std::size_t trailing =
        in.gzipped() ? in.read(std::as_writable_bytes(std::span(&extra, 1))) : in.plain_remaining();
    require(trailing == 0, src, ": trailing data: ", in.gzipped() ? "more" : std::to_string(trailing),
            " bytes after the ", data_bytes, " bytes of data (", what, ")");

    switch (type) {
        case idx_type::u8: out.values = std::move(raw); break;
        case idx_type::i8: out.values = detail::decode_big_endian<std::int8_t>(raw); break;
        case idx_type::i16: out.values = detail::decode_big_endian<std::int16_t>(raw); break;
        case idx_type::i32: out.values = detail::decode_big_endian<std::int32_t>(raw); break;
        case idx_type::f32: out.values = detail::decode_big_endian<float>(raw); break;
        case idx_type::f64: out.values = detail::decode_big_endian<double>(raw); break;
    }
    return out;
}

// Reads an IDX file (plain or gzipped, told apart by the gzip magic 1f 8b).
[[nodiscard]] inline idx_array read_idx(const std::filesystem::path& path) {
    const io::input_file in(path);
    return parse_idx(in.read_all(), path.string());
}

// Images: a u8 IDX file with 3 dimensions (count, rows, cols), pixels in C order.
struct idx_images {
    std::size_t count = 0;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<std::uint8_t> pixels;
};

[[nodiscard]] inline idx_images load_idx_images(const std::filesystem::path& path) {
    auto a = read_idx(path);
    const std::string src = detail::idx_source(path.string());
    detail::require(a.type == idx_type::u8, src, ": images must have element type u8, found ",
                    idx_type_name(a.type));
    detail::require(a.dims.size() == 3, src, ": images must have 3 dimensions (count, rows, cols), found ",
                    a.dims.size());
    return {a.dims[0], a.dims[1], a.dims[2], std::move(std::get<std::vector<std::uint8_t>>(a.values))};
}

// Labels: a u8 IDX file with 1 dimension. Values are not range-checked.
[[nodiscard]] inline std::vector<std::uint8_t> load_idx_labels(const std::filesystem::path& path) {
    auto a = read_idx(path);
    const std::string src = detail::idx_source(path.string());
    detail::require(a.type == idx_type::u8, src, ": labels must have element type u8, found ",
                    idx_type_name(a.type));
    detail::require(a.dims.size() == 1, src, ": labels must have 1 dimension, found ", a.dims.size());
    return std::move(std::get<std::vector<std::uint8_t>>(a.values));
}

}  // namespace sgm::data
