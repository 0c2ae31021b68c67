#pragma once
// sgm::io::tensor_file — an ordered collection of named tensors (dtype, shape,
// little-endian bytes) and string metadata: what a safetensors file holds.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "dtype.hpp"

namespace sgm::io {

using tensor_shape = std::vector<std::uint64_t>;

// "[3, 4]"; "[]" for a scalar.
[[nodiscard]] inline std::string shape_string(std::span<const std::uint64_t> shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + "]";
}

// Number of elements of the shape (1 for a scalar), or nullopt when it overflows 64 bits.
[[nodiscard]] inline std::optional<std::uint64_t> element_count(std::span<const std::uint64_t> shape) {
    std::uint64_t n = 1;
    for (const auto d : shape) {
        if (d != 0 && n > std::numeric_limits<std::uint64_t>::max() / d) return std::nullopt;
        n *= d;
    }
    return n;
}

// Bytes of a tensor of this dtype and shape, or nullopt when it overflows 64 bits.
[[nodiscard]] inline std::optional<std::uint64_t> byte_count(dtype type, std::span<const std::uint64_t> shape) {
    const auto n = element_count(shape);
    if (!n || *n > std::numeric_limits<std::uint64_t>::max() / dtype_size(type)) return std::nullopt;
    return *n * dtype_size(type);
}

// One tensor: C-order elements stored as little-endian bytes.
struct tensor_record {
    std::string name;
    io::dtype dtype = io::dtype::F32;
    tensor_shape shape;
    std::vector<std::byte> bytes;

    [[nodiscard]] std::uint64_t element_count() const { return io::element_count(shape).value_or(0); }
    friend bool operator==(const tensor_record&, const tensor_record&) = default;
};

class tensor_file {
public:
    using metadata_map = std::map<std::string, std::string>;

    // Adds a tensor; its name must be new and its byte count match dtype and shape.
    void add(tensor_record t) {
        detail::require(t.name != "__metadata__", "tensor_file: the name '__metadata__' is reserved for metadata");
        detail::require(find(t.name) == nullptr, "tensor_file: duplicate tensor name '", t.name, "'");
        const auto expected = byte_count(t.dtype, t.shape);
        detail::require(expected.has_value(), "tensor_file: tensor '", t.name, "' has shape ",
                        shape_string(t.shape), ", too many elements");
        detail::require(*expected == t.bytes.size(), "tensor_file: tensor '", t.name, "' with dtype ",
                        dtype_name(t.dtype), " and shape ", shape_string(t.shape), " needs ", *expected,
                        " bytes, got ", t.bytes.size());
        index_.emplace(t.name, tensors_.size());
        tensors_.push_back(std::move(t));
    }

    // Adds the values as a tensor of the given shape (product(shape) == size).
    template <std::ranges::contiguous_range Range>
        requires tensor_element<std::ranges::range_value_t<Range>>
    void put(std::string name, const Range& values, tensor_shape shape) {
        using T = std::ranges::range_value_t<Range>;
        const std::span<const T> v(std::ranges::data(values), std::ranges::size(values));
        const auto n = element_count(shape);
        detail::require(n.has_value() && *n == v.size(), "tensor_file: tensor '", name, "' has ", v.size(),
                        " values, shape ", shape_string(shape), " needs ",
                        n ? std::to_string(*n) : std::string("too many"));
        tensor_record t{std::move(name), dtype_of<T>, std::move(shape), std::vector<std::byte>(v.size_bytes())};
        detail::store_little_endian<T>(v, t.bytes);
        add(std::move(t));
    }

    // A 1-D tensor of the values.
    template <std::ranges::contiguous_range Range>
        requires tensor_element<std::ranges::range_value_t<Range>>
    void put(std::string name, const Range& values) {
        put(std::move(name), values, tensor_shape{static_cast<std::uint64_t>(std::ranges::size(values))});
    }

    // The values of tensor `name`, checking its dtype is T's and its shape `expected_shape`.
    template <tensor_element T>
    [[nodiscard]] std::vector<T> get(std::string_view name, std::span<const std::uint64_t> expected_shape) const {
        const auto& t = checked(name, dtype_of<T>);
        require_shape(t, expected_shape);
        return values<T>(t);
    }
    template <tensor_element T>
    [[nodiscard]] std::vector<T> get(std::string_view name, std::initializer_list<std::uint64_t> shape) const {
        return get<T>(name, std::span<const std::uint64_t>(shape.begin(), shape.size()));
    }

    // The values of tensor `name`, checking only its dtype.
    template <tensor_element T>
    [[nodiscard]] std::vector<T> get(std::string_view name) const {
        return values<T>(checked(name, dtype_of<T>));
    }

    // Copies tensor `name` into `out` (out.size() == product(expected_shape)).
    template <tensor_element T>
    void get_to(std::string_view name, std::span<T> out, std::span<const std::uint64_t> expected_shape) const {
        const auto& t = checked(name, dtype_of<T>);
        require_shape(t, expected_shape);
        detail::require(out.size_bytes() == t.bytes.size(), "tensor '", t.name, "': output has ", out.size(),
                        " elements, the tensor has ", t.bytes.size() / sizeof(T));
        detail::load_little_endian<T>(t.bytes, out);
    }

    [[nodiscard]] const tensor_record* find(std::string_view name) const {
        const auto it = index_.find(name);
        return it == index_.end() ? nullptr : &tensors_[it->second];
    }
    [[nodiscard]] bool contains(std::string_view name) const { return find(name) != nullptr; }
    [[nodiscard]] const tensor_record& at(std::string_view name) const {
        const auto* t = find(name);
        if (t == nullptr) throw error(detail::concat("no tensor named '", name, "'"));
        return *t;
    }

    [[nodiscard]] const std::vector<tensor_record>& tensors() const { return tensors_; }
    [[nodiscard]] std::size_t size() const { return tensors_.size(); }
    [[nodiscard]] bool empty() const { return tensors_.empty(); }

    // Free-form string metadata ("__metadata__" in the file).
    [[nodiscard]] metadata_map& metadata() { return metadata_; }
    [[nodiscard]] const metadata_map& metadata() const { return metadata_; }

    friend bool operator==(const tensor_file&, const tensor_file&) = default;

private:
    [[nodiscard]] const tensor_record& checked(std::string_view name, dtype expected) const {
        const auto& t = at(name);
        detail::require(t.dtype == expected, "tensor '", t.name, "' has dtype ", dtype_name(t.dtype), ", expected ",
                        dtype_name(expected));
        return t;
    }

    static void require_shape(const tensor_record& t, std::span<const std::uint64_t> expected) {
        detail::require(std::ranges::equal(t.shape, expected), "tensor '", t.name, "' has shape ",
                        shape_string(t.shape), ", expected ", shape_string(expected));
    }

    template <tensor_element T>
    [[nodiscard]] static std::vector<T> values(const tensor_record& t) {
        std::vector<T> out(t.bytes.size() / sizeof(T));
        detail::load_little_endian<T>(t.bytes, std::span<T>(out));
        return out;
    }

    std::vector<tensor_record> tensors_;
    std::map<std::string, std::size_t, std::less<>> index_;  // name -> position in tensors_
    metadata_map metadata_;
};

}  // namespace sgm::io
