#pragma once
// sgm::tbb_backend — oneTBB parallel loops. Reductions over a segment (one
// sample) stay sequential inside one task, so results are bit-identical to the
// serial backend whatever the thread count.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "../error.hpp"

namespace sgm {

template <class Real>
class tbb_backend {
public:
    using value_type = Real;
    using vector = std::vector<Real>;

    // threads == 0: use TBB's default (all cores, or the limit set by a
    // tbb::global_control). Otherwise run in a private arena of that many threads.
    explicit tbb_backend(int threads = 0) {
        detail::require(threads >= 0, "tbb_backend: thread count ", threads,
                        " is negative; expected 0 (default) or a positive count");
        if (threads > 0) arena_ = std::make_shared<::tbb::task_arena>(threads);
    }

    [[nodiscard]] vector make_vector(std::size_t n) const { return vector(n, Real(0)); }
    static Real* data(vector& v) { return v.data(); }
    static const Real* data(const vector& v) { return v.data(); }

    template <class F>
    void for_each_index(std::size_t n, F f) const {
        run([&] {
            ::tbb::parallel_for(::tbb::blocked_range<std::size_t>(0, n, grain),
                                [&](const ::tbb::blocked_range<std::size_t>& r) {
                                    // A task-local copy: through a reference the compiler must
                                    // reload the captures every element and cannot vectorize.
                                    const F local = f;
                                    for (std::size_t i = r.begin(); i < r.end(); ++i) local(i);
                                });
        });
    }

    template <class F>
    void sum_segments(std::size_t segments, std::size_t length, F f, Real* out) const {
        const std::size_t seg_grain = std::max<std::size_t>(1, grain / std::max<std::size_t>(1, length));
        run([&] {
            ::tbb::parallel_for(::tbb::blocked_range<std::size_t>(0, segments, seg_grain),
                                [&](const ::tbb::blocked_range<std::size_t>& r) {
                                    const F local = f;
                                    for (std::size_t s = r.begin(); s < r.end(); ++s) {
                                        Real acc = 0;
                                        for (std::size_t j = 0; j < length; ++j) acc += local(s * length + j);
                                        out[s] = acc;
                                    }
                                });
        });
    }

    template <class F>
    [[nodiscard]] Real max_of(std::size_t n, F f) const {
        if (n == 0) return Real(0);
        Real result = f(0);
        run([&] {
            result = ::tbb::parallel_reduce(
                ::tbb::blocked_range<std::size_t>(0, n, grain), result,
                [&](const ::tbb::blocked_range<std::size_t>& r, Real best) {
                    for (std::size_t i = r.begin(); i < r.end(); ++i) best = std::max(best, f(i));
                    return best;
                },
                [](Real a, Real b) { return std::max(a, b); });
        });
        return result;
    }

    template <class P>
    [[nodiscard]] std::size_t find_first(std::size_t n, P pred) const {
        std::size_t result = n;
        run([&] {
            result = ::tbb::parallel_reduce(
                ::tbb::blocked_range<std::size_t>(0, n, grain), n,
                [&](const ::tbb::blocked_range<std::size_t>& r, std::size_t first) {
                    for (std::size_t i = r.begin(); i < r.end() && i < first; ++i)
                        if (pred(i)) return i;
                    return first;
                },
                [](std::size_t a, std::size_t b) { return std::min(a, b); });
        });
        return result;
    }

    void copy_from_host(std::span<const Real> host, vector& v) const {
        v.assign(host.begin(), host.end());
    }
    // Into caller-owned host memory of v.size() values (no allocation).
    void copy_to_host(const vector& v, std::span<Real> out) const { std::copy(v.begin(), v.end(), out.begin()); }
    [[nodiscard]] std::vector<Real> to_host(const vector& v) const { return v; }
    void copy(const vector& src, vector& dst) const { dst = src; }

private:
    // Below this many elements per task the scheduling overhead dominates.
    static constexpr std::size_t grain = 1024;

    template <class Body>
    void run(Body&& body) const {
        if (arena_)
            arena_->execute(body);
        else
            body();
    }

    std::shared_ptr<::tbb::task_arena> arena_;
};

}  // namespace sgm
