// Bad parameters raise sgm::error with a message that names the bad value.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/backend/tbb.hpp>
#include <sgm/batch.hpp>
#include <sgm/corrector/annealed_langevin.hpp>
#include <sgm/corrector/langevin.hpp>
#include <sgm/error.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

using Catch::Contains;

namespace {
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("ve_sde rejects bad parameters", "[errors]") {
    using ve = sgm::ve_sde<double>;
    REQUIRE_THROWS_AS(ve(1.0, 0.5), sgm::error);
    REQUIRE_THROWS_WITH(ve(1.0, 0.5), Contains("sigma_min = 1") && Contains("sigma_max = 0.5"));
    REQUIRE_THROWS_WITH(ve(2.0, 2.0), Contains("sigma_min = 2") && Contains("smaller"));
    REQUIRE_THROWS_WITH(ve(0.0, 50.0), Contains("sigma_min = 0"));
    REQUIRE_THROWS_WITH(ve(-0.01, 50.0), Contains("sigma_min = -0.01"));
    REQUIRE_THROWS_WITH(ve(0.01, -5.0), Contains("sigma_max = -5"));
    REQUIRE_THROWS_WITH(ve(0.01, 50.0, 0), Contains("N = 0"));
    REQUIRE_THROWS_WITH(ve(not_a_number, 50.0), Contains("sigma_min = nan"));
    REQUIRE_THROWS_WITH(ve(0.01, infinity), Contains("sigma_max = inf"));
    REQUIRE_THROWS_WITH(ve(0.01, 50.0, 10, 0.0), Contains("T = 0"));
    REQUIRE_THROWS_WITH(ve(0.01, 50.0, 10, infinity), Contains("T = inf"));
    REQUIRE_THROWS_WITH(sgm::ve_sde<float>(0.01f, std::numeric_limits<float>::infinity()),
                        Contains("sigma_max = inf"));
    REQUIRE_NOTHROW(ve(0.01, 50.0, 1));
}

TEST_CASE("vp_sde and sub_vp_sde reject bad parameters", "[errors]") {
    using vp = sgm::vp_sde<double>;
    using sub = sgm::sub_vp_sde<double>;
    REQUIRE_THROWS_AS(vp(0.0, 20.0), sgm::error);
    REQUIRE_THROWS_WITH(vp(0.0, 20.0), Contains("beta_min = 0"));
    REQUIRE_THROWS_WITH(vp(-0.1, 20.0), Contains("beta_min = -0.1"));
    REQUIRE_THROWS_WITH(vp(0.1, -1.0), Contains("beta_max = -1"));
    REQUIRE_THROWS_WITH(vp(5.0, 1.0), Contains("beta_min = 5") && Contains("beta_max = 1"));
    REQUIRE_THROWS_WITH(vp(0.1, 20.0, 0), Contains("N = 0"));
    REQUIRE_THROWS_WITH(vp(not_a_number, 20.0), Contains("beta_min = nan"));
    REQUIRE_THROWS_WITH(vp(0.1, infinity), Contains("beta_max = inf"));
    REQUIRE_THROWS_WITH(vp(0.1, 20.0, 1000, not_a_number), Contains("T = nan"));
    // The DDPM chain needs β_max / N < 1.
    REQUIRE_THROWS_WITH(vp(0.1, 20.0, 10), Contains("beta_max·T/N = 2"));

    REQUIRE_THROWS_AS(sub(0.0, 20.0), sgm::error);
    REQUIRE_THROWS_WITH(sub(0.0, 20.0), Contains("beta_min = 0"));
    REQUIRE_THROWS_WITH(sub(0.1, -2.0), Contains("beta_max = -2"));
    REQUIRE_THROWS_WITH(sub(5.0, 1.0), Contains("beta_min = 5"));
    REQUIRE_THROWS_WITH(sub(0.1, 20.0, 0), Contains("N = 0"));
    REQUIRE_THROWS_WITH(sub(infinity, 20.0), Contains("beta_min = inf"));
    REQUIRE_THROWS_WITH(sgm::sub_vp_sde<float>(0.1f, std::numeric_limits<float>::quiet_NaN()),
                        Contains("beta_max = nan"));
}

TEST_CASE("gaussian_mixture rejects bad weights and covariances and mismatched sizes", "[errors]") {
    using gm = sgm::gaussian_mixture<double>;
    const std::vector<double> cov2 = {1, 0, 0, 1, 1, 0, 0, 1};
    REQUIRE_THROWS_AS(gm({0.5, 0.6}, {0, 0, 1, 1}, cov2), sgm::error);
    REQUIRE_THROWS_WITH(gm({0.5, 0.6}, {0, 0, 1, 1}, cov2), Contains("weights sum to 1.1"));
    REQUIRE_THROWS_WITH(gm({1.5, -0.5}, {0, 0, 1, 1}, cov2), Contains("weight[1] = -0.5"));
    REQUIRE_THROWS_WITH(gm({0.0, 1.0}, {0, 0, 1, 1}, cov2), Contains("weight[0] = 0"));
    REQUIRE_THROWS_WITH(gm({not_a_number, 1.0}, {0, 0, 1, 1}, cov2), Contains("weight[0] = nan"));
    REQUIRE_THROWS_WITH(gm({}, {}, {}), Contains("no components"));
    REQUIRE_THROWS_WITH(gm({0.5, 0.5}, {0, 0, 1}, cov2), Contains("3 mean values"));
    REQUIRE_THROWS_WITH(gm({0.5, 0.5}, {0, 0, 1, 1}, {1, 0, 0, 1}), Contains("got 4 covariance values") &&
                                                                       Contains("K*D*D = 8"));
    REQUIRE_THROWS_WITH(gm({1.0}, {0, not_a_number}, {1, 0, 0, 1}), Contains("non-finite mean value nan"));
    // Not symmetric: (0,1) = 0.5 but (1,0) = 0.2.
    REQUIRE_THROWS_WITH(gm::gaussian({0, 0}, {1, 0.5, 0.2, 1}), Contains("not symmetric") && Contains("0.5 vs 0.2"));
    REQUIRE_THROWS_WITH(gm::gaussian({0, 0}, {1, not_a_number, not_a_number, 1}), Contains("not symmetric and finite"));
    // Symmetric but indefinite: eigenvalues 3 and −1.
    REQUIRE_THROWS_WITH(gm::gaussian({0, 0}, {1, 2, 2, 1}), Contains("eigenvalue -1") &&
                                                                Contains("positive definite"));
    // Diagonal with a zero or negative variance.
    REQUIRE_THROWS_WITH(gm::diagonal_gaussian({0, 0}, {1, 0}), Contains("eigenvalue 0"));
    REQUIRE_THROWS_WITH(gm::diagonal_gaussian({0, 0}, {-2, 1}), Contains("eigenvalue -2"));
    REQUIRE_THROWS_WITH(gm::diagonal_gaussian({0, 0}, {1, 1, 1}), Contains("2 means but 3 variances"));
    // The second component is the bad one: the message says which.
    REQUIRE_THROWS_WITH(gm({0.5, 0.5}, {0, 0, 1, 1}, {1, 0, 0, 1, 1, 3, 3, 1}),
                        Contains("covariance 1") && Contains("eigenvalue -2"));
}

TEST_CASE("mixture_score rejects wrong sample dims and output shapes", "[errors]") {
    using serial = sgm::serial_backend<double>;
    const auto mixture = sgm::gaussian_mixture<double>::diagonal_gaussian({0, 0}, {1, 1});
    sgm::mixture_score<serial, sgm::vp_sde<double>> model(mixture, sgm::vp_sde<double>());
    std::vector<double> x(15), t(5, 0.5), out(15);
    // Samples of dim 3 for a 2-d mixture.
    REQUIRE_THROWS_AS(model.score({x.data(), 5, 3}, t.data(), {out.data(), 5, 3}), sgm::error);
    REQUIRE_THROWS_WITH(model.score({x.data(), 5, 3}, t.data(), {out.data(), 5, 3}),
                        Contains("samples have dim 3") && Contains("dim 2"));
    // Output of the wrong shape.
    REQUIRE_THROWS_WITH(model.score({x.data(), 5, 2}, t.data(), {out.data(), 4, 2}),
                        Contains("output is 4x2, expected 5x2"));
    REQUIRE_THROWS_WITH(model.score({x.data(), 5, 2}, t.data(), {out.data(), 5, 3}),
                        Contains("output is 5x3, expected 5x2"));
    REQUIRE_THROWS_WITH(model.log_density({x.data(), 5, 3}, t.data(), out.data()), Contains("samples have dim 3"));
    REQUIRE_THROWS_WITH(model.component_posterior({x.data(), 1, 4}, t.data(), out.data()),
                        Contains("samples have dim 4"));
}

TEST_CASE("batch::from_host rejects the wrong number of values", "[errors]") {
    using batch = sgm::batch<sgm::serial_backend<double>>;
    const std::vector<double> values(5);
    REQUIRE_THROWS_AS(batch::from_host(values, 2, 3), sgm::error);
    REQUIRE_THROWS_WITH(batch::from_host(values, 2, 3), Contains("got 5 values") && Contains("2*3 = 6"));
    REQUIRE_NOTHROW(batch::from_host(values, 5, 1));
}

TEST_CASE("correctors reject bad snr and step counts", "[errors]") {
    REQUIRE_THROWS_AS(sgm::langevin(0.0), sgm::error);
    REQUIRE_THROWS_WITH(sgm::langevin(0.0), Contains("snr = 0"));
    REQUIRE_THROWS_WITH(sgm::langevin(-0.16), Contains("snr = -0.16"));
    REQUIRE_THROWS_WITH(sgm::langevin(not_a_number), Contains("snr = nan"));
    REQUIRE_THROWS_WITH(sgm::langevin(infinity), Contains("snr = inf"));
    REQUIRE_THROWS_WITH(sgm::langevin(0.16, 0), Contains("steps = 0"));
    REQUIRE_THROWS_AS(sgm::annealed_langevin(0.0), sgm::error);
    REQUIRE_THROWS_WITH(sgm::annealed_langevin(0.0), Contains("snr = 0"));
    REQUIRE_THROWS_WITH(sgm::annealed_langevin(-1.0), Contains("snr = -1"));
    REQUIRE_THROWS_WITH(sgm::annealed_langevin(not_a_number), Contains("snr = nan"));
    REQUIRE_THROWS_WITH(sgm::annealed_langevin(0.16, 0), Contains("steps = 0"));
    REQUIRE_NOTHROW(sgm::langevin(0.16, 1, true));
}

TEST_CASE("tbb_backend rejects a negative thread count", "[errors]") {
    REQUIRE_THROWS_AS(sgm::tbb_backend<double>(-1), sgm::error);
    REQUIRE_THROWS_WITH(sgm::tbb_backend<double>(-3), Contains("thread count -3"));
    REQUIRE_NOTHROW(sgm::tbb_backend<double>(0));
}
