#pragma once
// Element types of the safetensors format: names, sizes, the C++ types that
// map onto them, and little-endian conversion of element bytes.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "../error.hpp"

namespace sgm::io {

// The safetensors dtypes. Every one can be stored and read as raw bytes; the
// typed helpers cover those with a C++ arithmetic type (see tensor_element).
enum class dtype : std::uint8_t {
    BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64
};

namespace detail {
using sgm::detail::concat;
using sgm::detail::require;

struct dtype_info {
    dtype type;
    std::string_view name;
    std::size_t size;
};
inline constexpr std::array<dtype_info, 15> dtype_table{{
    {dtype::BOOL, "BOOL", 1}, {dtype::U8, "U8", 1},   {dtype::I8, "I8", 1},
    {dtype::F8_E5M2, "F8_E5M2", 1}, {dtype::F8_E4M3, "F8_E4M3", 1},
    {dtype::I16, "I16", 2},   {dtype::U16, "U16", 2}, {dtype::F16, "F16", 2},
    {dtype::BF16, "BF16", 2}, {dtype::I32, "I32", 4}, {dtype::U32, "U32", 4},
    {dtype::F32, "F32", 4},   {dtype::F64, "F64", 8}, {dtype::I64, "I64", 8},
    {dtype::U64, "U64", 8},
}};
}  // namespace detail

[[nodiscard]] constexpr std::string_view dtype_name(dtype t) {
    return detail::dtype_table[static_cast<std::size_t>(t)].name;
}

// Bytes per element.
[[nodiscard]] constexpr std::size_t dtype_size(dtype t) {
    return detail::dtype_table[static_cast<std::size_t>(t)].size;
}

// The dtype spelled `name` in a safetensors header ("F32", ...), if any.
[[nodiscard]] constexpr std::optional<dtype> dtype_from_name(std::string_view name) {
    for (const auto& info : detail::dtype_table)
        if (info.name == name) return info.type;
    return std::nullopt;
}

// C++ element types the typed helpers accept, and their dtype.
template <class T>
inline constexpr std::optional<dtype> dtype_of_v = std::nullopt;
template <> inline constexpr std::optional<dtype> dtype_of_v<float> = dtype::F32;
template <> inline constexpr std::optional<dtype> dtype_of_v<double> = dtype::F64;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::int8_t> = dtype::I8;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::uint8_t> = dtype::U8;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::int16_t> = dtype::I16;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::uint16_t> = dtype::U16;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::int32_t> = dtype::I32;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::uint32_t> = dtype::U32;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::int64_t> = dtype::I64;
template <> inline constexpr std::optional<dtype> dtype_of_v<std::uint64_t> = dtype::U64;

template <class T>
concept tensor_element = dtype_of_v<std::remove_cv_t<T>>.has_value();

template <tensor_element T>
inline constexpr dtype dtype_of = *dtype_of_v<std::remove_cv_t<T>>;

namespace detail {

// Copies values into little-endian bytes (out.size() == values.size() * sizeof(T)).
template <tensor_element T>
void store_little_endian(std::span<const T> values, std::span<std::byte> out) {
    if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
        if (!values.empty()) std::memcpy(out.data(), values.data(), values.size_bytes());
    } else {
        for (std::size_t i = 0; i < values.size(); ++i) {
            auto bytes = std::bit_cast<std::array<std::byte, sizeof(T)>>(values[i]);
            std::reverse(bytes.begin(), bytes.end());
            std::memcpy(out.data() + i * sizeof(T), bytes.data(), sizeof(T));
        }
    }
}

// Reads little-endian bytes into values (bytes.size() == out.size() * sizeof(T)).
template <tensor_element T>
void load_little_endian(std::span<const std::byte> bytes, std::span<T> out) {
    if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
        if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size_bytes());
    } else {
        for (std::size_t i = 0; i < out.size(); ++i) {
            std::array<std::byte, sizeof(T)> b;
            std::memcpy(b.data(), bytes.data() + i * sizeof(T), sizeof(T));
            std::reverse(b.begin(), b.end());
            out[i] = std::bit_cast<T>(b);
        }
    }
}

}  // namespace detail
}  // namespace sgm::io
