// Every backend's primitives against the serial reference (ggml-style: same ops,
// compared element by element).
#include <catch2/catch.hpp>

#include <sgm/backend/thrust.hpp>
#include <sgm/sgm.hpp>

#include <cmath>
#include <limits>
#include <vector>

namespace {

template <class Backend>
std::vector<typename Backend::value_type> ramp(const Backend& be, std::size_t n) {
    using Real = typename Backend::value_type;
    auto v = be.make_vector(n);
    Real* p = Backend::data(v);
    be.for_each_index(n, [=](std::size_t i) { p[i] = Real(std::sin(double(i) * 0.37) * 3.0); });
    return be.to_host(v);
}

}  // namespace

TEMPLATE_TEST_CASE("backend primitives agree with the serial backend", "[backend]", sgm::tbb_backend<double>,
                   sgm::tbb_backend<float>, (sgm::thrust_backend<double, sgm::thrust_cpp>),
                   (sgm::thrust_backend<double, sgm::thrust_tbb>), (sgm::thrust_backend<float, sgm::thrust_tbb>)) {
    using Real = typename TestType::value_type;
    const TestType be{};
    const sgm::serial_backend<Real> reference{};
    const std::size_t segments = 37, length = 1001, n = segments * length;

    const auto values = ramp(be, n);
    REQUIRE(values == ramp(reference, n));

    auto device = be.make_vector(n);
    be.copy_from_host(std::span<const Real>(values), device);
    const Real* p = TestType::data(device);

    SECTION("sum_segments sums each segment in the serial order, bit for bit") {
        auto sums = be.make_vector(segments);
        be.sum_segments(segments, length, [=](std::size_t i) { return p[i] * p[i]; }, TestType::data(sums));
        std::vector<Real> expected(segments);
        const Real* q = values.data();
        reference.sum_segments(segments, length, [=](std::size_t i) { return q[i] * q[i]; }, expected.data());
        REQUIRE(be.to_host(sums) == expected);
    }
    SECTION("max_of and find_first") {
        const Real expected_max = *std::max_element(values.begin(), values.end());
        REQUIRE(be.max_of(n, [=](std::size_t i) { return p[i]; }) == expected_max);
        REQUIRE(be.max_of(0, [=](std::size_t i) { return p[i]; }) == Real(0));
        REQUIRE(be.find_first(n, [=](std::size_t i) { return p[i] > Real(2.9); }) ==
                reference.find_first(n, [&](std::size_t i) { return values[i] > Real(2.9); }));
        REQUIRE(be.find_first(n, [=](std::size_t) { return false; }) == n);
        REQUIRE(be.find_first(n, [=](std::size_t i) { return i >= n - 1; }) == n - 1);
    }
    SECTION("copy and to_host round trip") {
        auto other = be.make_vector(1);
        be.copy(device, other);
        REQUIRE(be.to_host(other) == values);
    }
}

TEST_CASE("tbb_backend with a private arena gives the serial results", "[backend]") {
    const sgm::tbb_backend<double> one(1), two(2);
    const sgm::serial_backend<double> reference{};
    const std::size_t n = 100000;
    std::vector<double> a(n), b(n), c(n);
    double* pa = a.data();
    double* pb = b.data();
    double* pc = c.data();
    one.for_each_index(n, [=](std::size_t i) { pa[i] = std::sqrt(double(i)); });
    two.for_each_index(n, [=](std::size_t i) { pb[i] = std::sqrt(double(i)); });
    reference.for_each_index(n, [=](std::size_t i) { pc[i] = std::sqrt(double(i)); });
    REQUIRE(a == c);
    REQUIRE(b == c);
}
