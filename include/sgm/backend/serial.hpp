#pragma once
// sgm::serial_backend — plain loops on the calling thread. The reference every
// other backend is compared against.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../config.hpp"

namespace sgm {

template <class Real>
class serial_backend {
public:
    using value_type = Real;
    using vector = std::vector<Real>;

    [[nodiscard]] vector make_vector(std::size_t n) const { return vector(n, Real(0)); }
    static Real* data(vector& v) { return v.data(); }
    static const Real* data(const vector& v) { return v.data(); }

    template <class F>
    void for_each_index(std::size_t n, F f) const {
        for (std::size_t i = 0; i < n; ++i) f(i);
    }

    template <class F>
    void sum_segments(std::size_t segments, std::size_t length, F f, Real* out) const {
        for (std::size_t s = 0; s < segments; ++s) {
            Real acc = 0;
            for (std::size_t j = 0; j < length; ++j) acc += f(s * length + j);
            out[s] = acc;
        }
    }

    template <class F>
    [[nodiscard]] Real max_of(std::size_t n, F f) const {
        Real best = 0;
        for (std::size_t i = 0; i < n; ++i) best = i == 0 ? f(i) : std::max(best, f(i));
        return best;
    }

    template <class P>
    [[nodiscard]] std::size_t find_first(std::size_t n, P pred) const {
        for (std::size_t i = 0; i < n; ++i)
            if (pred(i)) return i;
        return n;
    }

    void copy_from_host(std::span<const Real> host, vector& v) const {
        v.assign(host.begin(), host.end());
    }
    // Into caller-owned host memory of v.size() values (no allocation).
    void copy_to_host(const vector& v, std::span<Real> out) const { std::copy(v.begin(), v.end(), out.begin()); }
    [[nodiscard]] std::vector<Real> to_host(const vector& v) const { return v; }
    void copy(const vector& src, vector& dst) const { dst = src; }
};

}  // namespace sgm
