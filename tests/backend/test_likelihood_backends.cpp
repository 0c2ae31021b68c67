// The likelihood gives bit-identical numbers on every CPU backend and thread count
// (its reductions run sequentially inside each sample; RK45's max-norm does not
// depend on order), with the exact trace and with Hutchinson probes, and in
// chunks of any size; float agrees with double to float precision.
#include <catch2/catch.hpp>

#include <sgm/backend/thrust.hpp>
#include <sgm/sgm.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace {

sgm::gaussian_mixture<double> target() {
    return sgm::gaussian_mixture<double>({0.2, 0.5, 0.3}, {-2, 0, 1, 2, 1, 0, 0, -2, -1},
                                         {0.3, 0.1, 0, 0.1, 0.2, 0, 0, 0, 0.1,  //
                                          0.2, 0, 0, 0, 0.2, 0, 0, 0, 0.2,      //
                                          0.1, 0, 0, 0, 0.4, 0.05, 0, 0.05, 0.3});
}

template <class Real>
sgm::gaussian_mixture<Real> target_as() {
    const auto g = target();
    return {std::vector<Real>(g.weights().begin(), g.weights().end()),
            std::vector<Real>(g.means().begin(), g.means().end()),
            std::vector<Real>(g.covariances().begin(), g.covariances().end())};
}

// 300 points: enough rows for several TBB tasks.
template <class Real>
std::vector<Real> points() {
    std::vector<Real> x(300 * 3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = Real(2 * std::sin(0.77 * double(i) + 0.1));
    return x;
}

template <class Backend>
std::vector<double> log_p(sgm::divergence_estimator estimator, std::size_t max_values, const Backend& be = Backend{},
                          bool coupled = false, double tolerance = 1e-4) {
    using Real = typename Backend::value_type;
    const sgm::vp_sde<Real> sde;
    sgm::mixture_score<Backend, sgm::vp_sde<Real>> model(target_as<Real>(), sde, be);
    const auto p = points<Real>();
    const auto x = sgm::batch<Backend>::from_host(p, p.size() / 3, 3, be);
    sgm::likelihood_options o;
    o.divergence = estimator;
    o.probes = 3;
    o.seed = 5;
    o.rtol = o.atol = tolerance;
    o.max_values = max_values;
    o.coupled_step_control = coupled;
    auto r = sgm::log_likelihood(sde, model, x, o, be);
    std::vector<double> out = r.log_p;
    const auto z = r.latent.to_host(be);
    out.insert(out.end(), z.begin(), z.end());
    return out;
}

}  // namespace

TEST_CASE("log-likelihoods are bit-identical across CPU backends, threads and chunk sizes", "[likelihood]") {
    for (const auto estimator : {sgm::divergence_estimator::exact, sgm::divergence_estimator::rademacher}) {
        CAPTURE(int(estimator));
        const auto reference = log_p<sgm::serial_backend<double>>(estimator, 1 << 20);
        CHECK(log_p(estimator, 1 << 20, sgm::tbb_backend<double>(1)) == reference);
        CHECK(log_p(estimator, 1 << 20, sgm::tbb_backend<double>(2)) == reference);
        CHECK(log_p<sgm::thrust_backend<double, sgm::thrust_cpp>>(estimator, 1 << 20) == reference);
        CHECK(log_p<sgm::thrust_backend<double, sgm::thrust_tbb>>(estimator, 1 << 20) == reference);
        // Chunks of 7 rows (exact: whole samples, 3 rows) instead of one call.
        CHECK(log_p<sgm::serial_backend<double>>(estimator, 21) == reference);
        // One coupled solve for the whole batch: many rows per model call.
        const auto coupled = log_p(estimator, 1 << 20, sgm::serial_backend<double>{}, true);
        CHECK(log_p(estimator, 1 << 20, sgm::tbb_backend<double>(2), true) == coupled);
        CHECK(log_p(estimator, 1 << 20, sgm::thrust_backend<double, sgm::thrust_tbb>{}, true) == coupled);
        CHECK(log_p(estimator, 21, sgm::serial_backend<double>{}, true) == coupled);
    }
}

TEST_CASE("float log-likelihoods agree with double to float precision", "[likelihood]") {
    // A tight tolerance, so that the two solves' own errors stay below float rounding.
    const auto d = log_p(sgm::divergence_estimator::exact, 1 << 20, sgm::serial_backend<double>{}, false, 1e-6);
    const auto f = log_p(sgm::divergence_estimator::exact, 1 << 20, sgm::thrust_backend<float, sgm::thrust_tbb>{}, false, 1e-6);
    REQUIRE(f.size() == d.size());
    // Float rounding (6e-8 relative) accumulated over ~200 evaluations and the
    // different step sequences of the two solves; measured worst 2.1e-5.
    for (std::size_t i = 0; i < 300; ++i) {
        CAPTURE(i);
        CHECK(f[i] == Approx(d[i]).margin(2e-4 * (1 + std::abs(d[i]))));
    }
}
