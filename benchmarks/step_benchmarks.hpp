#pragma once
// One sampler step, timed through a sampling_context built once, for any backend
// configuration: predictors, the Langevin corrector, the probability-flow RHS,
// and the pieces a step is made of (noise, update loop, finiteness check, norms).

#include <tbb/global_control.h>

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_support.hpp"

namespace sgm_bench {

enum class step_kind { euler_maruyama, reverse_diffusion, langevin, pf_ode };
enum class piece_kind { noise, update, check, norms, score_call };
enum class score_kind { excluded, included };

inline const char* name_of(step_kind k) {
    switch (k) {
        case step_kind::euler_maruyama: return "em";
        case step_kind::reverse_diffusion: return "rd";
        case step_kind::langevin: return "langevin";
        case step_kind::pf_ode: return "pf_ode";
    }
    return "?";
}
inline const char* name_of(piece_kind k) {
    switch (k) {
        case piece_kind::noise: return "noise";
        case piece_kind::update: return "update";
        case piece_kind::check: return "check";
        case piece_kind::norms: return "norms";
        case piece_kind::score_call: return "score_call";
    }
    return "?";
}
inline const char* name_of(score_kind k) { return k == score_kind::excluded ? "excluded" : "included"; }

// Bytes per element a step must move, in units of sizeof(Real) (see docs/benchmarks.md):
// predictors, Langevin and the ODE RHS read x and s and write one state-sized
// array; noise can be generated in registers. With the score included, the
// score model must at least read x and write s.
inline double words_per_elem(step_kind, score_kind score) { return score == score_kind::included ? 5 : 3; }
inline double words_per_elem(piece_kind piece) {
    switch (piece) {
        case piece_kind::noise: return 1;   // write z
        case piece_kind::update: return 4;  // read x, s, z; write x
        case piece_kind::check: return 1;   // read x
        case piece_kind::norms: return 1;   // read s
        case piece_kind::score_call: return 0;
    }
    return 0;
}

// The step benchmarks use the VP SDE (DDPM-style image models) in mid-trajectory.
template <class Real>
inline sgm::step_info<Real> mid_step() {
    return {Real(0.5), Real(1e-3), 500, 499};
}

template <class Model, class Backend, class SDE>
Model make_model(const SDE& sde, std::size_t dim, const Backend& be) {
    using Real = typename Backend::value_type;
    if constexpr (std::is_same_v<Model, frozen_score<Backend>>) {
        return Model(dim, be);
    } else {
        auto mixture = sgm::gaussian_mixture<Real>::diagonal_gaussian(std::vector<Real>(dim, Real(0.5)),
                                                                      std::vector<Real>(dim, Real(0.25)));
        return Model(mixture, sde, be);
    }
}

template <class Config, class Real, score_kind Score>
void bm_step(benchmark::State& state, step_kind kind, std::size_t dim, std::size_t size, int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
    const auto be = Config::template make<Real>(threads);
    using Backend = std::remove_const_t<decltype(be)>;
    using SDE = sgm::vp_sde<Real>;
    using Model = std::conditional_t<Score == score_kind::excluded, frozen_score<Backend>,
                                     sgm::mixture_score<Backend, SDE>>;
    const SDE sde;
    Model model = make_model<Model>(sde, dim, be);
    auto x = sgm::sample_prior(sde, size, dim, sgm::random::noise_key{7, 0}, be);
    const auto saved = x.values();
    sgm::sampling_context<Backend, SDE, Model> ctx(be, sde, model, x, sgm::random::noise_key{7, 0});
    std::optional<sgm::probability_flow<Backend, SDE, Model>> flow;
    auto dxdt = be.make_vector(kind == step_kind::pf_ode ? size * dim : 0);
    if (kind == step_kind::pf_ode) flow.emplace(be, sde, model, size, dim, true);

    const auto step = mid_step<Real>();
    const sgm::euler_maruyama em;
    const sgm::reverse_diffusion rd;
    const sgm::langevin corrector(0.16, 1, false);
    const auto run = [&] {
        switch (kind) {
            case step_kind::euler_maruyama: em.predict(ctx, step); break;
            case step_kind::reverse_diffusion: rd.predict(ctx, step); break;
            case step_kind::langevin: corrector.correct(ctx, step); break;
            case step_kind::pf_ode: (*flow)(x.values(), dxdt, step.t); break;
        }
    };
    const auto restore = [&] { be.copy(saved, x.values()); };
    const step_time per_step = timed_loop(state, run, restore, kind != step_kind::pf_ode);
    benchmark::DoNotOptimize(x.data());
    report(state, per_step, size * dim, words_per_elem(kind, Score) * sizeof(Real), threads);
}

// The pieces of a step, with the score excluded.
template <class Config, class Real>
void bm_piece(benchmark::State& state, piece_kind piece, std::size_t dim, std::size_t size, int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
    const auto be = Config::template make<Real>(threads);
    using Backend = std::remove_const_t<decltype(be)>;
    using SDE = sgm::vp_sde<Real>;
    using Model = frozen_score<Backend>;
    const SDE sde;
    Model model(dim, be);
    auto x = sgm::sample_prior(sde, size, dim, sgm::random::noise_key{7, 0}, be);
    const auto saved = x.values();
    sgm::sampling_context<Backend, SDE, Model> ctx(be, sde, model, x, sgm::random::noise_key{7, 0});
    const auto step = mid_step<Real>();
    const Real* s = ctx.score(step.t);
    const Real* z = ctx.noise();
    Real* xs = x.data();
    const std::size_t n = size * dim;

    // The Euler–Maruyama update loop exactly as the predictor writes it, on a noise
    // buffer filled beforehand.
    const sgm::reverse_time rev{sde};
    const Real t = step.t, dt = step.dt;
    const Real noise_scale = rev.diffusion(t) * std::sqrt(dt);
    const auto update = [=] SGM_HOST_DEVICE(std::size_t i) {
        xs[i] = xs[i] - rev.sde_drift(xs[i], s[i], t) * dt + noise_scale * z[i];
    };
    const auto run = [&] {
        switch (piece) {
            case piece_kind::noise: benchmark::DoNotOptimize(ctx.noise()); break;
            case piece_kind::update: be.for_each_index(n, update); break;
            case piece_kind::check: ctx.check_state(step.index, step.t); break;
            case piece_kind::norms: ctx.sample_norms(s, ctx.scratch_a(), false); break;
            case piece_kind::score_call: benchmark::DoNotOptimize(ctx.score(step.t)); break;
        }
    };
    const auto restore = [&] { be.copy(saved, x.values()); };
    const step_time per_step = timed_loop(state, run, restore, piece == piece_kind::update);
    benchmark::DoNotOptimize(x.data());
    report(state, per_step, n, words_per_elem(piece) * sizeof(Real), threads);
}

struct grid {
    std::vector<step_kind> steps;
    std::vector<piece_kind> pieces;
    std::vector<score_kind> scores;
    std::vector<std::size_t> dims, batches;
};

template <class Config, class Real>
void register_backend(const grid& g) {
    const std::vector<int> thread_counts = Config::parallel ? std::vector<int>{1, 2} : std::vector<int>{1};
    const char* real = real_name<Real>();
    for (const int threads : thread_counts) {
        for (const std::size_t d : g.dims) {
            for (const std::size_t b : g.batches) {
                const double time = min_time(d * b);
                for (const step_kind kind : g.steps) {
                    for (const score_kind score : g.scores) {
                        const std::string what = std::string(name_of(kind)) + "/" + name_of(score);
                        auto* fn = score == score_kind::excluded ? &bm_step<Config, Real, score_kind::excluded>
                                                                 : &bm_step<Config, Real, score_kind::included>;
                        benchmark::RegisterBenchmark(bench_name(what, Config::name, real, d, b, threads).c_str(), fn,
                                                     kind, d, b, threads)
                            ->MinTime(time)
                            ->UseRealTime()
                            ->Unit(benchmark::kMicrosecond);
                    }
                }
                for (const piece_kind piece : g.pieces) {
                    const std::string what = std::string("piece/") + name_of(piece);
                    benchmark::RegisterBenchmark(bench_name(what, Config::name, real, d, b, threads).c_str(),
                                                 &bm_piece<Config, Real>, piece, d, b, threads)
                        ->MinTime(time)
                        ->UseRealTime()
                        ->Unit(benchmark::kMicrosecond);
                }
            }
        }
    }
}

// The full float grid, and a smaller double grid (Euler–Maruyama and noise).
inline grid float_grid() {
    return {{step_kind::euler_maruyama, step_kind::reverse_diffusion, step_kind::langevin, step_kind::pf_ode},
            {piece_kind::noise, piece_kind::update, piece_kind::check, piece_kind::norms, piece_kind::score_call},
            {score_kind::excluded, score_kind::included},
            dims,
            batches};
}
inline grid double_grid() {
    return {{step_kind::euler_maruyama}, {piece_kind::noise}, {score_kind::excluded, score_kind::included},
            {784, 3072}, {256, 4096}};
}

}  // namespace sgm_bench
