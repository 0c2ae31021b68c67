// 2-D toy data sets: counter-based determinism (a sample depends only on seed and
// its global index), name parsing, and per data set the moments and structure of
// the definition in toy_2d.hpp, each within 5 standard errors of the sample.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <sgm/data/toy_2d.hpp>
#include <sgm/error.hpp>

using Catch::Contains;
using sgm::data::toy_2d;

namespace {

constexpr double pi = 3.14159265358979323846;
constexpr std::size_t n_samples = 100000;
constexpr double z_max = 5;

// |mean of f over the samples − expected| in standard errors of that mean.
double z_of_mean(const std::vector<double>& samples, const std::function<double(double, double)>& f, double expected) {
    const std::size_t n = samples.size() / 2;
    double sum = 0, sum2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double v = f(samples[2 * i], samples[2 * i + 1]);
        sum += v;
        sum2 += v * v;
    }
    const double mean = sum / double(n);
    const double var = std::max(sum2 / double(n) - mean * mean, 0.0) * double(n) / double(n - 1);
    return (mean - expected) / std::sqrt(var / double(n));
}

// z-score of an observed count against probability p.
double proportion_z(std::size_t k, std::size_t n, double p) {
    return (double(k) / double(n) - p) / std::sqrt(p * (1 - p) / double(n));
}

struct moment_check {
    const char* what;
    std::function<double(double, double)> f;
    double expected;
};

void check_moments(const std::vector<double>& samples, const std::vector<moment_check>& checks) {
    for (const auto& c : checks) {
        const double z = z_of_mean(samples, c.f, c.expected);
        INFO(c.what << ": expected " << c.expected << ", z = " << z);
        CHECK(std::abs(z) < z_max);
    }
}

const auto f_x = [](double x, double) { return x; };
const auto f_y = [](double, double y) { return y; };
const auto f_xx = [](double x, double) { return x * x; };
const auto f_yy = [](double, double y) { return y * y; };
const auto f_xy = [](double x, double y) { return x * y; };

// E[g(t)] for t uniform on the swiss roll's [1.5π, 4.5π], from an antiderivative G.
double roll_mean(double (*g)(double)) {
    const double a = 1.5 * pi, b = 4.5 * pi;
    return (g(b) - g(a)) / (b - a);
}

}  // namespace

TEST_CASE("toy_2d: a sample depends only on the seed and its global index", "[data][toy_2d]") {
    for (const toy_2d kind : sgm::data::toy_2d_all) {
        INFO(sgm::data::toy_2d_name(kind));
        const auto all = sgm::data::sample_toy_2d<double>(kind, 1010, 42);
        REQUIRE(all.size() == 2020);
        CHECK(sgm::data::sample_toy_2d<double>(kind, 1010, 42) == all);  // same seed, same values

        const auto window = sgm::data::sample_toy_2d<double>(kind, 10, 42, 1000);
        CHECK(window == std::vector<double>(all.begin() + 2000, all.end()));
        const auto one = sgm::data::toy_2d_point(kind, 42, 7);
        CHECK(one.x == all[14]);
        CHECK(one.y == all[15]);

        // Float samples are the double ones rounded once.
        const auto f = sgm::data::sample_toy_2d<float>(kind, 1010, 42);
        bool rounded = true;
        for (std::size_t i = 0; i < f.size(); ++i) rounded = rounded && f[i] == static_cast<float>(all[i]);
        CHECK(rounded);

        // Another seed gives other points (every one differs).
        const auto other = sgm::data::sample_toy_2d<double>(kind, 1010, 43);
        std::size_t same = 0;
        for (std::size_t i = 0; i < all.size(); i += 2) same += (other[i] == all[i] && other[i + 1] == all[i + 1]);
        CHECK(same == 0);

        // Indices near the top of the 64-bit range work; past it is an error.
        const auto top = std::numeric_limits<std::uint64_t>::max();
        CHECK(sgm::data::sample_toy_2d<double>(kind, 1, 42, top).size() == 2);
        REQUIRE_THROWS_WITH(sgm::data::sample_toy_2d<double>(kind, 2, 42, top),
                            Contains("first_sample = 18446744073709551615 with count = 2 runs past the largest"));
    }
    CHECK(sgm::data::sample_toy_2d<double>(toy_2d::rings, 0, 1).empty());
}

TEST_CASE("toy_2d: names parse, and a bad name lists the valid ones", "[data][toy_2d]") {
    for (const toy_2d kind : sgm::data::toy_2d_all) CHECK(sgm::data::parse_toy_2d(sgm::data::toy_2d_name(kind)) == kind);
    REQUIRE_THROWS_WITH(sgm::data::parse_toy_2d("moons"),
                        Contains("unknown toy data set 'moons'; expected one of: mixture, checkerboard, swiss_roll, "
                                 "two_moons, rings"));
    REQUIRE_THROWS_WITH(sgm::data::parse_toy_2d(""), Contains("unknown toy data set ''"));
}

TEST_CASE("toy_2d mixture: 8 Gaussians on a circle of radius 2√2", "[data][toy_2d]") {
    const auto s = sgm::data::sample_toy_2d<double>(toy_2d::mixture, n_samples, 1);
    const double r2 = 8, var = 0.125;  // R², σ²
    // x = R cos θ + σ n: E[cos²θ] = 1/2 and E[cos⁴θ] = 3/8 over the 8 angles.
    const double x4 = r2 * r2 * 3.0 / 8 + 6 * r2 * var / 2 + 3 * var * var;
    check_moments(s, {{"E[x]", f_x, 0},
                      {"E[y]", f_y, 0},
                      {"E[x^2]", f_xx, r2 / 2 + var},
                      {"E[y^2]", f_yy, r2 / 2 + var},
                      {"E[xy]", f_xy, 0},
                      {"E[x^4]", [](double x, double) { return x * x * x * x; }, x4}});
    // The mixture is invariant under rotation by π/4, so each 45° sector centred on a
    // component holds exactly 1/8 of the mass (noise crossing a border included).
    std::vector<std::size_t> sector(8, 0);
    for (std::size_t i = 0; i < n_samples; ++i) {
        const double angle = std::atan2(s[2 * i + 1], s[2 * i]);
        ++sector[static_cast<std::size_t>(std::lround(angle / (pi / 4)) + 8) % 8];
    }
    for (std::size_t k = 0; k < 8; ++k) {
        INFO("sector " << k);
        CHECK(std::abs(proportion_z(sector[k], n_samples, 1.0 / 8)) < z_max);
    }
}

TEST_CASE("toy_2d checkerboard: uniform on the 8 dark cells of side 2", "[data][toy_2d]") {
    const auto s = sgm::data::sample_toy_2d<double>(toy_2d::checkerboard, n_samples, 2);
    std::vector<std::size_t> cell(16, 0);
    std::size_t outside = 0;
    for (std::size_t i = 0; i < n_samples; ++i) {
        const double x = s[2 * i], y = s[2 * i + 1];
        const auto cx = static_cast<long>(std::floor(x / 2)), cy = static_cast<long>(std::floor(y / 2));
        if (cx < -2 || cx > 1 || cy < -2 || cy > 1 || (cx + cy) % 2 != 0) {
            ++outside;
            continue;
        }
        ++cell[static_cast<std::size_t>((cx + 2) * 4 + (cy + 2))];
    }
    CHECK(outside == 0);  // every point in a dark cell
    for (long cx = -2; cx <= 1; ++cx)
        for (long cy = -2; cy <= 1; ++cy) {
            if ((cx + cy) % 2 != 0) continue;
            INFO("cell " << cx << ", " << cy);
            CHECK(std::abs(proportion_z(cell[static_cast<std::size_t>((cx + 2) * 4 + (cy + 2))], n_samples, 1.0 / 8)) <
                  z_max);
        }
    // Both marginals uniform on [-4, 4]; E[xy] = 4 · mean over the dark cells of the
    // product of their centres = 4 · 2/8.
    check_moments(s, {{"E[x]", f_x, 0}, {"E[y]", f_y, 0}, {"E[x^2]", f_xx, 16.0 / 3}, {"E[y^2]", f_yy, 16.0 / 3}, {"E[xy]", f_xy, 1}});
}

TEST_CASE("toy_2d swiss_roll: moments of (t cos t, t sin t)/7 + noise/7", "[data][toy_2d]") {
    const auto s = sgm::data::sample_toy_2d<double>(toy_2d::swiss_roll, n_samples, 3);
    // Antiderivatives of t cos t, t sin t, t² cos² t, t² sin² t, t² cos t sin t.
    const double tc = roll_mean([](double t) { return t * std::sin(t) + std::cos(t); });
    const double ts = roll_mean([](double t) { return std::sin(t) - t * std::cos(t); });
    const double cc = roll_mean([](double t) {
        return t * t * t / 6 + t * t / 4 * std::sin(2 * t) + t / 4 * std::cos(2 * t) - std::sin(2 * t) / 8;
    });
    const double ss = roll_mean([](double t) {
        return t * t * t / 6 - t * t / 4 * std::sin(2 * t) - t / 4 * std::cos(2 * t) + std::sin(2 * t) / 8;
    });
    const double cs = roll_mean([](double t) {
        return 0.5 * (-t * t / 2 * std::cos(2 * t) + t / 2 * std::sin(2 * t) + std::cos(2 * t) / 4);
    });
    CHECK(tc == Approx(2.0));  // the closed forms, against values known independently
    CHECK(ts == Approx(2 / (3 * pi)));
    const double k = sgm::data::toy_swiss_roll_scale;
    check_moments(s, {{"E[x]", f_x, tc / k},
                      {"E[y]", f_y, ts / k},
                      {"E[x^2]", f_xx, (cc + 1) / (k * k)},
                      {"E[y^2]", f_yy, (ss + 1) / (k * k)},
                      {"E[xy]", f_xy, cs / (k * k)}});
    // About unit variance, as documented.
    CHECK((cc + 1) / (k * k) - (tc / k) * (tc / k) == Approx(0.9156).margin(1e-4));
    CHECK((ss + 1) / (k * k) - (ts / k) * (ts / k) == Approx(1.0065).margin(1e-4));
}

TEST_CASE("toy_2d two_moons: sklearn's moons, centred, noise 0.1", "[data][toy_2d]") {
    const auto s = sgm::data::sample_toy_2d<double>(toy_2d::two_moons, n_samples, 4);
    const double noise = 0.01;
    check_moments(s, {{"E[x]", f_x, 0},
                      {"E[y]", f_y, 0},
                      {"E[x^2]", f_xx, 0.75 + noise},
                      {"E[y^2]", f_yy, 9.0 / 16 - 1 / pi + noise},
                      {"E[xy]", f_xy, 1.0 / 8 - 1 / pi}});
    // The inner moon is the outer one reflected through the origin (same θ), so the
    // distribution is symmetric under p -> -p: exactly half the points have y > 0
    // and half have x > 0.
    std::size_t upper = 0, right = 0;
    for (std::size_t i = 0; i < n_samples; ++i) {
        upper += s[2 * i + 1] > 0;
        right += s[2 * i] > 0;
    }
    CHECK(std::abs(proportion_z(upper, n_samples, 0.5)) < z_max);
    CHECK(std::abs(proportion_z(right, n_samples, 0.5)) < z_max);
}

TEST_CASE("toy_2d rings: 3 circles of radius 1, 2, 3 with noise 0.08", "[data][toy_2d]") {
    const auto s = sgm::data::sample_toy_2d<double>(toy_2d::rings, n_samples, 5);
    const double var = 0.08 * 0.08;
    check_moments(s, {{"E[x]", f_x, 0},
                      {"E[y]", f_y, 0},
                      {"E[x^2]", f_xx, 7.0 / 3 + var},
                      {"E[y^2]", f_yy, 7.0 / 3 + var},
                      {"E[xy]", f_xy, 0},
                      // |p|² = r² + 2 r σ n_radial + σ²(n0² + n1²): mean E[r²] + 2σ².
                      {"E[x^2 + y^2]", [](double x, double y) { return x * x + y * y; }, 14.0 / 3 + 2 * var}});
    // Rings are 1 apart, noise 0.08: every point is nearest its own ring (a 6σ miss
    // has probability ~1e-9), so the nearest-ring counts are exact draws with p = 1/3.
    std::vector<std::size_t> ring(3, 0);
    std::size_t between = 0;
    for (std::size_t i = 0; i < n_samples; ++i) {
        const long r = std::lround(std::hypot(s[2 * i], s[2 * i + 1]));
        if (r >= 1 && r <= 3) ++ring[static_cast<std::size_t>(r - 1)];
        else ++between;
    }
    CHECK(between == 0);
    for (std::size_t k = 0; k < 3; ++k) {
        INFO("ring " << k + 1);
        CHECK(std::abs(proportion_z(ring[k], n_samples, 1.0 / 3)) < z_max);
    }
}
