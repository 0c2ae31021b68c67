// Guidance, inpainting, colorization and interpolation give bit-identical
// results on every CPU backend (serial, oneTBB, Thrust CPP and TBB): their loops
// are per element and their noise is counter-based, so the backend only decides
// where the work runs.
#include <catch2/catch.hpp>

#include <sgm/backend/thrust.hpp>
#include <sgm/sgm.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace {

using Real = double;

// Three components in 6-D (two colour channels × three pixels, for colorization).
sgm::gaussian_mixture<Real> target() {
    std::vector<Real> means(18), covariances(3 * 36, 0.0);
    for (std::size_t i = 0; i < means.size(); ++i) means[i] = Real(1.5 * std::sin(1.3 * double(i) + 0.2));
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t i = 0; i < 6; ++i)
            for (std::size_t j = 0; j < 6; ++j)
                covariances[k * 36 + i * 6 + j] = (i == j ? 0.3 + 0.05 * double(k) : 0.0) + (i + 1 == j || j + 1 == i ? 0.05 : 0.0);
    return {{0.3, 0.3, 0.4}, means, covariances};
}

// Every technique once on backend B, all outputs concatenated.
template <class B>
std::vector<Real> run_all(const B& be = B{}) {
    const sgm::vp_sde<Real> sde(0.1, 20, 100);
    const auto data = target();
    sgm::mixture_score<B, sgm::vp_sde<Real>> model(data, sde, be), guide(data, sde, be);
    std::vector<Real> out;
    const auto append = [&](const sgm::batch<B>& x) {
        const auto h = x.to_host(be);
        out.insert(out.end(), h.begin(), h.end());
    };
    const std::size_t n = 40;
    sgm::pc_options pc;
    pc.count = n;
    pc.seed = 3;

    sgm::guided_score guided(model, guide, 2.0, be);
    std::vector<std::size_t> labels(n);
    for (std::size_t b = 0; b < n; ++b) labels[b] = b % 3;
    guided.set_labels(labels);
    append(sgm::pc_sample(sde, guided, sgm::reverse_diffusion{}, sgm::langevin(0.16), pc, be).samples);

    std::vector<Real> mask(n * 6), values(n * 6);
    for (std::size_t i = 0; i < mask.size(); ++i) {
        mask[i] = Real((i * 7) % 3 == 0);
        values[i] = Real(std::cos(double(i)));
    }
    const sgm::imputation_target<B> t(mask, values, n, 6, be);
    append(sgm::impute_pc(sde, model, sgm::euler_maruyama{}, sgm::annealed_langevin(0.1), t, pc, be).samples);
    sgm::ode_options ode;
    ode.seed = 4;
    ode.rtol = ode.atol = 1e-6;
    append(sgm::impute_ode(sde, model, t, ode, be).samples);

    std::vector<Real> gray(n * 3);
    for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = Real(0.5 * std::sin(double(i)));
    append(sgm::colorize_pc(sde, model, sgm::ancestral_sampling{}, sgm::no_corrector{}, gray, n, 2, pc, be).samples);

    const auto ends = data.sample(2, 9);
    const auto r = sgm::ode_interpolate(sde, model, std::span<const Real>(ends.data(), 6),
                                        std::span<const Real>(ends.data() + 6, 6), 4, ode, 0.9, be);
    append(r.frames);
    return out;
}

}  // namespace

TEST_CASE("controllable generation is bit-identical across CPU backends", "[backend][control]") {
    const auto reference = run_all<sgm::serial_backend<Real>>();
    REQUIRE(reference.size() == 40 * 6 * 4 + 4 * 6);
    for (const Real v : reference) REQUIRE(std::isfinite(v));
    CHECK(run_all<sgm::tbb_backend<Real>>() == reference);
    CHECK(run_all<sgm::thrust_backend<Real, sgm::thrust_cpp>>() == reference);
    CHECK(run_all<sgm::thrust_backend<Real, sgm::thrust_tbb>>() == reference);
}
