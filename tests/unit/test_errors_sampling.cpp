// Samplers reject bad options and report non-finite values with the step, the
// time and the sample's global index.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <sgm/sgm.hpp>

using Catch::Contains;

namespace {

using serial = sgm::serial_backend<double>;
using ve = sgm::ve_sde<double>;

sgm::gaussian_mixture<double> two_d() {
    return sgm::gaussian_mixture<double>::diagonal_gaussian({0.5, -0.5}, {1.0, 0.5});
}

// The exact score, except that the sample at batch position `bad` gets a NaN
// coordinate once t drops below `threshold`.
template <class Backend, class SDE>
class nan_after {
public:
    using backend_type = Backend;
    using value_type = typename Backend::value_type;

    nan_after(const SDE& sde, std::size_t bad, double threshold, Backend be = Backend{})
        : inner_(two_d(), sde, be), bad_(bad), threshold_(threshold) {}

    std::size_t dim() const { return inner_.dim(); }
    void score(sgm::batch_view<const value_type> x, const value_type* t, sgm::batch_view<value_type> out) {
        inner_.score(x, t, out);
        if (bad_ < x.size && t[bad_] < threshold_)
            out.data[bad_ * out.dim + 1] = std::numeric_limits<value_type>::quiet_NaN();
    }

private:
    sgm::mixture_score<Backend, SDE> inner_;
    std::size_t bad_;
    double threshold_;
};

static_assert(sgm::score_model<nan_after<serial, ve>>);

// First step i of the PC sampler, whose times are t_i = T − (T − eps) i / (N − 1),
// that evaluates the score below the threshold.
std::size_t first_step_below(double threshold, double T, double eps, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (T - (T - eps) * double(i) / double(n - 1) < threshold) return i;
    return n;
}

}  // namespace

TEST_CASE("pc_sample rejects eps outside (0 T) and count 0 and mismatched dims", "[errors][sampling]") {
    const ve sde(0.01, 50, 20);
    sgm::mixture_score<serial, ve> model(two_d(), sde);
    const auto run = [&](double eps, std::size_t count = 4) {
        sgm::pc_options o;
        o.eps = eps;
        o.count = count;
        return sgm::pc_sample(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, o, serial{});
    };
    REQUIRE_THROWS_AS(run(0.0), sgm::error);
    REQUIRE_THROWS_WITH(run(0.0), Contains("eps = 0") && Contains("(0, T)"));
    REQUIRE_THROWS_WITH(run(1.0), Contains("eps = 1 must lie in (0, T) = (0, 1)"));
    REQUIRE_THROWS_WITH(run(-0.001), Contains("eps = -0.001"));
    REQUIRE_THROWS_WITH(run(2.5), Contains("eps = 2.5"));
    REQUIRE_THROWS_WITH(run(std::numeric_limits<double>::quiet_NaN()), Contains("eps = nan"));
    REQUIRE_THROWS_WITH(run(1e-3, 0), Contains("count = 0"));
    REQUIRE_NOTHROW(run(1e-3));

    // A state of dim 3 for a model of dim 2.
    auto x = sgm::batch<serial>(4, 3);
    sgm::pc_options o;
    REQUIRE_THROWS_AS(sgm::pc_sample_from(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, x, o), sgm::error);
    REQUIRE_THROWS_WITH(sgm::pc_sample_from(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, x, o),
                        Contains("expects dim 2") && Contains("has dim 3"));
}

TEST_CASE("ode_sample rejects bad eps and tolerances and step counts and mismatched dims", "[errors][sampling]") {
    const sgm::vp_sde<double> sde(0.1, 20, 100, 2.0);
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(two_d(), sde);
    const auto run = [&](sgm::ode_options o) { return sgm::ode_sample(sde, model, o, serial{}); };
    const auto with = [](auto change) {
        sgm::ode_options o;
        o.count = 3;
        change(o);
        return o;
    };
    REQUIRE_THROWS_AS(run(with([](auto& o) { o.eps = 0; })), sgm::error);
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.eps = 0; })), Contains("eps = 0") && Contains("(0, 2)"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.eps = 2; })), Contains("eps = 2 must lie in (0, T)"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.eps = -1e-3; })), Contains("eps = -0.001"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.rtol = 0; })), Contains("rtol = 0"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.rtol = -1e-5; })), Contains("rtol = -1e-05"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.atol = 0; })), Contains("atol = 0"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.atol = std::numeric_limits<double>::quiet_NaN(); })),
                        Contains("atol = nan"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) {
                            o.method = sgm::ode_method::euler;
                            o.steps = 0;
                        })),
                        Contains("steps = 0"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) {
                            o.method = sgm::ode_method::heun;
                            o.steps = 0;
                        })),
                        Contains("steps = 0"));
    REQUIRE_THROWS_WITH(run(with([](auto& o) { o.count = 0; })), Contains("count = 0"));

    // Encoding and decoding a state of dim 3 with a model of dim 2.
    auto x = sgm::batch<serial>(2, 3);
    const sgm::ode_options o;
    REQUIRE_THROWS_AS(sgm::ode_encode(sde, model, x, o), sgm::error);
    REQUIRE_THROWS_WITH(sgm::ode_encode(sde, model, x, o), Contains("expects dim 2") && Contains("has dim 3"));
    REQUIRE_THROWS_WITH(sgm::ode_decode(sde, model, x, o), Contains("expects dim 2") && Contains("has dim 3"));
}

TEST_CASE("the PC sampler reports a non-finite score with the sample's global index and the step and t",
          "[errors][sampling]") {
    const std::size_t n = 40, bad = 5, first = 100;
    const double threshold = 0.5, eps = 1e-5;
    const ve sde(0.01, 50, n);
    const std::size_t step = first_step_below(threshold, 1.0, eps, n);
    REQUIRE(step < n);
    const std::string where = "in sample " + std::to_string(first + bad) + " (batch position " +
                              std::to_string(bad) + ", coordinate ";
    const std::string when = "after step " + std::to_string(step) + " at t = ";
    sgm::pc_options o;
    o.count = 8;
    o.eps = eps;
    o.first_sample = first;

    SECTION("Euler-Maruyama, serial backend") {
        nan_after<serial, ve> model(sde, bad, threshold);
        REQUIRE_THROWS_AS(sgm::pc_sample(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, o, serial{}),
                          sgm::error);
        REQUIRE_THROWS_WITH(sgm::pc_sample(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, o, serial{}),
                            Contains(where) && Contains(when) && Contains("non-finite value nan"));
    }
    SECTION("reverse diffusion + Langevin, TBB backend") {
        using tbb = sgm::tbb_backend<double>;
        nan_after<tbb, ve> model(sde, bad, threshold, tbb(2));
        REQUIRE_THROWS_WITH(sgm::pc_sample(sde, model, sgm::reverse_diffusion{}, sgm::langevin(0.16, 1), o, tbb(2)),
                            Contains(where) && Contains(when));
    }
    SECTION("another batch of the same run: first_sample 0") {
        o.first_sample = 0;
        nan_after<serial, ve> model(sde, bad, threshold);
        REQUIRE_THROWS_WITH(sgm::pc_sample(sde, model, sgm::ancestral_sampling{}, sgm::no_corrector{}, o, serial{}),
                            Contains("in sample 5 (batch position 5") && Contains(when));
    }
    SECTION("check_finite = false returns the NaN instead") {
        o.check_finite = false;
        nan_after<serial, ve> model(sde, bad, threshold);
        const auto result = sgm::pc_sample(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, o, serial{});
        const auto host = result.samples.to_host();
        CHECK(std::isnan(host[bad * 2 + 1]));
        CHECK(std::isfinite(host[0]));
    }
}

TEST_CASE("the ODE sampler reports a non-finite score with the sample's global index and t",
          "[errors][sampling]") {
    const std::size_t bad = 2, first = 40;
    const double threshold = 0.3;
    const sgm::vp_sde<double> sde;
    nan_after<serial, sgm::vp_sde<double>> model(sde, bad, threshold);
    sgm::ode_options o;
    o.count = 4;
    o.first_sample = first;
    const std::string where = "sample " + std::to_string(first + bad);

    SECTION("fixed-step Euler") {
        o.method = sgm::ode_method::euler;
        o.steps = 50;
        REQUIRE_THROWS_AS(sgm::ode_sample(sde, model, o, serial{}), sgm::error);
        REQUIRE_THROWS_WITH(sgm::ode_sample(sde, model, o, serial{}),
                            Contains("non-finite score") && Contains("batch position 2") && Contains("t = ") &&
                                Contains(where));
    }
    SECTION("adaptive RK45") {
        REQUIRE_THROWS_WITH(sgm::ode_sample(sde, model, o, serial{}),
                            Contains("non-finite score") && Contains("batch position 2") && Contains("t = ") &&
                                Contains(where));
    }
}
