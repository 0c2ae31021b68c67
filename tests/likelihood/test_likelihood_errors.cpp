// Bad input to the likelihood and bits/dim: each a clear sgm::error naming the bad
// value and what was expected.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/likelihood/bits_per_dim.hpp>
#include <sgm/likelihood/log_likelihood.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/vp.hpp>

using Catch::Contains;

namespace {

using serial = sgm::serial_backend<double>;
using data_batch = sgm::batch<serial>;
using vp = sgm::vp_sde<double>;

sgm::gaussian_mixture<double> two_d() {
    return sgm::gaussian_mixture<double>::diagonal_gaussian({0.5, -0.5}, {1.0, 0.5});
}

// The exact mixture score, except that sample `bad` gets a NaN score below time `threshold`.
class nan_below {
public:
    using backend_type = serial;
    using value_type = double;
    nan_below(std::size_t bad, double threshold) : inner_(two_d(), vp()), bad_(bad), threshold_(threshold) {}
    std::size_t dim() const { return 2; }
    void score(sgm::batch_view<const double> x, const double* t, sgm::batch_view<double> out) { inner_.score(x, t, out); }
    void score_vjp(sgm::batch_view<const double> x, const double* t, sgm::batch_view<const double> v,
                   sgm::batch_view<double> score, sgm::batch_view<double> vjp) {
        inner_.score_vjp(x, t, v, score, vjp);
        if (bad_ < x.size && t[bad_] > threshold_) score.data[bad_ * 2] = std::numeric_limits<double>::quiet_NaN();
    }

private:
    sgm::mixture_score<serial, vp> inner_;
    std::size_t bad_;
    double threshold_;
};
static_assert(sgm::vjp_score_model<nan_below>);

}  // namespace

TEST_CASE("log_likelihood rejects bad input with a clear message", "[likelihood][errors]") {
    sgm::mixture_score<serial, vp> model(two_d(), vp());
    const vp sde;
    const auto good = data_batch::from_host(std::vector<double>{0.1, 0.2, 0.3, 0.4}, 2, 2);
    sgm::likelihood_options o;

    SECTION("wrong dimension") {
        const auto x = data_batch::from_host(std::vector<double>{0.1, 0.2, 0.3}, 1, 3);
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, model, x, o),
                            Contains("data have dim 3, the score model expects dim 2"));
    }
    SECTION("non-finite data") {
        const auto x = data_batch::from_host(std::vector<double>{0.1, 0.2, 0.3, std::nan("")}, 2, 2);
        o.first_sample = 40;
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, model, x, o),
                            Contains("non-finite value in sample 41 (batch position 1), coordinate 1"));
    }
    SECTION("empty batch") {
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, model, data_batch(0, 2), o), Contains("empty batch"));
    }
    SECTION("solver and estimator options") {
        o.rtol = 0;
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, model, good, o), Contains("rtol = 0; expected a finite value > 0"));
        o.rtol = 1e-5;
        o.atol = std::numeric_limits<double>::infinity();
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, model, good, o), Contains("atol = inf"));
        o.atol = 1e-5;
        o.eps = 1.5;
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, model, good, o),
                            Contains("eps = 1.5; expected a value in (0, T) with T = 1"));
        o.eps = 1e-5;
        o.probes = 0;
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, model, good, o),
                            Contains("probes = 0; expected at least 1 Hutchinson probe"));
        o.divergence = sgm::divergence_estimator::exact;  // probes do not matter for the exact trace
        REQUIRE_NOTHROW(sgm::log_likelihood(sde, model, good, o));
    }
    SECTION("a non-finite score names the sample and the step") {
        // The injected NaN follows the batch position: solve the batch as one.
        nan_below bad(1, 0.5);
        o.first_sample = 10;
        o.coupled_step_control = true;
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, bad, good, o),
                            Contains("non-finite score in sample 11 (batch position 1) at step"));
        // Solved sample by sample, the message still names the caller's batch position.
        nan_below first(0, 0.5);
        o.coupled_step_control = false;
        REQUIRE_THROWS_WITH(sgm::log_likelihood(sde, first, good, o),
                            Contains("non-finite score in sample 10 (batch position 0) at step"));
    }
}

TEST_CASE("bits_per_dim rejects data outside the declared range and bad options", "[likelihood][bpd][errors]") {
    sgm::mixture_score<serial, vp> model(two_d(), vp());
    const vp sde;
    sgm::bits_per_dim_options o;
    const auto run = [&](std::vector<double> values) {
        return sgm::bits_per_dim(sde, model, data_batch::from_host(values, values.size() / 2, 2), o);
    };
    REQUIRE_THROWS_WITH(run({3, 256}),
                        Contains("sample 0, coordinate 1 has value 256; expected an integer level in [0, 255] (levels = 256)"));
    REQUIRE_THROWS_WITH(run({3, 4, -1, 0}), Contains("sample 1, coordinate 0 has value -1; expected an integer level"));
    REQUIRE_THROWS_WITH(run({3.5, 4}), Contains("has value 3.5; expected an integer level"));
    REQUIRE_THROWS_WITH(run({std::nan(""), 4}), Contains("has value nan; expected an integer level"));
    // Data already scaled to [0, 1] is the classic mistake: 0.5 is not a level.
    REQUIRE_THROWS_WITH(run({0.5, 0.25}), Contains("has value 0.5; expected an integer level"));
    o.levels = 16;
    REQUIRE_THROWS_WITH(run({3, 16}), Contains("has value 16; expected an integer level in [0, 15] (levels = 16)"));
    o.levels = 1;
    REQUIRE_THROWS_WITH(run({0, 0}), Contains("levels = 1; expected at least 2"));
    o.levels = 256;
    o.data_lower = 1;
    o.data_upper = -1;
    REQUIRE_THROWS_WITH(run({0, 0}), Contains("data range [1, -1]; expected finite bounds with lower < upper"));
    o.data_lower = 0;
    o.data_upper = 1;
    o.dequantization_draws = 0;
    REQUIRE_THROWS_WITH(run({0, 0}), Contains("dequantization_draws = 0; expected at least 1"));
}
