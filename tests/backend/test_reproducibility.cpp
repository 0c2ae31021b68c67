// The same seed gives the same samples whatever the backend, the thread count,
// the batch size and the sample's position in its batch.
//
// Per-sample reductions run sequentially inside each sample on every backend, so
// the PC samplers and the fixed-step ODE are bit-identical across all of them.
// The adaptive RK45 controls its step over the whole batch: identical across
// backends and threads (its max-norm does not depend on summation order), but it
// depends on which samples share the batch, by design.
#include <catch2/catch.hpp>

#include <sgm/backend/thrust.hpp>
#include <sgm/sgm.hpp>

#include <tbb/global_control.h>

#include <cstdint>
#include <vector>

namespace {

using Real = double;

sgm::gaussian_mixture<Real> target() {
    // Three components in 3-D, one with a full covariance.
    return sgm::gaussian_mixture<Real>({0.2, 0.5, 0.3}, {-2, 0, 1, 2, 1, 0, 0, -2, -1},
                                       {0.3, 0.1, 0, 0.1, 0.2, 0, 0, 0, 0.1,  //
                                        0.2, 0, 0, 0, 0.2, 0, 0, 0, 0.2,      //
                                        0.1, 0, 0, 0, 0.4, 0.05, 0, 0.05, 0.3});
}

enum class method { em_langevin, reverse_diffusion_annealed, ancestral, ode_heun, ode_rk45 };

// Draws `count` samples starting at global index `first` on backend `be`.
template <class Backend>
std::vector<Real> draw(method m, std::size_t count, std::uint64_t first, const Backend& be = Backend{}) {
    const sgm::vp_sde<Real> sde(0.1, 20, 60);
    sgm::mixture_score<Backend, sgm::vp_sde<Real>> model(target(), sde, be);
    sgm::pc_options pc;
    pc.count = count;
    pc.seed = 1234;
    pc.first_sample = first;
    sgm::ode_options ode;
    ode.count = count;
    ode.seed = 1234;
    ode.first_sample = first;
    ode.steps = 40;
    ode.rtol = ode.atol = 1e-4;
    switch (m) {
        case method::em_langevin:
            return sgm::pc_sample(sde, model, sgm::euler_maruyama{}, sgm::langevin(0.16, 2), pc, be).samples.to_host(be);
        case method::reverse_diffusion_annealed:
            return sgm::pc_sample(sde, model, sgm::reverse_diffusion{}, sgm::annealed_langevin(0.1), pc, be)
                .samples.to_host(be);
        case method::ancestral:
            return sgm::pc_sample(sde, model, sgm::ancestral_sampling{}, sgm::no_corrector{}, pc, be).samples.to_host(be);
        case method::ode_heun:
            ode.method = sgm::ode_method::heun;
            return sgm::ode_sample(sde, model, ode, be).samples.to_host(be);
        case method::ode_rk45:
            return sgm::ode_sample(sde, model, ode, be).samples.to_host(be);
    }
    return {};
}

const auto all_methods = {method::em_langevin, method::reverse_diffusion_annealed, method::ancestral,
                          method::ode_heun, method::ode_rk45};

}  // namespace

// Large enough that the parallel backends split every loop (TBB's grain is 1024
// elements) and the threads really interleave.
constexpr std::size_t parallel_count = 1500;

TEST_CASE("samples are bit-identical across backends", "[backend][reproducibility]") {
    for (const method m : all_methods) {
        CAPTURE(int(m));
        const auto reference = draw<sgm::serial_backend<Real>>(m, parallel_count, 0);
        REQUIRE(reference.size() == parallel_count * 3);
        REQUIRE(draw<sgm::tbb_backend<Real>>(m, parallel_count, 0) == reference);
        REQUIRE(draw<sgm::thrust_backend<Real, sgm::thrust_cpp>>(m, parallel_count, 0) == reference);
        REQUIRE(draw<sgm::thrust_backend<Real, sgm::thrust_tbb>>(m, parallel_count, 0) == reference);
    }
}

TEST_CASE("samples are bit-identical for 1 and 2 threads", "[backend][reproducibility]") {
    for (const method m : all_methods) {
        CAPTURE(int(m));
        std::vector<Real> one, two;
        {
            tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
            one = draw<sgm::tbb_backend<Real>>(m, parallel_count, 0);
        }
        {
            tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
            two = draw<sgm::tbb_backend<Real>>(m, parallel_count, 0);
        }
        REQUIRE(one == two);
        REQUIRE(draw<sgm::tbb_backend<Real>>(m, parallel_count, 0, sgm::tbb_backend<Real>(1)) == one);
        REQUIRE(draw<sgm::tbb_backend<Real>>(m, parallel_count, 0, sgm::tbb_backend<Real>(2)) == one);
    }
}

TEST_CASE("a sample does not depend on its batch size or position", "[backend][reproducibility]") {
    const std::size_t dim = 3, total = 64;
    for (const method m : {method::em_langevin, method::reverse_diffusion_annealed, method::ancestral,
                           method::ode_heun}) {
        CAPTURE(int(m));
        const auto whole = draw<sgm::tbb_backend<Real>>(m, total, 0);
        for (const std::size_t batch : {std::size_t(1), std::size_t(7)}) {
            CAPTURE(batch);
            std::vector<Real> pieced;
            for (std::size_t first = 0; first < total; first += batch) {
                const auto part = draw<sgm::tbb_backend<Real>>(m, std::min(batch, total - first), first);
                pieced.insert(pieced.end(), part.begin(), part.end());
            }
            REQUIRE(pieced.size() == total * dim);
            REQUIRE(pieced == whole);
        }
        // Global index 10 drawn alone equals position 10 of the batch.
        const auto alone = draw<sgm::serial_backend<Real>>(m, 1, 10);
        REQUIRE(std::vector<Real>(whole.begin() + 10 * dim, whole.begin() + 11 * dim) == alone);
    }
}

TEST_CASE("batch-averaged Langevin norms couple the samples only when asked", "[backend][reproducibility]") {
    using backend = sgm::serial_backend<Real>;
    const sgm::vp_sde<Real> sde(0.1, 20, 30);
    sgm::mixture_score<backend, sgm::vp_sde<Real>> model(target(), sde);
    const auto run = [&](bool averaged, std::size_t count, std::uint64_t first) {
        sgm::pc_options o;
        o.count = count;
        o.first_sample = first;
        o.seed = 9;
        return sgm::pc_sample(sde, model, sgm::reverse_diffusion{}, sgm::langevin(0.16, 1, averaged), o, backend{})
            .samples.to_host();
    };
    const auto per_sample = run(false, 8, 0);
    const auto per_sample_tail = run(false, 4, 4);
    REQUIRE(std::vector<Real>(per_sample.begin() + 12, per_sample.end()) == per_sample_tail);
    const auto averaged = run(true, 8, 0);
    const auto averaged_tail = run(true, 4, 4);
    REQUIRE(std::vector<Real>(averaged.begin() + 12, averaged.end()) != averaged_tail);
}

TEST_CASE("float samples agree across backends", "[backend][reproducibility]") {
    using F = float;
    const sgm::ve_sde<F> sde(0.01f, 5.0f, 50);
    const auto mixture = sgm::gaussian_mixture<F>({0.5f, 0.5f}, {-1, 1, 1, -1}, {0.1f, 0, 0, 0.1f, 0.1f, 0, 0, 0.1f});
    const auto run = [&](auto be) {
        using B = decltype(be);
        sgm::mixture_score<B, sgm::ve_sde<F>> model(mixture, sde, be);
        sgm::pc_options o;
        o.count = 700;
        o.eps = 1e-5;
        return sgm::pc_sample(sde, model, sgm::reverse_diffusion{}, sgm::langevin(0.16, 1, false), o, be)
            .samples.to_host(be);
    };
    const auto reference = run(sgm::serial_backend<F>{});
    REQUIRE(run(sgm::tbb_backend<F>{}) == reference);
    REQUIRE(run(sgm::thrust_backend<F, sgm::thrust_tbb>{}) == reference);
}
