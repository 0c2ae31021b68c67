#pragma once
// The backend concept: where values live and how loops over them run.
//
// A backend B models sgm::backend when, for b of type const B:
//  1. B::value_type is float or double; B::vector is a contiguous container of it.
//  2. b.make_vector(n) returns a zero-filled vector of n values.
//  3. B::data(v) returns a raw pointer into v's storage (device memory for GPUs).
//  4. b.for_each_index(n, f) calls f(i) once for every i in [0, n), in any order and
//     possibly concurrently; f is copied and must be callable on the device.
//  5. b.sum_segments(segments, length, f, out) writes out[s] = Σ_{j<length} f(s*length + j),
//     summed in ascending j so results do not depend on threads or batch size.
//  6. b.max_of(n, f) returns max over i of f(i) (0 for n == 0).
//  7. b.find_first(n, pred) returns the smallest i with pred(i), or n if none.
//  8. b.copy_from_host(span, v), b.to_host(v) and b.copy(src, dst) move values.
// Optional: b.copy_to_host(v, span) into caller-owned memory, which lets loops
// that read results every step avoid allocating (sgm::copy_to_host below).

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <vector>

namespace sgm {

namespace detail {
struct index_probe {
    void operator()(std::size_t) const {}
};
template <class Real>
struct value_probe {
    Real operator()(std::size_t) const { return Real(0); }
};
struct predicate_probe {
    bool operator()(std::size_t) const { return false; }
};
}  // namespace detail

template <class B>
concept backend =
    std::floating_point<typename B::value_type> &&
    requires(const B& b, typename B::vector& v, const typename B::vector& cv, std::size_t n,
             typename B::value_type* out, std::span<const typename B::value_type> host) {
        { b.make_vector(n) } -> std::same_as<typename B::vector>;
        { B::data(v) } -> std::same_as<typename B::value_type*>;
        { B::data(cv) } -> std::same_as<const typename B::value_type*>;
        b.for_each_index(n, detail::index_probe{});
        b.sum_segments(n, n, detail::value_probe<typename B::value_type>{}, out);
        { b.max_of(n, detail::value_probe<typename B::value_type>{}) }
            -> std::same_as<typename B::value_type>;
        { b.find_first(n, detail::predicate_probe{}) } -> std::same_as<std::size_t>;
        b.copy_from_host(host, v);
        { b.to_host(cv) } -> std::same_as<std::vector<typename B::value_type>>;
        b.copy(cv, v);
    };

// v's values into out (out.size() == v.size()): the backend's copy_to_host when
// it has one, else through to_host (one allocation).
template <backend B>
void copy_to_host(const B& b, const typename B::vector& v, std::span<typename B::value_type> out) {
    if constexpr (requires { b.copy_to_host(v, out); }) {
        b.copy_to_host(v, out);
    } else {
        const auto host = b.to_host(v);
        std::copy(host.begin(), host.end(), out.begin());
    }
}

}  // namespace sgm
