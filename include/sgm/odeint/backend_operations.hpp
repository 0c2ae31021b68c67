#pragma once
// Odeint operations (the per-element arithmetic of its steppers) that compile for
// host and device. Odeint asks for them by fixed names — scale_sum1 … scale_sum8
// and rel_error — so each name is a one-line alias of one variadic implementation.

#include <cmath>
#include <cstddef>

#include "../config.hpp"

namespace sgm::odeint {

namespace detail {

// out = Σ_k a_k · in_k, accumulated left to right.
template <class Fac, std::size_t N>
struct scale_sum_n {
    Fac a[N];

    template <class... A>
    scale_sum_n(A... alphas) : a{static_cast<Fac>(alphas)...} {}

    template <class Out, class... In>
    SGM_HOST_DEVICE void operator()(Out& out, const In&... in) const {
        static_assert(sizeof...(In) == N, "scale_sum: factor count must match the inputs");
        Out acc = Out(0);
        std::size_t k = 0;
        ((acc += static_cast<Out>(a[k++]) * in), ...);
        out = acc;
    }
    using result_type = void;
};

}  // namespace detail

struct backend_operations {
    template <class F1 = double>
    struct scale_sum1 : detail::scale_sum_n<F1, 1> { using detail::scale_sum_n<F1, 1>::scale_sum_n; };
    template <class F1 = double, class... F>
    struct scale_sum2 : detail::scale_sum_n<F1, 2> { using detail::scale_sum_n<F1, 2>::scale_sum_n; };
    template <class F1 = double, class... F>
    struct scale_sum3 : detail::scale_sum_n<F1, 3> { using detail::scale_sum_n<F1, 3>::scale_sum_n; };
    template <class F1 = double, class... F>
    struct scale_sum4 : detail::scale_sum_n<F1, 4> { using detail::scale_sum_n<F1, 4>::scale_sum_n; };
    template <class F1 = double, class... F>
    struct scale_sum5 : detail::scale_sum_n<F1, 5> { using detail::scale_sum_n<F1, 5>::scale_sum_n; };
    template <class F1 = double, class... F>
    struct scale_sum6 : detail::scale_sum_n<F1, 6> { using detail::scale_sum_n<F1, 6>::scale_sum_n; };
    template <class F1 = double, class... F>
    struct scale_sum7 : detail::scale_sum_n<F1, 7> { using detail::scale_sum_n<F1, 7>::scale_sum_n; };
    template <class F1 = double, class... F>
    struct scale_sum8 : detail::scale_sum_n<F1, 8> { using detail::scale_sum_n<F1, 8>::scale_sum_n; };

    // err = |err| / (eps_abs + eps_rel (a_x |x| + a_dxdt |dxdt|)), odeint's error measure.
    template <class Fac = double>
    struct rel_error {
        Fac eps_abs, eps_rel, a_x, a_dxdt;
        rel_error(Fac abs_tol, Fac rel_tol, Fac ax, Fac adxdt)
            : eps_abs(abs_tol), eps_rel(rel_tol), a_x(ax), a_dxdt(adxdt) {}
        template <class T3, class T1, class T2>
        SGM_HOST_DEVICE void operator()(T3& err, const T1& x, const T2& dxdt) const {
            using std::abs;
            err = abs(err) / (T3(eps_abs) + T3(eps_rel) * (T3(a_x) * abs(x) + T3(a_dxdt) * abs(dxdt)));
        }
        using result_type = void;
    };
};

}  // namespace sgm::odeint
