#include "memory_bandwidth.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace sgm_bench {

namespace {

// 2^25 floats = 128 MiB per array; a slice of all three arrays (48 MiB) is still
// larger than the 32 MiB L3, and a pass (384 MiB) flushes it.
constexpr std::size_t elements = std::size_t(1) << 25;
constexpr std::size_t slices = 8;

enum class kernel { copy, triad, update };

// Runs body(begin, end) over [lo, hi) in `threads` equal static chunks.
template <class Body>
void split(tbb::task_arena& arena, std::size_t lo, std::size_t hi, int threads, Body body) {
    arena.execute([&] {
        const std::size_t chunk = (hi - lo + threads - 1) / threads;
        tbb::parallel_for(tbb::blocked_range<std::size_t>(lo, hi, chunk),
                          [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); },
                          tbb::static_partitioner{});
    });
}

}  // namespace

double bandwidth::best() const { return std::max({copy, triad, update}); }

bandwidth measure_bandwidth(int threads, int repeats) {
    tbb::task_arena arena(threads);
    const std::unique_ptr<float[]> pa(new float[elements]), pb(new float[elements]), pc(new float[elements]);
    float* a = pa.get();
    float* b = pb.get();
    float* c = pc.get();
    // Parallel first touch, split as the kernels split the arrays.
    for (std::size_t s = 0; s < slices; ++s)
        split(arena, s * elements / slices, (s + 1) * elements / slices, threads, [=](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i) a[i] = 1.0f, b[i] = 2.0f, c[i] = 0.0f;
        });
    bandwidth result;
    const float q = 0.5f;
    for (int r = 0; r < repeats; ++r) {
        for (kernel k : {kernel::copy, kernel::triad, kernel::update}) {
            double& slot = k == kernel::copy ? result.copy : k == kernel::triad ? result.triad : result.update;
            const double bytes_per_elem = k == kernel::copy ? 8.0 : 12.0;
            for (std::size_t s = 0; s < slices; ++s) {
                const std::size_t lo = s * elements / slices, hi = (s + 1) * elements / slices;
                const auto start = std::chrono::steady_clock::now();
                split(arena, lo, hi, threads, [=](std::size_t l, std::size_t h) {
                    switch (k) {
                        case kernel::copy: for (std::size_t i = l; i < h; ++i) c[i] = a[i]; break;
                        case kernel::triad: for (std::size_t i = l; i < h; ++i) a[i] = b[i] + q * c[i]; break;
                        case kernel::update: for (std::size_t i = l; i < h; ++i) b[i] = b[i] + q * c[i]; break;
                    }
                });
                const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                slot = std::max(slot, bytes_per_elem * double(hi - lo) / t);
            }
        }
    }
    return result;
}

}  // namespace sgm_bench
