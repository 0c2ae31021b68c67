#include "memory_bandwidth.hpp"

#include <benchmark/benchmark.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "bench_support.hpp"

namespace sgm_bench {

namespace {

// 2^25 floats = 128 MiB per array, four times the 32 MiB L3 for a single array.
constexpr std::size_t default_elements = std::size_t(1) << 25;

struct arrays {
    explicit arrays(std::size_t n)
        : n(n), a(new float[n]), b(new float[n]), c(new float[n]) {}
    std::size_t n;
    std::unique_ptr<float[]> a, b, c;
};

// Runs body(begin, end) over [0, n) in `threads` equal static chunks.
template <class Body>
void split(tbb::task_arena& arena, std::size_t n, int threads, Body body) {
    arena.execute([&] {
        const std::size_t chunk = (n + threads - 1) / threads;
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, chunk),
                          [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); },
                          tbb::static_partitioner{});
    });
}

enum class kernel { copy, triad, update };

void run_kernel(tbb::task_arena& arena, arrays& m, kernel k, int threads) {
    float* a = m.a.get();
    float* b = m.b.get();
    float* c = m.c.get();
    const float q = 0.5f;
    split(arena, m.n, threads, [=](std::size_t lo, std::size_t hi) {
        switch (k) {
            case kernel::copy: for (std::size_t i = lo; i < hi; ++i) c[i] = a[i]; break;
            case kernel::triad: for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + q * c[i]; break;
            case kernel::update: for (std::size_t i = lo; i < hi; ++i) b[i] = b[i] + q * c[i]; break;
        }
    });
}

double bytes_per_elem(kernel k) { return k == kernel::copy ? 8.0 : 12.0; }

void initialize(tbb::task_arena& arena, arrays& m, int threads) {
    float* a = m.a.get();
    float* b = m.b.get();
    float* c = m.c.get();
    // Parallel first touch, as the kernels later split the arrays.
    split(arena, m.n, threads, [=](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) a[i] = 1.0f, b[i] = 2.0f, c[i] = 0.0f;
    });
}

double time_kernel(tbb::task_arena& arena, arrays& m, kernel k, int threads) {
    const auto start = std::chrono::steady_clock::now();
    run_kernel(arena, m, k, threads);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void bm_bandwidth(benchmark::State& state, kernel k, int threads) {
    tbb::task_arena arena(threads);
    arrays m(default_elements);
    initialize(arena, m, threads);
    for (auto _ : state) {
        run_kernel(arena, m, k, threads);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(bytes_per_elem(k) * double(m.n) * double(state.iterations())));
}

}  // namespace

double bandwidth::best() const { return std::max({copy, triad, update}); }

bandwidth measure_bandwidth(int threads, std::size_t elements, int repeats) {
    tbb::task_arena arena(threads);
    arrays m(elements ? elements : default_elements);
    initialize(arena, m, threads);
    bandwidth result;
    for (int r = 0; r < repeats; ++r) {
        for (kernel k : {kernel::copy, kernel::triad, kernel::update}) {
            const double rate = bytes_per_elem(k) * double(m.n) / time_kernel(arena, m, k, threads);
            double& slot = k == kernel::copy ? result.copy : k == kernel::triad ? result.triad : result.update;
            slot = std::max(slot, rate);
        }
    }
    return result;
}

void register_bandwidth_benchmarks() {
    for (int threads : {1, 2}) {
        for (kernel k : {kernel::copy, kernel::triad, kernel::update}) {
            const char* name = k == kernel::copy ? "copy" : k == kernel::triad ? "triad" : "update";
            benchmark::RegisterBenchmark(
                (std::string("bandwidth/") + name + "/threads:" + std::to_string(threads)).c_str(), &bm_bandwidth, k,
                threads)
                ->MinTime(0.3)
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
        }
    }
}

}  // namespace sgm_bench
