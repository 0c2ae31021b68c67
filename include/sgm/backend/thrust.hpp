#pragma once
// sgm::thrust_backend — loops through Thrust algorithms on an explicit
// Thrust system: thrust_cpp and thrust_tbb run on the CPU with any compiler,
// thrust_cuda (nvcc only) on an NVIDIA GPU. Algorithm code is the same for all.
//
// Works with the CCCL headers of the CUDA toolkit (-I<cuda>/include/cccl; required
// for thrust_cuda) and with a system Thrust >= 1.17 for the CPU systems. CMake's
// sgm::thrust target picks the right include directory.

#include "../config.hpp"

#include <thrust/copy.h>
#include <thrust/find.h>
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/system/cpp/execution_policy.h>
#include <thrust/system/cpp/vector.h>
#include <thrust/system/tbb/execution_policy.h>
#include <thrust/system/tbb/vector.h>
#include <thrust/transform_reduce.h>
#if SGM_CUDA_COMPILER
#include <thrust/system/cuda/execution_policy.h>
#include <thrust/system/cuda/vector.h>
#endif

#include <cstddef>
#include <span>
#include <vector>

namespace sgm {

// A Thrust system: its vector type and execution policy.
struct thrust_cpp {
    template <class T>
    using vector = ::thrust::cpp::vector<T>;
    static auto policy() { return ::thrust::cpp::par; }
};
struct thrust_tbb {
    template <class T>
    using vector = ::thrust::tbb::vector<T>;
    static auto policy() { return ::thrust::tbb::par; }
};
#if SGM_CUDA_COMPILER
struct thrust_cuda {
    template <class T>
    using vector = ::thrust::cuda::vector<T>;
    static auto policy() { return ::thrust::cuda::par; }
};
#endif

namespace detail {
// Sequential sum over one segment: the same order as the serial backend.
template <class Real, class F>
struct segment_sum {
    F f;
    std::size_t length;
    Real* out;
    SGM_HOST_DEVICE void operator()(std::size_t s) const {
        Real acc = 0;
        for (std::size_t j = 0; j < length; ++j) acc += f(s * length + j);
        out[s] = acc;
    }
};
}  // namespace detail

template <class Real, class System = thrust_cpp>
class thrust_backend {
public:
    using value_type = Real;
    using system = System;
    using vector = typename System::template vector<Real>;

    [[nodiscard]] vector make_vector(std::size_t n) const { return vector(n, Real(0)); }
    static Real* data(vector& v) { return ::thrust::raw_pointer_cast(v.data()); }
    static const Real* data(const vector& v) { return ::thrust::raw_pointer_cast(v.data()); }

    template <class F>
    void for_each_index(std::size_t n, F f) const {
        ::thrust::for_each(System::policy(), ::thrust::counting_iterator<std::size_t>(0),
                           ::thrust::counting_iterator<std::size_t>(n), f);
    }

    template <class F>
    void sum_segments(std::size_t segments, std::size_t length, F f, Real* out) const {
        for_each_index(segments, detail::segment_sum<Real, F>{f, length, out});
    }

    template <class F>
    [[nodiscard]] Real max_of(std::size_t n, F f) const {
        if (n == 0) return Real(0);
        return ::thrust::transform_reduce(System::policy(), ::thrust::counting_iterator<std::size_t>(0),
                                          ::thrust::counting_iterator<std::size_t>(n), f, f(0),
                                          ::thrust::maximum<Real>());
    }

    template <class P>
    [[nodiscard]] std::size_t find_first(std::size_t n, P pred) const {
        auto first = ::thrust::counting_iterator<std::size_t>(0);
        return static_cast<std::size_t>(
            ::thrust::find_if(System::policy(), first, first + n, pred) - first);
    }

    void copy_from_host(std::span<const Real> host, vector& v) const {
        v.resize(host.size());
        ::thrust::copy(host.begin(), host.end(), v.begin());
    }
    // Into caller-owned host memory of v.size() values (no allocation).
    void copy_to_host(const vector& v, std::span<Real> out) const { ::thrust::copy(v.begin(), v.end(), out.begin()); }
    [[nodiscard]] std::vector<Real> to_host(const vector& v) const {
        std::vector<Real> host(v.size());
        ::thrust::copy(v.begin(), v.end(), host.begin());
        return host;
    }
    void copy(const vector& src, vector& dst) const { dst = src; }

};

}  // namespace sgm

// Lets odeint's steppers allocate and resize their temporaries for Thrust vectors
// on any system (odeint's own Thrust support assumes the default device system).
#include <boost/numeric/odeint/util/is_resizeable.hpp>
#include <boost/numeric/odeint/util/resize.hpp>
#include <boost/numeric/odeint/util/same_size.hpp>
#include <boost/numeric/odeint/util/copy.hpp>

namespace boost::numeric::odeint {

template <class T, class Alloc>
struct is_resizeable<::thrust::detail::vector_base<T, Alloc>> {
    using type = boost::true_type;
    static const bool value = true;
};

template <class T, class Alloc>
struct same_size_impl<::thrust::detail::vector_base<T, Alloc>, ::thrust::detail::vector_base<T, Alloc>> {
    static bool same_size(const ::thrust::detail::vector_base<T, Alloc>& a,
                          const ::thrust::detail::vector_base<T, Alloc>& b) {
        return a.size() == b.size();
    }
};

template <class T, class Alloc>
struct resize_impl<::thrust::detail::vector_base<T, Alloc>, ::thrust::detail::vector_base<T, Alloc>> {
    static void resize(::thrust::detail::vector_base<T, Alloc>& a, const ::thrust::detail::vector_base<T, Alloc>& b) {
        a.resize(b.size());
    }
};

// Odeint's generic copy walks the vectors element by element through Thrust
// references (slow, and a host loop over device memory for CUDA); copy in bulk.
template <class T, class Alloc>
struct copy_impl<::thrust::detail::vector_base<T, Alloc>, ::thrust::detail::vector_base<T, Alloc>> {
    static void copy(const ::thrust::detail::vector_base<T, Alloc>& from, ::thrust::detail::vector_base<T, Alloc>& to) {
        ::thrust::copy(from.begin(), from.end(), to.begin());
    }
};

}  // namespace boost::numeric::odeint
