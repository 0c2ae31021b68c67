// controllable_2d — steering one unconditional score model at sampling time:
// classifier guidance, inpainting and interpolation on 2-D Gaussians, where the
// right answers are known in closed form and printed next to the results.
//
// usage: controllable_2d [--count N]

#include <sgm/sgm.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>
#include <vector>

namespace {

using Real = double;
using backend = sgm::tbb_backend<Real>;
using sde_type = sgm::vp_sde<Real>;
using exact_score = sgm::mixture_score<backend, sde_type>;

struct summary {
    Real mean[2] = {0, 0}, var[2] = {0, 0};
};

summary moments(const std::vector<Real>& xy) {
    summary s;
    const std::size_t n = xy.size() / 2;
    for (std::size_t b = 0; b < n; ++b)
        for (int j = 0; j < 2; ++j) s.mean[j] += xy[2 * b + std::size_t(j)] / Real(n);
    for (std::size_t b = 0; b < n; ++b)
        for (int j = 0; j < 2; ++j) {
            const Real d = xy[2 * b + std::size_t(j)] - s.mean[j];
            s.var[j] += d * d / Real(n - 1);
        }
    return s;
}

// 1. Guidance: a three-component mixture whose class is the component. At scale 1
//    the guided score is exactly the requested component's score.
void guidance(std::size_t count) {
    const sgm::gaussian_mixture<Real> data({0.5, 0.3, 0.2}, {-3, 0, 3, 0, 0, 4},
                                           {0.5, 0.2, 0.2, 0.4, 0.3, 0, 0, 0.3, 0.4, -0.1, -0.1, 0.2});
    const sde_type sde;
    exact_score model(data, sde), classes(data, sde);  // the mixture is its own exact classifier
    sgm::guided_score guided(model, classes, 1.0);
    std::printf("1. classifier guidance, %zu samples per class (PC: reverse diffusion + Langevin)\n", count);
    for (std::size_t y = 0; y < 3; ++y) {
        guided.set_label(y, count);
        sgm::pc_options o;
        o.count = count;
        o.seed = 10 + y;
        const auto xy = sgm::pc_sample(sde, guided, sgm::reverse_diffusion{}, sgm::langevin(0.08, 1, true), o,
                                       backend{}).samples.to_host();
        const auto s = moments(xy);
        std::printf("   class %zu: sample mean (%6.3f, %6.3f), component mean (%4.1f, %4.1f)\n", y, s.mean[0],
                    s.mean[1], data.means()[2 * y], data.means()[2 * y + 1]);
    }
}

// 2. Inpainting: x0 observed, x1 sampled. Independent coordinates: exact. Correlated
//    ones: the replacement method is biased (docs/inpainting.md), the ODE variant too.
void inpainting(std::size_t count) {
    const sde_type sde;
    std::printf("2. inpainting x1 given x0 = 1.5, %zu samples\n", count);
    for (const Real rho : {0.0, 0.8}) {
        const auto data = sgm::gaussian_mixture<Real>::gaussian({0, 0}, {1, rho, rho, 1});
        exact_score model(data, sde);
        const std::vector<Real> mask{1, 0};
        std::vector<Real> values(2 * count, 0);
        for (std::size_t b = 0; b < count; ++b) values[2 * b] = 1.5;
        const auto target = sgm::imputation_target<backend>::shared_mask(mask, values, count, 2);
        sgm::pc_options o;
        o.seed = 3;
        const auto pc = moments(sgm::impute_pc(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{}, target, o,
                                               backend{}).samples.to_host());
        const auto ode = moments(sgm::impute_ode(sde, model, target, sgm::ode_options{}, backend{}).samples.to_host());
        std::printf("   correlation %.1f: exact mean %.3f var %.3f | PC mean %.3f var %.3f | ODE mean %.3f var %.3f\n", rho,
                    rho * 1.5, 1 - rho * rho, pc.mean[1], pc.var[1], ode.mean[1], ode.var[1]);
    }
}

// 3. Interpolation: encode two points with the probability-flow ODE, slerp, decode.
void interpolation() {
    const auto data = sgm::gaussian_mixture<Real>::gaussian({0, 0}, {1, 0.3, 0.3, 0.5});
    const sde_type sde;
    exact_score model(data, sde);
    const std::vector<Real> a{1.0, -0.5}, b{-1.2, 0.8};
    sgm::ode_options o;
    o.rtol = o.atol = 1e-8;
    const auto r = sgm::ode_interpolate(sde, model, std::span<const Real>(a), std::span<const Real>(b), 5, o, 1.0,
                                        backend{});
    const auto f = r.frames.to_host();
    std::printf("3. ODE interpolation from (1.0, -0.5) to (-1.2, 0.8), %zu score evaluations:\n  ", r.nfe);
    for (std::size_t i = 0; i < 5; ++i) std::printf(" (%.4f, %.4f)", f[2 * i], f[2 * i + 1]);
    std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::size_t count = 2000;
        if (argc == 3 && std::string(argv[1]) == "--count") count = std::stoul(argv[2]);
        else if (argc != 1) {
            std::fprintf(stderr, "usage: controllable_2d [--count N]\n");
            return 2;
        }
        guidance(count);
        inpainting(count);
        interpolation();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "controllable_2d: %s\n", e.what());
        return 1;
    }
}
