#pragma once
// Shared pieces of the sampler benchmarks: the grid, the backends under test,
// the score model that does no work, and the counters every benchmark reports.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <sgm/sgm.hpp>

namespace sgm_bench {

// The grid of the issue: dimensions (2-D toy, MNIST, CIFAR-10) and batch sizes.
inline const std::vector<std::size_t> dims = {2, 784, 3072};
inline const std::vector<std::size_t> batches = {1, 256, 4096};

// Minimum measuring time: short, except for the states far larger than the cache
// where one call takes tens of milliseconds.
inline double min_time(std::size_t elements) { return elements >= (std::size_t(1) << 20) ? 0.25 : 0.05; }

// Reference bandwidth (bytes/s) for 1 or 2 threads; measured once at start-up.
double reference_bandwidth(int threads);

// ---- Backends under test ---------------------------------------------------
// make<Real>(threads) builds the backend; `parallel` says whether a thread count
// above one means anything for it. Every benchmark also runs inside a
// tbb::global_control limiting TBB to `threads`, which is how thrust_tbb's
// thread count is set.

struct serial_config {
    static constexpr const char* name = "serial";
    static constexpr bool parallel = false;
    template <class Real>
    static sgm::serial_backend<Real> make(int) { return {}; }
};

struct tbb_config {
    static constexpr const char* name = "tbb";
    static constexpr bool parallel = true;
    template <class Real>
    static sgm::tbb_backend<Real> make(int threads) { return sgm::tbb_backend<Real>(threads); }
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

// Wall time of the benchmark loop, excluding paused intervals; used to derive the
// plain-number counters (Google Benchmark's own rate counters print with units).
class loop_clock {
public:
    using clock = std::chrono::steady_clock;
    void start() { begin_ = clock::now(); }
    void pause() { pause_begin_ = clock::now(); }
    void resume() { paused_ += clock::now() - pause_begin_; }
    void stop() { end_ = clock::now(); }
    [[nodiscard]] double seconds() const { return std::chrono::duration<double>(end_ - begin_ - paused_).count(); }

private:
    clock::time_point begin_, end_, pause_begin_;
    clock::duration paused_{0};
};

// Counters: ns_per_elem (time per step / (B·D)), bytes_per_elem (the counted
// traffic, see docs/benchmarks.md), GBps (counted bytes / time) and x_bound =
// time per step / (counted bytes / reference bandwidth), the factor above the
// memory-traffic bound. bytes/s is also set for Google Benchmark's own column.
inline void report(benchmark::State& state, const loop_clock& clock, std::size_t elements,
                   double bytes_per_elem, int threads) {
    const double iterations = double(state.iterations());
    const double per_step = clock.seconds() / iterations;
    const double bytes = bytes_per_elem * double(elements);
    state.SetBytesProcessed(static_cast<int64_t>(bytes * iterations));
    state.counters["elems"] = double(elements);
    state.counters["ns_per_elem"] = per_step / double(elements) * 1e9;
    state.counters["bytes_per_elem"] = bytes_per_elem;
    state.counters["GBps"] = bytes / per_step * 1e-9;
    state.counters["x_bound"] = per_step / (bytes / reference_bandwidth(threads));
}

std::string bench_name(const std::string& what, const char* backend, const char* real, std::size_t dim,
                       std::size_t batch, int threads);

}  // namespace sgm_bench
