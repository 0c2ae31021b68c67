#pragma once
// An odeint algebra that runs every stepper's element loop through an sgm backend,
// so odeint's adaptive steppers work on any backend's vectors (host or device)
// with no host round trips. Odeint calls for_each1 … for_each15 and norm_inf by
// name; each is a one-line forward to one variadic loop.

#include <boost/numeric/odeint/util/is_resizeable.hpp>
#include <boost/numeric/odeint/util/resize.hpp>
#include <boost/numeric/odeint/util/same_size.hpp>

#include <cmath>
#include <cstddef>
#include <utility>

#include "../concepts/backend.hpp"
#include "../config.hpp"

namespace sgm::odeint {

namespace detail {

// Applies op to element i of N arrays; all pointers are the backend's.
template <class Real, class Op, std::size_t N>
struct elementwise {
    Op op;
    Real* p[N];
    SGM_HOST_DEVICE void operator()(std::size_t i) const { call(i, std::make_index_sequence<N>{}); }
    template <std::size_t... I>
    SGM_HOST_DEVICE void call(std::size_t i, std::index_sequence<I...>) const {
        op(p[I][i]...);
    }
};

template <class Real>
struct absolute_value {
    const Real* p;
    SGM_HOST_DEVICE Real operator()(std::size_t i) const {
        using std::abs;
        return abs(p[i]);
    }
};

}  // namespace detail

// The norm odeint's error checker applies to the scaled error vector.
enum class error_norm {
    max,  // max_i |e_i|: odeint's default; every value within tolerance
    rms,  // sqrt(mean_i e_i²): scipy's solve_ivp and the paper code's; typical values within tolerance
};

template <backend Backend>
struct backend_algebra {
    using Real = typename Backend::value_type;
    Backend be{};
    error_norm norm = error_norm::max;

    backend_algebra() = default;
    explicit backend_algebra(Backend backend, error_norm n = error_norm::max) : be(std::move(backend)), norm(n) {}

    template <class Op, class... S>
    void apply(Op op, S&... states) const {
        const std::size_t n = first_size(states...);
        // Odeint passes inputs as const; the loop only reads them.
        be.for_each_index(n, detail::elementwise<Real, Op, sizeof...(S)>{
                                 op, {const_cast<Real*>(Backend::data(states))...}});
    }

    // clang-format off
    template <class S1, class Op> void for_each1(S1& s1, Op op) const { apply(op, s1); }
    template <class S1, class S2, class Op> void for_each2(S1& s1, S2& s2, Op op) const { apply(op, s1, s2); }
    template <class S1, class S2, class S3, class Op> void for_each3(S1& s1, S2& s2, S3& s3, Op op) const { apply(op, s1, s2, s3); }
    template <class S1, class S2, class S3, class S4, class Op> void for_each4(S1& s1, S2& s2, S3& s3, S4& s4, Op op) const { apply(op, s1, s2, s3, s4); }
    template <class S1, class S2, class S3, class S4, class S5, class Op> void for_each5(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, Op op) const { apply(op, s1, s2, s3, s4, s5); }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class Op> void for_each6(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, Op op) const { apply(op, s1, s2, s3, s4, s5, s6); }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class Op> void for_each7(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, Op op) const { apply(op, s1, s2, s3, s4, s5, s6, s7); }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class Op> void for_each8(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, Op op) const { apply(op, s1, s2, s3, s4, s5, s6, s7, s8); }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class Op> void for_each9(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, Op op) const { apply(op, s1, s2, s3, s4, s5, s6, s7, s8, s9); }
    // clang-format on

    template <class S>
    Real norm_inf(const S& s) const {
        const Real* v = Backend::data(s);
        const std::size_t n = s.size();
        if (norm == error_norm::max || n == 0) return be.max_of(n, detail::absolute_value<Real>{v});
        // Σ e² in blocks of 4096, then over the blocks: parallel, and the same order every time.
        constexpr std::size_t block = 4096;
        const std::size_t blocks = (n + block - 1) / block;
        if (partial_.size() < blocks) partial_ = be.make_vector(blocks);
        if (total_.size() != 1) total_ = be.make_vector(1);
        Real* p = Backend::data(partial_);
        be.sum_segments(blocks, block, [=] SGM_HOST_DEVICE(std::size_t i) { return i < n ? v[i] * v[i] : Real(0); }, p);
        be.sum_segments(1, blocks, [=] SGM_HOST_DEVICE(std::size_t i) { return p[i]; }, Backend::data(total_));
        // Only the total crosses to the host: one value per step.
        return std::sqrt(be.to_host(total_)[0] / Real(n));
    }

private:
    mutable typename Backend::vector partial_{};  // block sums of the RMS norm
    mutable typename Backend::vector total_{};    // their sum

    template <class S, class... Rest>
    static std::size_t first_size(const S& s, const Rest&...) {
        return s.size();
    }
};

}  // namespace sgm::odeint
