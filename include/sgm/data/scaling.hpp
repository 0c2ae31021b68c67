#pragma once
// Pixel scaling between the stored range [0, 1] and the range a model trains on.
//
//   pixel_range::unit       [0, 1]   (identity)
//   pixel_range::symmetric  [-1, 1]  x' = 2x - 1, inverse x = (x' + 1) / 2
//
// to_range and from_range work in place and check every value first (finite and
// inside the source range, bounds included exactly): on error nothing is changed
// and the message names the first bad index and its value. Model samples drift a
// little outside the range; clip_to_range them before from_range.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "../error.hpp"

namespace sgm::data {

enum class pixel_range {
    unit,       // [0, 1]
    symmetric,  // [-1, 1]
};

[[nodiscard]] constexpr std::string_view pixel_range_name(pixel_range r) {
    return r == pixel_range::unit ? "[0, 1]" : "[-1, 1]";
}

namespace detail {

template <class Real>
[[nodiscard]] constexpr Real range_low(pixel_range r) {
    return r == pixel_range::unit ? Real(0) : Real(-1);
}

// Every value finite and in [low, 1]; else an error naming the first bad one.
template <class Real>
void check_in_range(std::span<const Real> values, pixel_range r, std::string_view who) {
    const Real low = range_low<Real>(r);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const Real v = values[i];
        if (!(std::isfinite(v) && v >= low && v <= Real(1)))
            throw error(sgm::detail::concat(who, ": value[", i, "] = ", v, " is ",
                                            std::isfinite(v) ? "outside " : "not finite; expected a value in ",
                                            pixel_range_name(r)));
    }
}

}  // namespace detail

// Values in [0, 1] -> the range r.
template <class Real>
void to_range(std::span<Real> values, pixel_range range) {
    detail::check_in_range<Real>(values, pixel_range::unit, "to_range");
    if (range == pixel_range::symmetric)
        for (Real& v : values) v = Real(2) * v - Real(1);
}

// Values in the range r -> [0, 1].
template <class Real>
void from_range(std::span<Real> values, pixel_range range) {
    detail::check_in_range<Real>(values, range, "from_range");
    if (range == pixel_range::symmetric)
        for (Real& v : values) v = (v + Real(1)) / Real(2);
}

// Clamps finite values into the range r (for model samples before from_range);
// a non-finite value is an error naming its index.
template <class Real>
void clip_to_range(std::span<Real> values, pixel_range range) {
    for (std::size_t i = 0; i < values.size(); ++i)
        sgm::detail::require(std::isfinite(values[i]), "clip_to_range: value[", i, "] = ", values[i],
                             " is not finite");
    const Real low = detail::range_low<Real>(range);
    for (Real& v : values) v = v < low ? low : (v > Real(1) ? Real(1) : v);
}

// 8-bit levels 0..255 -> [0, 1] as v / 255 (0 -> 0, 255 -> 1 exactly).
template <class Real>
void from_bytes(std::span<const std::uint8_t> levels, std::span<Real> out) {
    sgm::detail::require(levels.size() == out.size(), "from_bytes: ", levels.size(), " input levels but room for ",
                         out.size(), " output values");
    for (std::size_t i = 0; i < levels.size(); ++i) out[i] = static_cast<Real>(levels[i]) / Real(255);
}

template <class Real>
[[nodiscard]] std::vector<Real> from_bytes(std::span<const std::uint8_t> levels) {
    std::vector<Real> out(levels.size());
    from_bytes<Real>(levels, std::span<Real>(out));
    return out;
}

}  // namespace sgm::data
