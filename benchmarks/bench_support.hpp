#pragma once
// Shared pieces of the sampler benchmarks: the grid, the backends under test,
// the score model that does no work, and the counters every benchmark reports.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include <sgm/sgm.hpp>

namespace sgm_bench {

// The benchmark grid: dimensions (2-D toy, MNIST, CIFAR-10) and batch sizes.
inline const std::vector<std::size_t> dims = {2, 784, 3072};
inline const std::vector<std::size_t> batches = {1, 256, 4096};

// Minimum measuring time: short, except for the states far larger than the cache
// where one call takes tens of milliseconds.
inline double min_time(std::size_t elements) { return elements >= (std::size_t(1) << 20) ? 0.25 : 0.05; }

// Reference bandwidth (bytes/s) for 1 or 2 threads; measured once at start-up.
double reference_bandwidth(int threads);

// ---- Backends under test ---------------------------------------------------
// make<Real>(threads) builds the backend; `parallel` says whether a thread count
// above one means anything for it. Every benchmark runs inside a
// tbb::global_control limiting TBB to `threads`: that is how the TBB-based
// backends get their thread count.

struct serial_config {
    static constexpr const char* name = "serial";
    static constexpr bool parallel = false;
    template <class Real>
    static sgm::serial_backend<Real> make(int) { return {}; }
};

// tbb_backend on TBB's default arena, its thread count set by the global_control.
// (A private arena, tbb_backend(threads), was not used: on this 2-core machine
// TBB has a single worker thread, and once the default arena or a global_control
// had been used in the process, a new private arena of 2 got no worker and ran
// on the calling thread alone; see docs/benchmarks.md.)
struct tbb_config {
    static constexpr const char* name = "tbb";
    static constexpr bool parallel = true;
    template <class Real>
    static sgm::tbb_backend<Real> make(int) { return sgm::tbb_backend<Real>(0); }
};

template <class Real>
inline const char* real_name() {
    return sizeof(Real) == 4 ? "float" : "double";
}

// ---- Score models ----------------------------------------------------------

// A score model that does no work in the timed loop: on the first call with a
// given output buffer it writes s = −x (the score of N(0, I), so the Langevin
// norms are realistic); later calls with the same buffer return at once and
// leave those values in place. The samplers reuse their score buffer, so every
// timed step sees a valid score at zero cost.
template <class Backend>
class frozen_score {
public:
    using backend_type = Backend;
    using value_type = typename Backend::value_type;
    using Real = value_type;

    frozen_score(std::size_t dim, Backend be) : dim_(dim), be_(std::move(be)) {}
    [[nodiscard]] std::size_t dim() const { return dim_; }

    void score(sgm::batch_view<const Real> x, const Real*, sgm::batch_view<Real> out) {
        if (out.data == last_) return;
        last_ = out.data;
        const Real* xs = x.data;
        Real* o = out.data;
        be_.for_each_index(x.count(), [=] SGM_HOST_DEVICE(std::size_t i) { o[i] = -xs[i]; });
    }

private:
    std::size_t dim_;
    Backend be_;
    const Real* last_ = nullptr;
};

// ---- Timing and counters ---------------------------------------------------

// State blow-up guard: with the score excluded nothing pulls x back, so every
// this many steps the state is restored (untimed) to keep values finite.
inline constexpr std::size_t reset_interval = 4096;

// The thread's own CPU time: on a shared machine it excludes the time another
// process held the core (for 1-thread runs, where all work is on this thread).
inline double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct step_time {
    double wall = 0;  // seconds per call, fastest group
    double cpu = 0;   // this thread's CPU seconds per call, fastest group
};

// Runs `step` in the benchmark loop and returns the time per call. Calls are
// timed in groups of at least ~0.2 ms and the fastest group counts, as STREAM
// reports its best pass: on a shared machine this drops the groups during
// which another process held the core. Google Benchmark's own Time column stays
// the plain mean. `restore` runs untimed every reset_interval calls when
// `restores` is set.
template <class Step, class Restore>
step_time timed_loop(benchmark::State& state, Step&& step, Restore&& restore, bool restores) {
    using clock = std::chrono::steady_clock;
    const auto seconds = [](clock::duration d) { return std::chrono::duration<double>(d).count(); };
    auto start = clock::now();
    step();  // warm-up, and an estimate of one call
    const double one = std::max(seconds(clock::now() - start), 1e-9);
    restore();
    std::size_t group = static_cast<std::size_t>(std::ceil(2e-4 / one));
    group = std::clamp<std::size_t>(group, 1, reset_interval);
    constexpr double none = std::numeric_limits<double>::infinity();
    step_time best{none, none};
    std::size_t in_group = 0, since_reset = 0;
    double cpu_start = thread_cpu_seconds();
    start = clock::now();
    for (auto _ : state) {
        step();
        if (++in_group < group) continue;
        best.wall = std::min(best.wall, seconds(clock::now() - start) / double(group));
        best.cpu = std::min(best.cpu, (thread_cpu_seconds() - cpu_start) / double(group));
        in_group = 0;
        if (restores && (since_reset += group) >= reset_interval) {
            state.PauseTiming();
            restore();
            since_reset = 0;
            state.ResumeTiming();
        }
        cpu_start = thread_cpu_seconds();
        start = clock::now();
    }
    if (in_group > 0 && best.wall == none) {
        best.wall = seconds(clock::now() - start) / double(in_group);
        best.cpu = (thread_cpu_seconds() - cpu_start) / double(in_group);
    }
    return best;
}

// Counters, from the best time per step: best_us, ns_per_elem (per value of the
// B×D state), bytes_per_elem (the counted traffic, see docs/benchmarks.md), GBps
// (counted bytes / time) and x_bound = time / (counted bytes / reference
// bandwidth), the factor above the memory-traffic bound. The cpu_ variants use
// this thread's CPU time instead of wall time: for 1 thread they are what the
// wall time would be on an idle machine; for 2 threads they count the calling
// thread only and are not a step time.
inline void report(benchmark::State& state, step_time t, std::size_t elements, double bytes_per_elem,
                   int threads) {
    const double bytes = bytes_per_elem * double(elements);
    state.counters["elems"] = double(elements);
    state.counters["bytes_per_elem"] = bytes_per_elem;
    state.counters["best_us"] = t.wall * 1e6;
    state.counters["cpu_best_us"] = t.cpu * 1e6;
    state.counters["ns_per_elem"] = t.wall / double(elements) * 1e9;
    state.counters["cpu_ns_per_elem"] = t.cpu / double(elements) * 1e9;
    if (bytes > 0) {
        const double bound = bytes / reference_bandwidth(threads);
        state.counters["GBps"] = bytes / t.wall * 1e-9;
        state.counters["x_bound"] = t.wall / bound;
        state.counters["cpu_x_bound"] = t.cpu / bound;
    }
}

std::string bench_name(const std::string& what, const char* backend, const char* real, std::size_t dim,
                       std::size_t batch, int threads);

}  // namespace sgm_bench
