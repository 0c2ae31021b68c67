// conv2d, group_norm and upsample_nearest: forward against direct reference
// loops and hand-computed values, backward against finite differences (input
// and every parameter, in double), bit-identical results on 1 and 2 threads,
// float against double, and shape errors.

#include <catch2/catch.hpp>

#include <sgm/nn/conv2d.hpp>
#include <sgm/nn/group_norm.hpp>
#include <sgm/nn/init.hpp>
#include <sgm/nn/upsample.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"

namespace {

using sgm::nn::conv2d;
using sgm::nn::conv2d_shape;
using sgm::nn::cpu_context;
using sgm::nn::gradients;
using sgm::nn::group_norm;
using sgm::nn::parameter_list;
using sgm::nn::upsample_nearest;

// y = conv(x) by the definition, in double; `absolute` sums |w|·|x| + |b| instead
// (the scale of the rounding error of any summation order).
std::vector<double> reference_conv(const conv2d_shape& s, const std::vector<double>& w, const std::vector<double>& b,
                                   const std::vector<double>& x, std::size_t n, bool absolute = false) {
    const std::size_t ho = (s.height + 2 * s.padding - s.kernel) / s.stride + 1;
    const std::size_t wo = (s.width + 2 * s.padding - s.kernel) / s.stride + 1;
    std::vector<double> y(n * s.out_channels * ho * wo);
    const auto f = [&](double v) { return absolute ? std::abs(v) : v; };
    for (std::size_t img = 0; img < n; ++img)
        for (std::size_t o = 0; o < s.out_channels; ++o)
            for (std::size_t i = 0; i < ho; ++i)
                for (std::size_t j = 0; j < wo; ++j) {
                    double acc = b.empty() ? 0.0 : f(b[o]);
                    for (std::size_t c = 0; c < s.in_channels; ++c)
                        for (std::size_t u = 0; u < s.kernel; ++u)
                            for (std::size_t v = 0; v < s.kernel; ++v) {
                                const long iy = long(i * s.stride + u) - long(s.padding);
                                const long ix = long(j * s.stride + v) - long(s.padding);
                                if (iy < 0 || ix < 0 || iy >= long(s.height) || ix >= long(s.width)) continue;
                                acc += f(w[((o * s.in_channels + c) * s.kernel + u) * s.kernel + v]) *
                                       f(x[((img * s.in_channels + c) * s.height + std::size_t(iy)) * s.width +
                                           std::size_t(ix)]);
                            }
                    y[((img * s.out_channels + o) * ho + i) * wo + j] = acc;
                }
    return y;
}

// Finite-difference check of a double layer's backward: input and every
// parameter, L = Σ w·y with random w.
template <class Layer>
void check_layer_gradients(Layer& layer, std::size_t n, std::uint64_t seed) {
    const cpu_context ctx(1);
    parameter_list<double> params;
    layer.collect(params, "layer");
    std::vector<double> x = sgm::test::random_vector(n * layer.input_size(), seed);
    const std::vector<double> w = sgm::test::random_vector(n * layer.output_size(), seed + 1);
    std::vector<double> y(w.size()), dx(x.size());
    const auto loss = [&] {
        layer.forward(ctx, x.data(), y.data(), n);
        return sgm::test::weighted_sum(y, w);
    };
    params.zero_grad();
    loss();
    layer.backward(ctx, w.data(), dx.data(), n, gradients::parameters_and_input);
    const auto rx = sgm::test::check_gradient(loss, x, dx);
    INFO("input: max error " << rx.max_abs_error << ", max gradient " << rx.max_abs_gradient);
    CHECK(rx.checked > 0);
    CHECK(rx.max_abs_gradient > 0);
    CHECK(rx.relative() < 1e-6);
    for (const auto& e : params) {
        const std::vector<double> analytic = e.tensor->grad;
        const auto rp = sgm::test::check_gradient(loss, e.tensor->value, analytic);
        INFO(e.name << ": max error " << rp.max_abs_error << ", max gradient " << rp.max_abs_gradient);
        CHECK(rp.checked > 0);
        CHECK(rp.max_abs_gradient > 0);
        CHECK(rp.relative() < 1e-6);
    }
}

template <class Real>
void randomize(parameter_list<Real>& params, std::uint64_t seed, double scale = 0.5) {
    for (const auto& e : params) {
        const auto v = sgm::test::random_vector(e.tensor->size(), seed++, scale);
        for (std::size_t j = 0; j < v.size(); ++j) e.tensor->value[j] = static_cast<Real>(v[j]);
    }
}

struct conv_case {
    conv2d_shape shape;
    std::size_t batch;
    bool bias;
};

// 3×3 stride 1 and 2, 1×1 (stride 1 and 2), 5×5, odd and non-square images,
// in ≠ out, and batches that split into several chunks (17: chunks of 2, the
// last of 1). Every method: pointwise (1×1), shifted (same size, 8+ channels
// summed over) and unrolled (the rest), and the mixed cases where y and dW are
// shifted but dx unrolled, or the reverse.
const std::vector<conv_case>& conv_cases() {
    static const std::vector<conv_case> cases = {
        {{3, 4, 7, 7, 3, 1, 1}, 3, true},  {{4, 2, 5, 6, 3, 1, 1}, 3, true},  {{2, 3, 7, 7, 3, 2, 1}, 3, true},
        {{3, 2, 8, 8, 3, 2, 1}, 3, false}, {{3, 5, 5, 6, 1, 1, 0}, 3, true},  {{2, 3, 5, 7, 1, 2, 0}, 3, true},
        {{3, 4, 5, 6, 3, 1, 1}, 17, true}, {{2, 3, 5, 6, 3, 2, 1}, 17, true}, {{3, 2, 4, 5, 1, 1, 0}, 17, false},
        {{2, 2, 3, 4, 3, 1, 0}, 3, true},  {{1, 2, 6, 5, 5, 1, 2}, 3, true},  {{8, 9, 7, 7, 3, 1, 1}, 3, true},
        {{9, 8, 5, 6, 3, 1, 1}, 17, true}, {{8, 8, 6, 5, 5, 1, 2}, 3, false}, {{8, 10, 7, 6, 3, 2, 1}, 3, true},
        {{8, 3, 6, 6, 3, 1, 1}, 17, true}, {{3, 8, 6, 5, 3, 1, 1}, 17, true},
    };
    return cases;
}

std::string describe(const conv_case& c) {
    const auto& s = c.shape;
    return std::to_string(s.in_channels) + "->" + std::to_string(s.out_channels) + " " + std::to_string(s.height) +
           "x" + std::to_string(s.width) + " k" + std::to_string(s.kernel) + " s" + std::to_string(s.stride) + " p" +
           std::to_string(s.padding) + " batch " + std::to_string(c.batch) + (c.bias ? "" : " no bias");
}

}  // namespace

TEST_CASE("conv2d: output sizes and parameter shapes", "[nn][conv]") {
    const conv2d<double> a({3, 8, 28, 28, 3, 1, 1});
    CHECK(a.output_height() == 28);
    CHECK(a.output_width() == 28);
    CHECK(a.input_size() == 3 * 28 * 28);
    CHECK(a.output_size() == 8 * 28 * 28);
    const conv2d<double> b({8, 8, 7, 6, 3, 2, 1});
    CHECK(b.output_height() == 4);
    CHECK(b.output_width() == 3);
    conv2d<double> c({5, 4, 6, 6, 1, 1, 0}, false);
    CHECK(c.output_size() == 4 * 36);
    CHECK(c.weight().shape == std::vector<std::size_t>{4, 5, 1, 1});
    parameter_list<double> list;
    c.collect(list, "skip");
    REQUIRE(list.size() == 1);
    CHECK(list[0].name == "skip.weight");
}

TEST_CASE("conv2d: hand-computed 3x3 cases", "[nn][conv]") {
    const cpu_context ctx(1);
    const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    SECTION("Laplacian kernel, stride 1") {
        conv2d<double> conv({1, 1, 3, 3, 3, 1, 1});
        conv.weight().value = {0, 1, 0, 1, -4, 1, 0, 1, 0};
        conv.bias().value = {0.5};
        std::vector<double> y(9);
        conv.forward(ctx, x.data(), y.data(), 1);
        CHECK(y == std::vector<double>{2.5, 1.5, -3.5, -2.5, 0.5, -6.5, -15.5, -10.5, -21.5});
    }
    // Asymmetric: y[i,j] = x[i−1,j−1] + 2·x[i+1,j+1], which a flipped kernel would get wrong.
    std::vector<double> w = {1, 0, 0, 0, 0, 0, 0, 0, 2};
    SECTION("asymmetric kernel, stride 1") {
        conv2d<double> conv({1, 1, 3, 3, 3, 1, 1}, false);
        conv.weight().value = w;
        std::vector<double> y(9);
        conv.forward(ctx, x.data(), y.data(), 1);
        CHECK(y == std::vector<double>{10, 12, 0, 16, 19, 2, 0, 4, 5});
    }
    SECTION("asymmetric kernel, stride 2") {
        conv2d<double> conv({1, 1, 3, 3, 3, 2, 1}, false);
        conv.weight().value = w;
        std::vector<double> y(4);
        conv.forward(ctx, x.data(), y.data(), 1);
        CHECK(y == std::vector<double>{10, 0, 0, 5});
    }
}

TEST_CASE("conv2d: forward matches the definition", "[nn][conv]") {
    for (const auto& c : conv_cases()) {
        INFO(describe(c));
        conv2d<double> conv(c.shape, c.bias);
        parameter_list<double> params;
        conv.collect(params, "conv");
        randomize(params, 11);
        const auto x = sgm::test::random_vector(c.batch * conv.input_size(), 12);
        std::vector<double> y(c.batch * conv.output_size());
        conv.forward(cpu_context(2), x.data(), y.data(), c.batch);
        const std::vector<double> bias = c.bias ? conv.bias().value : std::vector<double>{};
        const auto ref = reference_conv(c.shape, conv.weight().value, bias, x, c.batch);
        double err = 0, scale = 0;
        for (std::size_t i = 0; i < y.size(); ++i) {
            err = std::max(err, std::abs(y[i] - ref[i]));
            scale = std::max(scale, std::abs(ref[i]));
        }
        CHECK(scale > 0);
        CHECK(err <= 1e-13 * scale);
    }
}

TEST_CASE("conv2d: gradients match finite differences", "[nn][conv][gradient]") {
    for (const auto& c : conv_cases()) {
        INFO(describe(c));
        conv2d<double> conv(c.shape, c.bias);
        parameter_list<double> params;
        conv.collect(params, "conv");
        randomize(params, 21);
        check_layer_gradients(conv, c.batch, 22);
    }
}

TEST_CASE("conv2d: backward adds into the gradients and honours its flags", "[nn][conv]") {
    const cpu_context ctx(2);
    conv2d<double> conv({3, 4, 6, 6, 3, 1, 1});
    parameter_list<double> params;
    conv.collect(params, "conv");
    randomize(params, 31);
    const std::size_t n = 17;
    const auto x = sgm::test::random_vector(n * conv.input_size(), 32);
    const auto dy = sgm::test::random_vector(n * conv.output_size(), 33);
    std::vector<double> y(dy.size()), dx(x.size()), dx2(x.size(), 7.0);
    conv.forward(ctx, x.data(), y.data(), n);
    params.zero_grad();
    conv.backward(ctx, dy.data(), nullptr, n, gradients::input_only);
    for (const auto& e : params)
        for (const double g : e.tensor->grad) REQUIRE(g == 0.0);
    conv.backward(ctx, dy.data(), dx.data(), n, gradients::parameters_and_input);
    const auto once_w = conv.weight().grad, once_b = conv.bias().grad;
    conv.backward(ctx, dy.data(), dx2.data(), n, gradients::parameters_only);
    CHECK(dx2 == dx);  // parameters_only still writes dx when given
    for (std::size_t i = 0; i < once_w.size(); ++i) REQUIRE(conv.weight().grad[i] == 2 * once_w[i]);
    for (std::size_t i = 0; i < once_b.size(); ++i) REQUIRE(conv.bias().grad[i] == 2 * once_b[i]);
    CHECK_THROWS_AS(conv.backward(ctx, dy.data(), dx.data(), n - 1, gradients::parameters_and_input), sgm::error);
}

TEST_CASE("conv2d: a smaller batch after a larger one reuses the workspace correctly", "[nn][conv]") {
    const conv2d_shape s{3, 4, 5, 5, 3, 2, 1};
    conv2d<double> conv(s);
    parameter_list<double> params;
    conv.collect(params, "conv");
    randomize(params, 41);
    const cpu_context ctx(2);
    for (const std::size_t n : {std::size_t{20}, std::size_t{3}, std::size_t{9}}) {
        INFO("batch " << n);
        const auto x = sgm::test::random_vector(n * conv.input_size(), 42 + n);
        std::vector<double> y(n * conv.output_size());
        conv.forward(ctx, x.data(), y.data(), n);
        const auto ref = reference_conv(s, conv.weight().value, conv.bias().value, x, n);
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(std::abs(y[i] - ref[i]) <= 1e-13 * (1 + std::abs(ref[i])));
    }
}

TEST_CASE("conv2d: bit-identical on 1 and 2 threads", "[nn][conv][determinism]") {
    // Batch 40 of 10×10 images: several chunks of 4 images, split between workers;
    // shifted, unrolled (stride 1 and 2) and pointwise.
    for (const conv2d_shape s : {conv2d_shape{8, 16, 10, 10, 3, 1, 1}, conv2d_shape{4, 16, 10, 10, 3, 1, 1},
                                 conv2d_shape{8, 16, 10, 10, 3, 2, 1}, conv2d_shape{8, 16, 10, 10, 1, 1, 0}}) {
        INFO("kernel " << s.kernel << " stride " << s.stride);
        const std::size_t n = 40;
        std::vector<float> x(n * s.in_channels * s.height * s.width);
        const auto xd = sgm::test::random_vector(x.size(), 51);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(xd[i]);
        std::vector<std::vector<float>> outputs;
        for (const int threads : {1, 2}) {
            conv2d<float> conv(s);
            parameter_list<float> params;
            conv.collect(params, "conv");
            sgm::nn::initialize(params, 52);
            const cpu_context ctx(threads);
            std::vector<float> y(n * conv.output_size()), dx(x.size());
            conv.forward(ctx, x.data(), y.data(), n);
            std::vector<float> dy(y.size());
            for (std::size_t i = 0; i < y.size(); ++i) dy[i] = std::sin(0.37f * static_cast<float>(i)) + y[i];
            conv.backward(ctx, dy.data(), dx.data(), n, gradients::parameters_and_input);
            std::vector<float> all = y;
            all.insert(all.end(), dx.begin(), dx.end());
            all.insert(all.end(), conv.weight().grad.begin(), conv.weight().grad.end());
            all.insert(all.end(), conv.bias().grad.begin(), conv.bias().grad.end());
            outputs.push_back(std::move(all));
        }
        REQUIRE(outputs[0].size() == outputs[1].size());
        CHECK(std::memcmp(outputs[0].data(), outputs[1].data(), outputs[0].size() * sizeof(float)) == 0);
    }
}

TEST_CASE("conv2d: float forward agrees with double to float rounding", "[nn][conv]") {
    // Same (float-representable) inputs and weights; any summation order of the
    // K = in·k·k + 1 terms errs by at most K·u·Σ|w||x| + O(u²), u = 2⁻²⁴.
    for (const conv2d_shape s : {conv2d_shape{16, 8, 9, 9, 3, 1, 1}, conv2d_shape{4, 8, 9, 9, 3, 1, 1},
                                 conv2d_shape{16, 8, 9, 9, 3, 2, 1}, conv2d_shape{16, 8, 9, 9, 1, 1, 0}}) {
        INFO("kernel " << s.kernel << " stride " << s.stride);
        const std::size_t n = 20;
        conv2d<float> cf(s);
        conv2d<double> cd(s);
        parameter_list<float> pf;
        parameter_list<double> pd;
        cf.collect(pf, "c");
        cd.collect(pd, "c");
        sgm::nn::initialize(pf, 61);
        for (std::size_t i = 0; i < pf.size(); ++i)
            for (std::size_t j = 0; j < pf[i].tensor->size(); ++j) pd[i].tensor->value[j] = pf[i].tensor->value[j];
        const auto xd0 = sgm::test::random_vector(n * cf.input_size(), 62);
        std::vector<float> xf(xd0.size());
        std::vector<double> xd(xd0.size());
        for (std::size_t i = 0; i < xd0.size(); ++i) xd[i] = xf[i] = static_cast<float>(xd0[i]);
        std::vector<float> yf(n * cf.output_size());
        std::vector<double> yd(yf.size());
        cf.forward(cpu_context(2), xf.data(), yf.data(), n);
        cd.forward(cpu_context(2), xd.data(), yd.data(), n);
        const auto bound = reference_conv(s, cd.weight().value, cd.bias().value, xd, n, true);
        const double k = static_cast<double>(s.in_channels * s.kernel * s.kernel + 1);
        double worst = 0;
        for (std::size_t i = 0; i < yf.size(); ++i)
            worst = std::max(worst, std::abs(static_cast<double>(yf[i]) - yd[i]) / bound[i]);
        CHECK(worst > 0);  // float really rounds
        CHECK(worst <= 1.01 * k * 0x1p-24);
    }
}

TEST_CASE("conv2d: initialization rules", "[nn][conv]") {
    conv2d<double> plain({4, 6, 5, 5, 3, 1, 1});
    conv2d<double> scaled({4, 6, 5, 5, 3, 1, 1});
    scaled.set_init(sgm::nn::fan_avg_uniform(scaled.fan_in(), scaled.fan_out(), 1e-10));
    parameter_list<double> a, b;
    plain.collect(a, "c");
    scaled.collect(b, "c");
    sgm::nn::initialize(a, 5);
    sgm::nn::initialize(b, 5);
    const double fan_in_bound = 1.0 / std::sqrt(36.0), avg_bound = std::sqrt(3e-10 / 45.0);
    double max_plain = 0, max_scaled = 0;
    for (const double v : plain.weight().value) max_plain = std::max(max_plain, std::abs(v));
    for (const double v : plain.bias().value) max_plain = std::max(max_plain, std::abs(v));
    for (const double v : scaled.weight().value) max_scaled = std::max(max_scaled, std::abs(v));
    CHECK(max_plain <= fan_in_bound);
    CHECK(max_plain > 0.5 * fan_in_bound);
    CHECK(max_scaled <= avg_bound);
    CHECK(max_scaled > 0.5 * avg_bound);
    for (const double v : scaled.bias().value) CHECK(v == 0.0);
}

TEST_CASE("conv2d: bad shapes are errors", "[nn][conv][errors]") {
    using s = conv2d_shape;
    CHECK_THROWS_AS(conv2d<float>(s{0, 4, 8, 8}), sgm::error);
    CHECK_THROWS_AS(conv2d<float>(s{4, 0, 8, 8}), sgm::error);
    CHECK_THROWS_AS(conv2d<float>(s{4, 4, 0, 8}), sgm::error);
    CHECK_THROWS_AS(conv2d<float>(s{4, 4, 8, 8, 0, 1, 0}), sgm::error);
    CHECK_THROWS_AS(conv2d<float>(s{4, 4, 8, 8, 3, 0, 1}), sgm::error);
    CHECK_THROWS_AS(conv2d<float>(s{4, 4, 8, 8, 3, 1, 2}), sgm::error);  // padding beyond k/2
    CHECK_THROWS_AS(conv2d<float>(s{4, 4, 2, 2, 5, 1, 1}), sgm::error);  // kernel larger than the padded image
    CHECK_THROWS_WITH(conv2d<float>(s{4, 4, 8, 8, 3, 1, 2}), Catch::Contains("padding 2"));
    CHECK_NOTHROW(conv2d<float>(s{4, 4, 1, 1, 3, 1, 1}));
}

TEST_CASE("group_norm: forward normalizes each sample's groups", "[nn][group_norm]") {
    const std::size_t c = 6, hw = 10, n = 3;
    for (const std::size_t groups : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{6}}) {
        INFO(groups << " groups");
        group_norm<double> gn(c, groups, hw, 1e-6);
        parameter_list<double> params;
        gn.collect(params, "norm");
        REQUIRE(params.size() == 2);
        CHECK(params[0].name == "norm.weight");
        for (const double v : gn.weight().value) CHECK(v == 1.0);
        for (const double v : gn.bias().value) CHECK(v == 0.0);
        randomize(params, 70);
        auto x = sgm::test::random_vector(n * c * hw, 71, 3.0);
        for (double& v : x) v += 5.0;  // a mean far from zero
        std::vector<double> y(x.size());
        gn.forward(cpu_context(2), x.data(), y.data(), n);
        const std::size_t per = c / groups, m = per * hw;
        for (std::size_t b = 0; b < n; ++b)
            for (std::size_t g = 0; g < groups; ++g) {
                const double* xg = x.data() + (b * c + g * per) * hw;
                double mean = 0, var = 0;
                for (std::size_t i = 0; i < m; ++i) mean += xg[i] / double(m);
                for (std::size_t i = 0; i < m; ++i) var += (xg[i] - mean) * (xg[i] - mean) / double(m);
                for (std::size_t i = 0; i < m; ++i) {
                    const std::size_t ch = g * per + i / hw;
                    const double want =
                        gn.weight().value[ch] * (xg[i] - mean) / std::sqrt(var + 1e-6) + gn.bias().value[ch];
                    REQUIRE(std::abs(y[(b * c + g * per) * hw + i] - want) <= 1e-13 * (1 + std::abs(want)));
                }
            }
    }
}

TEST_CASE("group_norm: gradients match finite differences", "[nn][group_norm][gradient]") {
    for (const std::size_t groups : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8}}) {
        INFO(groups << " groups");
        group_norm<double> gn(8, groups, 3 * 5);
        parameter_list<double> params;
        gn.collect(params, "norm");
        randomize(params, 80);
        check_layer_gradients(gn, 3, 81);
    }
}

TEST_CASE("group_norm: bit-identical on 1 and 2 threads and float agrees with double", "[nn][group_norm]") {
    const std::size_t c = 32, groups = 8, hw = 49, n = 24;
    const auto xd0 = sgm::test::random_vector(n * c * hw, 90, 2.0);
    std::vector<float> x(xd0.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(xd0[i] + 3.0);
    std::vector<float> dy(x.size());
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = std::cos(0.11f * static_cast<float>(i));
    std::vector<std::vector<float>> outputs;
    for (const int threads : {1, 2}) {
        group_norm<float> gn(c, groups, hw);
        parameter_list<float> params;
        gn.collect(params, "norm");
        randomize(params, 91);
        const cpu_context ctx(threads);
        std::vector<float> y(x.size()), dx(x.size());
        gn.forward(ctx, x.data(), y.data(), n);
        gn.backward(ctx, dy.data(), dx.data(), n, gradients::parameters_and_input);
        std::vector<float> all = y;
        all.insert(all.end(), dx.begin(), dx.end());
        all.insert(all.end(), gn.weight().grad.begin(), gn.weight().grad.end());
        all.insert(all.end(), gn.bias().grad.begin(), gn.bias().grad.end());
        outputs.push_back(std::move(all));
    }
    CHECK(std::memcmp(outputs[0].data(), outputs[1].data(), outputs[0].size() * sizeof(float)) == 0);

    // Float forward: the statistics are exact to double; each output is then
    // ((x − μ_f)·s_f + β) in float, a few roundings of the terms' size.
    group_norm<double> gd(c, groups, hw);
    parameter_list<double> pd;
    gd.collect(pd, "norm");
    randomize(pd, 91);
    for (const auto& e : pd)
        for (double& v : e.tensor->value) v = static_cast<float>(v);
    std::vector<double> xd(x.begin(), x.end()), yd(x.size());
    gd.forward(cpu_context(1), xd.data(), yd.data(), n);
    const std::size_t per = c / groups;
    double worst = 0;
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t ch = 0; ch < c; ++ch) {
            const std::size_t g = ch / per;
            double mean = 0, var = 0;
            const double* xg = xd.data() + (b * c + g * per) * hw;
            for (std::size_t i = 0; i < per * hw; ++i) mean += xg[i];
            mean /= double(per * hw);
            for (std::size_t i = 0; i < per * hw; ++i) var += (xg[i] - mean) * (xg[i] - mean);
            const double rstd = 1 / std::sqrt(var / double(per * hw) + 1e-6);
            const double gamma = std::abs(gd.weight().value[ch]), beta = std::abs(gd.bias().value[ch]);
            for (std::size_t i = 0; i < hw; ++i) {
                const std::size_t at = (b * c + ch) * hw + i;
                const double scale = std::abs(xd[at] - mean) * rstd * gamma + std::abs(mean) * rstd * gamma + beta;
                worst = std::max(worst, std::abs(double(outputs[0][at]) - yd[at]) / scale);
            }
        }
    CHECK(worst > 0);
    CHECK(worst <= 4 * 0x1p-24);
}

TEST_CASE("group_norm: bad shapes are errors", "[nn][group_norm][errors]") {
    CHECK_THROWS_AS(group_norm<float>(6, 4, 10), sgm::error);
    CHECK_THROWS_WITH(group_norm<float>(6, 4, 10), Catch::Contains("6 channels"));
    CHECK_THROWS_AS(group_norm<float>(6, 0, 10), sgm::error);
    CHECK_THROWS_AS(group_norm<float>(0, 1, 10), sgm::error);
    CHECK_THROWS_AS(group_norm<float>(6, 3, 0), sgm::error);
    CHECK_THROWS_AS(group_norm<float>(6, 3, 10, 0.0), sgm::error);
    group_norm<float> gn(4, 2, 4);
    std::vector<float> x(8 * 2, 1.0f), y(x.size());
    gn.forward(cpu_context(1), x.data(), y.data(), 1);
    CHECK_THROWS_AS(gn.backward(cpu_context(1), y.data(), x.data(), 2, gradients::parameters_and_input), sgm::error);
}

TEST_CASE("upsample_nearest: copies each value into a 2x2 block", "[nn][upsample]") {
    upsample_nearest<double> up(2, 2, 3);
    CHECK(up.output_height() == 4);
    CHECK(up.output_width() == 6);
    CHECK(up.output_size() == 4 * up.input_size());
    parameter_list<double> none;
    up.collect(none, "up");
    CHECK(none.size() == 0);
    std::vector<double> x(2 * up.input_size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = double(i);
    std::vector<double> y(2 * up.output_size());
    up.forward(cpu_context(2), x.data(), y.data(), 2);
    for (std::size_t p = 0; p < 4; ++p)
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < 6; ++j) REQUIRE(y[(p * 4 + i) * 6 + j] == x[(p * 2 + i / 2) * 3 + j / 2]);
    // Backward: each input gets the sum of its block, exactly.
    std::vector<double> dy(y.size()), dx(x.size());
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = double(i % 7);
    up.backward(cpu_context(2), dy.data(), dx.data(), 2);
    for (std::size_t p = 0; p < 4; ++p)
        for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 3; ++j) {
                const double* top = dy.data() + (p * 4 + 2 * i) * 6 + 2 * j;
                REQUIRE(dx[(p * 2 + i) * 3 + j] == top[0] + top[1] + top[6] + top[7]);
            }
    CHECK_THROWS_AS(upsample_nearest<float>(0, 2, 2), sgm::error);
    CHECK_THROWS_AS(upsample_nearest<float>(2, 2, 0), sgm::error);
}

TEST_CASE("upsample_nearest: gradient matches finite differences and threads agree", "[nn][upsample][gradient]") {
    upsample_nearest<double> up(3, 5, 4);
    check_layer_gradients(up, 3, 100);
    upsample_nearest<float> uf(16, 7, 7);
    const std::size_t n = 40;
    std::vector<float> x(n * uf.input_size()), dy(n * uf.output_size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.3f * float(i));
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = std::cos(0.7f * float(i));
    std::vector<float> y1(dy.size()), y2(dy.size()), d1(x.size()), d2(x.size());
    uf.forward(cpu_context(1), x.data(), y1.data(), n);
    uf.backward(cpu_context(1), dy.data(), d1.data(), n);
    uf.forward(cpu_context(2), x.data(), y2.data(), n);
    uf.backward(cpu_context(2), dy.data(), d2.data(), n);
    CHECK(y1 == y2);
    CHECK(std::memcmp(d1.data(), d2.data(), d1.size() * sizeof(float)) == 0);
}
