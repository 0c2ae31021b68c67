#include <catch2/catch.hpp>
#include <sgm/sgm.hpp>
TEST_CASE("vp_sde marginal std is sqrt(1 - m^2)") {
    sgm::vp_sde<double> sde;
    const double m = sde.mean_coefficient(0.5);
    REQUIRE(sde.marginal_std(0.5) == Approx(std::sqrt(1 - m * m)).epsilon(1e-12));
}
