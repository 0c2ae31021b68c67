// sgm_bench_likelihood: the probability-flow log-likelihood (sgm::log_likelihood),
// exact trace against Hutchinson (one Rademacher probe), over dimension, batch size
// and RK45 tolerance. See docs/benchmarks_likelihood.md.
//
// Names: likelihood/<exact|hutchinson>/d:<D>/B:<B>/tol:<rtol = atol>, and
// rhs/<exact|hutchinson>/d:<D>/B:<B>: one evaluation of the augmented right-hand
// side, for the cases whose full solve is too long to time.
// Counters (plain values): NFE and steps of RK45; per_sample_ms and samples_per_s from
// our own wall clock; cpu_per_sample_ms, the process's CPU time (all threads, TBB's
// idle spinning included); max_err_nats, the largest |log p − exact log p_eps| of the
// batch, computed outside the timing; for rhs/, ms_per_eval.

#include <benchmark/benchmark.h>

#include <tbb/info.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <sgm/sgm.hpp>

namespace {

using Real = double;
using backend = sgm::tbb_backend<Real>;
using mixture = sgm::gaussian_mixture<Real>;
using sde_type = sgm::vp_sde<Real>;
using model_type = sgm::mixture_score<backend, sde_type>;
using clock_type = std::chrono::steady_clock;

// CPU seconds of the whole process, every thread included: on a machine shared with
// other work this grows less than the wall clock does.
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// d = 2: three components with full covariances.
mixture mixture_2d() {
    return mixture({0.45, 0.30, 0.25}, {-0.6, -0.4, 0.6, 0.5, 0.5, -0.6},
                   {0.05, 0.03, 0.03, 0.04, 0.03, -0.02, -0.02, 0.03, 0.06, 0.0, 0.0, 0.01});
}

// d = 784 (MNIST-sized): ten components with diagonal covariances; means uniform in
// [−1, 1] and standard deviations in [0.1, 0.3], from a fixed mt19937_64 stream
// (its output is fixed by the standard, so every platform builds the same mixture).
mixture mixture_diagonal(std::size_t d, std::size_t k) {
    std::mt19937_64 engine(20211123);
    const auto uniform = [&] { return double(engine() >> 11) * 0x1.0p-53; };
    std::vector<Real> weights(k, Real(1) / Real(k)), means(k * d), covariances(k * d * d, Real(0));
    for (std::size_t c = 0; c < k; ++c)
        for (std::size_t j = 0; j < d; ++j) {
            means[c * d + j] = 2 * uniform() - 1;
            const double sd = 0.1 + 0.2 * uniform();
            covariances[(c * d + j) * d + j] = sd * sd;
        }
    return mixture(std::move(weights), std::move(means), std::move(covariances));
}

const mixture& target(std::size_t d) {
    static const mixture small = mixture_2d();
    static const mixture large = mixture_diagonal(784, 10);
    return d == 2 ? small : large;
}

const char* estimator_name(sgm::divergence_estimator e) {
    return e == sgm::divergence_estimator::exact ? "exact" : "hutchinson";
}

// One full log_likelihood solve of B exact samples of the mixture per iteration.
void bm_likelihood(benchmark::State& state, std::size_t d, std::size_t b_count, sgm::divergence_estimator e,
                   double tol, bool coupled) {
    const backend be(0);  // TBB's default thread count
    const sde_type sde;
    model_type model(target(d), sde, be);
    const auto x = sgm::batch<backend>::from_host(target(d).sample(b_count, 1), b_count, d, be);
    sgm::likelihood_options o;
    o.divergence = e;
    o.probes = 1;
    o.rtol = o.atol = tol;
    o.seed = 3;
    o.coupled_step_control = coupled;
    double seconds = 0, cpu_seconds = 0;
    std::size_t nfe = 0, steps = 0;
    std::vector<double> log_p;
    for (auto _ : state) {
        const double cpu_start = process_cpu_seconds();
        const auto start = clock_type::now();
        auto result = sgm::log_likelihood(sde, model, x, o, be);
        seconds += std::chrono::duration<double>(clock_type::now() - start).count();
        cpu_seconds += process_cpu_seconds() - cpu_start;
        nfe = result.nfe;
        steps = result.steps;
        benchmark::DoNotOptimize(result.log_p.data());
        log_p = std::move(result.log_p);
    }
    // Accuracy, outside the timing: the largest |log p − exact log p_eps| over the batch
    // (solver error, prior mismatch, and for Hutchinson the probe noise).
    std::vector<Real> t(b_count, Real(o.eps)), truth(b_count);
    model.log_density(x.view(), t.data(), truth.data());  // tbb_backend memory is host memory
    double max_error = 0;
    for (std::size_t b = 0; b < b_count; ++b) max_error = std::max(max_error, std::abs(log_p[b] - truth[b]));
    const double iterations = double(state.iterations());
    state.counters["max_err_nats"] = max_error;
    // Per solve: per-sample mode sums over its B solves.
    const double solves = coupled ? 1.0 : double(b_count);
    state.counters["NFE"] = double(nfe) / solves;
    state.counters["steps"] = double(steps) / solves;
    state.counters["per_sample_ms"] = 1e3 * seconds / iterations / double(b_count);
    state.counters["samples_per_s"] = iterations * double(b_count) / seconds;
    state.counters["cpu_per_sample_ms"] = 1e3 * cpu_seconds / iterations / double(b_count);
}

// One evaluation of the augmented ODE's right-hand side (score, D or K Jacobian
// products per sample, divergence) at t = 0.5.
void bm_rhs(benchmark::State& state, std::size_t d, std::size_t b_count, sgm::divergence_estimator e) {
    const backend be(0);
    const sde_type sde;
    model_type model(target(d), sde, be);
    using flow_type = sgm::augmented_flow<backend, sde_type, model_type>;
    flow_type flow(be, sde, model,
                   flow_type::setup{b_count, d, e, 1, {3, 0}, 1, std::size_t(1) << 20, true, 0});
    const std::vector<Real> xs = target(d).sample(b_count, 1);
    auto y = be.make_vector(flow.state_size());
    std::copy(xs.begin(), xs.end(), y.begin());
    auto dy = be.make_vector(flow.state_size());
    double seconds = 0, cpu_seconds = 0;
    for (auto _ : state) {
        const double cpu_start = process_cpu_seconds();
        const auto start = clock_type::now();
        flow(y, dy, Real(0.5));
        seconds += std::chrono::duration<double>(clock_type::now() - start).count();
        cpu_seconds += process_cpu_seconds() - cpu_start;
        benchmark::DoNotOptimize(dy.data());
    }
    const double iterations = double(state.iterations());
    state.counters["ms_per_eval"] = 1e3 * seconds / iterations;
    state.counters["per_sample_ms"] = 1e3 * seconds / iterations / double(b_count);
    state.counters["cpu_per_sample_ms"] = 1e3 * cpu_seconds / iterations / double(b_count);
}

void register_all() {
    using sgm::divergence_estimator;
    for (const std::size_t d : {std::size_t(2), std::size_t(784)})
        for (const std::size_t b : {std::size_t(1), std::size_t(256)})
            for (const auto e : {divergence_estimator::exact, divergence_estimator::rademacher})
                for (const double tol : {1e-3, 1e-5}) {
                    const bool exact = e == divergence_estimator::exact;
                    // The exact trace at d = 784 costs 784 Jacobian products per sample and
                    // evaluation: a batch of 256 would take hours; its cost per sample is
                    // that of B = 1 (see rhs/ below and the docs).
                    if (exact && d == 784 && b == 256) continue;
                    // A batch is solved one sample at a time (the default) or as one
                    // coupled ODE; for B = 1 the two are the same.
                    for (const bool coupled : {false, true}) {
                        if (coupled && b == 1) continue;
                        const std::string name = std::string("likelihood/") + estimator_name(e) + "/d:" +
                                                 std::to_string(d) + "/B:" + std::to_string(b) +
                                                 (tol == 1e-3 ? "/tol:1e-3" : "/tol:1e-5") +
                                                 (b == 1 ? "" : coupled ? "/coupled" : "/per-sample");
                        auto* bm = benchmark::RegisterBenchmark(name.c_str(), bm_likelihood, d, b, e, tol, coupled);
                        bm->Unit(benchmark::kMillisecond)->UseRealTime();
                        // Solves of a second or more run once; shorter ones repeat for 1 s.
                        const bool long_solve = d == 784 && (exact || b == 256);
                        if (long_solve) bm->Iterations(1);
                        else bm->MinTime(1.0);
                    }
                }
    // One right-hand-side evaluation, including the exact trace at B = 256.
    for (const std::size_t b : {std::size_t(1), std::size_t(256)})
        for (const auto e : {divergence_estimator::exact, divergence_estimator::rademacher}) {
            const std::string name =
                std::string("rhs/") + estimator_name(e) + "/d:784/B:" + std::to_string(b);
            auto* bm = benchmark::RegisterBenchmark(name.c_str(), bm_rhs, std::size_t(784), b, e);
            bm->Unit(benchmark::kMillisecond)->UseRealTime();
            if (e == divergence_estimator::exact && b == 256) bm->Iterations(1);
            else bm->MinTime(1.0);
        }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::AddCustomContext("tbb_default_threads", std::to_string(tbb::info::default_concurrency()));
    benchmark::AddCustomContext("model", "mixture_score, VP SDE (beta 0.1 -> 20), double");
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
