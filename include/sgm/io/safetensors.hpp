#pragma once
// Reading and writing the safetensors format (as read by Python's safetensors):
//
//   8 bytes   N, little-endian u64: the header length
//   N bytes   UTF-8 JSON: {"__metadata__":{"k":"v",...},
//                          "name":{"dtype":"F32","shape":[2,3],"data_offsets":[begin,end]},...}
//             padded with spaces to a multiple of 8 bytes
//   the rest  the tensors' little-endian bytes, contiguous; offsets are relative to here
//
// Writing is atomic (see atomic_file.hpp). Reading checks everything and
// throws sgm::error naming the problem; see docs/file_formats.md for the list.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "atomic_file.hpp"
#include "dtype.hpp"
#include "input_file.hpp"
#include "json_header.hpp"
#include "tensor_file.hpp"

namespace sgm::io {

// Headers above this size are rejected, as the reference implementation does.
inline constexpr std::uint64_t safetensors_max_header_bytes = 100'000'000;

namespace detail {

struct safetensors_entry {
    std::string name;
    io::dtype dtype = io::dtype::F32;
    tensor_shape shape;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
};

struct safetensors_header {
    std::vector<safetensors_entry> entries;  // in the header's order
    tensor_file::metadata_map metadata;
};

[[nodiscard]] inline std::string safetensors_source(std::string_view name) {
    return concat("safetensors '", name, "'");
}

[[nodiscard]] inline std::uint64_t load_u64_le(std::span<const std::byte, 8> b) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(b[static_cast<std::size_t>(i)]);
    return v;
}

[[nodiscard]] inline std::array<std::byte, 8> store_u64_le(std::uint64_t v) {
    std::array<std::byte, 8> b{};
    for (auto& x : b) {
        x = static_cast<std::byte>(v & 0xFF);
        v >>= 8;
    }
    return b;
}

// Checks the length prefix N against the file size; returns N.
inline std::uint64_t check_header_length(std::span<const std::byte, 8> prefix, std::uint64_t file_size,
                                         const std::string& source) {
    const std::uint64_t n = load_u64_le(prefix);
    require(n <= safetensors_max_header_bytes, source, ": header length ", n, " is larger than the ",
            safetensors_max_header_bytes, "-byte limit (corrupt length prefix?)");
    require(n <= file_size - 8, source, ": header length ", n, " exceeds the file: only ", file_size - 8,
            " bytes follow the 8-byte length prefix (truncated file?)");
    return n;
}

inline void require_file_size(std::uint64_t size, const std::string& source) {
    require(size >= 8, source, ": file is ", size, " bytes, shorter than the 8-byte header length prefix");
}

inline void parse_metadata(json_reader& r, tensor_file::metadata_map& out) {
    if (r.peek() != '{') r.fail(r.offset(), "'__metadata__' must be an object of strings");
    r.expect('{', "'{'");
    if (r.consume('}')) return;
    do {
        const std::size_t key_at = (r.skip_whitespace(), r.offset());
        std::string key = r.parse_string();
        r.expect(':', "':' after a metadata key");
        if (r.peek() != '"') r.fail(r.offset(), concat("metadata value of '", key, "' is not a string"));
        std::string value = r.parse_string();
        if (!out.emplace(key, std::move(value)).second)
            r.fail(key_at, concat("duplicate metadata key '", key, "'"));
    } while (r.consume(','));
    r.expect('}', "',' or '}' in '__metadata__'");
}

inline void parse_offsets(json_reader& r, safetensors_entry& e) {
    r.expect('[', "'[' to open data_offsets");
    e.begin = r.parse_uint();
    r.expect(',', "',': data_offsets holds two integers [begin, end]");
    e.end = r.parse_uint();
    r.expect(']', "']': data_offsets holds two integers [begin, end]");
}

inline void parse_shape(json_reader& r, safetensors_entry& e) {
    r.expect('[', "'[' to open shape");
    if (r.consume(']')) return;
    do e.shape.push_back(r.parse_uint());
    while (r.consume(','));
    r.expect(']', "',' or ']' in shape");
}

[[nodiscard]] inline std::string dtype_list() {
    std::string out;
    for (const auto& info : dtype_table) out += (out.empty() ? "" : ", ") + std::string(info.name);
    return out;
}

// One tensor entry {"dtype":..., "shape":[...], "data_offsets":[b, e]}, keys in any order.
[[nodiscard]] inline safetensors_entry parse_entry(json_reader& r, std::string name) {
    safetensors_entry e;
    e.name = std::move(name);
    const std::size_t at = (r.skip_whitespace(), r.offset());
    if (r.peek() != '{') r.fail(at, concat("tensor '", e.name, "' is not an object"));
    r.expect('{', "'{'");
    bool has_dtype = false, has_shape = false, has_offsets = false;
    if (!r.consume('}')) {
        do {
            const std::size_t key_at = (r.skip_whitespace(), r.offset());
            const std::string key = r.parse_string();
            r.expect(':', "':' after a key");
            bool* seen = nullptr;
            if (key == "dtype") {
                seen = &has_dtype;
                const std::size_t value_at = (r.skip_whitespace(), r.offset());
                if (r.peek() != '"') r.fail(value_at, concat("tensor '", e.name, "': dtype is not a string"));
                const std::string name_of_type = r.parse_string();
                const auto type = dtype_from_name(name_of_type);
                if (!type)
                    r.fail(value_at, concat("tensor '", e.name, "' has unknown dtype '", name_of_type,
                                            "'; expected one of ", dtype_list()));
                e.dtype = *type;
            } else if (key == "shape") {
                seen = &has_shape;
                parse_shape(r, e);
            } else if (key == "data_offsets") {
                seen = &has_offsets;
                parse_offsets(r, e);
            } else {
                r.fail(key_at, concat("tensor '", e.name, "' has unexpected key '", key,
                                      "'; expected dtype, shape and data_offsets"));
            }
            if (*seen) r.fail(key_at, concat("tensor '", e.name, "' has key '", key, "' twice"));
            *seen = true;
        } while (r.consume(','));
        r.expect('}', "',' or '}' in a tensor entry");
    }
    if (!has_dtype) r.fail(at, concat("tensor '", e.name, "' has no dtype"));
    if (!has_shape) r.fail(at, concat("tensor '", e.name, "' has no shape"));
    if (!has_offsets) r.fail(at, concat("tensor '", e.name, "' has no data_offsets"));
    return e;
}

// The header JSON (the N bytes after the length prefix).
[[nodiscard]] inline safetensors_header parse_header(std::string_view json, const std::string& source) {
    json_reader r(json, source, 8);
    if (const auto bad = invalid_utf8_at(json); bad != std::string_view::npos)
        r.fail(bad, "header is not valid UTF-8");
    if (json.empty() || json.front() != '{') r.fail(0, "header does not start with '{'");
    safetensors_header out;
    std::set<std::string, std::less<>> names;
    bool has_metadata = false;
    r.expect('{', "'{'");
    if (!r.consume('}')) {
        do {
            const std::size_t key_at = (r.skip_whitespace(), r.offset());
            std::string key = r.parse_string();
            r.expect(':', "':' after a key");
            if (key == "__metadata__") {
                if (has_metadata) r.fail(key_at, "duplicate '__metadata__'");
                has_metadata = true;
                parse_metadata(r, out.metadata);
            } else {
                if (!names.insert(key).second) r.fail(key_at, concat("duplicate tensor name '", key, "'"));
                out.entries.push_back(parse_entry(r, std::move(key)));
            }
        } while (r.consume(','));
        r.expect('}', "',' or '}' after a header entry");
    }
    r.skip_whitespace();
    if (!r.at_end()) r.fail(r.offset(), "unexpected bytes after the header object");
    return out;
}

[[nodiscard]] inline std::string offsets_string(const safetensors_entry& e) {
    return concat("[", e.begin, ", ", e.end, "]");
}

// Checks each entry's byte count and that the entries tile the data buffer
// (data_size bytes) exactly. Returns the entry indices in data order.
[[nodiscard]] inline std::vector<std::size_t> check_layout(const safetensors_header& h, std::uint64_t data_size,
                                                          const std::string& source) {
    for (const auto& e : h.entries) {
        require(e.begin <= e.end, source, ": tensor '", e.name, "' has data_offsets ", offsets_string(e),
                " with end before begin");
        const auto bytes = byte_count(e.dtype, e.shape);
        require(bytes.has_value(), source, ": tensor '", e.name, "' has shape ", shape_string(e.shape),
                " whose byte count overflows 64 bits");
        require(*bytes == e.end - e.begin, source, ": tensor '", e.name, "' with dtype ", dtype_name(e.dtype),
                " and shape ", shape_string(e.shape), " needs ", *bytes, " bytes, but its data_offsets ",
                offsets_string(e), " span ", e.end - e.begin, " (shape/offset mismatch)");
        require(e.end <= data_size, source, ": tensor '", e.name, "' has data_offsets ", offsets_string(e),
                " out of range: the data buffer has ", data_size, " bytes (truncated file?)");
    }
    std::vector<std::size_t> order(h.entries.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) {
        const auto& x = h.entries[a];
        const auto& y = h.entries[b];
        return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
    });
    std::uint64_t covered = 0;
    const safetensors_entry* previous = nullptr;
    for (const auto i : order) {
        const auto& e = h.entries[i];
        if (e.begin < covered)
            throw error(concat(source, ": tensor '", e.name, "' (data_offsets ", offsets_string(e),
                               ") overlaps tensor '", previous->name, "' (data_offsets ", offsets_string(*previous),
                               ")"));
        if (e.begin > covered)
            throw error(concat(source, ": tensor data is not contiguous: tensor '", e.name, "' starts at byte ",
                               e.begin, " but ",
                               previous ? concat("tensor '", previous->name, "' ends at byte ", covered)
                                        : std::string("the data buffer starts at byte 0")));
        covered = e.end;
        previous = &e;
    }
    require(covered == data_size, source, ": ", data_size - covered, " trailing bytes after the tensor data (",
            "the tensors cover ", covered, " of the ", data_size, " data bytes)");
    return order;
}

// The padded header JSON for `file`, with each tensor's data placed at
// `offsets[i]` (same order as file.tensors()).
[[nodiscard]] inline std::string header_json(const tensor_file& file, std::span<const std::uint64_t> offsets) {
    auto require_utf8 = [](std::string_view s, std::string_view what) {
        const auto bad = invalid_utf8_at(s);
        require(bad == std::string_view::npos, "write_safetensors: ", what, " is not valid UTF-8 (byte ", bad, ")");
    };
    std::string json = "{";
    if (!file.metadata().empty()) {
        json += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [key, value] : file.metadata()) {
            require_utf8(key, concat("metadata key '", key, "'"));
            require_utf8(value, concat("metadata value of '", key, "'"));
            if (!first) json += ',';
            first = false;
            append_json_string(json, key);
            json += ':';
            append_json_string(json, value);
        }
        json += '}';
    }
    const auto& tensors = file.tensors();
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        require_utf8(t.name, concat("tensor name '", t.name, "'"));
        if (json.size() > 1) json += ',';
        append_json_string(json, t.name);
        json += concat(":{\"dtype\":\"", dtype_name(t.dtype), "\",\"shape\":[");
        for (std::size_t k = 0; k < t.shape.size(); ++k) json += concat(k > 0 ? "," : "", t.shape[k]);
        json += concat("],\"data_offsets\":[", offsets[i], ",", offsets[i] + t.bytes.size(), "]}");
    }
    json += '}';
    // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    json.append((8 - json.size() % 8) % 8, ' ');
    require(json.size() <= safetensors_max_header_bytes, "write_safetensors: the header would be ", json.size(),
            " bytes, above the ", safetensors_max_header_bytes, "-byte limit readers accept");
    return json;
}

// Data placement: larger elements first (stable), so every tensor's data is
// aligned to its element size in the file; the header keeps insertion order.
[[nodiscard]] inline std::vector<std::size_t> placement_order(const tensor_file& file) {
    std::vector<std::size_t> order(file.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) {
        return dtype_size(file.tensors()[a].dtype) > dtype_size(file.tensors()[b].dtype);
    });
    return order;
}

[[nodiscard]] inline std::vector<std::uint64_t> placement_offsets(const tensor_file& file,
                                                                 std::span<const std::size_t> order) {
    std::vector<std::uint64_t> offsets(file.size());
    std::uint64_t at = 0;
    for (const auto i : order) {
        offsets[i] = at;
        at += file.tensors()[i].bytes.size();
    }
    return offsets;
}

[[nodiscard]] inline std::span<const std::byte> as_bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace detail

// Parses a whole safetensors file held in memory; `source` names it in errors.
[[nodiscard]] inline tensor_file parse_safetensors(std::span<const std::byte> bytes,
                                                   std::string_view source = "<memory>") {
    const std::string src = detail::safetensors_source(source);
    detail::require_file_size(bytes.size(), src);
    const std::uint64_t n = detail::check_header_length(bytes.first<8>(), bytes.size(), src);
    const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
    const auto header = detail::parse_header(std::string_view(header_begin, n), src);
    const auto data = bytes.subspan(8 + n);
    (void)detail::check_layout(header, data.size(), src);
    tensor_file file;
    file.metadata() = header.metadata;
    for (const auto& e : header.entries) {
        const auto piece = data.subspan(e.begin, e.end - e.begin);
        file.add(tensor_record{e.name, e.dtype, e.shape, std::vector<std::byte>(piece.begin(), piece.end())});
    }
    return file;
}

// Reads a safetensors file; tensors come back in the header's order.
[[nodiscard]] inline tensor_file read_safetensors(const std::filesystem::path& path) {
    const input_file in(path);
    const std::string src = detail::safetensors_source(path.string());
    detail::require_file_size(in.size(), src);
    std::array<std::byte, 8> prefix{};
    in.read_at(0, prefix);
    const std::uint64_t n = detail::check_header_length(prefix, in.size(), src);
    std::string json(n, '\0');
    in.read_at(8, std::as_writable_bytes(std::span<char>(json)));
    const auto header = detail::parse_header(json, src);
    (void)detail::check_layout(header, in.size() - 8 - n, src);
    tensor_file file;
    file.metadata() = header.metadata;
    for (const auto& e : header.entries) {
        // Sizes were checked against the file size above, so this allocation is bounded by it.
        tensor_record t{e.name, e.dtype, e.shape, std::vector<std::byte>(e.end - e.begin)};
        in.read_at(8 + n + e.begin, t.bytes);
        file.add(std::move(t));
    }
    return file;
}

// The whole file as bytes (what write_safetensors writes).
[[nodiscard]] inline std::vector<std::byte> serialize_safetensors(const tensor_file& file) {
    const auto order = detail::placement_order(file);
    const auto json = detail::header_json(file, detail::placement_offsets(file, order));
    std::size_t total = 8 + json.size();
    for (const auto& t : file.tensors()) total += t.bytes.size();
    std::vector<std::byte> out(total);
    auto append = [at = out.data()](std::span<const std::byte> piece) mutable {
        if (!piece.empty()) std::memcpy(at, piece.data(), piece.size());
        at += piece.size();
    };
    append(detail::store_u64_le(json.size()));
    append(detail::as_bytes(json));
    for (const auto i : order) append(file.tensors()[i].bytes);
    return out;
}

// Writes `file` to `path` atomically: readers see the old file or the new one, never a mix.
inline void write_safetensors(const std::filesystem::path& path, const tensor_file& file) {
    const auto order = detail::placement_order(file);
    const auto json = detail::header_json(file, detail::placement_offsets(file, order));
    atomic_file out(path);
    const auto prefix = detail::store_u64_le(json.size());
    out.write(prefix);
    out.write(detail::as_bytes(json));
    for (const auto i : order) out.write(file.tensors()[i].bytes);
    out.commit();
}

}  // namespace sgm::io
